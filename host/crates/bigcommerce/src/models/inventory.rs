//! Inventory v3 and locations (`inventory.v3.yml`, `locations.v3.yml`).

use super::common::Extra;
use chrono::{DateTime, Utc};
use ledgerlink_core::{BcProductId, BcVariantId, LocationId};
use serde::{Deserialize, Serialize};

/// How an adjustment names its item: exactly one of variant, SKU or product (products
/// without variants, or tracked by product).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRef {
    VariantId(BcVariantId),
    Sku(String),
    ProductId(BcProductId),
}

/// One item of an absolute or relative adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentItem {
    pub location_id: LocationId,
    #[serde(flatten)]
    pub item: ItemRef,
    /// The new level (absolute) or the signed change (relative).
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdjustmentRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub items: Vec<AdjustmentItem>,
}

/// `GET /v3/inventory/items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryItem {
    pub identity: ItemIdentity,
    #[serde(default)]
    pub locations: Vec<ItemLocation>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemIdentity {
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub variant_id: Option<BcVariantId>,
    #[serde(default)]
    pub product_id: Option<BcProductId>,
    #[serde(default)]
    pub sku_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemLocation {
    pub location_id: LocationId,
    #[serde(default)]
    pub location_code: Option<String>,
    #[serde(default)]
    pub location_name: Option<String>,
    /// On hand minus safety stock.
    #[serde(default)]
    pub available_to_sell: i64,
    #[serde(default)]
    pub total_inventory_onhand: i64,
    #[serde(default)]
    pub location_enabled: Option<bool>,
    #[serde(default)]
    pub settings: Option<ItemSettings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemSettings {
    #[serde(default)]
    pub safety_stock: Option<i64>,
    #[serde(default)]
    pub is_in_stock: Option<bool>,
    #[serde(default)]
    pub warning_level: Option<i64>,
    #[serde(default)]
    pub bin_picking_number: Option<String>,
}

/// `GET /v3/inventory/locations/{id}/items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationItem {
    pub identity: ItemIdentity,
    #[serde(default)]
    pub available_to_sell: i64,
    #[serde(default)]
    pub total_inventory_onhand: i64,
    #[serde(default)]
    pub settings: Option<ItemSettings>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters for inventory item reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryFilter {
    pub skus: Vec<String>,
    pub variant_ids: Vec<BcVariantId>,
    pub product_ids: Vec<BcProductId>,
    pub location_ids: Vec<LocationId>,
}

impl InventoryFilter {
    pub fn to_query(&self) -> crate::client::Query {
        fn join<T: ToString>(v: &[T]) -> String {
            v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
        }
        let mut q = Vec::new();
        if !self.skus.is_empty() {
            q.push(("sku:in".into(), self.skus.join(",")));
        }
        if !self.variant_ids.is_empty() {
            q.push(("variant_id:in".into(), join(&self.variant_ids)));
        }
        if !self.product_ids.is_empty() {
            q.push(("product_id:in".into(), join(&self.product_ids)));
        }
        if !self.location_ids.is_empty() {
            q.push(("location_id:in".into(), join(&self.location_ids)));
        }
        q
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: LocationId,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub managed_by_external_source: Option<bool>,
    #[serde(default)]
    pub type_id: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub storefront_visibility: Option<bool>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub address: Option<serde_json::Value>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Extra,
}
