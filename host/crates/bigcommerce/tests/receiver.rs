//! The webhook receiver over real HTTP: authentication, dedupe, size and shape checks, and
//! "2xx only after the store said Ok".

mod common;

use common::{MemorySink, serve};
use ledgerlink_bigcommerce::webhooks::{ReceiverConfig, webhook_router};
use std::sync::Arc;
use std::sync::atomic::Ordering;

const HEADER: &str = "x-ledgerlink-secret";
const SECRET: &str = "s3cr3t-value-0123456789";

async fn setup() -> (Arc<MemorySink>, String) {
    let sink = Arc::new(MemorySink::default());
    let cfg = ReceiverConfig::new(HEADER, SECRET, "bigcommerce:abc123");
    let path = cfg.path.clone();
    let addr = serve(webhook_router(cfg, sink.clone())).await;
    (sink, format!("http://{addr}{path}"))
}

fn payload(id: u64, hash: &str) -> String {
    format!(
        r#"{{"scope":"store/order/created","store_id":"1025646","data":{{"type":"order","id":{id}}},"hash":"{hash}","created_at":1561479335,"producer":"stores/abc123"}}"#
    )
}

#[tokio::test]
async fn duplicate_delivery_is_stored_once() {
    let (sink, url) = setup().await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http
            .post(&url)
            .header(HEADER, SECRET)
            .header("content-type", "application/json")
            .body(payload(250, "dd70c0976e06b67aaf671e73f49dcb79230ebf9d"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().is_empty(), "no response body");
    }
    let r = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(payload(251, "0000000000000000000000000000000000000001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = sink.events();
    assert_eq!(events.len(), 2);
    assert_eq!(sink.duplicates(), 2);
    // The hash with the scope and the event time (one hash may stand for several updates).
    assert_eq!(
        events[0].dedupe_key,
        "dd70c0976e06b67aaf671e73f49dcb79230ebf9d|store/order/created|1561479335"
    );
    assert_eq!(events[0].subject, "order:250");
    assert_eq!(events[0].scope, "store/order/created");
    assert_eq!(events[0].source, "bigcommerce:abc123");
    assert_eq!(events[1].subject, "order:251");
    // The stored payload is the body only: the secret never reaches the inbox.
    assert!(!events[0].payload.to_string().contains(SECRET));
}

#[tokio::test]
async fn unauthenticated_deliveries_are_refused_and_never_stored() {
    let (sink, url) = setup().await;
    let http = reqwest::Client::new();
    let missing = http.post(&url).body(payload(1, "aa")).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let wrong = http
        .post(&url)
        .header(HEADER, "s3cr3t-value-0123456788")
        .body(payload(1, "aa"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let prefix = http
        .post(&url)
        .header(HEADER, &SECRET[..10])
        .body(payload(1, "aa"))
        .send()
        .await
        .unwrap();
    assert_eq!(prefix.status(), 401);
    // Unauthenticated garbage is refused for auth before anything looks at the body.
    let garbage = http.post(&url).body("{{{").send().await.unwrap();
    assert_eq!(garbage.status(), 401);
    assert_eq!(sink.len(), 0);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_and_not_stored() {
    let (sink, url) = setup().await;
    let http = reqwest::Client::new();
    let bad_json = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(r#"{"scope":"store/order/created","#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let not_a_callback = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(r#"{"hello":"world"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_callback.status(), 400);
    let empty_hash = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(payload(5, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(empty_hash.status(), 400);
    let huge = format!(
        r#"{{"scope":"store/order/created","store_id":"1","hash":"x","data":{{"pad":"{}"}}}}"#,
        "a".repeat(200 * 1024)
    );
    let too_big = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_eq!(sink.len(), 0);
}

#[tokio::test]
async fn store_failure_answers_5xx_so_bigcommerce_retries() {
    let (sink, url) = setup().await;
    let http = reqwest::Client::new();
    sink.fail.store(true, Ordering::SeqCst);
    let r = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(payload(9, "hash-9"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_server_error(), "got {}", r.status());
    assert_eq!(sink.len(), 0);
    // The retry after recovery is stored.
    sink.fail.store(false, Ordering::SeqCst);
    let r = http
        .post(&url)
        .header(HEADER, SECRET)
        .body(payload(9, "hash-9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sink.len(), 1);
}
