//! Contract test: every response the client receives from the simulator while using each of
//! its endpoints validates against the response schema of the official OpenAPI file in
//! `../shared/specs/bigcommerce/`, and decodes into the typed models.

mod common;

use common::config_for;
use futures::TryStreamExt;
use ledgerlink_bigcommerce::models::*;
use ledgerlink_bigcommerce::{Client, ResponseRecord};
use ledgerlink_core::{BcOrderId, LocationId};
use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::Config;
use ledgerlink_sim::openapi::Spec;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SPEC_FILES: &[&str] = &[
    "orders.v2.oas2.yml",
    "orders.v3.yml",
    "products_catalog.v3.yml",
    "product-variants_catalog.v3.yml",
    "price_lists.v3.yml",
    "inventory.v3.yml",
    "locations.v3.yml",
    "customers.v3.yml",
    "customers.v2.yml",
    "channels.v3.yml",
    "currencies.v2.yml",
    "tax_classes.v2.yml",
    "tax_settings.v3.yml",
    "store_information.v2.yml",
    "webhooks.v3.yml",
];

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/specs/bigcommerce")
}

/// `/v2/orders/123/products` → `/v2/orders/{}/products`.
fn template(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Where the official spec contradicts documented BigCommerce behaviour, the simulator follows
/// the behaviour and we accept exactly that deviation, nothing broader:
/// - an empty collection answered 204 with no body (NOTES §3 [OBSERVED], §7.1, §17.7): the v2
///   coupons spec declares no 204 and the v3 transactions spec gives its 204 an object schema;
/// - `base_variant_id: null` on products with option variants (NOTES §8.1), which the spec
///   types as a non-nullable integer.
fn known_deviation(method: &str, status: u16, body: &Value, error: &str) -> bool {
    let empty_204 = method == "GET" && status == 204 && body.is_null();
    let null_base_variant = error.contains("/base_variant_id: null is not of type \"integer\"");
    empty_204 || null_base_variant
}

fn validate_all(
    specs: &[(String, Spec)],
    records: &[ResponseRecord],
) -> (BTreeSet<String>, Vec<String>) {
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for r in records {
        if !(200..300).contains(&r.status) {
            continue;
        }
        let tpl = template(&r.path);
        let body: Value = if r.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            match serde_json::from_slice(&r.body) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!(
                        "{} {} {}: body is not JSON: {e}",
                        r.method, tpl, r.status
                    ));
                    continue;
                }
            }
        };
        let mut found = false;
        let mut errors = Vec::new();
        for (file, spec) in specs {
            match spec.validate_response(&r.method, &tpl, r.status, &body) {
                Ok(()) => {
                    found = true;
                    errors.clear();
                    break;
                }
                Err(e) if e.iter().any(|m| m.contains("is not in the spec")) => {}
                Err(e)
                    if e.iter()
                        .all(|m| known_deviation(&r.method, r.status, &body, m)) =>
                {
                    found = true;
                    errors.clear();
                    break;
                }
                Err(e) => {
                    found = true;
                    errors.push(format!("{file}: {}", e.join("; ")));
                }
            }
        }
        if !found {
            failures.push(format!("{} {tpl}: no spec file declares it", r.method));
        } else if !errors.is_empty() {
            let mut text = errors.join(" | ");
            text.truncate(1500);
            failures.push(format!("{} {tpl} {}: {text}", r.method, r.status));
        }
        covered.insert(format!("{} {tpl}", r.method));
    }
    (covered, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_the_client_uses_matches_the_official_spec() {
    let sim = ledgerlink_sim::bigcommerce::start(Config {
        seed: Seed::Demo,
        window: Duration::from_secs(1),
        webhook_time_scale: 0.001,
        ..Config::default()
    })
    .await
    .unwrap();
    let records: Arc<Mutex<Vec<ResponseRecord>>> = Arc::default();
    let mut cfg = config_for(&sim);
    let sink = records.clone();
    cfg.observer = Some(Arc::new(move |r: &ResponseRecord| {
        sink.lock().unwrap().push(r.clone())
    }));
    let c = Client::new(cfg).unwrap();

    // Store set-up.
    let store = c.store_info().await.unwrap();
    assert!(!store.name.is_empty());
    c.store_time().await.unwrap();
    assert!(c.order_statuses().await.unwrap().len() >= 15);
    assert!(!c.tax_classes().await.unwrap().is_empty());
    c.tax_settings().await.unwrap();
    let currencies = c.currencies().await.unwrap();
    assert!(currencies.iter().any(|x| x.is_default));
    let channels = c.channels(true).await.unwrap();
    assert!(channels.len() >= 2);
    c.get_channel(channels[0].id).await.unwrap();
    c.currency_assignments().await.unwrap();
    c.channel_currency_assignment(channels[0].id).await.unwrap();

    // Customers.
    let customers = c
        .list_customers(&CustomerFilter {
            include_addresses: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!customers.is_empty());
    c.get_customer(customers[0].id, true)
        .await
        .unwrap()
        .expect("customer");
    c.customer_addresses(customers[0].id).await.unwrap();
    assert!(!c.customer_groups().await.unwrap().is_empty());

    // Catalog.
    let products: Vec<Product> = c
        .products(
            &ProductFilter {
                include_variants: true,
                ..Default::default()
            },
            20,
        )
        .try_concat()
        .await
        .unwrap();
    assert!(products.len() >= 50);
    let with_variants = products
        .iter()
        .find(|p| p.variants.as_ref().is_some_and(|v| v.len() > 1))
        .expect("a product with variants");
    let simple = products
        .iter()
        .find(|p| p.inventory_tracking.as_deref() == Some("product"))
        .expect("a simple product");
    c.get_product(with_variants.id, true).await.unwrap();
    let variants = c.product_variants(with_variants.id).await.unwrap();
    c.get_variant(with_variants.id, variants[0].id)
        .await
        .unwrap();
    assert_eq!(c.variants_by_sku(&variants[0].sku).await.unwrap().len(), 1);
    let updated = c
        .update_product(
            simple.id,
            &ProductWrite {
                cost_price: Some(Decimal::new(4250, 2)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.cost_price, Some(Decimal::new(4250, 2)));
    let lists = c.price_lists().await.unwrap();
    assert!(!lists.is_empty());
    let records_before = c.price_list_records(lists[0].id).await.unwrap();
    assert!(!records_before.is_empty());
    c.upsert_price_list_records(
        lists[0].id,
        &[PriceRecordWrite {
            variant_id: Some(variants[0].id),
            sku: None,
            currency: records_before[0].currency.clone(),
            price: Decimal::new(9900, 2),
            sale_price: None,
            retail_price: None,
        }],
    )
    .await
    .unwrap();

    // Inventory.
    let locations = c.locations().await.unwrap();
    assert!(locations.iter().any(|l| l.id == LocationId(1)));
    let items = c
        .inventory_items(&InventoryFilter::default())
        .await
        .unwrap();
    assert!(!items.is_empty());
    c.location_items(LocationId(1)).await.unwrap();
    let tx = c
        .set_absolute_inventory(
            Some("contract test"),
            &[AdjustmentItem {
                location_id: LocationId(1),
                item: ItemRef::VariantId(variants[0].id),
                quantity: 77,
            }],
        )
        .await
        .unwrap();
    assert_eq!(tx.len(), 1);
    c.adjust_relative_inventory(
        None,
        &[AdjustmentItem {
            location_id: LocationId(1),
            item: ItemRef::VariantId(variants[0].id),
            quantity: -2,
        }],
    )
    .await
    .unwrap();

    // Orders v2.
    let orders = c.list_orders(&OrderFilter::default()).await.unwrap();
    assert!(orders.len() >= 30);
    c.orders_count(&OrderFilter::default()).await.unwrap();
    for o in &orders {
        c.get_order(o.id).await.unwrap();
        c.order_products(o.id).await.unwrap();
        c.order_shipping_addresses(o.id).await.unwrap();
        c.order_coupons(o.id).await.unwrap();
        c.order_taxes(o.id).await.unwrap();
        c.order_shipments(o.id).await.unwrap();
        c.order_transactions(o.id).await.unwrap();
        c.order_refunds(o.id).await.unwrap();
    }
    let new = c
        .create_order(&NewOrder {
            billing_address: BillingAddress {
                first_name: "Contract".into(),
                last_name: "Test".into(),
                country: "Sweden".into(),
                country_iso2: "SE".into(),
                zip: Some("11122".into()),
                email: "contract@example.com".into(),
                ..Default::default()
            },
            shipping_addresses: Some(vec![serde_json::json!({
                "first_name": "Contract", "last_name": "Test", "street_1": "Storgatan 1",
                "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE",
                "email": "contract@example.com"
            })]),
            products: vec![NewOrderProduct {
                product_id: Some(with_variants.id),
                variant_id: Some(variants[1].id),
                quantity: 2,
                ..Default::default()
            }],
            status_id: Some(status::AWAITING_FULFILLMENT),
            ..Default::default()
        })
        .await
        .unwrap();
    let lines = c.order_products(new.id).await.unwrap();
    let addrs = c.order_shipping_addresses(new.id).await.unwrap();
    let shipment = c
        .create_shipment(
            new.id,
            &NewShipment {
                order_address_id: addrs[0].id,
                tracking_number: Some("TRACK1".into()),
                items: vec![NewShipmentItem {
                    order_product_id: lines[0].id,
                    quantity: 1,
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(shipment.order_id, new.id);
    c.order_shipments(new.id).await.unwrap();

    // Orders v3: refunds and metafields.
    let quote = c
        .refund_quote(
            new.id,
            &RefundQuoteRequest {
                items: vec![RefundItemRequest::quantity(
                    RefundItemType::Product,
                    lines[0].id,
                    1,
                )],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let method = quote
        .refund_methods
        .first()
        .expect("a refund method")
        .clone();
    let refund = c
        .create_refund(
            new.id,
            &RefundRequest {
                items: vec![RefundItemRequest::quantity(
                    RefundItemType::Product,
                    lines[0].id,
                    1,
                )],
                payments: method
                    .iter()
                    .map(|p| RefundPaymentRequest {
                        provider_id: p.provider_id.clone(),
                        amount: p.amount,
                        offline: p.offline,
                    })
                    .collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(refund.total_amount, quote.total_refund_amount);
    c.get_refund(refund.id).await.unwrap();
    let all: Vec<Refund> = c
        .refunds(&RefundFilter::default(), 50)
        .try_concat()
        .await
        .unwrap();
    assert!(all.iter().any(|r| r.id == refund.id));
    let field = NewMetafield {
        permission_set: "app_only".into(),
        namespace: "visma".into(),
        key: "invoice".into(),
        value: "10042".into(),
        description: None,
    };
    let m = c.upsert_order_metafield(new.id, &field).await.unwrap();
    let m2 = c
        .upsert_order_metafield(
            new.id,
            &NewMetafield {
                value: "10043".into(),
                ..field.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(m.id, m2.id);
    assert_eq!(m2.value, "10043");
    c.delete_order_metafield(new.id, m.id).await.unwrap();
    c.update_order(
        new.id,
        &OrderUpdate {
            staff_notes: Some("synced".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let _ = BcOrderId(0);

    // Hooks.
    let hook = c
        .create_hook(&HookWrite {
            scope: Some("store/order/created".into()),
            destination: Some("http://127.0.0.1:9/hooks".into()),
            is_active: Some(true),
            headers: Some([("x-secret".to_string(), "v".to_string())].into()),
        })
        .await
        .unwrap();
    c.hooks().await.unwrap();
    c.get_hook(hook.id).await.unwrap();
    c.update_hook(
        hook.id,
        &HookWrite {
            is_active: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    c.delete_hook(hook.id).await.unwrap();

    let records = records.lock().unwrap().clone();
    let specs: Vec<(String, Spec)> = SPEC_FILES
        .iter()
        .map(|f| (f.to_string(), Spec::load(spec_dir().join(f)).unwrap()))
        .collect();
    let (covered, mut failures) = validate_all(&specs, &records);
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} of {} responses break the spec:\n{}",
        failures.len(),
        records.len(),
        failures.join("\n")
    );
    assert!(covered.len() >= 40, "covered only {covered:?}");
    eprintln!(
        "validated {} responses over {} operations",
        records.len(),
        covered.len()
    );
    sim.shutdown().await;
}
