//! Products/SKUs → Visma inventory items: each sellable SKU (a product without variants, or
//! each variant) is mapped by the plugin and created once, or updated when it exists. Where
//! the store uses price lists, each record of the SKU's variant becomes a sales price of the
//! Visma customer price class the plugin maps the list to (`/v1/customerSalesPrice`).
//!
//! Prices: BigCommerce prices are in the store's default currency and include tax when the
//! store enters prices with tax; Visma keeps net prices, in the legal entity's base currency
//! for the item's default price. The host converts after the plugin has chosen the item's VAT
//! category (the rate comes from that category in Visma) and currency, with the store's own
//! exchange rate, rounding once, to the cent.
//!
//! Triggers: product and SKU webhooks, the price lists' record webhooks (fanned out into one
//! `ledgerlink/product/sync` job per product, since price changes fire no product event), and
//! the full sync (`ledgerlink backfill products`). Rows of price classes that no list maps to
//! any more are expired, never deleted; rows of classes outside the `price-class` table are
//! left alone. A SKU whose Visma content is what we last wrote is skipped, except by the full
//! sync, which rewrites everything and so also repairs edits made in Visma.

use super::canonical::{self, from_wit_decimal};
use super::{
    FlowDeps, KIND_PRODUCT_SYNC, audit, bc_err, call_plugin, canonical_err, store_of, visma_err,
};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use chrono::Utc;
use ledgerlink_bigcommerce::Client as BcClient;
use ledgerlink_bigcommerce::models::{PriceRecord, Product, Variant};
use ledgerlink_core::{BcProductId, BcVariantId, BoxFuture, LegalEntityId, VismaItemNo};
use ledgerlink_runtime::types as wit;
use ledgerlink_store::{IdentityKey, NewJob};
use ledgerlink_visma::dto::{
    InventoryUpdate, PriceType, SalesPrice, SalesPriceFilter, SalesPriceUpdate, fmt_datetime,
};
use parking_lot::Mutex;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const ID_ITEM: &str = "item";

/// The mapping table whose values are the Visma price classes our price lists feed; rows of
/// other price classes are never touched.
pub const PRICE_CLASS_TABLE: &str = "price-class";

/// How long store settings (tax-inclusive prices, currencies, tax class names) are reused.
const FACTS_TTL: Duration = Duration::from_secs(60);

/// What the product flow needs to know about a store besides the product.
#[derive(Debug, Clone, Default)]
pub struct StoreFacts {
    pub default_currency: String,
    pub prices_include_tax: bool,
    /// Store default → currency, per currency code (upper case).
    pub rates: HashMap<String, Decimal>,
    pub tax_class_names: HashMap<u64, String>,
}

pub struct ProductFlow {
    deps: Arc<FlowDeps>,
    facts: Mutex<HashMap<String, (Instant, Arc<StoreFacts>)>>,
}

impl ProductFlow {
    pub fn new(deps: Arc<FlowDeps>) -> Self {
        Self {
            deps,
            facts: Mutex::new(HashMap::new()),
        }
    }

    async fn facts(&self, store: &str, bc: &BcClient) -> Result<Arc<StoreFacts>, JobError> {
        if let Some((at, f)) = self.facts.lock().get(store)
            && at.elapsed() < FACTS_TTL
        {
            return Ok(f.clone());
        }
        let info = bc.store_info().await.map_err(bc_err)?;
        let currencies = bc.currencies().await.map_err(bc_err)?;
        let classes = bc.tax_classes().await.map_err(bc_err)?;
        let default_currency = info
            .currency
            .clone()
            .or_else(|| {
                currencies
                    .iter()
                    .find(|c| c.is_default)
                    .map(|c| c.currency_code.clone())
            })
            .unwrap_or_default()
            .to_uppercase();
        let mut rates: HashMap<String, Decimal> = currencies
            .iter()
            .filter_map(|c| {
                Some((
                    c.currency_code.to_uppercase(),
                    c.currency_exchange_rate.filter(|r| !r.is_zero())?,
                ))
            })
            .collect();
        rates.insert(default_currency.clone(), Decimal::ONE);
        let facts = Arc::new(StoreFacts {
            default_currency,
            prices_include_tax: info.is_price_entered_with_tax.unwrap_or(false),
            rates,
            tax_class_names: classes.into_iter().map(|c| (c.id, c.name)).collect(),
        });
        self.facts
            .lock()
            .insert(store.to_owned(), (Instant::now(), facts.clone()));
        Ok(facts)
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

/// The variant ids that hold the product's prices: every variant (a simple product has one,
/// its base variant).
pub fn variant_ids(p: &Product) -> Vec<u64> {
    let mut ids: Vec<u64> = p.variants.iter().flatten().map(|v| v.id.0).collect();
    if let Some(b) = p.base_variant_id
        && !ids.contains(&b.0)
    {
        ids.push(b.0);
    }
    ids
}

pub fn item_update(i: &wit::InventoryItem) -> InventoryUpdate {
    use ledgerlink_visma::dto::{InventoryStatus, InventoryType};
    InventoryUpdate {
        inventory_number: Some(i.number.clone()),
        status: Some(match i.status.to_ascii_lowercase().as_str() {
            "inactive" => InventoryStatus::Inactive,
            "nosales" | "no-sales" => InventoryStatus::NoSales,
            _ => InventoryStatus::Active,
        }),
        item_type: Some(match i.item_type.as_str() {
            "non-stock" => InventoryType::NonStockItem,
            _ => InventoryType::FinishedGoodItem,
        }),
        description: Some(i.description.clone()),
        item_class: i.item_class_id.clone(),
        vat_code: Some(i.vat_category_id.clone()).filter(|s| !s.is_empty()),
        default_price: Some(from_wit_decimal(&i.default_price)),
        base_unit: Some(i.base_uom.clone()).filter(|s| !s.is_empty()),
        sales_unit: Some(i.sales_uom.clone()).filter(|s| !s.is_empty()),
        purchase_unit: Some(i.purchase_uom.clone()).filter(|s| !s.is_empty()),
        note: Some(i.note.clone()).filter(|s| !s.is_empty()),
        ..Default::default()
    }
}

/// A gross price without VAT at `rate` percent; unchanged when prices are net already.
fn net(gross: Decimal, rate: Option<Decimal>, include_tax: bool) -> Decimal {
    match rate {
        Some(r) if include_tax => gross / (Decimal::ONE + r / Decimal::ONE_HUNDRED),
        _ => gross,
    }
}

/// One price-class price as Visma should hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedPrice {
    pub price_class: String,
    pub currency: String,
    pub price: Decimal,
}

/// The item's Visma default price and price-class prices, net and in Visma's currencies.
fn visma_prices(
    item: &wit::InventoryItem,
    base_currency: &str,
    facts: &StoreFacts,
    vat_rate: Option<Decimal>,
) -> Result<(Decimal, Vec<WantedPrice>), JobError> {
    let include = facts.prices_include_tax;
    let from = item.currency_id.to_uppercase();
    let base = base_currency.to_uppercase();
    let gross = from_wit_decimal(&item.default_price);
    // Converted from the item's currency to the entity's with the store's own rates (both
    // relative to the store's default currency).
    let converted = if from.is_empty() || from == base {
        gross
    } else {
        let rate_of = |c: &str| facts.rates.get(c).copied();
        match (rate_of(&from), rate_of(&base)) {
            (Some(f), Some(t)) => gross / f * t,
            _ => {
                return Err(JobError::permanent(
                    "missing_exchange_rate",
                    format!(
                        "the store has no exchange rate between {from} and {base}: add {base} to the store's currencies, or map the price in the plugin"
                    ),
                )
                .at("currency-id"));
            }
        }
    };
    let default_price = net(converted, vat_rate, include).round_dp(2);
    let prices = item
        .price_class_prices
        .iter()
        .map(|p| WantedPrice {
            price_class: p.price_class_id.clone(),
            currency: p.currency_id.to_uppercase(),
            price: net(from_wit_decimal(&p.price), vat_rate, include).round_dp(2),
        })
        .collect();
    Ok((default_price, prices))
}

/// What to do with the item's price-class rows in Visma.
#[derive(Debug, Clone, PartialEq)]
pub enum PriceChange {
    Create(WantedPrice),
    Update {
        record_id: i64,
        price: Decimal,
    },
    /// A price of one of our price classes that the store no longer has.
    Expire {
        record_id: i64,
    },
}

/// Compares the wanted prices with the rows Visma has for the item (in force today, unit
/// `uom`, no break quantity, no warehouse), for the price classes we own.
pub fn price_changes(
    wanted: &[WantedPrice],
    existing: &[SalesPrice],
    owned: &[String],
    uom: &str,
) -> Vec<PriceChange> {
    let today = Utc::now().date_naive();
    let ours = |p: &&SalesPrice| {
        p.price_type.as_deref() == Some("CustomerPriceClass")
            && p.break_qty.unwrap_or_default().is_zero()
            && p.warehouse.as_deref().unwrap_or_default().is_empty()
            && p.promotion != Some(true)
            && (uom.is_empty() || p.uom.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(uom)))
            && p.expiration_date.is_none_or(|x| x.date_naive() >= today)
            && p.effective_date.is_none_or(|e| e.date_naive() <= today)
    };
    let current: Vec<&SalesPrice> = existing.iter().filter(ours).collect();
    let same = |p: &SalesPrice, w: &WantedPrice| {
        p.price_code.as_deref() == Some(w.price_class.as_str())
            && p.currency
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(&w.currency))
    };
    let mut out = Vec::new();
    for w in wanted {
        match current.iter().find(|p| same(p, w)) {
            Some(p) if p.price != Some(w.price) => out.push(PriceChange::Update {
                record_id: p.record_id,
                price: w.price,
            }),
            Some(_) => {}
            None => out.push(PriceChange::Create(w.clone())),
        }
    }
    for p in current {
        let code = p.price_code.clone().unwrap_or_default();
        if p.expiration_date.is_none()
            && owned.contains(&code)
            && !wanted.iter().any(|w| same(p, w))
        {
            out.push(PriceChange::Expire {
                record_id: p.record_id,
            });
        }
    }
    out
}

impl ProductFlow {
    /// Brings the item's price-class prices in Visma to `wanted`.
    async fn sync_prices(
        &self,
        ctx: &JobContext,
        entity: &LegalEntityId,
        item: &str,
        uom: &str,
        wanted: &[WantedPrice],
        owned: &[String],
    ) -> Result<(), JobError> {
        let visma = &self.deps.visma;
        if wanted.is_empty() && owned.is_empty() {
            return Ok(());
        }
        let existing = visma
            .list_sales_prices(
                entity,
                &SalesPriceFilter {
                    price_type: Some(PriceType::CustomerPriceClass),
                    inventory_id: Some(item.to_owned()),
                    ..Default::default()
                },
            )
            .await
            .map_err(visma_err)?;
        for change in price_changes(wanted, &existing, owned, uom) {
            let started = Instant::now();
            let (method, what, body, r) = match &change {
                PriceChange::Create(w) => {
                    let body = SalesPriceUpdate {
                        price_type: Some(PriceType::CustomerPriceClass),
                        price_code: Some(w.price_class.clone()),
                        inventory_id: Some(item.to_owned()),
                        uom: Some(uom.to_owned()).filter(|u| !u.is_empty()),
                        break_qty: Some(Decimal::ZERO),
                        price: Some(w.price),
                        currency: Some(w.currency.clone()),
                        ..Default::default()
                    };
                    let r = match visma.create_sales_price_once(entity, &body).await {
                        Ok(c) => Ok(c.doc.record_id),
                        // Another job of the same product created the row meanwhile.
                        Err(e) => self
                            .update_raced_price(entity, item, uom, w)
                            .await?
                            .ok_or(e),
                    }
                    .map_err(visma_err);
                    ("POST", "v1/customerSalesPrice".to_owned(), body, r)
                }
                PriceChange::Update { record_id, price } => {
                    let body = SalesPriceUpdate {
                        price: Some(*price),
                        ..Default::default()
                    };
                    let r = visma
                        .update_sales_price(entity, *record_id, &body, None)
                        .await
                        .map(|v| v.doc.record_id)
                        .map_err(visma_err);
                    ("PUT", format!("v1/customerSalesPrice/{record_id}"), body, r)
                }
                PriceChange::Expire { record_id } => {
                    let body = SalesPriceUpdate {
                        expiration_date: Some(fmt_datetime(&Utc::now())),
                        ..Default::default()
                    };
                    let r = visma
                        .update_sales_price(entity, *record_id, &body, None)
                        .await
                        .map(|v| v.doc.record_id)
                        .map_err(visma_err);
                    ("PUT", format!("v1/customerSalesPrice/{record_id}"), body, r)
                }
            };
            audit(ctx, "visma", method, &what, Some(&body), &r, started);
            r?;
        }
        Ok(())
    }
}

impl ProductFlow {
    /// Creates the item, or updates it when it exists. `store/product/created` and each
    /// `store/sku/created` of a new product arrive together and may race to create the item:
    /// the loser's refused create becomes an update.
    async fn upsert_item(
        &self,
        entity: &LegalEntityId,
        number: &VismaItemNo,
        body: &InventoryUpdate,
    ) -> Result<(&'static str, Result<String, JobError>), JobError> {
        let visma = &self.deps.visma;
        // Class and type are chosen when the item is created: the ERP refuses to change them
        // once an item has transactions, and a merchant may have reclassified it since.
        let changes = InventoryUpdate {
            item_class: None,
            item_type: None,
            ..body.clone()
        };
        let update = || async {
            visma
                .update_inventory_item(entity, number, &changes, None)
                .await
                .map(|i| i.doc.inventory_number)
                .map_err(visma_err)
        };
        let existing = visma
            .find_inventory_item(entity, number)
            .await
            .map_err(visma_err)?;
        if existing.is_some() {
            return Ok(("PUT", update().await));
        }
        match visma.create_inventory_item_once(entity, body).await {
            Ok(c) => Ok(("POST", Ok(c.doc.inventory_number))),
            Err(e) => {
                let now = visma
                    .find_inventory_item(entity, number)
                    .await
                    .map_err(visma_err)?;
                if now.is_some() {
                    Ok(("PUT", update().await))
                } else {
                    Ok(("POST", Err(visma_err(e))))
                }
            }
        }
    }

    /// After a refused create: the row another job created for the same key, brought to `w`.
    async fn update_raced_price(
        &self,
        entity: &LegalEntityId,
        item: &str,
        uom: &str,
        w: &WantedPrice,
    ) -> Result<Option<i64>, JobError> {
        let visma = &self.deps.visma;
        let existing = visma
            .list_sales_prices(
                entity,
                &SalesPriceFilter {
                    price_type: Some(PriceType::CustomerPriceClass),
                    price_code: Some(w.price_class.clone()),
                    inventory_id: Some(item.to_owned()),
                    ..Default::default()
                },
            )
            .await
            .map_err(visma_err)?;
        for change in price_changes(std::slice::from_ref(w), &existing, &[], uom) {
            match change {
                PriceChange::Update { record_id, price } => {
                    let body = SalesPriceUpdate {
                        price: Some(price),
                        ..Default::default()
                    };
                    visma
                        .update_sales_price(entity, record_id, &body, None)
                        .await
                        .map_err(visma_err)?;
                    return Ok(Some(record_id));
                }
                PriceChange::Create(_) => return Ok(None),
                PriceChange::Expire { .. } => {}
            }
        }
        // Already as wanted.
        Ok(existing
            .iter()
            .find(|p| p.price_code.as_deref() == Some(w.price_class.as_str()))
            .map(|p| p.record_id))
    }
}

/// The price-list records of the product's variants, from every price list of the store,
/// each with its list's name.
async fn price_records(
    bc: &BcClient,
    product: &Product,
) -> Result<Vec<(PriceRecord, String)>, JobError> {
    let ids = variant_ids(product);
    let mut out = Vec::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let lists = bc.price_lists().await.map_err(bc_err)?;
    let joined = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    for list in lists.iter().filter(|l| l.active != Some(false)) {
        let records: Vec<PriceRecord> = bc
            .v3_collect(
                format!("/v3/pricelists/{}/records", list.id),
                vec![("variant_id:in".into(), joined.clone())],
                250,
            )
            .await
            .map_err(bc_err)?;
        for r in records {
            let r = PriceRecord {
                price_list_id: r.price_list_id.or(Some(list.id)),
                ..r
            };
            out.push((r, list.name.clone()));
        }
    }
    Ok(out)
}

/// What syncing one product came to.
enum Synced {
    Items(usize),
    Skipped(String),
}

impl ProductFlow {
    /// Creates or updates the Visma items of one product (of its variants in `only`, when
    /// given) in every legal entity the store routes to.
    async fn sync_product(
        &self,
        ctx: &JobContext,
        store: &str,
        bc: &BcClient,
        id: BcProductId,
        only: Option<&[u64]>,
        force: bool,
    ) -> Result<Synced, JobError> {
        // An event about a few variants reads only those: a new product with N variants
        // sends N+1 events, and each reading all N variants would cost N² of them.
        let few = only.filter(|o| !o.is_empty() && o.len() <= FEW_VARIANTS);
        let fetched = match bc.get_product(id, few.is_none()).await {
            Ok(mut p) => {
                if let Some(only) = few {
                    let mut variants = Vec::new();
                    for v in only {
                        match bc.get_variant(id, BcVariantId(*v)).await {
                            Ok(v) => variants.push(v),
                            Err(e) if e.class() == ledgerlink_core::ErrorClass::Permanent => {}
                            Err(e) => return Err(bc_err(e)),
                        }
                    }
                    p.variants = Some(variants);
                }
                Ok(p)
            }
            Err(e) => Err(e),
        };
        let product = match fetched {
            Ok(p) => p,
            Err(e) if e.class() == ledgerlink_core::ErrorClass::Permanent => {
                return Ok(Synced::Skipped(format!("product {id} is gone: {e}")));
            }
            Err(e) => return Err(bc_err(e)),
        };
        ctx.save_snapshot(serde_json::to_value(&product).unwrap_or_default());
        let channels = product_channels(ctx, bc, id).await?;
        let routes = self
            .deps
            .routing
            .routes_for_channels(store, (!channels.is_empty()).then_some(channels.as_slice()));
        if routes.is_empty() {
            return Ok(Synced::Skipped(if channels.is_empty() {
                format!("no routing rule for store {store}")
            } else {
                format!(
                    "product {id} is assigned to channels {channels:?}, which no routing rule of \
                     store {store} covers"
                )
            }));
        }
        let facts = self.facts(store, bc).await?;
        let records = price_records(bc, &product).await?;
        let class_name = product
            .tax_class_id
            .and_then(|c| facts.tax_class_names.get(&c).cloned())
            .unwrap_or_default();
        let currency = if facts.default_currency.is_empty() {
            "XXX".to_owned()
        } else {
            facts.default_currency.clone()
        };
        let mut skus = canonical::products(&product, &currency, &class_name, &records)
            .map_err(canonical_err)?;
        // A SKU or price-list event concerns some variants; product events cover them all.
        if let Some(only) = only
            && skus
                .iter()
                .any(|s| s.variant_id.is_some_and(|v| only.contains(&v)))
        {
            skus.retain(|s| s.variant_id.is_some_and(|v| only.contains(&v)));
        }
        // One legal entity gets the item once, whichever channels route to it.
        let mut entities: BTreeMap<LegalEntityId, _> = BTreeMap::new();
        for route in routes {
            entities.entry(route.entity.clone()).or_insert(route);
        }
        let (mut written, mut unchanged) = (0, 0);
        for (entity_id, route) in entities {
            let entity = self.deps.entity(&entity_id)?.clone();
            let plugin = self.deps.plugin(ctx, &route.entity)?;
            let tables = self.deps.tables(&entity);
            let owned: Vec<String> = entity
                .tables
                .get(PRICE_CLASS_TABLE)
                .map(|t| {
                    let mut v: Vec<String> = t.values().cloned().collect();
                    v.sort();
                    v.dedup();
                    v
                })
                .unwrap_or_default();
            let vat = self.deps.vat_codes(&entity.id).await?;
            for sku in &skus {
                let wctx = self.deps.context(&entity, &route, store, 0, &currency);
                let (c, t, s) = (wctx, tables.clone(), sku.clone());
                let item = call_plugin(ctx, &plugin, move |p| p.map_item(&c, &t, &s)).await?;
                let rate = vat.get(&item.vat_category_id).map(|(_, r)| *r);
                let (default_price, wanted) =
                    visma_prices(&item, &entity.base_currency, &facts, rate)?;
                let mut body = item_update(&item);
                body.default_price = Some(default_price);
                // What we last wrote for this SKU: an event that changes nothing Visma holds
                // (a product's other variants, an echo of some other write) writes nothing.
                let mark = format!("visma:{}:item:{}", entity.id, sku.sku);
                let content = content_hash(&body, &wanted, &owned);
                if !force && ctx.store().watermark(&mark).await?.as_deref() == Some(&*content) {
                    unchanged += 1;
                    continue;
                }
                let started = Instant::now();
                let number = VismaItemNo::new(item.number.clone());
                let (method, r) = self.upsert_item(&entity.id, &number, &body).await?;
                audit(
                    ctx,
                    "visma",
                    method,
                    "v1/inventory",
                    Some(&body),
                    &r,
                    started,
                );
                let n = r?;
                self.sync_prices(ctx, &entity.id, &n, &item.sales_uom, &wanted, &owned)
                    .await?;
                ctx.store()
                    .put_identity(
                        &IdentityKey::new(entity.id.clone(), ID_ITEM, &sku.sku),
                        &n,
                        Some(ctx.job_id()),
                    )
                    .await?;
                ctx.store().set_watermark(&mark, &content).await?;
                record_product_item(ctx, store, id, sku.variant_id, &entity.id, &n).await?;
                written += 1;
            }
        }
        if written == 0 && unchanged > 0 {
            return Ok(Synced::Skipped(format!(
                "Visma already holds what the store has ({unchanged} item(s) unchanged)"
            )));
        }
        Ok(Synced::Items(written))
    }
}

/// The channels a product is assigned to (`/v3/catalog/products/channel-assignments`). Empty
/// when it has none, or the store has no such endpoint (a store without multi-storefront):
/// such a product goes to every legal entity of the store, as before channels existed.
async fn product_channels(
    ctx: &JobContext,
    bc: &BcClient,
    id: BcProductId,
) -> Result<Vec<u64>, JobError> {
    #[derive(serde::Deserialize)]
    struct Assignment {
        product_id: u64,
        channel_id: u64,
    }
    let started = Instant::now();
    let found: Result<Vec<Assignment>, _> = bc
        .v3_collect(
            "/v3/catalog/products/channel-assignments",
            vec![("product_id:in".into(), id.0.to_string())],
            250,
        )
        .await;
    let found = match found {
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        other => other.map_err(bc_err),
    };
    audit(
        ctx,
        "bigcommerce",
        "GET",
        &format!("v3/catalog/products/channel-assignments?product_id:in={id}"),
        None::<&()>,
        &found
            .as_ref()
            .map(|a| a.iter().map(|a| a.channel_id).collect::<Vec<_>>())
            .map_err(Clone::clone),
        started,
    );
    let mut channels: Vec<u64> = found?
        .into_iter()
        .filter(|a| a.product_id == id.0)
        .map(|a| a.channel_id)
        .collect();
    channels.sort_unstable();
    channels.dedup();
    Ok(channels)
}

/// Identity kind of "this product's variant became this item in this entity": how a deleted
/// product (which BigCommerce can no longer describe) finds the items to deactivate. One row
/// per variant and entity, so the jobs of a new product's events, which run side by side,
/// never overwrite each other's records.
pub const ID_PRODUCT_ITEM: &str = "product_item";

/// The record's BigCommerce side: `<store>:<product>:<variant>@<entity>` (the entity again,
/// so a listing by kind says where each item lives).
fn product_item_key(
    store: &str,
    product: BcProductId,
    variant: Option<u64>,
    entity: &LegalEntityId,
) -> String {
    format!("{store}:{product}:{}@{entity}", variant.unwrap_or_default())
}

/// Records that `variant` of `product` is item `number` in `entity`. A variant whose item
/// number changed keeps its first record (the identity map never remaps).
async fn record_product_item(
    ctx: &JobContext,
    store: &str,
    product: BcProductId,
    variant: Option<u64>,
    entity: &LegalEntityId,
    number: &str,
) -> Result<(), JobError> {
    let key = IdentityKey::new(
        entity.clone(),
        ID_PRODUCT_ITEM,
        product_item_key(store, product, variant, entity),
    );
    match ctx
        .store()
        .put_identity(&key, number, Some(ctx.job_id()))
        .await
    {
        Err(ledgerlink_store::StoreError::IdentityConflict(_)) => Ok(()),
        other => Ok(other?),
    }
}

/// The recorded items of a product (of one variant, when given): `(entity, item number)`.
async fn product_items(
    ctx: &JobContext,
    store: &str,
    product: BcProductId,
    variant: Option<u64>,
) -> Result<Vec<(LegalEntityId, String)>, JobError> {
    let wanted = |head: &str| match variant {
        Some(v) => head == format!("{store}:{product}:{v}"),
        None => head.starts_with(&format!("{store}:{product}:")),
    };
    let mut out: Vec<(LegalEntityId, String)> = ctx
        .store()
        .identities_of_kind(ID_PRODUCT_ITEM)
        .await?
        .into_iter()
        .filter_map(|(bc, number, _)| {
            let (head, entity) = bc.rsplit_once('@')?;
            wanted(head).then(|| (LegalEntityId::new(entity), number))
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

impl ProductFlow {
    /// A product (or, with `variant`, one SKU) deleted in BigCommerce: its Visma items become
    /// `Inactive`, never deleted, since invoices and stock history refer to them. An item
    /// gone from Visma is left so.
    async fn deactivate(
        &self,
        ctx: &JobContext,
        store: &str,
        product: BcProductId,
        variant: Option<u64>,
    ) -> Result<JobOutcome, JobError> {
        use ledgerlink_visma::dto::InventoryStatus;
        let targets = product_items(ctx, store, product, variant).await?;
        if targets.is_empty() {
            return Ok(JobOutcome::Skipped {
                reason: match variant {
                    Some(v) => format!("variant {v} of product {product} never reached Visma"),
                    None => format!(
                        "product {product} has no Visma item on record (never synced, or synced \
                         before Ledgerlink kept product → item records: deactivate by hand)"
                    ),
                },
            });
        }
        let body = InventoryUpdate {
            status: Some(InventoryStatus::Inactive),
            ..Default::default()
        };
        let visma = &self.deps.visma;
        for (entity, number) in &targets {
            let started = Instant::now();
            let r = match visma
                .update_inventory_item(entity, &VismaItemNo::new(number.clone()), &body, None)
                .await
            {
                Ok(v) => Ok(Some(v.doc.inventory_number)),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(visma_err(e)),
            };
            audit(
                ctx,
                "visma",
                "PUT",
                &format!("v1/inventory/{number}"),
                Some(&body),
                &r,
                started,
            );
            r?;
            // A SKU created again later must be written again (and so made active).
            if let Some(sku) = ctx
                .store()
                .identity_by_visma(entity, ID_ITEM, number)
                .await?
            {
                ctx.store()
                    .set_watermark(&format!("visma:{entity}:item:{sku}"), "inactive")
                    .await?;
            }
        }
        Ok(JobOutcome::Done)
    }
}

/// An event naming at most this many variants reads them one by one.
const FEW_VARIANTS: usize = 10;

/// A fingerprint of everything a SKU's sync writes to Visma.
fn content_hash(body: &InventoryUpdate, prices: &[WantedPrice], owned: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let prices: Vec<String> = prices
        .iter()
        .map(|p| format!("{}|{}|{}", p.price_class, p.currency, p.price.normalize()))
        .collect();
    let text = serde_json::json!({"item": body, "prices": prices, "owned": owned}).to_string();
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The variant ids a price-list event names (`data` is one record or an array of them).
fn price_list_variants(job: &Job) -> Option<Vec<u64>> {
    if !job.kind.starts_with("store/priceList/") {
        return None;
    }
    let data = job.payload.get("data")?;
    let records: Vec<&serde_json::Value> = match data {
        serde_json::Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut ids: Vec<u64> = records
        .iter()
        .filter_map(|r| r.get("variant_id").and_then(|v| v.as_u64()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Some(ids)
}

impl JobHandler for ProductFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            let store = store_of(job)?;
            let bc = self.deps.bc(&store)?;
            // A price-list event fans out into one job per product, so one product's mapping
            // error holds up only that product, never the price list's later events.
            if let Some(variants) = price_list_variants(job) {
                // Skipped, not failed: all price-list events share one subject, and a failed
                // job would hold up every later one.
                if variants.is_empty() {
                    return Ok(JobOutcome::Skipped {
                        reason: "the price-list event names no variant".into(),
                    });
                }
                let mut by_product: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
                for chunk in variants.chunks(50) {
                    let ids = chunk
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(",");
                    let found: Vec<Variant> = bc
                        .v3_collect("/v3/catalog/variants", vec![("id:in".into(), ids)], 250)
                        .await
                        .map_err(bc_err)?;
                    for v in found {
                        by_product.entry(v.product_id.0).or_default().push(v.id.0);
                    }
                }
                if by_product.is_empty() {
                    return Ok(JobOutcome::Skipped {
                        reason: "the price list's variants are gone".into(),
                    });
                }
                for (product, variants) in by_product {
                    ctx.enqueue(NewJob {
                        kind: KIND_PRODUCT_SYNC.into(),
                        subject: format!("product:{product}"),
                        payload: serde_json::json!({
                            "store": store, "product_id": product, "variant_ids": variants,
                            "producer": job.kind,
                        }),
                        source: job.source.clone(),
                    });
                }
                return Ok(JobOutcome::Done);
            }
            let Some(id) = product_id_of(job) else {
                return Err(
                    JobError::permanent("bad_event", "the event names no product id").at("data.id"),
                );
            };
            match job.kind.as_str() {
                "store/product/deleted" => {
                    return self.deactivate(ctx, &store, id, None).await;
                }
                "store/sku/deleted" => {
                    let Some(variant) = job
                        .payload
                        .pointer("/data/sku/variant_id")
                        .and_then(|v| v.as_u64())
                    else {
                        return Err(JobError::permanent(
                            "bad_event",
                            "the SKU event names no variant id",
                        )
                        .at("data.sku.variant_id"));
                    };
                    return self.deactivate(ctx, &store, id, Some(variant)).await;
                }
                _ => {}
            }
            // A full sync (backfill) rewrites what Visma holds even if we wrote it before, so
            // it also repairs changes made in Visma by hand.
            let force =
                job.payload.get("producer").and_then(|p| p.as_str()) == Some("ledgerlink/backfill");
            // A SKU event, or a product job a price-list event queued, names its variants.
            let only: Option<Vec<u64>> = job
                .payload
                .pointer("/data/sku/variant_id")
                .and_then(|v| v.as_u64())
                .map(|v| vec![v])
                .or_else(|| {
                    job.payload.get("variant_ids").and_then(|v| {
                        v.as_array()
                            .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
                    })
                });
            match self
                .sync_product(ctx, &store, bc, id, only.as_deref(), force)
                .await?
            {
                Synced::Items(0) => Ok(JobOutcome::Skipped {
                    reason: "no SKU to sync (the variants are gone or have no SKU)".into(),
                }),
                Synced::Items(_) => Ok(JobOutcome::Done),
                Synced::Skipped(reason) => Ok(JobOutcome::Skipped { reason }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn row(id: i64, class: &str, currency: &str, price: &str) -> SalesPrice {
        SalesPrice {
            record_id: id,
            price_type: Some("CustomerPriceClass".into()),
            price_code: Some(class.into()),
            inventory_id: Some("X".into()),
            uom: Some("PCS".into()),
            break_qty: Some(Decimal::ZERO),
            price: Some(d(price)),
            currency: Some(currency.into()),
            ..Default::default()
        }
    }

    fn want(class: &str, currency: &str, price: &str) -> WantedPrice {
        WantedPrice {
            price_class: class.into(),
            currency: currency.into(),
            price: d(price),
        }
    }

    #[test]
    fn creates_updates_and_expires_only_our_price_classes() {
        let existing = vec![
            row(1, "B2B", "SEK", "100.00"),
            row(2, "VIP", "SEK", "90.00"),
            row(3, "RETAIL", "EUR", "9.00"),
            // Not ours: left alone even though no list feeds it.
            row(4, "STAFF", "SEK", "50.00"),
        ];
        let wanted = vec![
            want("B2B", "SEK", "100.00"),
            want("VIP", "SEK", "85.00"),
            want("B2B", "EUR", "9.50"),
        ];
        let owned = vec!["B2B".to_owned(), "RETAIL".to_owned(), "VIP".to_owned()];
        let changes = price_changes(&wanted, &existing, &owned, "PCS");
        assert_eq!(
            changes,
            vec![
                PriceChange::Update {
                    record_id: 2,
                    price: d("85.00")
                },
                PriceChange::Create(want("B2B", "EUR", "9.50")),
                PriceChange::Expire { record_id: 3 },
            ]
        );
    }

    #[test]
    fn nothing_changes_when_visma_already_agrees() {
        let existing = vec![row(1, "B2B", "SEK", "100.00")];
        let wanted = vec![want("B2B", "SEK", "100.00")];
        assert!(price_changes(&wanted, &existing, &["B2B".into()], "PCS").is_empty());
    }

    fn item(price: i64, currency: &str) -> wit::InventoryItem {
        wit::InventoryItem {
            number: "X".into(),
            description: String::new(),
            status: "Active".into(),
            item_type: "stock".into(),
            item_class_id: None,
            base_uom: "PCS".into(),
            sales_uom: "PCS".into(),
            purchase_uom: "PCS".into(),
            vat_category_id: "HIGH".into(),
            default_price: wit::Decimal {
                digits: price,
                scale: 2,
            },
            currency_id: currency.into(),
            cost_price: None,
            price_class_prices: vec![wit::PriceClassPrice {
                price_class_id: "B2B".into(),
                currency_id: "SEK".into(),
                price: wit::Decimal {
                    digits: 29900,
                    scale: 2,
                },
            }],
            weight: None,
            gtin: String::new(),
            external_reference: String::new(),
            note: String::new(),
        }
    }

    #[test]
    fn prices_are_net_and_in_the_entity_currency() {
        let facts = StoreFacts {
            default_currency: "SEK".into(),
            prices_include_tax: true,
            rates: HashMap::from([("SEK".into(), Decimal::ONE), ("EUR".into(), d("0.0893"))]),
            tax_class_names: HashMap::new(),
        };
        // 349 SEK incl. 25 % → 279.20 net.
        let (p, classes) = visma_prices(&item(34900, "SEK"), "SEK", &facts, Some(d("25"))).unwrap();
        assert_eq!(p, d("279.20"));
        assert_eq!(classes, vec![want("B2B", "SEK", "239.20")]);
        // In EUR at 24 %: 349 × 0.0893 / 1.24, rounded once.
        let (p, _) = visma_prices(&item(34900, "SEK"), "EUR", &facts, Some(d("24"))).unwrap();
        assert_eq!(p, d("25.13"));
        // Net store prices stay as they are.
        let net_facts = StoreFacts {
            prices_include_tax: false,
            ..facts.clone()
        };
        let (p, _) = visma_prices(&item(34900, "SEK"), "SEK", &net_facts, Some(d("25"))).unwrap();
        assert_eq!(p, d("349.00"));
        // A currency the store cannot convert to is a clear, permanent error.
        let e = visma_prices(&item(34900, "SEK"), "NOK", &facts, Some(d("25"))).unwrap_err();
        assert!(e.to_string().contains("NOK"), "{e}");
    }
}
