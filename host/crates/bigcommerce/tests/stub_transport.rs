//! Transport behaviour the simulator cannot stage: timeouts, 429s without quota headers
//! (platform load) and `X-Retry-After`. A scripted axum stub on 127.0.0.1 answers in order.

mod common;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use common::serve;
use ledgerlink_bigcommerce::{Client, ClientConfig, Error};
use ledgerlink_core::{Backoff, BcOrderId, ErrorClass};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
enum Step {
    Status(u16, Vec<(&'static str, String)>),
    Sleep(Duration),
    Order,
}

async fn stub(script: Vec<Step>) -> (Client, Arc<Mutex<u32>>) {
    let steps = Arc::new(Mutex::new(VecDeque::from(script)));
    let hits = Arc::new(Mutex::new(0u32));
    let h = hits.clone();
    let app = Router::new().fallback(any(move || {
        let steps = steps.clone();
        let hits = h.clone();
        async move {
            *hits.lock().unwrap() += 1;
            let step = steps.lock().unwrap().pop_front().unwrap_or(Step::Order);
            respond(step).await
        }
    }));
    let addr = serve(app).await;
    let mut cfg = ClientConfig::new(format!("http://{addr}/stores/x"), "token");
    cfg.timeout = Duration::from_millis(300);
    cfg.max_retries = 3;
    cfg.backoff = Backoff {
        base: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    (Client::new(cfg).unwrap(), hits)
}

async fn respond(step: Step) -> Response {
    match step {
        Step::Status(code, headers) => {
            let mut h = HeaderMap::new();
            for (k, v) in headers {
                h.insert(k, v.parse().unwrap());
            }
            (
                StatusCode::from_u16(code).unwrap(),
                h,
                r#"{"status":0,"title":"scripted"}"#,
            )
                .into_response()
        }
        Step::Sleep(d) => {
            tokio::time::sleep(d).await;
            StatusCode::OK.into_response()
        }
        Step::Order => (
            [("content-type", "application/json")],
            r#"{"id":7,"customer_id":0,"date_created":"Tue, 05 Mar 2019 21:40:11 +0000",
               "date_modified":"Tue, 05 Mar 2019 21:40:11 +0000","status_id":11,
               "subtotal_ex_tax":"10.0000","subtotal_inc_tax":"12.5000",
               "total_ex_tax":"10.0000","total_inc_tax":"12.5000"}"#,
        )
            .into_response(),
    }
}

#[tokio::test]
async fn timeouts_are_retried_for_reads() {
    let (c, hits) = stub(vec![Step::Sleep(Duration::from_secs(2)), Step::Order]).await;
    let o = c.get_order(BcOrderId(7)).await.unwrap();
    assert_eq!(o.id, BcOrderId(7));
    assert_eq!(*hits.lock().unwrap(), 2);
    assert_eq!(c.stats().retries, 1);
}

#[tokio::test]
async fn a_timed_out_create_is_reported_unknown_and_not_repeated() {
    let (c, hits) = stub(vec![Step::Sleep(Duration::from_secs(2))]).await;
    let err = c
        .create_order(&ledgerlink_bigcommerce::models::NewOrder::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Unknown);
    assert_eq!(*hits.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_429_without_quota_headers_backs_off_and_honours_retry_after() {
    // Platform load: 429 with only X-Retry-After (1 s).
    let (c, hits) = stub(vec![
        Step::Status(429, vec![("x-retry-after", "1".into())]),
        Step::Order,
    ])
    .await;
    let t = Instant::now();
    c.get_order(BcOrderId(7)).await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(*hits.lock().unwrap(), 2);
    assert_eq!(c.stats().rate_limited, 1);
}

#[tokio::test]
async fn a_quota_429_waits_for_the_reset_the_server_gave() {
    let (c, _) = stub(vec![
        Step::Status(
            429,
            vec![
                ("x-rate-limit-requests-left", "0".into()),
                ("x-rate-limit-requests-quota", "150".into()),
                ("x-rate-limit-time-reset-ms", "400".into()),
                ("x-rate-limit-time-window-ms", "30000".into()),
            ],
        ),
        Step::Order,
    ])
    .await;
    let t = Instant::now();
    c.get_order(BcOrderId(7)).await.unwrap();
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(390), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

#[tokio::test]
async fn server_errors_exhaust_retries_then_surface_transient() {
    let (c, hits) = stub(vec![Step::Status(503, vec![]); 10]).await;
    let err = c.get_order(BcOrderId(7)).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(matches!(err.class(), ErrorClass::Transient { .. }));
    assert_eq!(*hits.lock().unwrap(), 4, "1 attempt + 3 retries");
}

#[tokio::test]
async fn unreachable_store_is_a_transient_transport_error() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = ClientConfig::new(format!("http://127.0.0.1:{port}/stores/x"), "t");
    cfg.max_retries = 1;
    cfg.backoff = Backoff {
        base: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    let c = Client::new(cfg).unwrap();
    let err = c
        .create_order(&ledgerlink_bigcommerce::models::NewOrder::default())
        .await
        .unwrap_err();
    // Never sent, so even a create may be repeated.
    assert!(matches!(err, Error::Transport { sent: false, .. }), "{err}");
    assert!(matches!(err.class(), ErrorClass::Transient { .. }));
    assert_eq!(c.stats().requests, 2);
}

#[tokio::test]
async fn absolute_adjustments_are_sent_in_chunks_of_2000() {
    use ledgerlink_bigcommerce::models::{AdjustmentItem, ItemRef};
    use ledgerlink_core::{BcVariantId, LocationId};
    let sizes = Arc::new(Mutex::new(Vec::<(usize, bool)>::new()));
    let s = sizes.clone();
    let app = Router::new().route(
        "/stores/x/v3/inventory/adjustments/absolute",
        axum::routing::put(move |body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let items = v["items"].as_array().unwrap();
                // Each chunk must be grouped by location (one location change at most here).
                let locs: Vec<u64> = items
                    .iter()
                    .map(|i| i["location_id"].as_u64().unwrap())
                    .collect();
                let sorted = locs.windows(2).all(|w| w[0] <= w[1]);
                let mut s = s.lock().unwrap();
                s.push((items.len(), sorted));
                let n = s.len();
                (
                    [("content-type", "application/json")],
                    format!(r#"{{"transaction_id":"tx-{n}"}}"#),
                )
            }
        }),
    );
    let addr = serve(app).await;
    let c = Client::new(ClientConfig::new(format!("http://{addr}/stores/x"), "t")).unwrap();
    let items: Vec<AdjustmentItem> = (0..4500u64)
        .map(|i| AdjustmentItem {
            location_id: LocationId(1 + i % 2),
            item: ItemRef::VariantId(BcVariantId(i)),
            quantity: (i % 50) as i64,
        })
        .collect();
    let txs = c
        .set_absolute_inventory(Some("sync"), &items)
        .await
        .unwrap();
    assert_eq!(txs, vec!["tx-1", "tx-2", "tx-3"]);
    let sizes = sizes.lock().unwrap().clone();
    assert_eq!(
        sizes.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![2000, 2000, 500]
    );
    assert!(sizes.iter().all(|s| s.1), "items grouped by location");
}
