//! Retries for transient failures only, tokens refreshed ahead of expiry, and the request
//! budget keeping us under the quota.

use crate::harness::*;
use futures::StreamExt;
use ledgerlink_core::ErrorClass;
use ledgerlink_sim::visma;
use ledgerlink_visma::VismaError;
use ledgerlink_visma::dto::InvoiceFilter;
use rust_decimal::Decimal;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn validation_errors_come_back_once_with_vismas_message() {
    let h = Harness::start().await;
    let client = h.client();
    let mut bad = se_invoice(1, Decimal::from(10));
    bad.customer_number = Some("NO-SUCH-CUSTOMER".into());
    let before = h.requests().await;
    let err = client
        .create_invoice_once(&se(), &r("bad-1"), &bad)
        .await
        .expect_err("unknown customer");
    let after = h.requests().await;
    match &err {
        VismaError::Validation {
            status, message, ..
        } => {
            assert_eq!(*status, 400);
            assert!(message.contains("NO-SUCH-CUSTOMER"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(after - before, 1, "a validation error is not retried");
    assert_eq!(client.stats().retries, 0);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_transient() {
    let h = Harness::start().await;
    let client = h.client();
    client
        .list_invoices(&se(), &InvoiceFilter::default())
        .await
        .unwrap();
    h.set_faults(json!({"error_ratio": 1.0, "methods": ["GET"]}))
        .await;
    let before = h.requests().await;
    let err = client
        .list_invoices(&se(), &InvoiceFilter::default())
        .await
        .expect_err("all attempts fail");
    let after = h.requests().await;
    assert!(
        matches!(err, VismaError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(matches!(err.class(), ErrorClass::Transient { .. }));
    assert_eq!(after - before, 6, "max_attempts requests");

    // A third of the requests fail: every call still succeeds thanks to retries.
    h.set_faults(json!({"error_ratio": 0.3, "methods": ["GET"], "seed": 3}))
        .await;
    for _ in 0..10 {
        client
            .list_invoices(&se(), &InvoiceFilter::default())
            .await
            .unwrap();
    }
    assert!(client.stats().retries > 5);
}

#[tokio::test]
async fn too_many_requests_are_retried_after_the_servers_hint() {
    let h = Harness::start().await;
    let client = h.client();
    let all = InvoiceFilter::default();
    client.list_invoices(&se(), &all).await.unwrap();
    h.set_faults(json!({"burst_429": 2})).await;
    let before = h.requests().await;
    let started = tokio::time::Instant::now();
    client.list_invoices(&se(), &all).await.unwrap();
    assert_eq!(h.requests().await - before, 3, "two 429s, then success");
    assert_eq!(client.stats().throttled, 2);
    // Retry-After: 1 is honoured.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let h = Harness::with(visma::Config {
        token_ttl: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let client = h.client();
    let se = se();
    let all = InvoiceFilter::default();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(4500);
    let mut calls = 0;
    while tokio::time::Instant::now() < deadline {
        // Several workers at once: a refresh is shared, not repeated per worker.
        let results: Vec<_> = futures::stream::iter(0..4)
            .map(|_| client.list_invoices(&se, &all))
            .buffer_unordered(4)
            .collect()
            .await;
        for res in results {
            res.unwrap();
            calls += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stats = h.stats().await;
    assert_eq!(
        stats["responses_by_status"].get("401"),
        None,
        "no request went out with an expired token: {}",
        json_pretty(&stats)
    );
    let fetched = client.token_fetches(&se).unwrap();
    // 4.5 s with a 2 s token refreshed at 1.6 s: three tokens, never one per call.
    assert!(
        (3..=4).contains(&fetched),
        "fetched {fetched} tokens for {calls} calls"
    );
    assert_eq!(stats["token_requests"].as_u64().unwrap(), fetched);
}

#[tokio::test]
async fn the_budget_keeps_a_busy_client_under_the_quota() {
    let h = Harness::with(visma::Config {
        quota: Some(25),
        window: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let client = h.client_with(ledgerlink_visma::ClientSettings {
        rate_window: Duration::from_secs(1),
        ..fast_settings()
    });
    let se = se();
    let all = InvoiceFilter::default();
    let results: Vec<_> = futures::stream::iter(0..60)
        .map(|_| client.list_invoices(&se, &all))
        .buffer_unordered(8)
        .collect()
        .await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let stats = h.stats().await;
    assert_eq!(stats["rate_limited"], 0, "{}", json_pretty(&stats));
    assert_eq!(client.stats().throttled, 0);
}

#[tokio::test]
async fn a_spent_quota_hands_the_call_back_instead_of_blocking_a_worker() {
    let h = Harness::with(visma::Config {
        quota: Some(5),
        window: Duration::from_secs(30),
        ..Default::default()
    })
    .await;
    let client = h.client_with(ledgerlink_visma::ClientSettings {
        rate_window: Duration::from_secs(30),
        max_inline_wait: Duration::from_millis(300),
        ..fast_settings()
    });
    let all = InvoiceFilter::default();
    for _ in 0..5 {
        client.list_invoices(&se(), &all).await.unwrap();
    }
    let started = tokio::time::Instant::now();
    let err = client
        .list_invoices(&se(), &all)
        .await
        .expect_err("the window is spent for 30 s");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, VismaError::RateLimited { .. }), "{err:?}");
    assert!(matches!(
        err.class(),
        ErrorClass::Transient {
            retry_after: Some(_)
        }
    ));
    let stats = h.stats().await;
    assert_eq!(stats["rate_limited"], 0, "nothing was sent past the quota");
    assert_eq!(stats["requests"], 5);
}
