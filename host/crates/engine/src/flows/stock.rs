//! Stock, owned by Visma → BigCommerce. A scheduled job reads the items whose availability
//! changed since the stored watermark (all items on a full sync), asks the plugin for
//! absolute levels per BigCommerce location, and sends them in batches (the client splits
//! at 2000). Untracked items are left out by the plugin, and SKUs BigCommerce does not sell
//! are never sent.
//!
//! No echo loop: stock flows one way. The inventory webhooks our adjustments cause are
//! recorded and skipped (`IGNORED_SCOPES`), an absolute level says the same however often it
//! is sent, and nothing we write to BigCommerce moves Visma's availability time, so the next
//! delta does not see our own pass again.
//!
//! One bad item never holds up the others: when the plugin refuses the batch, each item is
//! mapped on its own; when BigCommerce refuses a batch (one item fails all of it), the batch
//! is halved until the refused items stand alone. Everything else is sent and the watermark
//! moves on; the refused items go to a `ledgerlink/stock/retry` job of their own, which tries
//! them again and fails into the error queue naming each (replay it after a fix). The pass
//! itself succeeds, so the next passes are not held up behind a failed job.

use super::canonical::to_wit_decimal;
use super::routing::{EntitySettings, Route};
use super::{FlowDeps, audit, bc_err, call_plugin, visma_err};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use chrono::{DateTime, Utc};
use ledgerlink_bigcommerce::Client as BcClient;
use ledgerlink_bigcommerce::models::{AdjustmentItem, ItemRef};
use ledgerlink_bigcommerce::models::{Product, ProductFilter, Variant};
use ledgerlink_core::ErrorClass;
use ledgerlink_core::{BcProductId, BcVariantId, BoxFuture, LegalEntityId, LocationId};
use ledgerlink_runtime::types as wit;
use ledgerlink_runtime::{LoadedPlugin, MappingTables};
use ledgerlink_store::NewJob;
use ledgerlink_visma::dto::{DateFilter, InventoryFilter, InventoryItem};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct StockSettings {
    /// Store whose stock each entity feeds (entity → store hash).
    pub feeds: Vec<(LegalEntityId, String)>,
}

/// Items a stock pass could not send, tried again on their own.
pub const KIND_STOCK_RETRY: &str = "ledgerlink/stock/retry";

pub struct StockFlow {
    deps: Arc<FlowDeps>,
    settings: StockSettings,
}

impl StockFlow {
    pub fn new(deps: Arc<FlowDeps>, settings: StockSettings) -> Self {
        Self { deps, settings }
    }
}

/// A delta with at most this many changed items looks their SKUs up; a bigger one (and the
/// full sync) reads the whole catalogue, which costs fewer requests then.
const TARGETED_LOOKUP_MAX: usize = 500;

/// SKU → (product id, variant id, tracking) of the BigCommerce catalogue.
type Twins = HashMap<String, (u64, Option<u64>, wit::InventoryTracking)>;

fn tracking_of(p: &Product) -> wit::InventoryTracking {
    match p.inventory_tracking.as_deref() {
        Some("product") => wit::InventoryTracking::Product,
        Some("variant") => wit::InventoryTracking::Variant,
        _ => wit::InventoryTracking::None,
    }
}

/// Every sellable SKU of the catalogue. The SKU of a product with option variants names no
/// stock of its own (its variants hold it), so only the variants' SKUs count there.
async fn all_twins(bc: &BcClient) -> Result<Twins, JobError> {
    let products = bc
        .list_products(&ProductFilter {
            include_variants: true,
            ..Default::default()
        })
        .await
        .map_err(bc_err)?;
    let mut twins = Twins::new();
    for p in &products {
        let tracking = tracking_of(p);
        for v in p.variants.iter().flatten() {
            if !v.sku.is_empty() {
                twins.insert(v.sku.clone(), (p.id.0, Some(v.id.0), tracking));
            }
        }
        if let Some(base) = p.base_variant_id
            && !p.sku.is_empty()
        {
            twins.insert(p.sku.clone(), (p.id.0, Some(base.0), tracking));
        }
    }
    Ok(twins)
}

/// The twins of `skus` only: their variants (a simple product's SKU is its base variant's),
/// then those variants' products for the tracking.
async fn twins_of(bc: &BcClient, skus: &[String]) -> Result<Twins, JobError> {
    let mut variants: Vec<Variant> = Vec::new();
    for chunk in skus.chunks(50) {
        let found: Vec<Variant> = bc
            .v3_collect(
                "/v3/catalog/variants",
                vec![("sku:in".into(), chunk.join(","))],
                250,
            )
            .await
            .map_err(bc_err)?;
        variants.extend(found.into_iter().filter(|v| skus.contains(&v.sku)));
    }
    let mut ids: Vec<BcProductId> = variants.iter().map(|v| v.product_id).collect();
    ids.sort_unstable_by_key(|p| p.0);
    ids.dedup();
    let mut tracking: HashMap<u64, wit::InventoryTracking> = HashMap::new();
    for chunk in ids.chunks(50) {
        let products = bc
            .list_products(&ProductFilter {
                ids: chunk.to_vec(),
                ..Default::default()
            })
            .await
            .map_err(bc_err)?;
        tracking.extend(products.iter().map(|p| (p.id.0, tracking_of(p))));
    }
    Ok(variants
        .into_iter()
        .filter_map(|v| {
            let t = *tracking.get(&v.product_id.0)?;
            Some((v.sku, (v.product_id.0, Some(v.id.0), t)))
        })
        .collect())
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
            if job.kind == KIND_STOCK_RETRY {
                return self.retry(job, ctx).await;
            }
            let full = job
                .payload
                .get("full")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let mut sent = 0usize;
            let mut refusals = 0usize;
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
                let (n, refused) = self
                    .send_items(ctx, &entity, &route, store, &items, full)
                    .await?;
                sent += n;
                if !refused.is_empty() {
                    // Reported by a job of its own: a failed job holds up every later job of
                    // its subject, and the stock passes must go on.
                    ctx.enqueue(NewJob {
                        kind: KIND_STOCK_RETRY.into(),
                        subject: format!("stock-retry:{}:{entity_id}:{store}", ctx.job_id()),
                        payload: serde_json::json!({
                            "entity": entity_id.as_str(), "store": store,
                            "items": refused.iter().map(|r| r.item.clone()).collect::<Vec<_>>(),
                            "refused": refused,
                        }),
                        source: None,
                    });
                    refusals += refused.len();
                }
                ctx.store()
                    .set_watermark(&mark, &pass_started.to_rfc3339())
                    .await?;
            }
            if sent == 0 && refusals == 0 {
                return Ok(JobOutcome::Skipped {
                    reason: "no stock change to send".into(),
                });
            }
            Ok(JobOutcome::Done)
        })
    }
}

/// A stock level that did not reach BigCommerce, and why.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Refusal {
    /// The Visma item number.
    pub item: String,
    /// What was refused (the item, or its level at one location).
    pub what: String,
    pub why: String,
}

impl StockFlow {
    /// Maps the stock of `items` (Visma items with warehouse details) to BigCommerce levels
    /// and sends them. Returns how many levels were set and what was refused.
    async fn send_items(
        &self,
        ctx: &JobContext,
        entity: &EntitySettings,
        route: &Route,
        store: &str,
        items: &[InventoryItem],
        whole_catalogue: bool,
    ) -> Result<(usize, Vec<Refusal>), JobError> {
        // The BigCommerce twin of each Visma item (same SKU) and how it is tracked.
        let bc = self.deps.bc(store)?;
        let twins = if whole_catalogue || items.len() > TARGETED_LOOKUP_MAX {
            all_twins(bc).await?
        } else {
            let skus: Vec<String> = items.iter().map(|i| i.inventory_number.clone()).collect();
            twins_of(bc, &skus).await?
        };
        let mut levels = Vec::new();
        // Which Visma item an adjustment is for, to name refusals.
        let mut numbers: HashMap<String, String> = HashMap::new();
        for item in items {
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
            let number = item.inventory_number.clone();
            numbers.insert(
                format!("{:?}", ItemRef::ProductId(BcProductId(bc_product))),
                number.clone(),
            );
            if let Some(v) = bc_variant {
                numbers.insert(
                    format!("{:?}", ItemRef::VariantId(BcVariantId(v))),
                    number.clone(),
                );
            }
            numbers.insert(
                format!("{:?}", ItemRef::Sku(number.clone())),
                number.clone(),
            );
            for w in &item.warehouse_details {
                levels.push(wit::StockLevel {
                    item_number: number.clone(),
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
        if levels.is_empty() {
            return Ok((0, Vec::new()));
        }
        let plugin = self.deps.plugin(ctx, &route.entity)?;
        let tables = self.deps.tables(entity);
        let wctx = self
            .deps
            .context(entity, route, store, 0, &entity.base_currency);
        let (adjustments, mut refused) =
            map_isolating(ctx, &plugin, &wctx, &tables, levels).await?;
        let adjustments: Vec<AdjustmentItem> = adjustments
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
        let (sent, bc_refused) = send_isolating(ctx, bc, adjustments).await?;
        refused.extend(bc_refused.into_iter().map(|(item, why)| {
            Refusal {
                item: numbers
                    .get(&format!("{:?}", item.item))
                    .cloned()
                    .unwrap_or_default(),
                what: format!("{:?} at location {}", item.item, item.location_id.0),
                why,
            }
        }));
        Ok((sent, refused))
    }

    /// A `ledgerlink/stock/retry` job: the items a pass could not send, tried again (its
    /// replay after a fix does the same). Fails, into the error queue, while any is refused.
    async fn retry(&self, job: &Job, ctx: &JobContext) -> Result<JobOutcome, JobError> {
        let text = |k: &str| {
            job.payload
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    JobError::permanent("bad_job", format!("stock retry lacks {k:?}")).at(k)
                })
        };
        let (entity_id, store) = (LegalEntityId::new(text("entity")?), text("store")?);
        let wanted: Vec<String> = job
            .payload
            .get("items")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let entity = self.deps.entity(&entity_id)?.clone();
        let Some(route) = self
            .deps
            .routing
            .routes_for_store(&store)
            .into_iter()
            .find(|r| r.entity == entity_id)
        else {
            return Ok(JobOutcome::Skipped {
                reason: format!("store {store} is no longer routed to {entity_id}"),
            });
        };
        let mut items = Vec::new();
        for number in &wanted {
            let filter = InventoryFilter {
                inventory_number: Some(number.clone()),
                expand_warehouse_detail: true,
                ..Default::default()
            };
            items.extend(
                self.deps
                    .visma
                    .list_inventory_items(&entity.id, &filter)
                    .await
                    .map_err(visma_err)?
                    .into_iter()
                    .filter(|i| &i.inventory_number == number),
            );
        }
        let (sent, refused) = self
            .send_items(ctx, &entity, &route, &store, &items, false)
            .await?;
        if refused.is_empty() {
            return Ok(JobOutcome::Done);
        }
        let list: Vec<String> = refused
            .iter()
            .take(20)
            .map(|r| format!("{}: {}", r.what, r.why))
            .collect();
        Err(JobError::permanent(
            "stock_items_refused",
            format!(
                "{} stock level(s) for store {store} not sent ({sent} others were): {}{}. Fix the mapping or the item, then replay this job.",
                refused.len(),
                list.join("; "),
                if refused.len() > 20 { "; …" } else { "" }
            ),
        )
        .with_payload("refused", serde_json::to_value(&refused).unwrap_or_default()))
    }
}

/// Maps all levels in one plugin call; when the plugin refuses them, maps each item's levels
/// on its own so the good ones still go. Returns the adjustments and the refused items.
async fn map_isolating(
    ctx: &JobContext,
    plugin: &Arc<LoadedPlugin>,
    wctx: &wit::Context,
    tables: &MappingTables,
    levels: Vec<wit::StockLevel>,
) -> Result<(Vec<wit::BcInventoryAdjustment>, Vec<Refusal>), JobError> {
    let (c, t, l) = (wctx.clone(), tables.clone(), levels.clone());
    match call_plugin(ctx, plugin, move |p| p.map_stock(&c, &t, &l)).await {
        Ok(a) => return Ok((a, Vec::new())),
        Err(e) if e.class != ErrorClass::Permanent => return Err(e),
        Err(_) => {}
    }
    let mut by_item: Vec<(String, Vec<wit::StockLevel>)> = Vec::new();
    for l in levels {
        match by_item.iter_mut().find(|(n, _)| *n == l.item_number) {
            Some((_, v)) => v.push(l),
            None => by_item.push((l.item_number.clone(), vec![l])),
        }
    }
    let (mut out, mut bad) = (Vec::new(), Vec::new());
    for (number, levels) in by_item {
        let (c, t) = (wctx.clone(), tables.clone());
        match call_plugin(ctx, plugin, move |p| p.map_stock(&c, &t, &levels)).await {
            Ok(a) => out.extend(a),
            Err(e) if e.class == ErrorClass::Permanent => bad.push(Refusal {
                what: format!("Visma item {number}"),
                item: number,
                why: e.message,
            }),
            Err(e) => return Err(e),
        }
    }
    Ok((out, bad))
}

/// Sends absolute levels; a batch BigCommerce refuses is halved until the refused items
/// stand alone. Returns how many were set and the refused items with the reason.
async fn send_isolating(
    ctx: &JobContext,
    bc: &BcClient,
    items: Vec<AdjustmentItem>,
) -> Result<(usize, Vec<(AdjustmentItem, String)>), JobError> {
    let (mut sent, mut refused) = (0usize, Vec::new());
    let mut stack = vec![items];
    while let Some(mut batch) = stack.pop() {
        if batch.is_empty() {
            continue;
        }
        let started = Instant::now();
        let r = bc
            .set_absolute_inventory(Some("Ledgerlink: stock from Visma"), &batch)
            .await
            .map_err(bc_err);
        audit(
            ctx,
            "bigcommerce",
            "PUT",
            "/v3/inventory/adjustments/absolute",
            Some(&batch),
            &r,
            started,
        );
        match r {
            Ok(_) => sent += batch.len(),
            Err(e) if e.class != ErrorClass::Permanent => return Err(e),
            Err(e) if batch.len() == 1 => refused.push((batch.remove(0), e.message)),
            Err(_) => {
                let second = batch.split_off(batch.len() / 2);
                stack.push(second);
                stack.push(batch);
            }
        }
    }
    Ok((sent, refused))
}
