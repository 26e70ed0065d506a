//! Products end to end: a new BigCommerce product with variants reaches both Visma companies
//! as inventory items, field by field (number, description, unit, VAT category, net price in
//! the company's currency); price-list records become customer price class prices; a product
//! update and price-list changes (through the price lists' own webhooks) follow; an unmapped
//! price list is a clear mapping error.

use ledgerlink::cli::backfill::{BackfillOptions, What, backfill};
use ledgerlink::core::VismaItemNo;
use ledgerlink::visma::VismaClient;
use ledgerlink::visma::dto::{InventoryItem, PriceType, SalesPrice, SalesPriceFilter};
use ledgerlink_tests::{Harness, standard_plugin};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn dec_of(v: &Value) -> Decimal {
    match v {
        Value::String(s) => dec(s),
        other => dec(&other.to_string()),
    }
}

/// A tax-inclusive BigCommerce price as Visma keeps it: net of VAT at `rate` %, to the cent.
fn net(gross: Decimal, rate: u32) -> Decimal {
    (gross / (Decimal::ONE + Decimal::from(rate) / Decimal::ONE_HUNDRED)).round_dp(2)
}

async fn item(
    h: &Harness,
    visma: &VismaClient,
    entity: &ledgerlink::core::LegalEntityId,
    sku: &str,
    ready: impl Fn(&InventoryItem) -> bool,
) -> InventoryItem {
    let ready = &ready;
    h.wait_for(
        &format!("Visma item {sku} in {entity}"),
        WAIT,
        || async move {
            Ok(visma
                .find_inventory_item(entity, &VismaItemNo::new(sku))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .filter(|i| ready(i)))
        },
    )
    .await
    .unwrap()
}

async fn class_prices(
    visma: &VismaClient,
    entity: &ledgerlink::core::LegalEntityId,
    sku: &str,
) -> Vec<SalesPrice> {
    visma
        .list_sales_prices(
            entity,
            &SalesPriceFilter {
                price_type: Some(PriceType::CustomerPriceClass),
                inventory_id: Some(sku.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

fn row<'a>(rows: &'a [SalesPrice], class: &str, currency: &str) -> Vec<&'a SalesPrice> {
    rows.iter()
        .filter(|r| {
            r.price_code.as_deref() == Some(class) && r.currency.as_deref() == Some(currency)
        })
        .collect()
}

/// The store's exchange rate default (SEK) → `code`.
async fn bc_rate(h: &Harness, code: &str) -> Decimal {
    let v = h
        .bc_send(Method::GET, "/v2/currencies", None)
        .await
        .unwrap();
    let c = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency_code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {v}"));
    dec_of(&c["currency_exchange_rate"])
}

async fn variant_ids(h: &Harness, product: u64) -> Vec<(String, u64)> {
    let v = h
        .bc_send(
            Method::GET,
            &format!("/v3/catalog/products/{product}/variants"),
            None,
        )
        .await
        .unwrap();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["sku"].as_str().unwrap().to_owned(),
                v["id"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_product_with_variants_and_price_lists_reaches_visma_field_by_field() {
    let h = Harness::start_configured(standard_plugin(), |c| {
        for e in &mut c.entities {
            e.tables
                .entry("uom".into())
                .or_default()
                .insert("LL-T-BOOT-44".into(), "PAIR".into());
        }
    })
    .await
    .unwrap();
    let created = h
        .bc_send(
            Method::POST,
            "/v3/catalog/products",
            Some(json!({
                "name": "Trail Boot", "type": "physical", "sku": "LL-T-BOOT", "price": 1490,
                "weight": 1.2, "tax_class_id": 0, "inventory_tracking": "variant",
                // Sold on both storefronts, so both companies get the items.
                "channels": [1, 2],
                "variants": [
                    {"sku": "LL-T-BOOT-42", "option_values": [{"option_display_name": "Size", "label": "42"}], "inventory_level": 3},
                    {"sku": "LL-T-BOOT-43", "option_values": [{"option_display_name": "Size", "label": "43"}], "inventory_level": 2},
                    {"sku": "LL-T-BOOT-44", "price": 1590, "option_values": [{"option_display_name": "Size", "label": "44"}]},
                ],
            })),
        )
        .await
        .unwrap();
    let product = created["data"]["id"].as_u64().unwrap();
    let eur = bc_rate(&h, "EUR").await;
    let (se, se_id) = h.visma_client("se");
    let (fi, fi_id) = h.visma_client("fi");
    let boots = [("42", "1490"), ("43", "1490"), ("44", "1590")];
    for (size, price) in boots {
        let sku = format!("LL-T-BOOT-{size}");
        let unit = if size == "44" { "PAIR" } else { "PCS" };
        let i = item(&h, &se, &se_id, &sku, |_| true).await;
        assert_eq!(i.inventory_number, sku);
        assert_eq!(
            i.description.as_deref(),
            Some(&*format!("Trail Boot (Size: {size})"))
        );
        assert_eq!(i.base_unit.as_deref(), Some(unit));
        assert_eq!(i.sales_unit.as_deref(), Some(unit));
        assert_eq!(
            i.vat_code.as_ref().and_then(|v| v.id.as_deref()),
            Some("HIGH")
        );
        assert_eq!(
            i.item_class.as_ref().and_then(|v| v.id.as_deref()),
            Some("GOODS")
        );
        assert_eq!(i.stock_item, Some(true));
        // 1490 SEK including 25 % VAT.
        assert_eq!(i.default_price, Some(net(dec(price), 25)), "{sku}");
        // The Finnish company: the store's SEK → EUR rate, net of Finnish VAT (24 %).
        let f = item(&h, &fi, &fi_id, &sku, |_| true).await;
        assert_eq!(f.description, i.description);
        assert_eq!(
            f.vat_code.as_ref().and_then(|v| v.id.as_deref()),
            Some("HIGH")
        );
        assert_eq!(f.default_price, Some(net(dec(price) * eur, 24)), "{sku}");
        assert!(class_prices(&se, &se_id, &sku).await.is_empty());
    }

    // The merchant prices the boots in two price lists: the demo's "EUR storefront" (1,
    // mapped to price class RETAIL) and "Wholesale" (2, mapped to B2B).
    let variants = variant_ids(&h, product).await;
    let vid = |sku: &str| variants.iter().find(|(s, _)| s == sku).unwrap().1;
    let wholesale: Vec<Value> = boots
        .iter()
        .map(|(size, _)| json!({"variant_id": vid(&format!("LL-T-BOOT-{size}")), "currency": "SEK", "price": 1100}))
        .collect();
    h.bc_send(
        Method::PUT,
        "/v3/pricelists/2/records",
        Some(json!(wholesale)),
    )
    .await
    .unwrap();
    h.bc_send(
        Method::PUT,
        "/v3/pricelists/1/records",
        Some(json!([
            {"variant_id": vid("LL-T-BOOT-42"), "currency": "EUR", "price": 139, "sale_price": 124},
            {"variant_id": vid("LL-T-BOOT-43"), "currency": "EUR", "price": 139},
        ])),
    )
    .await
    .unwrap();
    // The price lists' own webhooks bring the prices over; so does a full product sync.
    let report = backfill(
        &h.app().store,
        &h.store_sections(),
        &BackfillOptions {
            what: What::Products,
            since: chrono::Utc::now() - chrono::Duration::hours(1),
            restart: false,
            limit: None,
            progress: false,
        },
    )
    .await
    .unwrap();
    assert!(report.stores[0].queued >= 1, "{report:?}");
    for (entity, client, rate) in [(&se_id, &se, 25u32), (&fi_id, &fi, 24)] {
        let rows = h
            .wait_for("price class prices", WAIT, || async move {
                let rows = class_prices(client, entity, "LL-T-BOOT-42").await;
                Ok((rows.len() >= 2).then_some(rows))
            })
            .await
            .unwrap();
        let b2b = row(&rows, "B2B", "SEK");
        assert_eq!(b2b.len(), 1, "{rows:?}");
        assert_eq!(b2b[0].price, Some(net(dec("1100"), rate)));
        assert_eq!(b2b[0].uom.as_deref(), Some("PCS"));
        // The sale price is what the list's customers pay.
        let retail = row(&rows, "RETAIL", "EUR");
        assert_eq!(retail.len(), 1, "{rows:?}");
        assert_eq!(retail[0].price, Some(net(dec("124"), rate)));
        let rows44 = h
            .wait_for("price class prices of size 44", WAIT, || async move {
                let rows = class_prices(client, entity, "LL-T-BOOT-44").await;
                Ok((!rows.is_empty()).then_some(rows))
            })
            .await
            .unwrap();
        assert_eq!(rows44.len(), 1, "only the wholesale price: {rows44:?}");
        assert_eq!(rows44[0].uom.as_deref(), Some("PAIR"));
        assert_eq!(rows44[0].price, Some(net(dec("1100"), rate)));
    }
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_update_and_price_list_changes_reach_visma() {
    let h = Harness::start().await.unwrap();
    let product = h.product_id("LL-JKT-ARCTIC").await.unwrap();
    let variants = variant_ids(&h, product).await;
    let vid = |sku: &str| variants.iter().find(|(s, _)| s == sku).unwrap().1;
    let (se, se_id) = h.visma_client("se");
    h.bc_send(
        Method::PUT,
        &format!("/v3/catalog/products/{product}"),
        Some(json!({"name": "Arctic Down Jacket II", "price": 3190})),
    )
    .await
    .unwrap();
    let wholesale = |sku: &str| {
        let h = &h;
        let id = vid(sku);
        async move {
            let v = h
                .bc_send(
                    Method::GET,
                    &format!("/v3/pricelists/2/records/{id}/SEK"),
                    None,
                )
                .await
                .unwrap();
            dec_of(&v["data"]["price"])
        }
    };
    for size in ["S", "M", "L"] {
        let sku = format!("LL-JKT-ARCTIC-{size}");
        let i = item(&h, &se, &se_id, &sku, |i| {
            i.description.as_deref().is_some_and(|d| d.contains(" II"))
        })
        .await;
        assert_eq!(
            i.description.as_deref(),
            Some(&*format!("Arctic Down Jacket II (Size: {size})"))
        );
        // Variants with their own price keep it; the others follow the product's.
        let v = h
            .bc_send(
                Method::GET,
                &format!("/v3/catalog/products/{product}/variants/{}", vid(&sku)),
                None,
            )
            .await
            .unwrap();
        let price = match &v["data"]["price"] {
            Value::Null => dec_of(&v["data"]["calculated_price"]),
            p => dec_of(p),
        };
        assert_eq!(i.default_price, Some(net(price, 25)), "{v}");
        let rows = h
            .wait_for("price class prices", WAIT, || {
                let (se, se_id, sku) = (&se, &se_id, &sku);
                async move {
                    let rows = class_prices(se, se_id, sku).await;
                    Ok((rows.len() >= 2).then_some(rows))
                }
            })
            .await
            .unwrap();
        assert_eq!(row(&rows, "B2B", "SEK").len(), 1, "{rows:?}");
        assert_eq!(
            row(&rows, "B2B", "SEK")[0].price,
            Some(net(wholesale(&sku).await, 25))
        );
        assert_eq!(row(&rows, "RETAIL", "EUR").len(), 1, "{rows:?}");
    }

    // A new wholesale price for S and no EUR price for M any more: price lists fire only
    // their own webhooks, which bring the products of those variants up to date.
    h.bc_send(
        Method::PUT,
        &format!("/v3/pricelists/2/records/{}/SEK", vid("LL-JKT-ARCTIC-S")),
        Some(json!({"price": 1999})),
    )
    .await
    .unwrap();
    h.bc_send(
        Method::DELETE,
        &format!("/v3/pricelists/1/records/{}/EUR", vid("LL-JKT-ARCTIC-M")),
        None,
    )
    .await
    .unwrap();
    let s_rows = h
        .wait_for("the new wholesale price of S", WAIT, || {
            let (se, se_id) = (&se, &se_id);
            async move {
                let rows = class_prices(se, se_id, "LL-JKT-ARCTIC-S").await;
                let ok = row(&rows, "B2B", "SEK")
                    .iter()
                    .any(|r| r.price == Some(net(dec("1999"), 25)));
                Ok(ok.then_some(rows))
            }
        })
        .await
        .unwrap();
    assert_eq!(
        row(&s_rows, "B2B", "SEK").len(),
        1,
        "updated in place: {s_rows:?}"
    );
    let m_rows = h
        .wait_for("the EUR price of M to expire", WAIT, || {
            let (se, se_id) = (&se, &se_id);
            async move {
                let rows = class_prices(se, se_id, "LL-JKT-ARCTIC-M").await;
                let expired = row(&rows, "RETAIL", "EUR")
                    .iter()
                    .any(|r| r.expiration_date.is_some());
                Ok(expired.then_some(rows))
            }
        })
        .await
        .unwrap();
    assert_eq!(row(&m_rows, "RETAIL", "EUR").len(), 1, "{m_rows:?}");
    assert_eq!(row(&m_rows, "B2B", "SEK").len(), 1, "{m_rows:?}");
    assert!(row(&m_rows, "B2B", "SEK")[0].expiration_date.is_none());

    // An edit that changes nothing Visma holds writes nothing.
    let before = h
        .jobs(&format!(
            "kind=store/product/updated&subject=product:{product}"
        ))
        .await
        .unwrap()
        .len();
    h.bc_send(
        Method::PUT,
        &format!("/v3/catalog/products/{product}"),
        Some(json!({"is_visible": true})),
    )
    .await
    .unwrap();
    let job = h
        .wait_for("the no-op product update", WAIT, || async {
            let jobs = h
                .jobs(&format!(
                    "kind=store/product/updated&subject=product:{product}"
                ))
                .await?;
            Ok((jobs.len() > before)
                .then(|| jobs[0].clone())
                .filter(|j| j["state"] != "pending" && j["state"] != "running"))
        })
        .await
        .unwrap();
    assert_eq!(job["state"], "skipped", "{job}");
    assert!(
        job["resolution"]
            .as_str()
            .unwrap_or_default()
            .contains("unchanged"),
        "{job}"
    );
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_list_without_a_price_class_is_a_clear_mapping_error() {
    let h = Harness::start().await.unwrap();
    let list = h
        .bc_send(
            Method::POST,
            "/v3/pricelists",
            Some(json!({"name": "Outlet"})),
        )
        .await
        .unwrap();
    let list = list["data"]["id"].as_u64().unwrap();
    let product = h.product_id("LL-MUG-01").await.unwrap();
    let variant = variant_ids(&h, product).await[0].1;
    h.bc_send(
        Method::PUT,
        &format!("/v3/pricelists/{list}/records"),
        Some(json!([{"variant_id": variant, "currency": "SEK", "price": 99}])),
    )
    .await
    .unwrap();
    let failed = h
        .wait_for("the product job in the error queue", WAIT, || async {
            let jobs = h.jobs("state=failed").await?;
            Ok(jobs
                .into_iter()
                .find(|j| j["subject"] == format!("product:{product}")))
        })
        .await
        .unwrap();
    let message = failed["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(failed["error"]["code"], "mapping_error", "{failed}");
    assert!(
        message.contains("missing-price-class-mapping") && message.contains(&list.to_string()),
        "{message}"
    );
    // The refused product holds up nothing else: the next price-list change of another
    // product reaches Visma.
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let bottle_variant = variant_ids(&h, bottle).await[0].1;
    h.bc_send(
        Method::PUT,
        &format!("/v3/pricelists/2/records/{bottle_variant}/SEK"),
        Some(json!({"price": 222})),
    )
    .await
    .unwrap();
    let (se, se_id) = h.visma_client("se");
    h.wait_for("the bottle's new wholesale price", WAIT, || {
        let (se, se_id) = (&se, &se_id);
        async move {
            let rows = class_prices(se, se_id, "LL-BOTTLE-075").await;
            Ok(row(&rows, "B2B", "SEK")
                .iter()
                .any(|r| r.price == Some(net(dec("222"), 25)))
                .then_some(()))
        }
    })
    .await
    .unwrap();
    h.shutdown().await.unwrap();
}

/// Waits until every job of `subject` has finished, and returns them (newest first).
async fn settled(h: &Harness, subject: &str, at_least: usize) -> Vec<Value> {
    h.wait_for(&format!("the jobs of {subject}"), WAIT, || async {
        let jobs = h.jobs(&format!("subject={subject}&limit=200")).await?;
        Ok((jobs.len() >= at_least
            && jobs
                .iter()
                .all(|j| j["state"] != "pending" && j["state"] != "running"))
        .then_some(jobs))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_reaches_only_the_companies_of_its_channels() {
    let h = Harness::start().await.unwrap();
    let (se, se_id) = h.visma_client("se");
    let (fi, fi_id) = h.visma_client("fi");
    // Sold on the EU storefront (channel 2, routed to the Finnish company) only.
    let created = h
        .bc_send(
            Method::POST,
            "/v3/catalog/products",
            Some(json!({
                "name": "Sauna Ladle", "type": "physical", "sku": "LL-LADLE", "price": 249,
                "weight": 0.3, "tax_class_id": 0, "channels": [2],
            })),
        )
        .await
        .unwrap();
    let product = created["data"]["id"].as_u64().unwrap();
    let assigned = h
        .bc_send(
            Method::GET,
            &format!("/v3/catalog/products/channel-assignments?product_id:in={product}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        assigned["data"],
        json!([{"product_id": product, "channel_id": 2}])
    );
    let eur = bc_rate(&h, "EUR").await;
    let f = item(&h, &fi, &fi_id, "LL-LADLE", |_| true).await;
    assert_eq!(f.description.as_deref(), Some("Sauna Ladle"));
    assert_eq!(f.default_price, Some(net(dec("249") * eur, 24)));
    let subject = format!("product:{product}");
    let jobs = settled(&h, &subject, 1).await;
    assert!(jobs.iter().all(|j| j["state"] != "failed"), "{jobs:?}");
    assert!(
        se.find_inventory_item(&se_id, &VismaItemNo::new("LL-LADLE"))
            .await
            .unwrap()
            .is_none(),
        "the Swedish company does not sell it"
    );

    // Assigned to the Swedish storefront too: the next product event brings it there.
    let before = h
        .jobs(&format!("subject={subject}&limit=200"))
        .await
        .unwrap()
        .len();
    h.bc_send(
        Method::PUT,
        "/v3/catalog/products/channel-assignments",
        Some(json!([{"product_id": product, "channel_id": 1}])),
    )
    .await
    .unwrap();
    h.bc_send(
        Method::PUT,
        &format!("/v3/catalog/products/{product}"),
        Some(json!({"price": 259})),
    )
    .await
    .unwrap();
    let s = item(&h, &se, &se_id, "LL-LADLE", |_| true).await;
    assert_eq!(s.default_price, Some(net(dec("259"), 25)));
    let f = item(&h, &fi, &fi_id, "LL-LADLE", |i| {
        i.default_price == Some(net(dec("259") * eur, 24))
    })
    .await;
    assert_eq!(f.description.as_deref(), Some("Sauna Ladle"));
    settled(&h, &subject, before + 1).await;
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_skus_and_products_make_their_visma_items_inactive() {
    use ledgerlink::visma::dto::InventoryStatus;
    let h = Harness::start().await.unwrap();
    let (se, se_id) = h.visma_client("se");
    let created = h
        .bc_send(
            Method::POST,
            "/v3/catalog/products",
            Some(json!({
                "name": "Wool Toque", "type": "physical", "sku": "LL-TOQUE", "price": 299,
                "weight": 0.1, "tax_class_id": 0, "inventory_tracking": "variant", "channels": [1],
                "variants": [
                    {"sku": "LL-TOQUE-GREY", "option_values": [{"option_display_name": "Colour", "label": "Grey"}]},
                    {"sku": "LL-TOQUE-RED", "option_values": [{"option_display_name": "Colour", "label": "Red"}]},
                ],
            })),
        )
        .await
        .unwrap();
    let product = created["data"]["id"].as_u64().unwrap();
    for sku in ["LL-TOQUE-GREY", "LL-TOQUE-RED"] {
        let i = item(&h, &se, &se_id, sku, |_| true).await;
        assert_eq!(i.status, Some(InventoryStatus::Active), "{sku}");
    }
    let subject = format!("product:{product}");
    settled(&h, &subject, 1).await;
    // The SKU events of the new product are jobs of their own subjects: all done too, so the
    // deletions below come after the creation, as they would in a store.
    h.wait_for("the product's SKU jobs", WAIT, || async {
        let jobs = h.jobs("kind=store/sku/created&limit=500").await?;
        Ok(jobs
            .iter()
            .all(|j| j["state"] != "pending" && j["state"] != "running")
            .then_some(()))
    })
    .await
    .unwrap();

    // The red one is discontinued: its item goes inactive, the grey one stays active.
    let variants = variant_ids(&h, product).await;
    let red = variants
        .iter()
        .find(|(s, _)| s == "LL-TOQUE-RED")
        .unwrap()
        .1;
    h.bc_send(
        Method::DELETE,
        &format!("/v3/catalog/products/{product}/variants/{red}"),
        None,
    )
    .await
    .unwrap();
    let deleted = h
        .wait_for("the SKU deletion job", WAIT, || async {
            let jobs = h.jobs("kind=store/sku/deleted").await?;
            Ok(jobs
                .into_iter()
                .find(|j| j["state"] != "pending" && j["state"] != "running"))
        })
        .await
        .unwrap();
    assert_eq!(deleted["state"], "done", "{deleted}");
    let r = item(&h, &se, &se_id, "LL-TOQUE-RED", |i| {
        i.status == Some(InventoryStatus::Inactive)
    })
    .await;
    assert_eq!(r.description.as_deref(), Some("Wool Toque (Colour: Red)"));
    let g = item(&h, &se, &se_id, "LL-TOQUE-GREY", |_| true).await;
    assert_eq!(g.status, Some(InventoryStatus::Active));

    // The whole product goes: the grey item too, and neither is deleted.
    h.bc_send(
        Method::DELETE,
        &format!("/v3/catalog/products/{product}"),
        None,
    )
    .await
    .unwrap();
    item(&h, &se, &se_id, "LL-TOQUE-GREY", |i| {
        i.status == Some(InventoryStatus::Inactive)
    })
    .await;
    let jobs = settled(&h, &subject, 2).await;
    let deleted = jobs
        .iter()
        .find(|j| j["kind"] == "store/product/deleted")
        .unwrap_or_else(|| panic!("{jobs:?}"));
    assert_eq!(deleted["state"], "done", "{deleted}");
    let sku_jobs = h.jobs("kind=store/sku/deleted").await.unwrap();
    assert_eq!(sku_jobs.len(), 1, "{sku_jobs:?}");
    assert_eq!(sku_jobs[0]["state"], "done", "{sku_jobs:?}");
    let r = item(&h, &se, &se_id, "LL-TOQUE-RED", |_| true).await;
    assert_eq!(r.status, Some(InventoryStatus::Inactive));
    h.shutdown().await.unwrap();
}
