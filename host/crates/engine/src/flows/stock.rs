//! Stock, owned by Visma → BigCommerce. A scheduled job reads the items whose availability
//! changed since the stored watermark (all items on a full sync), asks the plugin for
//! absolute levels per BigCommerce location, and sends them in batches (the client splits
//! at 2000). Untracked items are left out by the plugin; the levels we set are recorded as
//! echo markers so the inventory webhooks they cause do no work.

use super::canonical::to_wit_decimal;
use super::{FlowDeps, audit, bc_err, call_plugin, visma_err};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use chrono::{DateTime, Utc};
use ledgerlink_bigcommerce::models::ProductFilter;
use ledgerlink_bigcommerce::models::{AdjustmentItem, ItemRef};
use ledgerlink_core::{BcProductId, BcVariantId, BoxFuture, LegalEntityId, LocationId};
use ledgerlink_runtime::types as wit;
use ledgerlink_visma::dto::{DateFilter, InventoryFilter};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct StockSettings {
    /// Store whose stock each entity feeds (entity → store hash).
    pub feeds: Vec<(LegalEntityId, String)>,
}

pub struct StockFlow {
    deps: Arc<FlowDeps>,
    settings: StockSettings,
}

impl StockFlow {
    pub fn new(deps: Arc<FlowDeps>, settings: StockSettings) -> Self {
        Self { deps, settings }
    }
}

fn watermark_name(entity: &LegalEntityId, store: &str) -> String {
    format!("visma:{entity}:stock->{store}")
}

impl JobHandler for StockFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            let full = job
                .payload
                .get("full")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let mut sent = 0usize;
            for (entity_id, store) in &self.settings.feeds {
                let entity = self.deps.entity(entity_id)?.clone();
                let Some(route) = self
                    .deps
                    .routing
                    .routes_for_store(store)
                    .into_iter()
                    .find(|r| &r.entity == entity_id)
                else {
                    continue;
                };
                let mark = watermark_name(entity_id, store);
                let since = if full {
                    None
                } else {
                    ctx.store()
                        .watermark(&mark)
                        .await?
                        .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                        .map(|d| d.with_timezone(&Utc))
                };
                let pass_started = Utc::now();
                let filter = InventoryFilter {
                    availability_last_modified: since.map(DateFilter::since),
                    expand_warehouse_detail: true,
                    ..Default::default()
                };
                let items = self
                    .deps
                    .visma
                    .list_inventory_items(&entity.id, &filter)
                    .await
                    .map_err(visma_err)?;
                if items.is_empty() {
                    ctx.store()
                        .set_watermark(&mark, &pass_started.to_rfc3339())
                        .await?;
                    continue;
                }
                // The BigCommerce twin of each Visma item (same SKU) and how it is tracked.
                let bc = self.deps.bc(store)?;
                let products = bc
                    .list_products(&ProductFilter {
                        include_variants: true,
                        ..Default::default()
                    })
                    .await
                    .map_err(bc_err)?;
                let mut twins: HashMap<String, (u64, Option<u64>, wit::InventoryTracking)> =
                    HashMap::new();
                for p in &products {
                    let tracking = match p.inventory_tracking.as_deref() {
                        Some("product") => wit::InventoryTracking::Product,
                        Some("variant") => wit::InventoryTracking::Variant,
                        _ => wit::InventoryTracking::None,
                    };
                    if !p.sku.is_empty() {
                        let variant = p
                            .base_variant_id
                            .map(|v| v.0)
                            .or_else(|| p.variants.iter().flatten().next().map(|v| v.id.0));
                        twins.insert(p.sku.clone(), (p.id.0, variant, tracking));
                    }
                    for v in p.variants.iter().flatten() {
                        if !v.sku.is_empty() {
                            twins.insert(v.sku.clone(), (p.id.0, Some(v.id.0), tracking));
                        }
                    }
                }
                let mut levels = Vec::new();
                for item in &items {
                    // Items BigCommerce does not have, or does not track, are left alone.
                    let Some((bc_product, bc_variant, tracking)) =
                        twins.get(&item.inventory_number).cloned()
                    else {
                        continue;
                    };
                    let tracking = if item.stock_item == Some(false) {
                        wit::InventoryTracking::None
                    } else {
                        tracking
                    };
                    for w in &item.warehouse_details {
                        levels.push(wit::StockLevel {
                            item_number: item.inventory_number.clone(),
                            warehouse: w.warehouse.clone().unwrap_or_default(),
                            available: to_wit_decimal(w.available.unwrap_or_default()),
                            on_hand: to_wit_decimal(w.quantity_on_hand.unwrap_or_default()),
                            modified_at: w
                                .last_modified_date_time
                                .map(|d| d.to_rfc3339())
                                .unwrap_or_default(),
                            bc_product_id: Some(bc_product),
                            bc_variant_id: bc_variant,
                            tracking,
                        });
                    }
                }
                if !levels.is_empty() {
                    let plugin = self.deps.plugin(ctx, &route.entity)?;
                    let tables = self.deps.tables(&entity);
                    let wctx = self
                        .deps
                        .context(&entity, &route, store, 0, &entity.base_currency);
                    let adjustments =
                        call_plugin(ctx, &plugin, move |p| p.map_stock(&wctx, &tables, &levels))
                            .await?;
                    let items: Vec<AdjustmentItem> = adjustments
                        .iter()
                        .filter_map(|a| {
                            let item = match (&a.variant_id, &a.product_id, &a.sku) {
                                (Some(v), _, _) => ItemRef::VariantId(BcVariantId(*v)),
                                (None, Some(p), _) => ItemRef::ProductId(BcProductId(*p)),
                                (None, None, Some(s)) => ItemRef::Sku(s.clone()),
                                _ => return None,
                            };
                            Some(AdjustmentItem {
                                location_id: LocationId(a.location_id),
                                item,
                                quantity: a.quantity,
                            })
                        })
                        .collect();
                    if !items.is_empty() {
                        let started = Instant::now();
                        let r = bc
                            .set_absolute_inventory(Some("Ledgerlink: stock from Visma"), &items)
                            .await
                            .map_err(bc_err);
                        audit(
                            ctx,
                            "bigcommerce",
                            "PUT",
                            "/v3/inventory/adjustments/absolute",
                            Some(&items),
                            &r,
                            started,
                        );
                        r?;
                        for i in &items {
                            let res = format!("{store}:stock:{}:{:?}", i.location_id.0, i.item);
                            ctx.record_echo("bigcommerce", &res, &i.quantity.to_string())
                                .await?;
                        }
                        sent += items.len();
                    }
                }
                ctx.store()
                    .set_watermark(&mark, &pass_started.to_rfc3339())
                    .await?;
            }
            if sent == 0 {
                return Ok(JobOutcome::Skipped {
                    reason: "no stock change to send".into(),
                });
            }
            Ok(JobOutcome::Done)
        })
    }
}
