//! Webhook delivery over real HTTP: payload shape, custom headers, retry ladder (scaled),
//! deactivation after the last retry, ownership by client id, duplicate/drop faults.

mod bigcommerce_common;
use bigcommerce_common::*;
use ledgerlink_sim::bigcommerce::Config;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A receiver that records every delivery and fails the first `fail_first` (all when u32::MAX).
struct Receiver {
    url: String,
    got: Arc<parking_lot::Mutex<Vec<(axum::http::HeaderMap, Value)>>>,
    attempts: Arc<AtomicU32>,
}

async fn receiver(fail_first: u32) -> Receiver {
    let got = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let attempts = Arc::new(AtomicU32::new(0));
    let (g, a) = (got.clone(), attempts.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let (g, a) = (g.clone(), a.clone());
                async move {
                    let n = a.fetch_add(1, Ordering::SeqCst);
                    g.lock().push((headers, body.0));
                    if n < fail_first {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        attempts,
    }
}

async fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn scaled() -> Config {
    // The full ladder (~172,800 s) takes ~1.7 s at this scale.
    Config {
        webhook_time_scale: 0.00001,
        ..empty()
    }
}

#[tokio::test]
async fn order_events_arrive_with_thin_payload_and_custom_headers() {
    let sim = Sim::start(scaled()).await;
    let rx = receiver(0).await;
    let r = sim.post("/v3/hooks", json!({"scope": "store/order/*", "destination": rx.url, "headers": {"x-ledgerlink-secret": "s3cret"}})).await;
    assert_eq!(r.status(), 200);
    let o = sim.create_custom_order(11).await;
    let id = o["id"].as_u64().unwrap();
    sim.put(&format!("/v2/orders/{id}"), json!({"status_id": 9}))
        .await;
    wait_for(
        || rx.got.lock().len() >= 3,
        "created, statusUpdated, updated",
    )
    .await;
    let got = rx.got.lock().clone();
    let scopes: Vec<&str> = got
        .iter()
        .map(|(_, b)| b["scope"].as_str().unwrap())
        .collect();
    assert_eq!(
        scopes,
        [
            "store/order/created",
            "store/order/statusUpdated",
            "store/order/updated"
        ]
    );
    let (h, created) = &got[0];
    assert_eq!(h["x-ledgerlink-secret"], "s3cret");
    assert_eq!(created["data"], json!({"type": "order", "id": id}));
    assert!(created["store_id"].is_string());
    assert_eq!(created["producer"], "stores/ledgerlink01");
    assert_eq!(created["hash"].as_str().unwrap().len(), 40);
    assert!(created["created_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(
        got[1].1["data"]["status"],
        json!({"previous_status_id": 11, "new_status_id": 9})
    );
    let hashes: std::collections::HashSet<&str> = got
        .iter()
        .map(|(_, b)| b["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 3, "distinct events carry distinct hashes");
    sim.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_hash() {
    let sim = Sim::start(scaled()).await;
    let rx = receiver(2).await;
    let h: Value = sim
        .post(
            "/v3/hooks",
            json!({"scope": "store/order/created", "destination": rx.url}),
        )
        .await
        .json()
        .await
        .unwrap();
    sim.create_custom_order(11).await;
    wait_for(
        || rx.attempts.load(Ordering::SeqCst) >= 3,
        "two failures and a success",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.attempts.load(Ordering::SeqCst), 3);
    let got = rx.got.lock().clone();
    assert!(got.iter().all(|(_, b)| b["hash"] == got[0].1["hash"]));
    let hook: Value = sim
        .get_json(&format!("/v3/hooks/{}", h["data"]["id"]))
        .await;
    assert_eq!(hook["data"]["is_active"], true);
    sim.stop().await;
}

#[tokio::test]
async fn hook_is_deactivated_after_the_last_retry_and_can_be_reactivated() {
    let sim = Sim::start(scaled()).await;
    let rx = receiver(u32::MAX).await;
    let h: Value = sim
        .post(
            "/v3/hooks",
            json!({"scope": "store/order/created", "destination": rx.url}),
        )
        .await
        .json()
        .await
        .unwrap();
    let hid = h["data"]["id"].as_u64().unwrap();
    sim.create_custom_order(11).await;
    wait_for(
        || rx.attempts.load(Ordering::SeqCst) >= 12,
        "first attempt + 11 retries",
    )
    .await;
    let mut hook = Value::Null;
    for _ in 0..200 {
        hook = sim.get_json(&format!("/v3/hooks/{hid}")).await;
        if hook["data"]["is_active"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(hook["data"]["is_active"], false);
    assert_eq!(rx.attempts.load(Ordering::SeqCst), 12);
    assert_eq!(sim.stats().await["hooks_deactivated"], 1);
    // Inactive hooks get nothing.
    sim.create_custom_order(11).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rx.attempts.load(Ordering::SeqCst), 12);
    let r = sim
        .put(&format!("/v3/hooks/{hid}"), json!({"is_active": true}))
        .await;
    assert_eq!(r.status(), 200);
    let active: Value = sim.get_json("/v3/hooks?is_active=true").await;
    assert_eq!(active["data"].as_array().unwrap().len(), 1);
    sim.stop().await;
}

#[tokio::test]
async fn hook_validation_and_ownership_by_client() {
    let sim = Sim::start(scaled()).await;
    for (body, status) in [
        (json!({"destination": "https://example.com/h"}), 422),
        (json!({"scope": "store/order/*"}), 422),
        (
            json!({"scope": "store/order/*", "destination": "http://example.com/h"}),
            422,
        ),
        (
            json!({"scope": "store/order/*", "destination": "https://example.com:8443/h"}),
            422,
        ),
        (
            json!({"scope": "order/created", "destination": "https://example.com/h"}),
            422,
        ),
        (
            json!({"scope": "store/order/*", "destination": "https://example.com/h", "headers": {"a": 1}}),
            422,
        ),
        (
            json!({"scope": "store/order/*", "destination": "https://example.com/h"}),
            200,
        ),
        (
            json!({"scope": "store/order/*", "destination": "https://example.com/h"}),
            422,
        ),
    ] {
        let r = sim.post("/v3/hooks", body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
    }
    let list: Value = sim.get_json("/v3/hooks").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["data"][0]["client_id"],
        sim.running.info().client_id.as_str()
    );
    assert_eq!(sim.get("/v3/hooks/999").await.status(), 404);
    let id = list["data"][0]["id"].as_u64().unwrap();
    // A second API account sees none of the first one's hooks.
    let other: Value = sim
        .http
        .post(sim.admin_url("/__admin/accounts"))
        .header("x-auth-token", &sim.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token2 = other["auth_token"].as_str().unwrap();
    let theirs: Value = sim
        .http
        .get(sim.url("/v3/hooks"))
        .header("x-auth-token", token2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["data"], json!([]));
    let r = sim
        .http
        .get(sim.url(&format!("/v3/hooks/{id}")))
        .header("x-auth-token", token2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(sim.delete(&format!("/v3/hooks/{id}")).await.status(), 200);
    let list: Value = sim.get_json("/v3/hooks").await;
    assert_eq!(list["data"], json!([]));
    sim.stop().await;
}

#[tokio::test]
async fn duplicate_and_drop_faults_apply_to_deliveries() {
    let sim = Sim::start(scaled()).await;
    let rx = receiver(0).await;
    sim.post(
        "/v3/hooks",
        json!({"scope": "store/order/created", "destination": rx.url}),
    )
    .await;
    assert_eq!(
        sim.set_faults(json!({"duplicate_webhooks_ratio": 1.0}))
            .await
            .status(),
        200
    );
    sim.create_custom_order(11).await;
    wait_for(|| rx.got.lock().len() >= 2, "duplicate delivery").await;
    let got = rx.got.lock().clone();
    assert_eq!(got[0].1["hash"], got[1].1["hash"]);
    assert_eq!(
        sim.set_faults(json!({"drop_webhooks_ratio": 1.0}))
            .await
            .status(),
        200
    );
    sim.create_custom_order(11).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(rx.got.lock().len(), 2, "dropped event never arrives");
    let stats = sim.stats().await;
    assert_eq!(stats["webhooks_dropped"], 1);
    assert_eq!(stats["webhooks_duplicated"], 1);
    sim.stop().await;
}

#[tokio::test]
async fn catalog_inventory_and_customer_changes_fire_their_scopes() {
    let sim = Sim::start(Config {
        seed: ledgerlink_sim::Seed::Demo,
        ..scaled()
    })
    .await;
    let rx = receiver(0).await;
    for scope in ["store/product/*", "store/sku/*", "store/customer/*"] {
        assert_eq!(
            sim.post("/v3/hooks", json!({"scope": scope, "destination": rx.url}))
                .await
                .status(),
            200
        );
    }
    let r = sim.put("/v3/inventory/adjustments/absolute", json!({"items": [{"location_id": 1, "sku": "LL-JKT-ARCTIC-M", "quantity": 7}, {"location_id": 1, "sku": "LL-MUG-01", "quantity": 9}]})).await;
    assert_eq!(r.status(), 200);
    sim.post(
        "/v3/customers",
        json!([{"email": "hook@example.se", "first_name": "H", "last_name": "K"}]),
    )
    .await;
    wait_for(|| rx.got.lock().len() >= 3, "inventory and customer events").await;
    let got = rx.got.lock().clone();
    let sku = got
        .iter()
        .find(|(_, b)| b["scope"] == "store/sku/inventory/updated")
        .expect("sku inventory event");
    assert_eq!(sku.1["data"]["type"], "sku");
    assert_eq!(sku.1["data"]["inventory"]["value"], 7);
    let product = got
        .iter()
        .find(|(_, b)| b["scope"] == "store/product/inventory/updated")
        .expect("product inventory event");
    assert_eq!(product.1["data"]["inventory"]["method"], "absolute");
    assert!(
        got.iter()
            .any(|(_, b)| b["scope"] == "store/customer/created")
    );
    sim.stop().await;
}
