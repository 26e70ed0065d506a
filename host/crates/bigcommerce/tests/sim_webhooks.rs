//! Webhooks end to end with the simulator: our hooks registered and repaired through the API,
//! real deliveries into our receiver, duplicates stored once, a misconfigured secret refused,
//! and a delivery the simulator drops picked up by the poller.

mod common;

use common::{MemorySink, MemoryWatermarks, client_for, custom_order, serve, stat};
use ledgerlink_bigcommerce::models::{HookWrite, NewMetafield, OrderUpdate, status};
use ledgerlink_bigcommerce::webhooks::{HookSpec, ReceiverConfig, webhook_router};
use ledgerlink_bigcommerce::{Client, OrderPoller, PollerConfig};
use ledgerlink_core::{BcOrderId, InboundEvent};
use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::{Config, Faults, Running};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const HEADER: &str = "x-ledgerlink-secret";
const SECRET: &str = "hook-secret-4f1d2c";
const SOURCE: &str = "bigcommerce:ledgerlink01";

struct Setup {
    sim: Running,
    client: Client,
    sink: Arc<MemorySink>,
    spec: HookSpec,
}

async fn setup(time_scale: f64, scopes: &[&str]) -> Setup {
    let sim = ledgerlink_sim::bigcommerce::start(Config {
        seed: Seed::Empty,
        window: Duration::from_secs(1),
        webhook_time_scale: time_scale,
        ..Config::default()
    })
    .await
    .unwrap();
    let client = client_for(&sim);
    let sink = Arc::new(MemorySink::default());
    let cfg = ReceiverConfig::new(HEADER, SECRET, SOURCE);
    let addr = serve(webhook_router(cfg.clone(), sink.clone())).await;
    let mut spec = HookSpec::new(format!("http://{addr}{}", cfg.path), HEADER, SECRET);
    spec.scopes = scopes.iter().map(|s| s.to_string()).collect();
    Setup {
        sim,
        client,
        sink,
        spec,
    }
}

/// Waits (up to 10 s) until `pred` holds for the stored events.
async fn wait_for(sink: &MemorySink, what: &str, pred: impl Fn(&[InboundEvent]) -> bool) {
    let start = Instant::now();
    while !pred(&sink.events()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}; stored: {:#?}",
            sink.events()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn created_events(events: &[InboundEvent], id: BcOrderId) -> usize {
    events
        .iter()
        .filter(|e| e.scope == "store/order/created" && e.subject == format!("order:{id}"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_deliveries_are_stored_once() {
    let s = setup(0.001, &["store/order/*"]).await;
    let report = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(report.created, vec!["store/order/*".to_string()]);
    s.sim.set_faults(Faults {
        duplicate_webhooks_ratio: 1.0,
        ..Default::default()
    });
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(s.client.create_order(&custom_order(i)).await.unwrap().id);
    }
    // Every event is sent twice; wait until both copies of each created event arrived.
    wait_for(&s.sink, "created events", |ev| {
        ids.iter().all(|id| created_events(ev, *id) == 1)
    })
    .await;
    let start = Instant::now();
    while s.sink.duplicates() < 3 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stat(&s.sim, "webhooks_duplicated") >= 3);
    assert!(
        s.sink.duplicates() >= 3,
        "duplicates dropped: {}",
        s.sink.duplicates()
    );
    for id in &ids {
        assert_eq!(
            created_events(&s.sink.events(), *id),
            1,
            "order {id} stored once"
        );
    }
    let ev = &s.sink.events()[0];
    assert_eq!(ev.source, SOURCE);
    assert!(
        ev.dedupe_key
            .starts_with(ev.payload["hash"].as_str().unwrap()),
        "{}",
        ev.dedupe_key
    );
    assert_eq!(ev.payload["store_id"], "1001234");
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_with_the_wrong_secret_is_refused_and_nothing_stored() {
    let s = setup(0.001, &["store/order/created"]).await;
    s.client
        .create_hook(&HookWrite {
            scope: Some("store/order/created".into()),
            destination: Some(s.spec.destination.clone()),
            is_active: Some(true),
            headers: Some([(HEADER.to_string(), "not-the-secret".to_string())].into()),
        })
        .await
        .unwrap();
    s.client.create_order(&custom_order(1)).await.unwrap();
    let start = Instant::now();
    while stat(&s.sim, "webhooks_failed") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}",
            s.sim.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.sink.len(), 0);
    // Repair points the hook at our secret; the next event is accepted.
    let report = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(report.updated, vec!["store/order/created".to_string()]);
    let id = s.client.create_order(&custom_order(2)).await.unwrap().id;
    wait_for(&s.sink, "order after repair", |ev| {
        created_events(ev, id) == 1
    })
    .await;
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_webhook_is_picked_up_by_the_poller() {
    let s = setup(0.001, &["store/order/*"]).await;
    s.client.ensure_hooks(&s.spec).await.unwrap();
    let marks = Arc::new(MemoryWatermarks::default());
    let poller = OrderPoller::new(
        s.client.clone(),
        s.sink.clone(),
        marks.clone(),
        PollerConfig::new(SOURCE, "bigcommerce:ledgerlink01:orders"),
    );
    // A delivered one first: the poller's pass finds it too, as the same subject.
    let delivered = s.client.create_order(&custom_order(1)).await.unwrap().id;
    wait_for(&s.sink, "delivered order", |ev| {
        created_events(ev, delivered) == 1
    })
    .await;

    s.sim.set_faults(Faults {
        drop_webhooks_ratio: 1.0,
        ..Default::default()
    });
    let missed = s.client.create_order(&custom_order(2)).await.unwrap().id;
    let start = Instant::now();
    while stat(&s.sim, "webhooks_dropped") == 0 {
        assert!(start.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let subject = format!("order:{missed}");
    assert!(!s.sink.events().iter().any(|e| e.subject == subject));

    let report = poller.poll_once().await.unwrap();
    assert_eq!(report.seen, 2);
    assert_eq!(report.stored, 2);
    let polled: Vec<_> = s
        .sink
        .events()
        .into_iter()
        .filter(|e| e.subject == subject)
        .collect();
    assert_eq!(polled.len(), 1, "the missed order is now in the inbox");
    assert_eq!(polled[0].payload["data"]["id"], missed.0);
    let mark = marks.marks.lock().unwrap().values().next().cloned();
    assert!(mark.is_some(), "watermark stored after the pass");

    // A second pass re-reads the overlap and stores nothing new.
    let again = poller.poll_once().await.unwrap();
    assert_eq!(again.stored, 0);
    assert_eq!(again.duplicates, 2);

    // A later change to the missed order is a new version.
    s.client
        .update_order(
            missed,
            &OrderUpdate {
                status_id: Some(status::SHIPPED),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let third = poller.poll_once().await.unwrap();
    assert_eq!(third.stored, 1, "{third:?}");
    assert_eq!(
        s.sink
            .events()
            .iter()
            .filter(|e| e.subject == subject)
            .count(),
        2
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn poller_keeps_its_watermark_when_storing_fails() {
    let s = setup(0.001, &[]).await;
    let marks = Arc::new(MemoryWatermarks::default());
    let poller = OrderPoller::new(
        s.client.clone(),
        s.sink.clone(),
        marks.clone(),
        PollerConfig::new(SOURCE, "orders"),
    );
    s.client.create_order(&custom_order(1)).await.unwrap();
    s.sink.fail.store(true, Ordering::SeqCst);
    assert!(poller.poll_once().await.is_err());
    assert!(
        marks.marks.lock().unwrap().is_empty(),
        "no watermark after a failed pass"
    );
    s.sink.fail.store(false, Ordering::SeqCst);
    let r = poller.poll_once().await.unwrap();
    assert_eq!(r.stored, 1);
    assert!(marks.marks.lock().unwrap().contains_key("orders"));
    s.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_are_repaired_after_deactivation_deletion_and_redirection() {
    // Scale 1e-5: BigCommerce's 48 h retry ladder takes about 1.7 s.
    let s = setup(0.00001, &["store/order/*", "store/product/*"]).await;
    let first = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(first.created.len(), 2);
    let again = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert!(!again.changed(), "{again:?}");

    // Our store fails every delivery, so BigCommerce runs its ladder and deactivates the hook.
    s.sink.fail.store(true, Ordering::SeqCst);
    s.client.create_order(&custom_order(1)).await.unwrap();
    let start = Instant::now();
    while stat(&s.sim, "hooks_deactivated") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            s.sim.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.sink.fail.store(false, Ordering::SeqCst);
    let hooks = s.client.hooks().await.unwrap();
    let order_hook = hooks
        .iter()
        .find(|h| h.scope == "store/order/*")
        .unwrap()
        .clone();
    assert!(!order_hook.is_active);
    let product_hook = hooks
        .iter()
        .find(|h| h.scope == "store/product/*")
        .unwrap()
        .clone();
    s.client.delete_hook(product_hook.id).await.unwrap();

    let report = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(report.reactivated, vec!["store/order/*".to_string()]);
    assert_eq!(report.created, vec!["store/product/*".to_string()]);
    let id = s.client.create_order(&custom_order(2)).await.unwrap().id;
    wait_for(&s.sink, "delivery after reactivation", |ev| {
        created_events(ev, id) == 1
    })
    .await;

    // Someone points our hook elsewhere: repair puts it back.
    s.client
        .update_hook(
            order_hook.id,
            &HookWrite {
                destination: Some("http://127.0.0.1:9/elsewhere".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let report = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(report.updated, vec!["store/order/*".to_string()]);
    let hooks = s.client.hooks().await.unwrap();
    assert_eq!(hooks.len(), 2);
    for h in &hooks {
        assert!(h.is_active);
        assert_eq!(h.destination, s.spec.destination);
        assert_eq!(h.headers.as_ref().unwrap()[HEADER], SECRET);
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn the_default_scopes_register_once() {
    let s = setup(0.001, &[]).await;
    let spec = HookSpec::new(s.spec.destination.clone(), HEADER, SECRET);
    let report = s.client.ensure_hooks(&spec).await.unwrap();
    assert_eq!(report.created.len(), spec.scopes.len());
    assert_eq!(s.client.hooks().await.unwrap().len(), spec.scopes.len());
    let again = s.client.ensure_hooks(&spec).await.unwrap();
    assert_eq!(again.unchanged.len(), spec.scopes.len());
    assert!(!again.changed());
    s.sim.shutdown().await;
}

/// An install from before exact scopes holds our `store/order/*` wildcard. Repair adds the
/// exact hooks and keeps the wildcard while they are new (meanwhile both deliver and every
/// event is stored once); once they have settled, repair deletes the wildcard, and the events
/// we would only skip, such as our own metafield's, are no longer sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_scopes_replace_an_earlier_wildcard_without_a_gap() {
    let s = setup(0.001, &["store/order/created", "store/order/updated"]).await;
    let mut earlier = s.spec.clone();
    earlier.scopes = vec!["store/order/*".into()];
    s.client.ensure_hooks(&earlier).await.unwrap();

    // First repair: the exact hooks are created, the wildcard stays.
    let first = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(first.created.len(), 2, "{first:?}");
    assert_eq!(first.retire_waiting, vec!["store/order/*".to_string()]);
    assert!(first.retired.is_empty());
    assert_eq!(s.client.hooks().await.unwrap().len(), 3);
    let id = s.client.create_order(&custom_order(1)).await.unwrap().id;
    wait_for(&s.sink, "the created event", |ev| {
        created_events(ev, id) == 1
    })
    .await;
    let start = Instant::now();
    while s.sink.duplicates() == 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "no second copy");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(created_events(&s.sink.events(), id), 1, "stored once");

    // Not settled yet (the hooks are seconds old): still kept.
    let early = s.client.ensure_hooks(&s.spec).await.unwrap();
    assert_eq!(early.retire_waiting, vec!["store/order/*".to_string()]);

    // Settled: the wildcard goes, the exact hooks stay.
    let mut settled = s.spec.clone();
    settled.settle = Duration::ZERO;
    let second = s.client.ensure_hooks(&settled).await.unwrap();
    assert_eq!(second.retired, vec!["store/order/*".to_string()]);
    assert!(second.retire_waiting.is_empty());
    assert!(second.changed());
    let mut scopes: Vec<String> = s
        .client
        .hooks()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.scope)
        .collect();
    scopes.sort();
    assert_eq!(scopes, ["store/order/created", "store/order/updated"]);
    let third = s.client.ensure_hooks(&settled).await.unwrap();
    assert!(!third.changed(), "{third:?}");

    // Our metafield's event is not delivered; the order update after it is.
    let before = s.sink.events().len();
    s.client
        .upsert_order_metafield(
            id,
            &NewMetafield {
                permission_set: "app_only".into(),
                namespace: "ledgerlink".into(),
                key: "visma_invoice_number".into(),
                value: "100001".into(),
                description: None,
            },
        )
        .await
        .unwrap();
    s.client
        .update_order(
            id,
            &OrderUpdate {
                staff_notes: Some("Visma invoice 100001".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    wait_for(&s.sink, "the update", |ev| {
        ev.iter()
            .any(|e| e.scope == "store/order/updated" && e.subject == format!("order:{id}"))
    })
    .await;
    let scopes: Vec<String> = s.sink.events()[before..]
        .iter()
        .map(|e| e.scope.clone())
        .collect();
    assert_eq!(scopes, ["store/order/updated"]);
    s.sim.shutdown().await;
}
