//! Visma inventory summary (`GET /v1/inventorysummary/{inventoryNumber}`) → `types::StockLevel`.

use super::CanonicalError;
use super::json::{Obj, to_wit};
use crate::bindings::types::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One Visma item's stock rows and what the host's identity map knows of its BigCommerce twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockBundle {
    pub item_number: String,
    /// The `InventorySummaryDto` rows, one per warehouse (and location).
    pub summary: Vec<Value>,
    pub bc_product_id: Option<u64>,
    pub bc_variant_id: Option<u64>,
    pub tracking: Tracking,
    #[serde(default)]
    pub modified_at: String,
}

/// `inventory-tracking` as written in fixtures: `none`, `product`, `variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tracking {
    None,
    Product,
    Variant,
}

impl From<Tracking> for InventoryTracking {
    fn from(t: Tracking) -> Self {
        match t {
            Tracking::None => InventoryTracking::None,
            Tracking::Product => InventoryTracking::Product,
            Tracking::Variant => InventoryTracking::Variant,
        }
    }
}

/// One level per warehouse: rows of the same warehouse (several locations) add up.
pub fn build_stock_levels(bundles: &[StockBundle]) -> Result<Vec<StockLevel>, CanonicalError> {
    let mut out: Vec<StockLevel> = Vec::new();
    for (b, bundle) in bundles.iter().enumerate() {
        let mut per_wh: Vec<(String, rust_decimal::Decimal, rust_decimal::Decimal)> = Vec::new();
        for (i, row) in bundle.summary.iter().enumerate() {
            let path = format!("levels[{b}].summary[{i}]");
            let r = Obj::new(row, &path);
            let wh = match r.get("warehouse") {
                Some(Value::Object(_)) => {
                    Obj::new(r.get("warehouse").expect("present"), "").str("id")
                }
                _ => r.str("warehouse"),
            };
            if wh.trim().is_empty() {
                return Err(CanonicalError::Missing {
                    field: format!("{path}.warehouse.id"),
                });
            }
            let available = r.decimal_or_zero("available")?;
            let on_hand = r.decimal_or_zero("onHand")?;
            match per_wh.iter_mut().find(|(w, _, _)| *w == wh) {
                Some(e) => {
                    e.1 += available;
                    e.2 += on_hand;
                }
                None => per_wh.push((wh, available, on_hand)),
            }
        }
        for (wh, available, on_hand) in per_wh {
            out.push(StockLevel {
                item_number: bundle.item_number.clone(),
                warehouse: wh,
                available: to_wit(available, "available")?,
                on_hand: to_wit(on_hand, "onHand")?,
                modified_at: bundle.modified_at.clone(),
                bc_product_id: bundle.bc_product_id,
                bc_variant_id: bundle.bc_variant_id,
                tracking: bundle.tracking.into(),
            });
        }
    }
    Ok(out)
}
