//! Identifier newtypes. External ids from the two systems never mix: a BigCommerce order id
//! cannot be passed where a Visma document number is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }
    };
}

string_id!(
    /// Our name for a Visma company (legal entity) as configured in routing.
    LegalEntityId
);
string_id!(
    /// BigCommerce store hash, the `{store_hash}` path segment.
    StoreHash
);
string_id!(
    /// A Visma.net tenant (company) id as used in the Connect token request.
    VismaTenantId
);
string_id!(
    /// Visma customer number (`number` on a customer).
    VismaCustomerNo
);
string_id!(
    /// Visma document number of an invoice, credit note or sales order.
    VismaDocumentNo
);
string_id!(
    /// Visma inventory item number (`inventoryNumber`), which we keep equal to the SKU.
    VismaItemNo
);
string_id!(
    /// Our external reference written on Visma documents, the key for "did this write happen?".
    ExternalRef
);
string_id!(
    /// A stock keeping unit as BigCommerce spells it.
    Sku
);
string_id!(
    /// A Visma VAT category id.
    VatCategoryId
);

numeric_id!(
    /// BigCommerce order id.
    BcOrderId
);
numeric_id!(
    /// BigCommerce product id.
    BcProductId
);
numeric_id!(
    /// BigCommerce variant id.
    BcVariantId
);
numeric_id!(
    /// BigCommerce customer id (0 means guest on orders).
    BcCustomerId
);
numeric_id!(
    /// BigCommerce refund id (Orders v3).
    BcRefundId
);
numeric_id!(
    /// BigCommerce channel id.
    ChannelId
);
numeric_id!(
    /// BigCommerce inventory location id.
    LocationId
);
