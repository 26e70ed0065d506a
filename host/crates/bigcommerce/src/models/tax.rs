//! Tax classes v2 and tax settings v3 (`tax_classes.v2.yml`, `tax_settings.v3.yml`).

use super::common::Extra;
use crate::de;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxClass {
    /// Sent as a string by the v2 API.
    #[serde(deserialize_with = "de::u64_str_or_num")]
    pub id: u64,
    pub name: String,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub updated_at: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxSettings {
    /// Whether catalog prices include tax.
    #[serde(default)]
    pub tax_entered_with_prices: Option<bool>,
    #[serde(default)]
    pub price_display_settings: Option<PriceDisplaySettings>,
    /// FIXED, BASIC or DISABLE.
    #[serde(default)]
    pub fallback_strategy: Option<String>,
    #[serde(default)]
    pub should_subtract_store_tax: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceDisplaySettings {
    /// ZONE, INCLUSIVE or EXCLUSIVE.
    #[serde(default)]
    pub control_panel_price_display_strategy: Option<String>,
    #[serde(default)]
    pub invoice_price_display_strategy: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
