//! Customers v3 (+ addresses) and customer groups v2 (`customers.v3.yml`, `customers.v2.yml`).

use super::common::Extra;
use crate::de;
use chrono::{DateTime, Utc};
use ledgerlink_core::{BcCustomerId, ChannelId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: BcCustomerId,
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub tax_exempt_category: Option<String>,
    #[serde(default)]
    pub customer_group_id: Option<u64>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date_modified: Option<DateTime<Utc>>,
    #[serde(default)]
    pub address_count: Option<u64>,
    /// Present with `include=addresses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<CustomerAddress>>,
    #[serde(default)]
    pub origin_channel_id: Option<ChannelId>,
    #[serde(default)]
    pub channel_ids: Option<Vec<ChannelId>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerAddress {
    pub id: u64,
    pub customer_id: BcCustomerId,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub address1: String,
    #[serde(default)]
    pub address2: Option<String>,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state_or_province: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// `residential` or `commercial`.
    #[serde(default)]
    pub address_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters for `GET /v3/customers`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFilter {
    pub ids: Vec<BcCustomerId>,
    pub emails: Vec<String>,
    pub date_modified_min: Option<DateTime<Utc>>,
    pub include_addresses: bool,
}

impl CustomerFilter {
    pub fn to_query(&self) -> crate::client::Query {
        let mut q = Vec::new();
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(|i| i.to_string()).collect();
            q.push(("id:in".into(), ids.join(",")));
        }
        if !self.emails.is_empty() {
            q.push(("email:in".into(), self.emails.join(",")));
        }
        if let Some(d) = self.date_modified_min {
            q.push(("date_modified:min".into(), d.to_rfc3339()));
        }
        if self.include_addresses {
            q.push(("include".into(), "addresses".into()));
        }
        q
    }
}

/// Customer groups exist only in v2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerGroup {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub is_default: Option<bool>,
    #[serde(default)]
    pub is_group_for_guests: Option<bool>,
    #[serde(default)]
    pub category_access: Option<serde_json::Value>,
    #[serde(default)]
    pub discount_rules: Option<Vec<serde_json::Value>>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub date_created: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub date_modified: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
