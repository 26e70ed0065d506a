//! Partial fulfilment with the "invoice per shipment" posting rule: nothing is invoiced until
//! something ships, then one invoice per BigCommerce shipment covering what it shipped.

use ledgerlink::engine::flows::InvoiceTiming;
use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::{Harness, order_body, standard_plugin};
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
