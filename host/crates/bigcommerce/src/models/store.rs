//! Store information v2 (`store_information.v2.yml`).

use super::common::Extra;
use ledgerlink_core::ChannelId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// The store hash.
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub secure_url: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    /// The store's default currency code.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub decimal_places: Option<u32>,
    #[serde(default)]
    pub timezone: Option<serde_json::Value>,
    #[serde(default)]
    pub plan_name: Option<String>,
    #[serde(default)]
    pub is_price_entered_with_tax: Option<bool>,
    /// Numeric store id, the `store_id` in webhook payloads.
    #[serde(default, deserialize_with = "crate::de::opt_u64_str_or_num")]
    pub store_id: Option<u64>,
    #[serde(default)]
    pub default_channel_id: Option<ChannelId>,
    #[serde(default)]
    pub default_site_id: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /v2/time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreTime {
    /// Unix seconds.
    pub time: i64,
}
