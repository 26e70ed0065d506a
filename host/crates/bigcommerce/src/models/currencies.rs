//! Currencies v2 (`currencies.v2.yml`).

use super::common::Extra;
use crate::de;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Currency {
    pub id: u64,
    pub currency_code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    /// Store default → this currency.
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_exact"
    )]
    pub currency_exchange_rate: Option<Decimal>,
    #[serde(default)]
    pub auto_update: Option<bool>,
    /// `false` = display-only; orders cannot be paid in it.
    #[serde(default)]
    pub is_transactional: Option<bool>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub country_iso2: Option<String>,
    #[serde(default)]
    pub decimal_places: Option<u32>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub last_updated: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
