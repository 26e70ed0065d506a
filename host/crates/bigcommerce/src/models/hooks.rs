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
    /// The resource the event is about, e.g. `order:250`: jobs of one subject run one at a
    /// time in arrival order, and a failed one holds up the later ones of its subject only.
    /// So every event that names its resource gets that resource's subject (everything about
    /// an order stays `order:<id>`, in order); only an event that names none shares
    /// `scope:<scope>` with the other events of its scope.
    pub fn subject(&self) -> String {
        let d = &self.data;
        let num = id_text;
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
        {
            if let Some(id) = num(d.get("resource_id")) {
                return format!("{owner}:{id}");
            }
            if let Some(id) = num(d.get("metafield_id")) {
                return format!("{owner}_metafield:{id}");
            }
        }
        match (kind, num(d.get("id"))) {
            (Some("customer"), Some(id)) if self.scope.starts_with("store/customer/address/") => {
                match num(d.get("address").and_then(|a| a.get("customer_id"))) {
                    Some(c) => format!("customer:{c}"),
                    None => format!("customer_address:{id}"),
                }
            }
            // A SKU's own create/update/delete belongs to its product, so it runs after the
            // product's creation and before its deletion (stock events keep `sku:<id>`).
            (Some("sku"), _)
                if !self.scope.starts_with("store/sku/inventory/")
                    && num(d.get("sku").and_then(|s| s.get("product_id"))).is_some() =>
            {
                format!(
                    "product:{}",
                    num(d.get("sku").and_then(|s| s.get("product_id"))).unwrap_or_default()
                )
            }
            (Some("shipment"), _) if num(d.get("orderId")).is_some() => {
                format!("order:{}", num(d.get("orderId")).unwrap_or_default())
            }
            (Some(kind), Some(id)) => format!("{kind}:{id}"),
            // `store/information/updated`, `store/app/uninstalled`: the store itself.
            (Some("store"), None) => format!("store:{}", self.store_id),
            _ => self
                .untyped_subject()
                .unwrap_or_else(|| format!("scope:{}", self.scope)),
        }
    }

    /// The resource of an event whose `data` has no `type`/`id` pair (NOTES §5.3): price
    /// lists and their records, inventory locations, location-aware stock, customer channel
    /// access.
    fn untyped_subject(&self) -> Option<String> {
        let text = |v: &serde_json::Value, key: &str| id_text(v.get(key));
        let d = &self.data;
        // A batch of price-list records (`data` is an array): the list they all belong to.
        if let Some(records) = d.as_array() {
            let mut lists = records.iter().map(|r| text(r, "price_list_id"));
            let first = lists.next()??;
            return lists
                .all(|l| l.as_deref() == Some(first.as_str()))
                .then(|| format!("price_list:{first}"));
        }
        if let Some(list) = text(d, "price_list_id") {
            return Some(match text(d, "variant_id") {
                // One record: a variant's price in one currency on one list. The docs call the
                // currency `currency`; the simulator and the sample payloads `currency_code`.
                Some(variant) => match text(d, "currency").or_else(|| text(d, "currency_code")) {
                    Some(currency) => format!(
                        "price_list_record:{list}:{variant}:{}",
                        currency.to_ascii_uppercase()
                    ),
                    None => format!("price_list_record:{list}:{variant}"),
                },
                None => format!("price_list:{list}"),
            });
        }
        // Location-aware stock events name the variant (and product) whose stock moved.
        if let Some(variant) = text(d, "variant_id") {
            return Some(format!("variant:{variant}"));
        }
        if let Some(product) = text(d, "product_id") {
            return Some(format!("product:{product}"));
        }
        if let Some(location) = text(d, "location_id") {
            return Some(format!("location:{location}"));
        }
        text(d, "customer_id").map(|c| format!("customer:{c}"))
    }
}

/// An id as the payloads send it: a number or a non-empty string.
fn id_text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(|v| {
        v.as_u64()
            .map(|n| n.to_string())
            .or_else(|| v.as_str().map(str::to_owned))
            .filter(|s| !s.is_empty())
    })
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
        // Without an owner: the metafield itself.
        let bare = payload(
            "store/order/metafield/deleted",
            serde_json::json!({"metafield_id": 9}),
        );
        assert_eq!(bare.subject(), "order_metafield:9");
    }

    #[test]
    fn events_without_type_and_id_get_their_resources_subject() {
        let cases = [
            // NOTES §5.3 shapes, and the simulator's `currency_code` spelling.
            (
                "store/priceList/created",
                serde_json::json!({"price_list_id": 3}),
                "price_list:3",
            ),
            (
                "store/priceList/assignment/updated",
                serde_json::json!({"price_list_id": 3, "channel_id": 1, "customer_group_id": 2}),
                "price_list:3",
            ),
            (
                "store/priceList/record/updated",
                serde_json::json!({"price_list_id": 3, "variant_id": 71, "currency": "sek"}),
                "price_list_record:3:71:SEK",
            ),
            (
                "store/priceList/record/updated",
                serde_json::json!({"price_list_id": 3, "variant_id": 71, "currency_code": "sek"}),
                "price_list_record:3:71:SEK",
            ),
            (
                "store/priceList/records/created",
                serde_json::json!([{"price_list_id": 3, "variant_id": 71, "currency_code": "sek"},
                                   {"price_list_id": 3, "variant_id": 72, "currency_code": "eur"}]),
                "price_list:3",
            ),
            (
                "store/channel/1/inventory/product/stock_changed",
                serde_json::json!({"variant_id": 71, "product_id": 12, "location_id": 2}),
                "variant:71",
            ),
            (
                "store/inventory/location/created",
                serde_json::json!({"location_id": 2}),
                "location:2",
            ),
            (
                "store/customer/channel/login/access/updated",
                serde_json::json!({"customer_id": 40, "channel_ids": [1, 2]}),
                "customer:40",
            ),
            (
                "store/information/updated",
                serde_json::json!({"type": "store"}),
                "store:1",
            ),
            (
                "store/channel/1/order/created",
                serde_json::json!({"order_id": 250}),
                "order:250",
            ),
            // NOTES §5 table: a SKU's own events run with its product's; its stock events
            // stay on the SKU.
            (
                "store/sku/deleted",
                serde_json::json!({"type": "sku", "id": 5001, "sku": {"product_id": 12, "variant_id": 71}}),
                "product:12",
            ),
            (
                "store/sku/inventory/updated",
                serde_json::json!({"type": "sku", "id": 5001, "inventory": {"product_id": 12, "variant_id": 71}}),
                "sku:5001",
            ),
        ];
        for (scope, data, subject) in cases {
            assert_eq!(
                payload(scope, data.clone()).subject(),
                subject,
                "{scope} {data}"
            );
        }
        // Records of several lists in one batch name no one resource.
        let mixed = payload(
            "store/priceList/records/updated",
            serde_json::json!([{"price_list_id": 3, "variant_id": 71},
                               {"price_list_id": 4, "variant_id": 71}]),
        );
        assert_eq!(mixed.subject(), "scope:store/priceList/records/updated");
        // Two records of one kind are two subjects: one failing never holds up the other.
        let a = payload(
            "store/priceList/record/updated",
            serde_json::json!({"price_list_id": 3, "variant_id": 71, "currency_code": "sek"}),
        );
        let b = payload(
            "store/priceList/record/updated",
            serde_json::json!({"price_list_id": 3, "variant_id": 72, "currency_code": "sek"}),
        );
        assert_ne!(a.subject(), b.subject());
    }
}
