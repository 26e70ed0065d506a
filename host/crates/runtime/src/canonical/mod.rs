//! Canonical input building: BigCommerce (and Visma) API JSON as fetched → the WIT input records
//! a mapping plugin takes, plus the fixture file format of `ledgerlink plugin test`.
//!
//! Money becomes integer minor units of the document currency, rounded half away from zero
//! exactly (no floats anywhere). Reading is lenient where the APIs are (money as a string or a
//! number, `null` or `""` for an absent amount or id) and strict where it matters: an amount
//! that is not a number is an error naming the field, never a zero.
//!
//! This is the one BigCommerce → WIT converter. The sync flows (`ledgerlink-engine`,
//! `flows/canonical.rs`) serialise the client's typed models back to API JSON and call
//! [`build_order`], [`refund_for`], [`build_shipment`] and [`build_products`]; [`Fixture`]
//! (`ledgerlink plugin test`, the golden tests) reads a fixture file into the same records.
//! A change to what a plugin sees is made here, once. [`build_stock_levels`] reads Visma's
//! inventory summary for fixtures; the stock flow builds its levels from the Visma client's
//! inventory DTOs itself.

mod context;
mod fixture;
mod json;
mod order;
mod product;
mod refund;
mod stock;

pub use context::ContextSpec;
pub use fixture::{Fixture, FixtureCall, FixtureOutcome};
pub use order::{
    OrderBundle, OrderExtras, OrderSource, build_order, build_order_from, build_shipment,
};
pub use product::{ProductBundle, build_products};
pub use refund::{CreditKind, RefundBundle, RefundExtras, build_refund, refund_for};
pub use stock::{StockBundle, Tracking, build_stock_levels};

/// Why an API payload could not become a canonical record.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("{field} is missing")]
    Missing { field: String },
    #[error("{field} is {value}: {reason}")]
    Invalid {
        field: String,
        value: String,
        reason: String,
    },
    #[error("cannot read fixture {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("fixture {path} is not valid: {message}")]
    Fixture { path: String, message: String },
}

impl CanonicalError {
    /// The payload field at fault (`products[2].price_ex_tax`), when one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            CanonicalError::Missing { field } | CanonicalError::Invalid { field, .. } => {
                Some(field)
            }
            CanonicalError::Io { .. } | CanonicalError::Fixture { .. } => None,
        }
    }

    pub(crate) fn invalid(
        field: &str,
        value: &serde_json::Value,
        reason: impl Into<String>,
    ) -> Self {
        CanonicalError::Invalid {
            field: field.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests;
