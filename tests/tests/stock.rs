//! Stock, Visma-owned → BigCommerce, end to end: the full sync sets every tracked SKU's level
//! per location from its Visma warehouses; a delta sync (items whose availability changed
//! since the last pass) carries a Visma stock move over and nothing else; the full sync
//! corrects drift made in BigCommerce; untracked products and SKUs BigCommerce does not have
//! are left alone; our own adjustments cause no further work (no echo loop).

use ledgerlink::core::VismaItemNo;
use ledgerlink::visma::dto::InventoryFilter;
use ledgerlink_tests::Harness;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Visma's available stock of `sku` per warehouse, in whole units.
async fn visma_stock(h: &Harness, sku: &str) -> BTreeMap<String, i64> {
    let (visma, entity) = h.visma_client("se");
    let items = visma
        .list_inventory_items(
            &entity,
            &InventoryFilter {
                inventory_number: Some(sku.into()),
                expand_warehouse_detail: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let item = items
        .iter()
        .find(|i| i.inventory_number == sku)
        .unwrap_or_else(|| panic!("Visma has no item {sku}"));
    item.warehouse_details
        .iter()
        .map(|w| {
            let q = w.available.unwrap_or_default().floor();
            (
                w.warehouse.clone().unwrap_or_default(),
                q.to_string().parse::<i64>().unwrap().max(0),
            )
        })
        .collect()
}

/// What BigCommerce should show per location: the demo maps MAIN → 1 and GBG → 2 (the
/// returns warehouse has no location).
fn expected_levels(visma: &BTreeMap<String, i64>) -> BTreeMap<u64, i64> {
    let mut out = BTreeMap::new();
    for (w, q) in visma {
        let loc = match w.as_str() {
            "MAIN" => 1,
            "GBG" => 2,
            _ => continue,
        };
        *out.entry(loc).or_insert(0) += q;
    }
    out
}

fn only_mapped(bc: &BTreeMap<u64, i64>, expected: &BTreeMap<u64, i64>) -> BTreeMap<u64, i64> {
    bc.iter()
        .filter(|(l, _)| expected.contains_key(l))
        .map(|(l, q)| (*l, *q))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_sets_levels_deltas_carry_changes_and_full_sync_corrects_drift() {
    let h = Harness::start().await.unwrap();
    // Tracked by product and tracked by variant.
    let skus = ["LL-MUG-01", "LL-BOTTLE-075", "LL-JKT-ARCTIC-M"];
    let full = h.stock_sync(true).await.unwrap();
    assert_eq!(full["state"], "done", "{full}");
    for sku in skus {
        let expected = expected_levels(&visma_stock(&h, sku).await);
        assert!(
            !expected.is_empty(),
            "{sku} has stock in a mapped warehouse"
        );
        let bc = h.bc_stock(sku).await.unwrap();
        assert_eq!(only_mapped(&bc, &expected), expected, "{sku}");
    }

    // Drift made in BigCommerce by hand, and a real change in Visma.
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    h.bc_send(
        Method::PUT,
        "/v3/inventory/adjustments/absolute",
        Some(json!({"items": [{"location_id": 1, "product_id": bottle, "quantity": 999}]})),
    )
    .await
    .unwrap();
    let mug_before = h.bc_stock("LL-MUG-01").await.unwrap()[&1];
    h.visma_move_stock("se", "LL-MUG-01", "MAIN", 7)
        .await
        .unwrap();
    h.visma_move_stock("se", "LL-JKT-ARCTIC-M", "GBG", -1)
        .await
        .unwrap();

    // The delta pass sends the two changed items only: the drifted bottle stays as it is.
    let delta = h.stock_sync(false).await.unwrap();
    assert_eq!(delta["state"], "done", "{delta}");
    assert_eq!(h.bc_stock("LL-MUG-01").await.unwrap()[&1], mug_before + 7);
    let jacket = expected_levels(&visma_stock(&h, "LL-JKT-ARCTIC-M").await);
    assert_eq!(
        only_mapped(&h.bc_stock("LL-JKT-ARCTIC-M").await.unwrap(), &jacket),
        jacket
    );
    assert_eq!(h.bc_stock("LL-BOTTLE-075").await.unwrap()[&1], 999);

    // Nothing changed in Visma since: the next delta has nothing to send.
    let idle = h.stock_sync(false).await.unwrap();
    assert_eq!(idle["state"], "skipped", "{idle}");

    // The scheduled full sync puts the bottle back to what Visma says.
    let full = h.stock_sync(true).await.unwrap();
    assert_eq!(full["state"], "done", "{full}");
    let bottle_expected = expected_levels(&visma_stock(&h, "LL-BOTTLE-075").await);
    assert_eq!(
        only_mapped(
            &h.bc_stock("LL-BOTTLE-075").await.unwrap(),
            &bottle_expected
        ),
        bottle_expected
    );
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untracked_and_unknown_items_are_left_alone_and_our_adjustments_cause_no_work() {
    let h = Harness::start().await.unwrap();
    let (visma, entity) = h.visma_client("se");
    // A stocked Visma item whose BigCommerce twin does not track inventory, and one that
    // BigCommerce does not sell at all.
    for sku in ["LL-UNTRACKED-1", "LL-ERP-ONLY-1"] {
        visma
            .create_inventory_item_once(
                &entity,
                &ledgerlink::visma::dto::InventoryUpdate {
                    inventory_number: Some(sku.into()),
                    description: Some(format!("{sku} item")),
                    item_class: Some("GOODS".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        h.visma_move_stock("se", sku, "MAIN", 12).await.unwrap();
    }
    let created = h
        .bc_send(
            Method::POST,
            "/v3/catalog/products",
            Some(
                json!({"name": "Gift card", "type": "physical", "sku": "LL-UNTRACKED-1",
                        "price": 100, "weight": 0, "inventory_tracking": "none"}),
            ),
        )
        .await
        .unwrap();
    let untracked = created["data"]["id"].as_u64().unwrap();
    assert!(
        visma
            .find_inventory_item(&entity, &VismaItemNo::new("LL-UNTRACKED-1"))
            .await
            .unwrap()
            .is_some()
    );

    let full = h.stock_sync(true).await.unwrap();
    assert_eq!(full["state"], "done", "{full}");
    // BigCommerce would refuse stock for an untracked product: it was never sent, and the
    // product still tracks nothing.
    let p = h
        .bc_send(
            Method::GET,
            &format!("/v3/catalog/products/{untracked}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(p["data"]["inventory_tracking"], "none");
    assert!(h.bc_stock("LL-UNTRACKED-1").await.unwrap().is_empty());
    let items = h
        .bc_send(Method::GET, "/v3/catalog/variants?sku=LL-ERP-ONLY-1", None)
        .await
        .unwrap();
    assert_eq!(items["data"].as_array().map(Vec::len), Some(0));

    // Our adjustments make BigCommerce emit inventory events, which no hook of ours
    // subscribes to: they start no job, let alone a product sync, and the next delta finds
    // nothing to send back. An order event emitted after them and delivered shows that they
    // would have arrived by now if they were sent.
    let orders = h
        .bc_send(Method::GET, "/v2/orders?limit=1", None)
        .await
        .unwrap();
    let order = orders[0]["id"].as_u64().unwrap();
    let updates = format!("kind=store/order/updated&subject=order:{order}&limit=500");
    let before = h.jobs(&updates).await.unwrap().len();
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{order}"),
        Some(json!({"customer_message": "after the stock sync"})),
    )
    .await
    .unwrap();
    h.wait_for(
        "the order event sent after our adjustments",
        Duration::from_secs(20),
        || async { Ok((h.jobs(&updates).await?.len() > before).then_some(())) },
    )
    .await
    .unwrap();
    for kind in [
        "store/product/inventory/updated",
        "store/sku/inventory/updated",
        "store/product/updated",
        "ledgerlink/product/sync",
    ] {
        let jobs = h.jobs(&format!("kind={kind}")).await.unwrap();
        assert!(jobs.is_empty(), "{kind}: {jobs:?}");
    }
    let idle = h.stock_sync(false).await.unwrap();
    assert_eq!(idle["state"], "skipped", "{idle}");
    // (The seeded order history syncs meanwhile; only stock and product work matters here.)
    let failed: Vec<_> = h
        .jobs("state=failed")
        .await
        .unwrap()
        .into_iter()
        .filter(|j| {
            !j["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("order:"))
        })
        .map(|j| format!("{} {} {}", j["kind"], j["subject"], j["error"]["message"]))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn levels_bigcommerce_refuses_do_not_hold_up_the_others() {
    // The Göteborg warehouse is mapped to a location the store does not have.
    let h = Harness::start_configured(ledgerlink_tests::standard_plugin(), |c| {
        for e in &mut c.entities {
            e.tables
                .entry("warehouse".into())
                .or_default()
                .insert("GBG".into(), "9".into());
        }
    })
    .await
    .unwrap();
    let job = h.stock_sync(true).await.unwrap();
    assert_eq!(job["state"], "done", "{job}");
    // The refused levels are tried again by a job of their own, which lands in the error
    // queue naming them.
    let retry = h
        .wait_for(
            "the stock retry in the error queue",
            Duration::from_secs(20),
            || async {
                let jobs = h.jobs("kind=ledgerlink/stock/retry&state=failed").await?;
                Ok(jobs.into_iter().next())
            },
        )
        .await
        .unwrap();
    assert_eq!(retry["error"]["code"], "stock_items_refused", "{retry}");
    let message = retry["error"]["message"].as_str().unwrap();
    assert!(message.contains("location 9"), "{message}");
    assert!(!message.contains("location 1"), "{message}");
    let refused = retry["payload"]["items"].as_array().unwrap();
    assert!(
        refused.iter().any(|i| i == "LL-JKT-ARCTIC-M"),
        "the Visma item numbers to retry: {refused:?}"
    );
    // Later passes are not held up by it.
    let next = h.stock_sync(false).await.unwrap();
    assert!(
        matches!(next["state"].as_str(), Some("done") | Some("skipped")),
        "{next}"
    );
    // Everything at the Stockholm location landed all the same.
    for sku in ["LL-MUG-01", "LL-JKT-ARCTIC-M"] {
        let main = visma_stock(&h, sku).await.get("MAIN").copied().unwrap_or(0);
        assert_eq!(
            h.bc_stock(sku).await.unwrap().get(&1).copied(),
            Some(main),
            "{sku}"
        );
    }
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_runs_a_full_sync_then_deltas_without_being_asked() {
    let h = Harness::start_configured(ledgerlink_tests::standard_plugin(), |c| {
        c.host.stock_interval_secs = 1;
    })
    .await
    .unwrap();
    // The first scheduled pass is a full one.
    let expected = expected_levels(&visma_stock(&h, "LL-POT-SET").await);
    h.wait_for(
        "the scheduled full sync",
        Duration::from_secs(20),
        || async {
            let bc = h.bc_stock("LL-POT-SET").await?;
            Ok((only_mapped(&bc, &expected) == expected).then_some(()))
        },
    )
    .await
    .unwrap();
    // A later Visma change arrives through a scheduled delta.
    let before = h.bc_stock("LL-POT-SET").await.unwrap()[&1];
    h.visma_move_stock("se", "LL-POT-SET", "MAIN", -2)
        .await
        .unwrap();
    h.wait_for("the scheduled delta", Duration::from_secs(20), || async {
        let now = h.bc_stock("LL-POT-SET").await?[&1];
        Ok((now == before - 2).then_some(()))
    })
    .await
    .unwrap();
    let jobs = h
        .jobs("kind=ledgerlink/stock/sync&limit=100")
        .await
        .unwrap();
    let full = jobs.iter().filter(|j| j["payload"]["full"] == true).count();
    assert!(full >= 1, "{jobs:?}");
    assert!(
        jobs.len() > full,
        "deltas between the full passes: {jobs:?}"
    );
    h.shutdown().await.unwrap();
}

/// Enough SKUs that one full pass has more than 2000 levels (two locations each): BigCommerce
/// refuses more than 2000 items per adjustment (413), so this passes only when the levels go
/// in batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_of_more_than_2000_levels_goes_in_batches() {
    use futures::StreamExt;
    // Without webhooks: a thousand new SKUs would queue a thousand product syncs first.
    let h = Harness::start_configured(ledgerlink_tests::standard_plugin(), |c| {
        for s in &mut c.stores {
            s.register_hooks = false;
        }
    })
    .await
    .unwrap();
    let (visma, entity) = h.visma_client("se");
    const PRODUCTS: usize = 4;
    const SIZES: usize = 251;
    let sku = |p: usize, v: usize| format!("LL-BULK-{p}-{v:03}");
    for p in 0..PRODUCTS {
        let variants: Vec<_> = (0..SIZES)
            .map(|v| json!({"sku": sku(p, v), "option_values": [{"option_display_name": "Size", "label": v.to_string()}]}))
            .collect();
        h.bc_send(
            Method::POST,
            "/v3/catalog/products",
            Some(json!({"name": format!("Bulk {p}"), "type": "physical", "sku": format!("LL-BULK-{p}"),
                        "price": 10, "weight": 0.1, "inventory_tracking": "variant", "variants": variants})),
        )
        .await
        .unwrap();
    }
    let all: Vec<String> = (0..PRODUCTS)
        .flat_map(|p| (0..SIZES).map(move |v| sku(p, v)))
        .collect();
    futures::stream::iter(all.iter().cloned())
        .map(|s| {
            let (visma, entity) = (&visma, &entity);
            async move {
                if visma
                    .find_inventory_item(entity, &VismaItemNo::new(s.as_str()))
                    .await
                    .unwrap()
                    .is_none()
                {
                    let _ = visma
                        .create_inventory_item_once(
                            entity,
                            &ledgerlink::visma::dto::InventoryUpdate {
                                inventory_number: Some(s.clone()),
                                item_class: Some("GOODS".into()),
                                ..Default::default()
                            },
                        )
                        .await;
                }
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    for (warehouse, base) in [("MAIN", 3), ("GBG", 5)] {
        let lines: Vec<_> = all
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"operation": "Insert", "inventoryNumber": {"value": s},
                                 "warehouseId": {"value": warehouse}, "quantity": {"value": base + i % 7}}))
            .collect();
        let resp = h
            .visma_erp(
                "se",
                Method::POST,
                "/v1/inventoryReceipt",
                Some(json!({"hold": {"value": false}, "receiptLines": lines})),
            )
            .await
            .unwrap();
        let number = resp.headers()["location"]
            .to_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        h.visma_erp(
            "se",
            Method::POST,
            &format!("/v1/inventoryReceipt/{number}/action/release"),
            None,
        )
        .await
        .unwrap();
    }
    let job = h.stock_sync(true).await.unwrap();
    assert_eq!(job["state"], "done", "{job}");
    // Sent in one go that the client split at 2000, never refused (413) and halved.
    let attempts = h
        .app()
        .store
        .attempts_of(&[ledgerlink::store::JobId(job["id"].as_i64().unwrap())])
        .await
        .unwrap();
    let sends: Vec<_> = attempts
        .iter()
        .flat_map(|a| a.exchanges.iter())
        .filter(|e| e.url.contains("adjustments/absolute"))
        .collect();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(sends[0].status, Some(200), "{sends:?}");
    for i in [0, 500, 1003] {
        let s = &all[i];
        let bc = h.bc_stock(s).await.unwrap();
        assert_eq!(bc.get(&1).copied(), Some(3 + (i % 7) as i64), "{s}");
        assert_eq!(bc.get(&2).copied(), Some(5 + (i % 7) as i64), "{s}");
    }
    h.shutdown().await.unwrap();
}
