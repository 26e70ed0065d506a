//! Price lists v3 (`price_lists.v3.yml`).

use super::common::Extra;
use crate::de;
use chrono::{DateTime, Utc};
use ledgerlink_core::BcVariantId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceList {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date_modified: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceListWrite {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A per-variant, per-currency price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRecord {
    #[serde(default)]
    pub price_list_id: Option<u64>,
    pub variant_id: BcVariantId,
    #[serde(default)]
    pub product_id: Option<u64>,
    #[serde(default)]
    pub sku: Option<String>,
    pub currency: String,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub sale_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub retail_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub map_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub calculated_price: Option<Decimal>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date_modified: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of a batch upsert (`PUT /v3/pricelists/{id}/records`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRecordWrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<BcVariantId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub currency: String,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub price: Decimal,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub sale_price: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub retail_price: Option<Decimal>,
}
