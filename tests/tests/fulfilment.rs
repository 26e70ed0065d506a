//! Partial fulfilment under both posting rules: "invoice per shipment" (nothing is invoiced
//! until something ships, then one invoice per BigCommerce shipment covering what it shipped)
//! and "one invoice at completion" (nothing until the last item ships, then the whole order).
// Amounts in minor units are written `<units>_<cents>` (596_00 is 596.00).
#![allow(clippy::inconsistent_digit_grouping)]

use ledgerlink::engine::flows::InvoiceTiming;
use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::{Harness, cents, order_body, standard_plugin};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partially_shipped_order_is_invoiced_per_shipment() {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.invoice_timing = InvoiceTiming::PerShipment;
        }
    })
    .await
    .unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let id = h
        .create_order(order_body(1, &[(mug, 2), (bottle, 1)], Some("39.20")))
        .await
        .unwrap();
    // Paid but not shipped: no invoice yet.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        h.documents_ending(SE_TENANT, &format!(":{id}"))
            .await
            .unwrap()
            .is_empty(),
        "nothing is invoiced before a shipment"
    );
    let lines = h.order_lines(id).await.unwrap();
    let mug_line = lines.iter().find(|l| l["sku"] == "LL-MUG-01").unwrap();
    let addresses = h
        .bc_send(
            Method::GET,
            &format!("/v2/orders/{id}/shipping_addresses"),
            None,
        )
        .await
        .unwrap();
    let address = addresses[0]["id"].as_u64().unwrap();
    let shipment = h
        .bc_send(
            Method::POST,
            &format!("/v2/orders/{id}/shipments"),
            Some(json!({"order_address_id": address, "tracking_number": "PN123", "shipping_provider": "PostNord",
                        "items": [{"order_product_id": mug_line["id"], "quantity": 2}]})),
        )
        .await
        .unwrap();
    let sid = shipment["id"].as_u64().unwrap();
    let inv = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}:{sid}")))
        })
        .await
        .unwrap();
    // The shipment's invoice covers the two mugs, not the bottle.
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    let amount: f64 = inv["amount"].to_string().trim_matches('"').parse().unwrap();
    let total: f64 = order["total_inc_tax"].as_str().unwrap().parse().unwrap();
    assert!(
        amount > 0.0 && amount < total,
        "{inv} vs order total {total}"
    );
    let n = h
        .documents_ending(SE_TENANT, &format!(":{id}:{sid}"))
        .await
        .unwrap()
        .len();
    assert_eq!(n, 1);
    h.shutdown().await.unwrap();
}

/// Ships `items` (`(order product id, quantity)`) of an order to its first address.
async fn ship(h: &Harness, id: u64, items: &[(u64, u64)], tracking: &str) -> u64 {
    let addresses = h
        .bc_send(
            Method::GET,
            &format!("/v2/orders/{id}/shipping_addresses"),
            None,
        )
        .await
        .unwrap();
    let items: Vec<_> = items
        .iter()
        .map(|(l, q)| json!({"order_product_id": l, "quantity": q}))
        .collect();
    let s = h
        .bc_send(
            Method::POST,
            &format!("/v2/orders/{id}/shipments"),
            Some(
                json!({"order_address_id": addresses[0]["id"], "tracking_number": tracking,
                        "shipping_provider": "PostNord", "items": items}),
            ),
        )
        .await
        .unwrap();
    s["id"].as_u64().unwrap()
}

fn jobs_blocking(h: &Harness, id: u64) -> Vec<serde_json::Value> {
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(async { h.order_jobs(id).await.unwrap() })
    })
}

fn line_id(lines: &[serde_json::Value], sku: &str) -> u64 {
    lines.iter().find(|l| l["sku"] == sku).unwrap()["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_shipment_rule_invoices_each_shipment_and_together_they_make_the_order_total() {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.invoice_timing = InvoiceTiming::PerShipment;
        }
    })
    .await
    .unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_inc_tax"] = json!("49.00");
    let id = h.create_order(body).await.unwrap();
    let lines = h.order_lines(id).await.unwrap();
    let first = ship(&h, id, &[(line_id(&lines, "LL-MUG-01"), 2)], "PN1").await;
    let inv1 = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}:{first}")))
        })
        .await
        .unwrap();
    // The first shipment: two mugs (298.00) and the order's shipping (49.00).
    assert_eq!(cents(&inv1["amount"]), 347_00, "{inv1}");
    let second = ship(&h, id, &[(line_id(&lines, "LL-BOTTLE-075"), 1)], "PN2").await;
    let inv2 = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}:{second}")))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}\njobs of the order: {:#?}", jobs_blocking(&h, id)));
    assert_eq!(cents(&inv2["amount"]), 299_00, "{inv2}");
    let full = h
        .visma_invoice(SE_TENANT, inv2["number"].as_str().unwrap())
        .await
        .unwrap();
    let l = &full["invoiceLines"][0];
    assert_eq!(l["inventoryNumber"], "LL-BOTTLE-075");
    assert_eq!(cents(&l["quantity"]), 100);
    assert_eq!(
        full["invoiceLines"].as_array().unwrap().len(),
        1,
        "{full:#}"
    );
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    assert_eq!(
        cents(&inv1["amount"]) + cents(&inv2["amount"]),
        cents(&order["total_inc_tax"])
    );
    // Nothing for the order as a whole.
    let docs = h
        .documents_ending(SE_TENANT, &format!(":{id}"))
        .await
        .unwrap();
    assert!(docs.is_empty(), "{docs:#?}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_completion_rule_waits_for_the_last_shipment_then_invoices_the_whole_order() {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.invoice_timing = InvoiceTiming::AtCompletion;
        }
    })
    .await
    .unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_inc_tax"] = json!("49.00");
    let id = h.create_order(body).await.unwrap();
    let lines = h.order_lines(id).await.unwrap();
    ship(&h, id, &[(line_id(&lines, "LL-MUG-01"), 2)], "PN1").await;
    // Partially shipped: the order's jobs run and post nothing.
    h.wait_for(
        "the partial shipment to be handled",
        Duration::from_secs(10),
        || {
            let h = &h;
            async move {
                let o = h
                    .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
                    .await?;
                let jobs = h.order_jobs(id).await?;
                let settled = o["status_id"] == 3
                    && jobs.len() >= 2
                    && jobs
                        .iter()
                        .all(|j| j["state"] == "skipped" || j["state"] == "done");
                Ok(settled.then_some(()))
            }
        },
    )
    .await
    .unwrap();
    assert!(
        h.documents_ending(SE_TENANT, &format!(":{id}"))
            .await
            .unwrap()
            .is_empty(),
        "nothing is invoiced before the order is complete"
    );
    ship(&h, id, &[(line_id(&lines, "LL-BOTTLE-075"), 1)], "PN2").await;
    let inv = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await
        .unwrap();
    assert_eq!(cents(&inv["amount"]), 646_00, "{inv}");
    let full = h
        .visma_invoice(SE_TENANT, inv["number"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        full["invoiceLines"].as_array().unwrap().len(),
        3,
        "{full:#}"
    );
    h.shutdown().await.unwrap();
}
