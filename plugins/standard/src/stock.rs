//! `map-stock`: Visma stock per warehouse → BigCommerce absolute stock per location.

use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Decimal, Errors, Host, LogLevel, Settings};

use crate::common::dec;

pub fn map_stock(
    host: &impl Host,
    ctx: &Context,
    levels: &[StockLevel],
) -> Result<Vec<BcInventoryAdjustment>, Vec<MappingError>> {
    let settings = Settings::of(ctx);
    let mut errors = Errors::new();
    let quantity_of = settings.choice(
        "stock-quantity",
        &["available", "on-hand"],
        "available",
        &mut errors,
    );
    let unmapped = settings.choice(
        "unmapped-warehouses",
        &["error", "skip"],
        "error",
        &mut errors,
    );
    let mut out: Vec<BcInventoryAdjustment> = Vec::new();

    for (i, level) in levels.iter().enumerate() {
        if level.tracking == InventoryTracking::None {
            continue;
        }
        let path = format!("levels[{i}]");
        let location = match host.lookup("warehouse", &level.warehouse) {
            Some(v) => match v.trim().parse::<u64>() {
                Ok(id) => id,
                Err(_) => {
                    errors.push(
                        format!("{path}.warehouse"),
                        "invalid-mapping",
                        format!("mapping table warehouse maps {} to {v:?}, which is not a BigCommerce location id", level.warehouse),
                    );
                    continue;
                }
            },
            None if unmapped == "skip" => {
                host.log(
                    LogLevel::Debug,
                    &format!(
                        "warehouse {} has no BigCommerce location; left out",
                        level.warehouse
                    ),
                );
                continue;
            }
            None => {
                errors.push(
                    format!("{path}.warehouse"),
                    "missing-warehouse-mapping",
                    format!("no BigCommerce location for Visma warehouse {}: add it to mapping table warehouse", level.warehouse),
                );
                continue;
            }
        };
        let (product_id, variant_id) = match level.tracking {
            InventoryTracking::Product => match level.bc_product_id {
                Some(p) => (Some(p), None),
                None => {
                    errors.push(
                        format!("{path}.bc-product-id"),
                        "unknown-bc-item",
                        format!(
                            "item {} is tracked by product but has no BigCommerce product id",
                            level.item_number
                        ),
                    );
                    continue;
                }
            },
            _ => match level.bc_variant_id {
                Some(v) => (None, Some(v)),
                None => {
                    errors.push(
                        format!("{path}.bc-variant-id"),
                        "unknown-bc-item",
                        format!(
                            "item {} is tracked by variant but has no BigCommerce variant id",
                            level.item_number
                        ),
                    );
                    continue;
                }
            },
        };
        let q = if quantity_of == "on-hand" {
            dec(&level.on_hand)
        } else {
            dec(&level.available)
        };
        // BigCommerce counts whole units and never below zero.
        let q = i64::try_from(q.floor().max(Decimal::ZERO)).unwrap_or(i64::MAX);
        // Several Visma warehouses can feed one location: their stock adds up.
        match out.iter_mut().find(|a| {
            a.location_id == location && a.product_id == product_id && a.variant_id == variant_id
        }) {
            Some(a) => a.quantity = a.quantity.saturating_add(q),
            None => out.push(BcInventoryAdjustment {
                location_id: location,
                product_id,
                variant_id,
                sku: None,
                quantity: q,
            }),
        }
    }
    errors.finish(out)
}
