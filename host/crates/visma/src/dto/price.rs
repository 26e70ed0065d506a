//! The sales price table (`/v1/customerSalesPrice`, screen AR202000; writable since ERP
//! 10.56): prices of an item for everyone (`Base`), one customer or a customer price class,
//! per currency, unit and break quantity, over a period.

use super::common::Metadata;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PriceType {
    Base,
    Customer,
    CustomerPriceClass,
}

impl PriceType {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceType::Base => "Base",
            PriceType::Customer => "Customer",
            PriceType::CustomerPriceClass => "CustomerPriceClass",
        }
    }
}

/// `CustomerSalesPriceUpdateDto` (every field `{"value": …}`-wrapped).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SalesPriceUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub price_type: Option<PriceType>,
    /// Customer number or customer price class id; none for `Base`.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub price_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub inventory_id: Option<String>,
    #[serde(
        rename = "uoM",
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::value"
    )]
    pub uom: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub promotion: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub break_qty: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub warehouse: Option<String>,
    /// RFC 3339 with an offset (see [`super::fmt_datetime`]).
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub effective_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub expiration_date: Option<String>,
}

/// `CustomerSalesPriceDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SalesPrice {
    pub record_id: i64,
    pub price_type: Option<String>,
    pub price_code: Option<String>,
    pub inventory_id: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "uoM")]
    pub uom: Option<String>,
    pub promotion: Option<bool>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub break_qty: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub price: Option<Decimal>,
    pub currency: Option<String>,
    pub warehouse: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub effective_date: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub expiration_date: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    pub time_stamp: Option<String>,
    pub metadata: Option<Metadata>,
}

/// Filters of `GET /v1/customerSalesPrice`.
#[derive(Debug, Clone, Default)]
pub struct SalesPriceFilter {
    /// None lists every type (`All`).
    pub price_type: Option<PriceType>,
    pub price_code: Option<String>,
    pub inventory_id: Option<String>,
    /// Only rows in force on this day.
    pub effective_as_of: Option<DateTime<Utc>>,
}
