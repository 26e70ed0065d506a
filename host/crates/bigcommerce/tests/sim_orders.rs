//! The client against the BigCommerce simulator: pagination under the quota, retries of
//! transient failures, and typed, unretried validation errors.

mod common;

use common::{client_for, custom_order, start_sim, stat};
use futures::{StreamExt, TryStreamExt, stream};
use ledgerlink_bigcommerce::Error;
use ledgerlink_bigcommerce::models::{Order, OrderFilter, OrderUpdate, status};
use ledgerlink_core::{BcOrderId, ErrorClass};
use ledgerlink_sim::bigcommerce::Faults;
use std::collections::BTreeSet;
use std::time::Duration;

/// Creates `n` orders through the API, 16 at a time, and returns their ids.
async fn create_orders(client: &ledgerlink_bigcommerce::Client, n: u64) -> Vec<BcOrderId> {
    stream::iter(0..n)
        .map(|i| {
            let client = client.clone();
            async move { client.create_order(&custom_order(i)).await.map(|o| o.id) }
        })
        .buffer_unordered(16)
        .try_collect()
        .await
        .expect("orders created")
}

/// Default quota (150 requests per window) with the window shortened from 30 s to 500 ms so
/// the test runs in seconds; the budget logic is the same at any window length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drains_1000_orders_without_a_single_429() {
    let sim = start_sim(Duration::from_millis(500)).await;
    let client = client_for(&sim);
    // 1,000 creates, 16 in flight: several windows' worth of quota.
    let mut created = create_orders(&client, 1000).await;
    created.sort();
    // Small pages so pagination itself spans several windows (100 pages of 10), and a
    // concurrent detail fetch per order on top.
    let filter = OrderFilter::default();
    let pages: Vec<_> = client.orders(&filter, 10).try_collect().await.unwrap();
    assert_eq!(pages.len(), 100);
    let listed: Vec<BcOrderId> = pages.iter().flatten().map(|o| o.id).collect();
    let unique: BTreeSet<_> = listed.iter().copied().collect();
    assert_eq!(listed.len(), 1000, "every order once");
    assert_eq!(unique.into_iter().collect::<Vec<_>>(), created);
    let details: Vec<_> = stream::iter(listed.iter().take(200).copied())
        .map(|id| {
            let c = client.clone();
            async move { c.get_order(id).await }
        })
        .buffer_unordered(8)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(details.len(), 200);
    let count = client.orders_count(&OrderFilter::default()).await.unwrap();
    assert_eq!(count, 1000);

    let stats = client.stats();
    assert!(stats.requests >= 1300, "{stats:?}");
    assert_eq!(stats.rate_limited, 0, "client saw a 429: {stats:?}");
    assert_eq!(stat(&sim, "rate_limited"), 0, "{}", sim.stats());
    sim.shutdown().await;
}

#[tokio::test]
async fn v2_empty_pages_are_204_and_end_pagination() {
    let sim = start_sim(Duration::from_secs(30)).await;
    let client = client_for(&sim);
    let none = client.list_orders(&OrderFilter::default()).await.unwrap();
    assert!(none.is_empty());
    let ids = create_orders(&client, 5).await;
    // Exactly one full page: the client asks for the next page and gets a 204.
    let pages: Vec<_> = client
        .orders(&OrderFilter::default(), 5)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].len(), ids.len());
    // Filters reach the API.
    let f = OrderFilter {
        min_id: Some(ids.iter().max().unwrap().0),
        ..Default::default()
    };
    assert_eq!(client.list_orders(&f).await.unwrap().len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_from_injected_5xx_and_connection_resets() {
    // Retries spend quota too; a 1 s window keeps the test from waiting out a 30 s one.
    let sim = start_sim(Duration::from_secs(1)).await;
    // A third of attempts fail; 10 retries make giving up on any of ~125 requests ~1e-4 likely.
    let mut cfg = common::config_for(&sim);
    cfg.max_retries = 10;
    let client = ledgerlink_bigcommerce::Client::new(cfg).unwrap();
    let ids = create_orders(&client, 40).await;
    sim.set_faults(Faults {
        error_ratio: 0.25,
        reset_ratio: 0.1,
        ..Default::default()
    });
    let listed: Vec<_> = client
        .orders(&OrderFilter::default(), 5)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .concat();
    assert_eq!(listed.len(), 40);
    for id in &ids {
        let o = client.get_order(*id).await.unwrap();
        assert_eq!(o.id, *id);
        let lines = client.order_products(*id).await.unwrap();
        assert_eq!(lines.len(), 1);
    }
    let injected = stat(&sim, "injected_errors") + stat(&sim, "injected_resets");
    assert!(stat(&sim, "injected_errors") > 0 && stat(&sim, "injected_resets") > 0);
    assert!(
        client.stats().retries >= injected,
        "{:?} vs {injected}",
        client.stats()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn writes_are_not_retried_when_they_may_have_happened() {
    let sim = start_sim(Duration::from_secs(30)).await;
    let client = client_for(&sim);
    sim.set_faults(Faults {
        error_ratio: 1.0,
        ..Default::default()
    });
    let before = stat(&sim, "requests");
    let err = client.create_order(&custom_order(1)).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.class(), ErrorClass::Unknown, "{err}");
    assert_eq!(
        stat(&sim, "requests") - before,
        1,
        "a create must not be repeated"
    );
    // An idempotent read is retried until the budget of retries is spent, then transient.
    let before = stat(&sim, "requests");
    let err = client.get_order(BcOrderId(100)).await.unwrap_err();
    assert!(matches!(err.class(), ErrorClass::Transient { .. }));
    assert_eq!(stat(&sim, "requests") - before, 7, "1 attempt + 6 retries");
    sim.shutdown().await;
}

#[tokio::test]
async fn validation_errors_come_back_typed_and_unretried() {
    let sim = start_sim(Duration::from_secs(30)).await;
    let client = client_for(&sim);
    let mut bad = custom_order(1);
    bad.products.clear();
    let before = stat(&sim, "requests");
    let err = client.create_order(&bad).await.unwrap_err();
    assert_eq!(stat(&sim, "requests") - before, 1);
    assert_eq!(err.class(), ErrorClass::Permanent);
    let Error::Api(api) = &err else {
        panic!("expected an API error, got {err}")
    };
    assert_eq!(api.status, 400);
    assert!(api.title.contains("products"), "{api}");
    assert!(
        api.errors.values().any(|v| v.contains("required")) || api.errors.contains_key("products"),
        "{api:?}"
    );
    // 404 is permanent and recognisable.
    let err = client.get_order(BcOrderId(999_999)).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    sim.shutdown().await;
}

#[tokio::test]
async fn bursts_of_429_are_waited_out() {
    let sim = start_sim(Duration::from_millis(300)).await;
    let client = client_for(&sim);
    let id = create_orders(&client, 1).await[0];
    sim.set_faults(Faults {
        burst_429: 3,
        ..Default::default()
    });
    let o = client.get_order(id).await.unwrap();
    assert_eq!(o.id, id);
    assert_eq!(client.stats().rate_limited, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn order_updates_round_trip() {
    let sim = start_sim(Duration::from_secs(30)).await;
    let client = client_for(&sim);
    let id = create_orders(&client, 1).await[0];
    let before = client.get_order(id).await.unwrap();
    let updated = client
        .update_order(
            id,
            &OrderUpdate {
                status_id: Some(status::CANCELLED),
                staff_notes: Some("Visma invoice 10042".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.status_id, status::CANCELLED);
    assert_eq!(updated.staff_notes.as_deref(), Some("Visma invoice 10042"));
    assert!(updated.date_modified >= before.date_modified);
    assert_eq!(updated.external_order_id.as_deref(), Some("ext-0"));
    // The undecoded body and the state-only update read the same order.
    let body = client.get_order_body(id).await.unwrap();
    let whole = body.order().unwrap();
    assert_eq!(whole, client.get_order(id).await.unwrap());
    assert_eq!(body.state().unwrap(), whole.state());
    assert_eq!(
        serde_json::from_str::<Order>(&body.text()).unwrap(),
        whole,
        "the text is the body as sent"
    );
    let after = client
        .update_order_state(
            id,
            &OrderUpdate {
                staff_notes: Some("Visma invoice 10042\nVisma invoice 10043".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let reread = client.get_order(id).await.unwrap();
    assert_eq!(after, reread.state());
    assert_eq!(
        after.staff_notes.as_deref(),
        Some("Visma invoice 10042\nVisma invoice 10043")
    );
    let missing = client.get_order_body(BcOrderId(999_999)).await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");
    sim.shutdown().await;
}
