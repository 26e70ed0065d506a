//! Orders v2 over real HTTP: auth, quota, pagination, create totals in both tax modes,
//! updates, shipments.

mod bigcommerce_common;
use bigcommerce_common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn missing_or_wrong_token_is_401_and_not_counted() {
    let sim = Sim::start(empty()).await;
    let r = sim.http.get(sim.url("/v2/orders")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = sim
        .http
        .get(sim.url("/v2/orders"))
        .header("x-auth-token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], 401);
    let r = sim.get("/v2/time").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-rate-limit-requests-left"], "149");
    sim.stop().await;
}

#[tokio::test]
async fn quota_exhaustion_answers_429_with_headers() {
    let sim = Sim::start(ledgerlink_sim::bigcommerce::Config {
        quota: Some(3),
        ..empty()
    })
    .await;
    for left in ["2", "1", "0"] {
        let r = sim.get("/v2/orders").await;
        assert_eq!(r.status(), 204);
        assert_eq!(r.headers()["x-rate-limit-requests-left"], left);
        assert_eq!(r.headers()["x-rate-limit-requests-quota"], "3");
        assert_eq!(r.headers()["x-rate-limit-time-window-ms"], "30000");
    }
    let r = sim.get("/v2/orders").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-rate-limit-requests-left"], "0");
    let reset: u64 = r.headers()["x-rate-limit-time-reset-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 0 && reset <= 30_000);
    let retry: u64 = r.headers()["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry));
    let stats = sim.stats().await;
    assert_eq!(stats["rate_limited"], 1);
    sim.stop().await;
}

#[tokio::test]
async fn quota_window_resets() {
    let sim = Sim::start(ledgerlink_sim::bigcommerce::Config {
        quota: Some(2),
        window: std::time::Duration::from_millis(300),
        ..empty()
    })
    .await;
    assert_eq!(sim.get("/v2/time").await.status(), 200);
    assert_eq!(sim.get("/v2/time").await.status(), 200);
    assert_eq!(sim.get("/v2/time").await.status(), 429);
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    let r = sim.get("/v2/time").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-rate-limit-requests-left"], "1");
    sim.stop().await;
}

#[tokio::test]
async fn custom_product_order_exclusive_prices() {
    let sim = Sim::start(empty()).await;
    // Switch the store to tax-exclusive prices.
    let r = sim
        .put(
            "/v3/tax/settings",
            json!({"tax_entered_with_prices": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = sim
        .post(
            "/v2/orders",
            json!({
                "billing_address": billing(),
                "shipping_addresses": [shipping()],
                "products": [{"name": "Custom thing", "quantity": 3, "price_ex_tax": "10.00"}],
                "shipping_cost_ex_tax": 8,
                "discount_amount": "6.00",
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["is_tax_inclusive_pricing"], false);
    assert_eq!(o["subtotal_ex_tax"], "30.0000");
    assert_eq!(o["subtotal_tax"], "7.5000");
    assert_eq!(o["subtotal_inc_tax"], "37.5000");
    assert_eq!(o["shipping_cost_ex_tax"], "8.0000");
    assert_eq!(o["shipping_cost_inc_tax"], "10.0000");
    // Lines after discount: 24.00 ex + 6.00 tax; shipping 8 + 2.
    assert_eq!(o["total_ex_tax"], "32.0000");
    assert_eq!(o["total_tax"], "8.0000");
    assert_eq!(o["total_inc_tax"], "40.0000");
    assert_eq!(o["status_id"], 1);
    let id = o["id"].as_u64().unwrap();
    let lines: Value = sim.get_json(&format!("/v2/orders/{id}/products")).await;
    assert_eq!(lines[0]["price_ex_tax"], "10.0000");
    assert_eq!(lines[0]["price_inc_tax"], "12.5000");
    assert_eq!(lines[0]["total_inc_tax"], "37.5000");
    let taxes: Value = sim
        .get_json(&format!("/v2/orders/{id}/taxes?details=true"))
        .await;
    let sum: f64 = taxes
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["line_amount"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((sum - 8.0).abs() < 1e-9, "{taxes}");
    assert!(
        taxes
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["line_item_type"] == "shipping")
    );
    sim.stop().await;
}

#[tokio::test]
async fn custom_product_order_inclusive_prices() {
    let sim = Sim::start(empty()).await;
    let r = sim
        .post(
            "/v2/orders",
            json!({
                "billing_address": billing(),
                "shipping_addresses": [shipping()],
                "products": [{"name": "Custom thing", "quantity": 2, "price_inc_tax": 125}],
                "shipping_cost_inc_tax": "49.00",
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["is_tax_inclusive_pricing"], true);
    assert_eq!(o["subtotal_inc_tax"], "250.0000");
    assert_eq!(o["subtotal_ex_tax"], "200.0000");
    assert_eq!(o["shipping_cost_ex_tax"], "39.2000");
    assert_eq!(o["total_inc_tax"], "299.0000");
    assert_eq!(o["total_tax"], "59.8000");
    sim.stop().await;
}

#[tokio::test]
async fn bad_order_bodies_get_clear_errors_and_create_nothing() {
    let sim = Sim::start(empty()).await;
    for (body, field) in [
        (
            json!({"products": [{"name": "x", "quantity": 1, "price_ex_tax": 1}]}),
            "billing_address",
        ),
        (
            json!({"billing_address": billing(), "products": []}),
            "products",
        ),
        (
            json!({"billing_address": billing(), "products": [{"name": "x", "quantity": 0, "price_ex_tax": 1}]}),
            "quantity",
        ),
        (
            json!({"billing_address": billing(), "products": [{"product_id": 999999, "quantity": 1}]}),
            "product_id",
        ),
        (
            json!({"billing_address": billing(), "products": [{"name": "x", "quantity": 1, "price_ex_tax": "abc"}]}),
            "price_ex_tax",
        ),
        (
            json!({"billing_address": billing(), "channel_id": 77, "products": [{"name": "x", "quantity": 1, "price_ex_tax": 1}]}),
            "channel_id",
        ),
    ] {
        let r = sim.post("/v2/orders", body).await;
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert!(e[0]["message"].as_str().unwrap().contains(field), "{e}");
    }
    let r = sim
        .http
        .post(sim.url("/v2/orders"))
        .header("x-auth-token", &sim.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(sim.get("/v2/orders").await.status(), 204);
    sim.stop().await;
}

#[tokio::test]
async fn list_filters_sort_and_pagination_with_204_past_the_end() {
    let sim = Sim::start(empty()).await;
    let mut ids = vec![];
    for i in 0..5 {
        let o = sim
            .create_custom_order(if i % 2 == 0 { 11 } else { 1 })
            .await;
        ids.push(o["id"].as_u64().unwrap());
    }
    let page1: Value = sim.get_json("/v2/orders?limit=2&page=1").await;
    let page3: Value = sim.get_json("/v2/orders?limit=2&page=3").await;
    assert_eq!(page1.as_array().unwrap().len(), 2);
    assert_eq!(page3.as_array().unwrap().len(), 1);
    assert_eq!(page1[0]["id"].as_u64().unwrap(), ids[0]);
    let r = sim.get("/v2/orders?limit=2&page=4").await;
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    let st: Value = sim.get_json("/v2/orders?status_id=11").await;
    assert_eq!(st.as_array().unwrap().len(), 3);
    let desc: Value = sim.get_json("/v2/orders?sort=id:desc&limit=1").await;
    assert_eq!(desc[0]["id"].as_u64().unwrap(), ids[4]);
    let min: Value = sim.get_json(&format!("/v2/orders?min_id={}", ids[3])).await;
    assert_eq!(min.as_array().unwrap().len(), 2);
    let count: Value = sim.get_json("/v2/orders/count").await;
    assert_eq!(count["count"], 5);
    assert_eq!(sim.get("/v2/orders?limit=251").await.status(), 413);
    assert_eq!(
        sim.get("/v2/orders?min_date_modified=yesterday")
            .await
            .status(),
        400
    );
    sim.stop().await;
}

#[tokio::test]
async fn update_moves_date_modified_and_filters_see_it() {
    let sim = Sim::start(empty()).await;
    let o = sim.create_custom_order(11).await;
    let id = o["id"].as_u64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = sim.put(&format!("/v2/orders/{id}"), json!({"staff_notes": "Visma invoice 1001", "external_order_id": "SO-7", "status_id": 9})).await;
    assert_eq!(r.status(), 200);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["staff_notes"], "Visma invoice 1001");
    assert_eq!(u["external_order_id"], "SO-7");
    assert_eq!(u["status"], "Awaiting Shipment");
    assert_ne!(u["date_modified"], o["date_modified"]);
    let since = urlencode(u["date_modified"].as_str().unwrap());
    let hits: Value = sim
        .get_json(&format!("/v2/orders?min_date_modified={since}"))
        .await;
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let r = sim
        .put(
            &format!("/v2/orders/{id}"),
            json!({"external_merchant_id": "x"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = sim
        .put(&format!("/v2/orders/{id}"), json!({"status_id": 99}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(sim.get("/v2/orders/424242").await.status(), 404);
    assert_eq!(
        sim.http
            .delete(sim.url(&format!("/v2/orders/{id}")))
            .header("x-auth-token", &sim.token)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(sim.get("/v2/orders").await.status(), 204);
    let archived: Value = sim.get_json("/v2/orders?is_deleted=true").await;
    assert_eq!(archived[0]["is_deleted"], true);
    sim.stop().await;
}

#[tokio::test]
async fn shipments_move_status_partially_then_fully_shipped() {
    let sim = Sim::start(empty()).await;
    let o = sim.create_custom_order(11).await;
    let id = o["id"].as_u64().unwrap();
    assert_eq!(
        sim.get(&format!("/v2/orders/{id}/shipments"))
            .await
            .status(),
        204
    );
    let (lid, aid) = sim.first_line_and_address(id).await;
    let r = sim.post(&format!("/v2/orders/{id}/shipments"), json!({"order_address_id": aid, "tracking_number": "T1", "items": [{"order_product_id": lid, "quantity": 1}]})).await;
    assert_eq!(r.status(), 201);
    let o: Value = sim.get_json(&format!("/v2/orders/{id}")).await;
    assert_eq!(o["status_id"], 3);
    assert_eq!(o["items_shipped"], 1);
    let r = sim
        .post(
            &format!("/v2/orders/{id}/shipments"),
            json!({"order_address_id": aid, "items": [{"order_product_id": lid, "quantity": 5}]}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = sim
        .post(
            &format!("/v2/orders/{id}/shipments"),
            json!({"order_address_id": aid, "items": [{"order_product_id": lid, "quantity": 2}]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let o: Value = sim.get_json(&format!("/v2/orders/{id}")).await;
    assert_eq!(o["status_id"], 2);
    assert_ne!(o["date_shipped"], "");
    let list: Value = sim.get_json(&format!("/v2/orders/{id}/shipments")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    sim.stop().await;
}
