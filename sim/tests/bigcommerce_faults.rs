//! Fault injection through the admin API: 5xx ratio, 429 bursts, latency, connection resets,
//! clearing, validation and authentication of the admin endpoints.

mod bigcommerce_common;
use bigcommerce_common::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn admin_needs_the_token_and_rejects_bad_settings() {
    let sim = Sim::start(empty()).await;
    let r = sim
        .http
        .get(sim.admin_url("/__admin/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        sim.set_faults(json!({"error_ratio": 1.5})).await.status(),
        422
    );
    assert_eq!(
        sim.set_faults(json!({"no_such_fault": 1})).await.status(),
        422
    );
    let r = sim
        .http
        .post(sim.admin_url("/__admin/faults"))
        .header("x-auth-token", &sim.token)
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    sim.stop().await;
}

#[tokio::test]
async fn error_ratio_one_fails_every_request_and_delete_clears_it() {
    let sim = Sim::start(empty()).await;
    assert_eq!(
        sim.set_faults(json!({"error_ratio": 1.0})).await.status(),
        200
    );
    for _ in 0..3 {
        let r = sim.get("/v2/orders").await;
        assert_eq!(r.status(), 500);
        assert!(r.headers().contains_key("x-rate-limit-requests-left"));
    }
    let r = sim
        .http
        .delete(sim.admin_url("/__admin/faults"))
        .header("x-auth-token", &sim.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(sim.get("/v2/orders").await.status(), 204);
    assert_eq!(sim.stats().await["injected_errors"], 3);
    sim.stop().await;
}

#[tokio::test]
async fn partial_error_ratio_fails_some_requests() {
    let sim = Sim::start(ledgerlink_sim::bigcommerce::Config {
        quota: None,
        ..empty()
    })
    .await;
    sim.set_faults(json!({"error_ratio": 0.5})).await;
    let mut fails = 0;
    for _ in 0..60 {
        if sim.get("/v2/time").await.status() == 500 {
            fails += 1;
        }
    }
    assert!(
        (10..=50).contains(&fails),
        "{fails} of 60 failed at ratio 0.5"
    );
    sim.stop().await;
}

#[tokio::test]
async fn burst_429_refuses_exactly_n_requests_with_headers() {
    let sim = Sim::start(empty()).await;
    sim.set_faults(json!({"burst_429": 2})).await;
    for _ in 0..2 {
        let r = sim.get("/v2/time").await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("x-retry-after"));
        assert_eq!(r.headers()["x-rate-limit-requests-left"], "0");
    }
    assert_eq!(sim.get("/v2/time").await.status(), 200);
    sim.stop().await;
}

#[tokio::test]
async fn latency_is_added() {
    let sim = Sim::start(empty()).await;
    sim.set_faults(json!({"latency_ms": 150})).await;
    let t = Instant::now();
    assert_eq!(sim.get("/v2/time").await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    sim.stop().await;
}

#[tokio::test]
async fn reset_ratio_drops_the_connection_without_a_response() {
    let sim = Sim::start(empty()).await;
    sim.set_faults(json!({"reset_ratio": 1.0})).await;
    let err = sim
        .http
        .get(sim.url("/v2/time"))
        .header("x-auth-token", &sim.token)
        .send()
        .await;
    assert!(
        err.is_err(),
        "expected a transport error, got {:?}",
        err.map(|r| r.status())
    );
    // The server keeps serving other connections.
    sim.set_faults(json!({})).await;
    assert_eq!(sim.get("/v2/time").await.status(), 200);
    assert_eq!(sim.stats().await["injected_resets"], 1);
    sim.stop().await;
}

#[tokio::test]
async fn admin_can_change_the_quota_and_generate_orders_outside_it() {
    let sim = Sim::start(empty()).await;
    let admin = |path: &str| sim.admin_url(path);
    let r = sim
        .http
        .post(admin("/__admin/orders/generate"))
        .header("x-auth-token", &sim.token)
        .json(&json!({"count": 120}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["count"], 120);
    let r = sim
        .http
        .put(admin("/__admin/quota"))
        .header("x-auth-token", &sim.token)
        .json(&json!({"quota": 2, "window_ms": 60000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = sim.get("/v2/orders/count").await;
    assert_eq!(r.headers()["x-rate-limit-requests-quota"], "2");
    let count: Value = r.json().await.unwrap();
    assert_eq!(count["count"], 120);
    assert_eq!(sim.get("/v2/time").await.status(), 200);
    assert_eq!(sim.get("/v2/time").await.status(), 429);
    let r = sim
        .http
        .put(admin("/__admin/quota"))
        .header("x-auth-token", &sim.token)
        .json(&json!({"quota": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = sim.get("/v2/time").await;
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key("x-rate-limit-requests-left"));
    let r = sim
        .http
        .put(admin("/__admin/quota"))
        .header("x-auth-token", &sim.token)
        .json(&json!({"quota": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // An unencoded `+0000` (arriving as a space) is still understood.
    let o: Value = sim.get_json("/v2/orders?limit=1").await;
    let raw = o[0]["date_created"].as_str().unwrap().replace(' ', "%20");
    let r = sim
        .get(&format!(
            "/v2/orders?limit=1&min_date_created={}",
            raw.replace("%20+0000", "+0000")
        ))
        .await;
    assert_eq!(r.status(), 200);
    sim.stop().await;
}
