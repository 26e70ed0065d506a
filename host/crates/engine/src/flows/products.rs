//! Products/SKUs → Visma inventory items: each sellable SKU (a product without variants, or
//! each variant) is mapped by the plugin and created once, or updated when it exists.

use super::canonical::to_wit_decimal;
use super::{FlowDeps, audit, bc_err, call_plugin, store_of, visma_err};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use ledgerlink_bigcommerce::models::Product;
use ledgerlink_core::money::decimal_to_minor;
use ledgerlink_core::{BcProductId, BoxFuture, VismaItemNo};
use ledgerlink_runtime::types as wit;
use ledgerlink_store::IdentityKey;
use ledgerlink_visma::dto::InventoryUpdate;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;

pub const ID_ITEM: &str = "item";

pub struct ProductFlow {
    deps: Arc<FlowDeps>,
}

impl ProductFlow {
    pub fn new(deps: Arc<FlowDeps>) -> Self {
        Self { deps }
    }
}

fn product_id_of(job: &Job) -> Option<BcProductId> {
    let p = &job.payload;
    p.get("product_id")
        .or_else(|| p.pointer("/data/product_id"))
        .or_else(|| {
            p.pointer("/data/type")
                .filter(|t| t.as_str() == Some("product"))
                .and(p.pointer("/data/id"))
        })
        .or_else(|| p.pointer("/data/sku/product_id"))
        .and_then(|v| v.as_u64())
        .or_else(|| {
            job.subject
                .strip_prefix("product:")
                .and_then(|s| s.parse().ok())
        })
        .map(BcProductId)
}

fn minor(d: Option<Decimal>) -> Option<i64> {
    d.and_then(|d| decimal_to_minor(d, 2))
}

/// One WIT product per sellable SKU.
pub fn skus(p: &Product, currency: &str) -> Vec<wit::Product> {
    let tracking = match p.inventory_tracking.as_deref() {
        Some("product") => wit::InventoryTracking::Product,
        Some("variant") => wit::InventoryTracking::Variant,
        _ => wit::InventoryTracking::None,
    };
    let base = wit::Product {
        product_id: p.id.0,
        variant_id: None,
        sku: p.sku.clone(),
        name: p.name.clone(),
        description: p.description.clone().unwrap_or_default(),
        currency: currency.to_owned(),
        price: minor(p.price).unwrap_or(0),
        sale_price: minor(p.sale_price).filter(|v| *v != 0),
        cost_price: minor(p.cost_price).filter(|v| *v != 0),
        retail_price: minor(p.retail_price).filter(|v| *v != 0),
        tax_class_id: p.tax_class_id.unwrap_or(0),
        tax_class_name: String::new(),
        weight: p.weight.map(to_wit_decimal),
        gtin: p.gtin.clone().unwrap_or_default(),
        mpn: p.mpn.clone().unwrap_or_default(),
        is_visible: p.is_visible.unwrap_or(true),
        inventory_tracking: tracking,
        options: Vec::new(),
        custom_fields: Vec::new(),
        price_records: Vec::new(),
    };
    let variants: Vec<_> = p
        .variants
        .iter()
        .flatten()
        .filter(|v| !v.sku.is_empty())
        .collect();
    // A product's only variant is the product itself.
    if variants.len() <= 1 {
        return if base.sku.is_empty() {
            Vec::new()
        } else {
            vec![base]
        };
    }
    variants
        .into_iter()
        .map(|v| {
            let options = v
                .extra
                .get("option_values")
                .and_then(|o| o.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|o| {
                            Some((
                                o.get("option_display_name")?.as_str()?.to_owned(),
                                o.get("label")?.as_str()?.to_owned(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            wit::Product {
                variant_id: Some(v.id.0),
                sku: v.sku.clone(),
                price: minor(v.price.or(v.calculated_price)).unwrap_or(base.price),
                sale_price: minor(v.sale_price).filter(|x| *x != 0),
                cost_price: minor(v.cost_price).filter(|x| *x != 0),
                retail_price: minor(v.retail_price).filter(|x| *x != 0),
                weight: v.weight.map(to_wit_decimal).or(base.weight),
                mpn: v.mpn.clone().unwrap_or_else(|| base.mpn.clone()),
                options,
                ..base.clone()
            }
        })
        .collect()
}

pub fn item_update(i: &wit::InventoryItem) -> InventoryUpdate {
    use ledgerlink_visma::dto::{InventoryStatus, InventoryType};
    InventoryUpdate {
        inventory_number: Some(i.number.clone()),
        status: Some(match i.status.to_ascii_lowercase().as_str() {
            "inactive" => InventoryStatus::Inactive,
            _ => InventoryStatus::Active,
        }),
        item_type: Some(match i.item_type.as_str() {
            "non-stock" => InventoryType::NonStockItem,
            _ => InventoryType::FinishedGoodItem,
        }),
        description: Some(i.description.clone()),
        item_class: i.item_class_id.clone(),
        vat_code: Some(i.vat_category_id.clone()).filter(|s| !s.is_empty()),
        default_price: Some(super::canonical::from_wit_decimal(&i.default_price)),
        base_unit: Some(i.base_uom.clone()).filter(|s| !s.is_empty()),
        sales_unit: Some(i.sales_uom.clone()).filter(|s| !s.is_empty()),
        purchase_unit: Some(i.purchase_uom.clone()).filter(|s| !s.is_empty()),
        note: Some(i.note.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    }
}

impl JobHandler for ProductFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            let store = store_of(job)?;
            let Some(id) = product_id_of(job) else {
                return Err(
                    JobError::permanent("bad_event", "the event names no product id").at("data.id"),
                );
            };
            let bc = self.deps.bc(&store)?;
            let product = match bc.get_product(id, true).await {
                Ok(p) => p,
                Err(e) if e.class() == ledgerlink_core::ErrorClass::Permanent => {
                    return Ok(JobOutcome::Skipped {
                        reason: format!("product {id} is gone: {e}"),
                    });
                }
                Err(e) => return Err(bc_err(e)),
            };
            ctx.save_snapshot(serde_json::to_value(&product).unwrap_or_default());
            let routes = self.deps.routing.routes_for_store(&store);
            if routes.is_empty() {
                return Ok(JobOutcome::Skipped {
                    reason: format!("no routing rule for store {store}"),
                });
            }
            let mut written = 0;
            for route in routes {
                let entity = self.deps.entity(&route.entity)?.clone();
                // Prices are taken as in the entity's base currency; price records carry others.
                let currency = entity.base_currency.clone();
                let plugin = self.deps.plugin(ctx, &route.entity)?;
                let tables = self.deps.tables(&entity);
                for sku in skus(&product, &currency) {
                    let wctx = self.deps.context(&entity, &route, &store, 0, &currency);
                    let (c, t, s) = (wctx, tables.clone(), sku.clone());
                    let item = call_plugin(ctx, &plugin, move |p| p.map_item(&c, &t, &s)).await?;
                    let body = item_update(&item);
                    let visma = &self.deps.visma;
                    let started = Instant::now();
                    let number = VismaItemNo::new(item.number.clone());
                    let existing = visma
                        .find_inventory_item(&entity.id, &number)
                        .await
                        .map_err(visma_err)?;
                    let r = match existing {
                        None => visma
                            .create_inventory_item_once(&entity.id, &body)
                            .await
                            .map(|c| c.doc.inventory_number)
                            .map_err(visma_err),
                        Some(_) => visma
                            .update_inventory_item(&entity.id, &number, &body, None)
                            .await
                            .map(|i| i.doc.inventory_number)
                            .map_err(visma_err),
                    };
                    audit(
                        ctx,
                        "visma",
                        "POST",
                        "v1/inventory",
                        Some(&body),
                        &r,
                        started,
                    );
                    let n = r?;
                    ctx.store()
                        .put_identity(
                            &IdentityKey::new(entity.id.clone(), ID_ITEM, &sku.sku),
                            &n,
                            Some(ctx.job_id()),
                        )
                        .await?;
                    written += 1;
                }
            }
            if written == 0 {
                return Ok(JobOutcome::Skipped {
                    reason: "the product has no SKU to sync".into(),
                });
            }
            Ok(JobOutcome::Done)
        })
    }
}
