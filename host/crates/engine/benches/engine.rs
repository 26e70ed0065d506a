//! Engine overhead benchmark: jobs/second through the engine with a no-op handler on SQLite
//! (a file in a temp dir), and enqueue→done latency (p50/p99) at a steady arrival rate.
//!
//! Run: `cargo bench -p ledgerlink-engine --bench engine` (add `-- --quick` for a short run).

use chrono::Utc;
use hdrhistogram::Histogram;
use ledgerlink_core::{BoxFuture, InboundEvent};
use ledgerlink_engine::{
    Engine, EngineConfig, Job, JobContext, JobError, JobFilter, JobOutcome, JobState, Store,
    handler_fn,
};
use serde_json::json;
use std::time::{Duration, Instant};

fn event(i: u64) -> InboundEvent {
    InboundEvent {
        source: "bigcommerce:bench".into(),
        dedupe_key: format!("hook-{i}"),
        scope: "store/order/created".into(),
        subject: format!("order:{i}"),
        payload: json!({"scope": "store/order/created", "data": {"type": "order", "id": i}}),
        received_at: Utc::now(),
    }
}

fn noop<'a>(_job: &'a Job, _ctx: &'a JobContext) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
    Box::pin(async { Ok(JobOutcome::Done) })
}

fn engine(store: &Store, workers: usize) -> Engine {
    let config = EngineConfig {
        workers,
        lease_batch: 128,
        poll_interval: Duration::from_millis(50),
        ..EngineConfig::default()
    };
    Engine::new(store.clone(), config).with_handler("store/order/created", handler_fn(noop))
}

async fn wait_done(store: &Store, n: u64) {
    loop {
        let c = store.state_counts().await.expect("counts");
        if c.done >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// enqueue→done latency of every job, from the stored timestamps.
async fn latencies(store: &Store) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    let done = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Done),
            ..Default::default()
        })
        .await
        .expect("list");
    for job in done {
        let us = (job.finished_at.expect("finished") - job.created_at)
            .num_microseconds()
            .unwrap_or(0);
        h.record(us.max(0) as u64).expect("record");
    }
    h
}

struct Row {
    scenario: String,
    jobs: u64,
    secs: f64,
    hist: Histogram<u64>,
}

/// A backlog of `n` events stored first, then drained.
async fn backlog(n: u64, workers: usize) -> Row {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("bench.db"))
        .await
        .expect("open");
    let events: Vec<_> = (0..n).map(event).collect();
    for chunk in events.chunks(500) {
        store.store_events(chunk).await.expect("store");
    }
    let t0 = Instant::now();
    let handle = engine(&store, workers).start();
    wait_done(&store, n).await;
    let secs = t0.elapsed().as_secs_f64();
    handle.shutdown().await.expect("shutdown");
    Row {
        scenario: format!("backlog drain, {workers} workers"),
        jobs: n,
        secs,
        hist: latencies(&store).await,
    }
}

/// Events arriving one by one (as webhooks do, each stored in its own transaction) at
/// `rate` per second from `producers` concurrent senders, while the engine runs.
async fn steady(n: u64, rate: u64, producers: u64, workers: usize) -> Row {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("bench.db"))
        .await
        .expect("open");
    let handle = engine(&store, workers).start();
    let t0 = Instant::now();
    let per = n / producers;
    let mut senders = Vec::new();
    for p in 0..producers {
        let store = store.clone();
        senders.push(tokio::spawn(async move {
            let interval = Duration::from_secs_f64(producers as f64 / rate as f64);
            let start = Instant::now();
            for k in 0..per {
                let due = start + interval.mul_f64(k as f64);
                tokio::time::sleep_until(due.into()).await;
                store.store_event(&event(p * per + k)).await.expect("store");
            }
        }));
    }
    for s in senders {
        s.await.expect("sender");
    }
    wait_done(&store, per * producers).await;
    let secs = t0.elapsed().as_secs_f64();
    handle.shutdown().await.expect("shutdown");
    Row {
        scenario: format!("steady {rate}/s, {producers} senders, {workers} workers"),
        jobs: per * producers,
        secs,
        hist: latencies(&store).await,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 1 } else { 4 };
    let mut rows = Vec::new();
    rows.push(backlog(5_000 * scale, 8).await);
    rows.push(backlog(5_000 * scale, 32).await);
    rows.push(steady(2_000 * scale, 1_000, 16, 16).await);
    rows.push(steady(2_000 * scale, 2_000, 32, 32).await);

    println!();
    println!(
        "{:<42} {:>7} {:>8} {:>9} {:>9} {:>9}",
        "scenario (no-op handler, SQLite WAL)", "jobs", "secs", "jobs/s", "p50 ms", "p99 ms"
    );
    for r in rows {
        println!(
            "{:<42} {:>7} {:>8.2} {:>9.0} {:>9.2} {:>9.2}",
            r.scenario,
            r.jobs,
            r.secs,
            r.jobs as f64 / r.secs,
            r.hist.value_at_quantile(0.5) as f64 / 1000.0,
            r.hist.value_at_quantile(0.99) as f64 / 1000.0,
        );
    }
}
