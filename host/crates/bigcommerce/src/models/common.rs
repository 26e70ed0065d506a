//! Shapes shared by many endpoints: the v3 envelope and its pagination, v2 resource links.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Unknown fields, kept so a later mapping can still reach them.
pub type Extra = Map<String, Value>;

/// The v3 envelope `{data, meta}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct V3Response<T> {
    pub data: T,
    #[serde(default)]
    pub meta: Meta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// v3 offset pagination (`meta.pagination`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub per_page: u64,
    #[serde(default)]
    pub current_page: u64,
    #[serde(default)]
    pub total_pages: u64,
    #[serde(default)]
    pub links: PaginationLinks,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PaginationLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A v2 sub-resource link (`{url, resource}`) on an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceLink {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub resource: String,
}

/// v3 batch write results often carry only `transaction_id` or an empty meta.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransactionResponse {
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
