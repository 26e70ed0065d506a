//! Webhooks v3 (`webhooks.v3.yml`): hook management and the callback envelope.

use super::common::Extra;
use crate::de;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A registered hook (`webhook_Full`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hook {
    pub id: u64,
    pub scope: String,
    pub destination: String,
    #[serde(default)]
    pub is_active: bool,
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub store_hash: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `POST /v3/hooks` and `PUT /v3/hooks/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookWrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// The thin callback every delivery carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// The concrete event, e.g. `store/order/created`.
    pub scope: String,
    /// Numeric store id, sent as a string.
    #[serde(deserialize_with = "de::u64_str_or_num")]
    pub store_id: u64,
    #[serde(default)]
    pub data: serde_json::Value,
    /// SHA-1 of the event data: the same event delivered twice carries the same hash.
    pub hash: String,
    #[serde(default)]
    pub created_at: Option<i64>,
    /// `stores/{store_hash}`.
    #[serde(default)]
    pub producer: Option<String>,
}

impl WebhookPayload {
    /// The resource the event is about, e.g. `order:250`, used to order events per resource.
    pub fn subject(&self) -> String {
        let d = &self.data;
        let num = |v: Option<&serde_json::Value>| {
            v.and_then(|v| {
                v.as_u64()
                    .map(|n| n.to_string())
                    .or_else(|| v.as_str().map(str::to_owned))
            })
        };
        let kind = d.get("type").and_then(|t| t.as_str());
        // Channel-scoped order events and transactions name the order differently.
        if let Some(order) = num(d.get("order_id")) {
            return format!("order:{order}");
        }
        // Metafield events name their owner in `resource_id` (NOTES §5): they belong to it,
        // not to one subject shared by every metafield event of the store (which would make
        // them run one at a time).
        if let Some(rest) = self.scope.strip_prefix("store/")
            && let Some((owner, _)) = rest.split_once("/metafield/")
            && let Some(id) = num(d.get("resource_id"))
        {
            return format!("{owner}:{id}");
        }
        match (kind, num(d.get("id"))) {
            (Some("customer"), Some(id)) if self.scope.starts_with("store/customer/address/") => {
                match num(d.get("address").and_then(|a| a.get("customer_id"))) {
                    Some(c) => format!("customer:{c}"),
                    None => format!("customer_address:{id}"),
                }
            }
            (Some("shipment"), _) if num(d.get("orderId")).is_some() => {
                format!("order:{}", num(d.get("orderId")).unwrap_or_default())
            }
            (Some(kind), Some(id)) => format!("{kind}:{id}"),
            _ => format!("scope:{}", self.scope),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WebhookPayload;

    fn payload(scope: &str, data: serde_json::Value) -> WebhookPayload {
        serde_json::from_value(serde_json::json!({
            "scope": scope, "store_id": "1", "data": data, "hash": "h"
        }))
        .unwrap()
    }

    #[test]
    fn metafield_events_belong_to_their_owner() {
        let order = payload(
            "store/order/metafield/created",
            serde_json::json!({"metafield_id": 7, "resource_id": "250"}),
        );
        assert_eq!(order.subject(), "order:250");
        let product = payload(
            "store/product/metafield/updated",
            serde_json::json!({"metafield_id": 8, "resource_id": 31}),
        );
        assert_eq!(product.subject(), "product:31");
        // Without an owner: one subject for the scope, as before.
        let bare = payload(
            "store/order/metafield/deleted",
            serde_json::json!({"metafield_id": 9}),
        );
        assert_eq!(bare.subject(), "scope:store/order/metafield/deleted");
    }
}
