//! Catalog, inventory, customers and settings over real HTTP.

mod bigcommerce_common;
use bigcommerce_common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn products_variants_filters_and_pagination() {
    let sim = Sim::start(demo()).await;
    let page: Value = sim.get_json("/v3/catalog/products?limit=20&page=3").await;
    assert_eq!(page["meta"]["pagination"]["total"], 50);
    assert_eq!(page["meta"]["pagination"]["total_pages"], 3);
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
    assert!(page["meta"]["pagination"]["links"].get("next").is_none());
    let p: Value = sim
        .get_json("/v3/catalog/products?sku=LL-JKT-ARCTIC&include=variants")
        .await;
    let jacket = &p["data"][0];
    assert_eq!(jacket["variants"].as_array().unwrap().len(), 3);
    assert!(jacket["base_variant_id"].is_null());
    assert_eq!(jacket["inventory_tracking"], "variant");
    // `sku` on products matches the product SKU only; variant SKUs are found on /variants.
    let none: Value = sim
        .get_json("/v3/catalog/products?sku=LL-JKT-ARCTIC-M")
        .await;
    assert_eq!(none["data"], json!([]));
    let v: Value = sim
        .get_json("/v3/catalog/variants?sku=LL-JKT-ARCTIC-M")
        .await;
    assert_eq!(v["data"][0]["product_id"], jacket["id"]);
    let ids = format!("{},{}", jacket["id"], jacket["id"].as_u64().unwrap() + 1);
    let two: Value = sim
        .get_json(&format!("/v3/catalog/products?id:in={ids}"))
        .await;
    assert_eq!(two["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        sim.get("/v3/catalog/products?id:in=a,b").await.status(),
        400
    );
    assert_eq!(sim.get("/v3/catalog/products/999999").await.status(), 404);
    sim.stop().await;
}

#[tokio::test]
async fn product_create_update_and_validation() {
    let sim = Sim::start(empty()).await;
    for (body, status) in [
        (json!({"type": "physical", "price": 1, "weight": 1}), 422),
        (
            json!({"name": "A", "type": "boat", "price": 1, "weight": 1}),
            422,
        ),
        (
            json!({"name": "A", "type": "physical", "price": "x", "weight": 1}),
            400,
        ),
        (json!({"name": "A", "type": "physical", "price": 1}), 422),
    ] {
        assert_eq!(
            sim.post("/v3/catalog/products", body.clone())
                .await
                .status(),
            status,
            "{body}"
        );
    }
    let r = sim.post("/v3/catalog/products", json!({"name": "Tent", "type": "physical", "price": 100, "weight": 2, "sku": "T-1", "inventory_level": 5})).await;
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    let id = p["data"]["id"].as_u64().unwrap();
    assert_eq!(p["data"]["inventory_level"], 5);
    assert_eq!(
        sim.post(
            "/v3/catalog/products",
            json!({"name": "Tent 2", "type": "physical", "price": 1, "weight": 1, "sku": "T-1"})
        )
        .await
        .status(),
        409
    );
    let r = sim
        .put(
            &format!("/v3/catalog/products/{id}"),
            json!({"price": 120.5, "name": "Tent XL"}),
        )
        .await;
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["data"]["price"], 120.5);
    assert_eq!(u["data"]["name"], "Tent XL");
    let r = sim
        .put(
            "/v3/catalog/products",
            json!([{"id": id, "price": 99}, {"id": 424242, "price": 1}]),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = sim.get_json(&format!("/v3/catalog/products/{id}")).await;
    assert_eq!(p["data"]["price"], 120.5, "a failed batch changes nothing");
    sim.stop().await;
}

#[tokio::test]
async fn inventory_adjustments_follow_the_documented_rules() {
    let sim = Sim::start(empty()).await;
    let p: Value = sim
        .post(
            "/v3/catalog/products",
            json!({"name": "Mug", "type": "physical", "price": 10, "weight": 1, "sku": "M-1"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let pid = p["data"]["id"].as_u64().unwrap();
    // Relative before absolute → 422.
    let r = sim
        .post(
            "/v3/inventory/adjustments/relative",
            json!({"items": [{"location_id": 1, "sku": "M-1", "quantity": 5}]}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["title"].as_str().unwrap().contains("absolute"));
    let r = sim.put("/v3/inventory/adjustments/absolute", json!({"reason": "count", "items": [{"location_id": 1, "product_id": pid, "quantity": 10}]})).await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["transaction_id"].is_string());
    let r = sim
        .post(
            "/v3/inventory/adjustments/relative",
            json!({"items": [{"location_id": 1, "sku": "M-1", "quantity": -3}]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let items: Value = sim.get_json("/v3/inventory/items?sku:in=M-1").await;
    assert_eq!(
        items["data"][0]["locations"][0]["total_inventory_onhand"],
        7
    );
    let r = sim
        .post(
            "/v3/inventory/adjustments/relative",
            json!({"items": [{"location_id": 1, "sku": "M-1", "quantity": -8}]}),
        )
        .await;
    assert_eq!(r.status(), 422, "below zero");
    // Exactly one identifying key; known location; at most 2000 items.
    let r = sim
        .put(
            "/v3/inventory/adjustments/absolute",
            json!({"items": [{"location_id": 1, "sku": "M-1", "product_id": pid, "quantity": 1}]}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = sim
        .put(
            "/v3/inventory/adjustments/absolute",
            json!({"items": [{"location_id": 9, "sku": "M-1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let many: Vec<Value> = (0..2001)
        .map(|_| json!({"location_id": 1, "sku": "M-1", "quantity": 1}))
        .collect();
    assert_eq!(
        sim.put("/v3/inventory/adjustments/absolute", json!({"items": many}))
            .await
            .status(),
        413
    );
    let p: Value = sim.get_json(&format!("/v3/catalog/products/{pid}")).await;
    assert_eq!(p["data"]["inventory_level"], 7);
    sim.stop().await;
}

#[tokio::test]
async fn customers_groups_channels_and_settings() {
    let sim = Sim::start(demo()).await;
    let c: Value = sim
        .get_json("/v3/customers?include=addresses&limit=5")
        .await;
    assert_eq!(c["meta"]["pagination"]["total"], 12);
    assert_eq!(c["data"][0]["addresses"].as_array().unwrap().len(), 1);
    let g: Value = sim.get_json("/v2/customer_groups").await;
    assert_eq!(g.as_array().unwrap().len(), 3);
    let wholesale: Value = sim.get_json("/v3/customers?customer_group_id:in=2").await;
    assert_eq!(wholesale["meta"]["pagination"]["total"], 3);
    let r = sim.post("/v3/customers", json!([{"email": "ok@example.se", "first_name": "A", "last_name": "B"}, {"email": "bad", "first_name": "C", "last_name": "D"}])).await;
    assert_eq!(r.status(), 422);
    let none: Value = sim.get_json("/v3/customers?email:in=ok@example.se").await;
    assert_eq!(none["data"], json!([]), "a failed batch creates nothing");
    let ch: Value = sim.get_json("/v3/channels?include=currencies").await;
    assert_eq!(ch["data"].as_array().unwrap().len(), 2);
    assert_eq!(ch["data"][1]["currencies"]["default_currency"], "EUR");
    let cur: Value = sim.get_json("/v2/currencies").await;
    assert_eq!(cur.as_array().unwrap().len(), 2);
    let store: Value = sim.get_json("/v2/store").await;
    assert_eq!(store["currency"], "SEK");
    assert_eq!(store["is_price_entered_with_tax"], true);
    let inv: Value = sim.get_json("/v3/settings/inventory").await;
    assert_eq!(inv["data"]["update_stock_behavior"], "order_placed");
    let t: Value = sim.get_json("/v2/time").await;
    assert!(t["time"].as_i64().unwrap() > 1_700_000_000);
    sim.stop().await;
}
