//! Refunds (v3) against v2 orders: quotes, partial and full refunds, refundable limits,
//! payment matching, status moves, and the stock effects of cancellations and refunds.

mod bigcommerce_common;
use bigcommerce_common::*;
use serde_json::{Value, json};

async fn stock(sim: &Sim, sku: &str) -> i64 {
    let v: Value = sim
        .get_json(&format!(
            "/v3/inventory/items?sku:in={sku}&location_id:in=1"
        ))
        .await;
    v["data"][0]["locations"][0]["total_inventory_onhand"]
        .as_i64()
        .unwrap()
}

/// A paid order of 2 × LL-MUG-01 (149 incl. VAT) with 79 shipping, on the demo store.
async fn mug_order(sim: &Sim) -> (u64, u64, u64) {
    let p: Value = sim.get_json("/v3/catalog/products?sku=LL-MUG-01").await;
    let pid = p["data"][0]["id"].as_u64().unwrap();
    let r = sim
        .post("/v2/orders", json!({"status_id": 11, "billing_address": billing(), "shipping_addresses": [shipping()],
                                     "products": [{"product_id": pid, "quantity": 2}], "shipping_cost_inc_tax": 79, "payment_method": "Klarna"}))
        .await;
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["total_inc_tax"], "377.0000");
    assert_eq!(o["subtotal_ex_tax"], "238.4000");
    let id = o["id"].as_u64().unwrap();
    let (line, address) = sim.first_line_and_address(id).await;
    (id, line, address)
}

async fn refund(sim: &Sim, id: u64, items: Value, amount: &str) -> reqwest::Response {
    sim.post(&format!("/v3/orders/{id}/payment_actions/refunds"), json!({"items": items, "payments": [{"provider_id": "klarna", "amount": amount, "offline": false}]})).await
}

#[tokio::test]
async fn partial_then_full_refund_moves_status_and_refundable_amounts() {
    let sim = Sim::start(demo()).await;
    let before = stock(&sim, "LL-MUG-01").await;
    let (id, line, addr) = mug_order(&sim).await;
    assert_eq!(
        stock(&sim, "LL-MUG-01").await,
        before - 2,
        "order placed moves stock"
    );

    let items = json!([{"item_type": "PRODUCT", "item_id": line, "quantity": 1}]);
    let q: Value = sim
        .post(
            &format!("/v3/orders/{id}/payment_actions/refund_quotes"),
            json!({"items": items}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["data"]["total_refund_amount"], 149.0);
    assert_eq!(q["data"]["total_refund_tax_amount"], 29.8);
    assert_eq!(q["data"]["refund_methods"][0][0]["provider_id"], "klarna");

    // Payments must match the refund total.
    assert_eq!(refund(&sim, id, items.clone(), "100").await.status(), 422);
    let r = refund(&sim, id, items.clone(), "149.00").await;
    assert_eq!(r.status(), 201);
    let rf: Value = r.json().await.unwrap();
    assert_eq!(rf["data"]["total_amount"], 149.0);
    let o: Value = sim.get_json(&format!("/v2/orders/{id}")).await;
    assert_eq!(o["status_id"], 14);
    assert_eq!(o["refunded_amount"], "149.0000");
    assert_eq!(
        stock(&sim, "LL-MUG-01").await,
        before - 2,
        "partial refunds never restock"
    );

    // Only one unit and 79 of shipping are left.
    let too_many = json!([{"item_type": "PRODUCT", "item_id": line, "quantity": 2}]);
    assert_eq!(refund(&sim, id, too_many, "298").await.status(), 422);
    let too_much_shipping = json!([{"item_type": "SHIPPING", "item_id": addr, "amount": 80}]);
    assert_eq!(
        refund(&sim, id, too_much_shipping, "80").await.status(),
        422
    );
    let rest = json!([{"item_type": "PRODUCT", "item_id": line, "quantity": 1}, {"item_type": "SHIPPING", "item_id": addr, "amount": 79}]);
    assert_eq!(refund(&sim, id, rest, "228").await.status(), 201);
    let o: Value = sim.get_json(&format!("/v2/orders/{id}")).await;
    assert_eq!(o["status_id"], 4);
    assert_eq!(o["payment_status"], "refunded");
    assert_eq!(
        stock(&sim, "LL-MUG-01").await,
        before,
        "a full refund restocks (refund_order_stock_adjustment)"
    );
    let lines: Value = sim.get_json(&format!("/v2/orders/{id}/products")).await;
    assert_eq!(lines[0]["quantity_refunded"], 2);
    assert_eq!(lines[0]["is_refunded"], true);
    // Nothing is left to refund.
    assert_eq!(
        refund(
            &sim,
            id,
            json!([{"item_type": "ORDER", "item_id": id, "amount": 1}]),
            "1"
        )
        .await
        .status(),
        422
    );
    let all: Value = sim
        .get_json(&format!(
            "/v3/orders/payment_actions/refunds?order_id:in={id}"
        ))
        .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(all["meta"]["pagination"]["total"], 2);
    sim.stop().await;
}

#[tokio::test]
async fn bad_refund_requests_are_refused_and_change_nothing() {
    let sim = Sim::start(demo()).await;
    let (id, line, _) = mug_order(&sim).await;
    for body in [
        json!({}),
        json!({"items": []}),
        json!({"items": [{"item_type": "PRODUCT", "item_id": line}], "payments": [{"provider_id": "klarna", "amount": 1}]}),
        json!({"items": [{"item_type": "PRODUCT", "item_id": 999999, "quantity": 1}], "payments": [{"provider_id": "klarna", "amount": 149}]}),
        json!({"items": [{"item_type": "WHATEVER", "item_id": line, "quantity": 1}], "payments": [{"provider_id": "klarna", "amount": 149}]}),
        json!({"items": [{"item_type": "PRODUCT", "item_id": line, "quantity": 1}]}),
        json!({"items": [{"item_type": "PRODUCT", "item_id": line, "quantity": 1}], "payments": [{"provider_id": "paypal", "amount": 149}]}),
        json!({"items": [{"item_type": "ORDER", "item_id": 1, "amount": 5}], "payments": [{"provider_id": "klarna", "amount": 5}]}),
    ] {
        let r = sim
            .post(
                &format!("/v3/orders/{id}/payment_actions/refunds"),
                body.clone(),
            )
            .await;
        assert_eq!(r.status(), 422, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["status"], 422);
        assert!(e["title"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let o: Value = sim.get_json(&format!("/v2/orders/{id}")).await;
    assert_eq!(o["status_id"], 11);
    assert_eq!(o["refunded_amount"], "0.0000");
    assert_eq!(
        sim.post("/v3/orders/999999/payment_actions/refunds", json!({}))
            .await
            .status(),
        404
    );
    // Offline refunds and order-level amounts work with any provider.
    let r = sim.post(&format!("/v3/orders/{id}/payment_actions/refunds"),
                     json!({"items": [{"item_type": "ORDER", "item_id": id, "amount": "10.50"}], "payments": [{"provider_id": "bankdeposit", "amount": 10.5, "offline": true}]})).await;
    assert_eq!(r.status(), 201);
    sim.stop().await;
}

#[tokio::test]
async fn cancellation_restocks_and_insufficient_stock_is_refused() {
    let sim = Sim::start(demo()).await;
    let before = stock(&sim, "LL-MUG-01").await;
    let (id, _, _) = mug_order(&sim).await;
    let r = sim
        .put(&format!("/v2/orders/{id}"), json!({"status_id": 5}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(stock(&sim, "LL-MUG-01").await, before);
    let p: Value = sim.get_json("/v3/catalog/products?sku=LL-MUG-01").await;
    let pid = p["data"][0]["id"].as_u64().unwrap();
    let r = sim.post("/v2/orders", json!({"status_id": 11, "billing_address": billing(), "products": [{"product_id": pid, "quantity": before + 1}]})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(stock(&sim, "LL-MUG-01").await, before);
    sim.stop().await;
}

#[tokio::test]
async fn demo_seed_has_every_status_and_consistent_totals() {
    let sim = Sim::start(ledgerlink_sim::bigcommerce::Config {
        quota: None,
        ..demo()
    })
    .await;
    let orders: Value = sim.get_json("/v2/orders?limit=250").await;
    let orders = orders.as_array().unwrap();
    let statuses: std::collections::HashSet<u64> = orders
        .iter()
        .map(|o| o["status_id"].as_u64().unwrap())
        .collect();
    for s in [0, 1, 2, 3, 4, 5, 7, 10, 11, 14] {
        assert!(statuses.contains(&s), "demo lacks status {s}");
    }
    assert!(
        orders
            .iter()
            .any(|o| o["is_tax_inclusive_pricing"] == false)
    );
    assert!(
        orders
            .iter()
            .any(|o| o["currency_code"] == "EUR" && o["channel_id"] == 2)
    );
    let d = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    for o in orders {
        assert_eq!(
            d(&o["total_ex_tax"]) + d(&o["total_tax"]),
            d(&o["total_inc_tax"]),
            "order {}",
            o["id"]
        );
        let taxes: Value = sim
            .get_json(&format!("/v2/orders/{}/taxes?details=true", o["id"]))
            .await;
        let sum: rust_decimal::Decimal = taxes
            .as_array()
            .unwrap()
            .iter()
            .map(|t| d(&t["line_amount"]))
            .sum();
        assert_eq!(sum, d(&o["total_tax"]), "order {} tax rows", o["id"]);
    }
    let skus = ledgerlink_sim::bigcommerce::demo_skus();
    assert_eq!(skus.len(), 90);
    let v: Value = sim.get_json("/v3/catalog/variants?limit=250").await;
    let live: std::collections::HashSet<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert!(skus.iter().all(|s| live.contains(s)));
    sim.stop().await;
}
