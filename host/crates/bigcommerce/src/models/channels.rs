//! Channels v3 and their currency assignments (`channels.v3.yml`).

use super::common::Extra;
use chrono::{DateTime, Utc};
use ledgerlink_core::ChannelId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
    pub name: String,
    /// storefront, pos, marketplace, marketing.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub is_visible: Option<bool>,
    #[serde(default)]
    pub is_listable_from_ui: Option<bool>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date_modified: Option<DateTime<Utc>>,
    /// Present with `include=currencies`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currencies: Option<CurrencyAssignment>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Which currencies a channel sells in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrencyAssignment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    #[serde(default)]
    pub enabled_currencies: Vec<String>,
    #[serde(default)]
    pub default_currency: String,
}
