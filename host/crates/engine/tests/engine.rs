//! The engine against a real SQLite store, with handlers written here.

use chrono::Utc;
use ledgerlink_core::{Backoff, BoxFuture, ExternalRef, LegalEntityId};
use ledgerlink_engine::{
    Engine, EngineConfig, IdentityKey, Job, JobContext, JobError, JobFilter, JobHandler,
    JobOutcome, JobState, NewJob, ReplayMode, ReplaySelector, RetryPolicy, Store, WriteStart,
    handler_fn,
};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("ledgerlink.db")).await.unwrap();
    (dir, store)
}

fn config() -> EngineConfig {
    EngineConfig {
        workers: 4,
        poll_interval: Duration::from_millis(20),
        lease_duration: Duration::from_secs(10),
        shutdown_grace: Duration::from_secs(5),
        retry: RetryPolicy {
            backoff: Backoff {
                base: Duration::from_millis(20),
                max_delay: Duration::from_millis(200),
            },
            max_attempts: 5,
        },
        ..EngineConfig::default()
    }
}

/// Polls until `done` holds or 10 s pass.
async fn wait_for<F: Fn() -> BoxFuture<'static, bool>>(what: &str, done: F) {
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_idle(store: &Store) {
    let s = store.clone();
    wait_for("all jobs finished", move || {
        let s = s.clone();
        Box::pin(async move {
            let c = s.state_counts().await.unwrap();
            c.pending == 0 && c.running == 0
        })
    })
    .await;
}

/// Records per subject what ran, and whether two jobs of one subject ever overlapped.
#[derive(Default)]
struct OrderChecker {
    running: Mutex<HashMap<String, u32>>,
    seen: Mutex<HashMap<String, Vec<u64>>>,
    overlaps: AtomicU32,
    calls: AtomicU32,
}

impl JobHandler for OrderChecker {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        _ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            {
                let mut running = self.running.lock().unwrap();
                let n = running.entry(job.subject.clone()).or_default();
                if *n > 0 {
                    self.overlaps.fetch_add(1, Ordering::SeqCst);
                }
                *n += 1;
            }
            tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 4)).await;
            self.seen
                .lock()
                .unwrap()
                .entry(job.subject.clone())
                .or_default()
                .push(job.payload["seq"].as_u64().unwrap());
            *self.running.lock().unwrap().get_mut(&job.subject).unwrap() -= 1;
            Ok(JobOutcome::Done)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_run_each_job_once_in_subject_order() {
    let (_dir, store) = open().await;
    let subjects = 30;
    let per_subject = 5;
    // Interleaved like real traffic: every subject gets its events spread over time.
    for seq in 0..per_subject {
        for s in 0..subjects {
            store
                .enqueue(&NewJob::new("k", format!("order:{s}"), json!({"seq": seq})))
                .await
                .unwrap();
        }
    }
    let checker = Arc::new(OrderChecker::default());
    let mut a = Engine::new(
        store.clone(),
        EngineConfig {
            lease_batch: 7,
            ..config()
        },
    );
    a.register("k", checker.clone());
    let mut b = Engine::new(
        store.clone(),
        EngineConfig {
            lease_batch: 3,
            ..config()
        },
    );
    b.register("k", checker.clone());
    let (a, b) = (a.start(), b.start());
    wait_idle(&store).await;
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();

    assert_eq!(
        checker.overlaps.load(Ordering::SeqCst),
        0,
        "two jobs of one subject ran at once"
    );
    assert_eq!(
        checker.calls.load(Ordering::SeqCst),
        subjects * per_subject as u32,
        "each job exactly once"
    );
    let seen = checker.seen.lock().unwrap().clone();
    for s in 0..subjects {
        assert_eq!(
            seen[&format!("order:{s}")],
            (0..per_subject).collect::<Vec<u64>>(),
            "order:{s}"
        );
    }
    let counts = store.state_counts().await.unwrap();
    assert_eq!(counts.done, (subjects * per_subject as u32) as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_engines_job_is_leased_again_after_expiry() {
    let (_dir, store) = open().await;
    let id = store
        .enqueue(&NewJob::new("k", "order:1", json!({})))
        .await
        .unwrap();
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let hang = handler_fn(move |_job: &Job, _ctx: &JobContext| {
        flag.store(true, Ordering::SeqCst);
        Box::pin(futures::future::pending())
    });
    let lease = Duration::from_millis(300);
    let crashing = Engine::new(
        store.clone(),
        EngineConfig {
            lease_duration: lease,
            ..config()
        },
    )
    .with_handler("k", hang)
    .start();
    let s = started.clone();
    wait_for("the first attempt", move || {
        let s = s.clone();
        Box::pin(async move { s.load(Ordering::SeqCst) })
    })
    .await;
    crashing.abort();

    let ok = handler_fn(|_job: &Job, _ctx: &JobContext| Box::pin(async { Ok(JobOutcome::Done) }));
    let t0 = Instant::now();
    let second = Engine::new(
        store.clone(),
        EngineConfig {
            lease_duration: lease,
            ..config()
        },
    )
    .with_handler("k", ok)
    .start();
    wait_idle(&store).await;
    second.shutdown().await.unwrap();
    let job = store.job(id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 2));
    assert!(
        t0.elapsed() >= Duration::from_millis(150),
        "taken again only after the lease ran out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_errors_back_off_with_growing_delays_and_honour_retry_after() {
    let (_dir, store) = open().await;
    let calls: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let c = calls.clone();
    let flaky = handler_fn(move |job: &Job, ctx: &JobContext| {
        c.lock()
            .unwrap()
            .push((job.subject.clone(), Instant::now()));
        let attempt = ctx.attempt();
        let subject = job.subject.clone();
        Box::pin(async move {
            match (subject.as_str(), attempt) {
                ("order:grow", 1..=3) => Err(JobError::transient(
                    "visma_503",
                    "service unavailable",
                    None,
                )),
                ("order:hint", 1) => Err(JobError::transient(
                    "visma_429",
                    "too many requests",
                    Some(Duration::from_millis(400)),
                )),
                _ => Ok(JobOutcome::Done),
            }
        })
    });
    let cfg = EngineConfig {
        retry: RetryPolicy {
            backoff: Backoff {
                base: Duration::from_millis(80),
                max_delay: Duration::from_secs(5),
            },
            max_attempts: 10,
        },
        poll_interval: Duration::from_millis(5),
        ..config()
    };
    let grow = store
        .enqueue(&NewJob::new("k", "order:grow", json!({})))
        .await
        .unwrap();
    store
        .enqueue(&NewJob::new("k", "order:hint", json!({})))
        .await
        .unwrap();
    let engine = Engine::new(store.clone(), cfg)
        .with_handler("k", flaky)
        .start();
    wait_idle(&store).await;
    engine.shutdown().await.unwrap();

    let calls = calls.lock().unwrap().clone();
    let times = |s: &str| {
        calls
            .iter()
            .filter(|(x, _)| x == s)
            .map(|(_, t)| *t)
            .collect::<Vec<_>>()
    };
    let g = times("order:grow");
    assert_eq!(g.len(), 4);
    let gaps: Vec<Duration> = g.windows(2).map(|w| w[1] - w[0]).collect();
    // Full jitter within [cap/2, cap]: 40-80 ms, 80-160 ms, 160-320 ms.
    assert!(gaps[0] >= Duration::from_millis(40), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(80), "{gaps:?}");
    assert!(gaps[2] >= Duration::from_millis(160), "{gaps:?}");
    assert!(gaps[2] > gaps[0], "delays grow: {gaps:?}");
    let h = times("order:hint");
    assert_eq!(h.len(), 2);
    assert!(
        h[1] - h[0] >= Duration::from_millis(400),
        "retry_after honoured: {:?}",
        h[1] - h[0]
    );
    let job = store.job(grow).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Done, 4));
    let outcomes: Vec<String> = store
        .attempts_of(&[grow])
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, ["retry", "retry", "retry", "done"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_go_to_the_error_queue_at_once_while_others_go_on() {
    let (_dir, store) = open().await;
    let handler = handler_fn(|job: &Job, _ctx: &JobContext| {
        Box::pin(async move {
            match job.subject.as_str() {
                "order:1" if job.payload["step"] == "create" => Err(JobError::permanent(
                    "missing_mapping",
                    "no VAT category is mapped for tax class 'Reduced'",
                )
                .at("lines[1].tax_class")
                .with_payload(
                    "order",
                    json!({"id": 1, "lines": [{}, {"tax_class": "Reduced"}]}),
                )
                .with_payload("token", json!("leak-me-not"))),
                "order:boom" => panic!("bug in handler"),
                _ => Ok(JobOutcome::Done),
            }
        })
    });
    let bad = store
        .enqueue(&NewJob::new(
            "order.sync",
            "order:1",
            json!({"step": "create"}),
        ))
        .await
        .unwrap();
    let blocked = store
        .enqueue(&NewJob::new(
            "order.sync",
            "order:1",
            json!({"step": "refund"}),
        ))
        .await
        .unwrap();
    let boom = store
        .enqueue(&NewJob::new("order.sync", "order:boom", json!({})))
        .await
        .unwrap();
    let unknown = store
        .enqueue(&NewJob::new("no.such.kind", "product:9", json!({})))
        .await
        .unwrap();
    for i in 2..12 {
        store
            .enqueue(&NewJob::new("order.sync", format!("order:{i}"), json!({})))
            .await
            .unwrap();
    }
    let engine = Engine::new(store.clone(), config())
        .with_handler("order.sync", handler)
        .start();
    let s = store.clone();
    wait_for("the others to finish", move || {
        let s = s.clone();
        Box::pin(async move { s.state_counts().await.unwrap().done == 10 })
    })
    .await;
    engine.shutdown().await.unwrap();

    let failed = store.errors_list(&JobFilter::default()).await.unwrap();
    let by_id = |id| failed.iter().find(|j| j.id == id).unwrap();
    let e = by_id(bad).error.clone().unwrap();
    assert_eq!(by_id(bad).attempts, 1, "no retry for a permanent error");
    assert_eq!(
        (e.class.as_str(), e.code.as_str()),
        ("permanent", "missing_mapping")
    );
    assert_eq!(e.field_path.as_deref(), Some("lines[1].tax_class"));
    assert_eq!(e.payloads["order"]["lines"][1]["tax_class"], "Reduced");
    assert_eq!(e.payloads["token"], "[REDACTED]");
    assert!(!e.exhausted);
    assert_eq!(by_id(boom).error.as_ref().unwrap().code, "handler_panic");
    assert_eq!(by_id(unknown).error.as_ref().unwrap().code, "no_handler");
    assert_eq!(failed.len(), 3);
    // The refund of order 1 waits behind its failed creation.
    assert_eq!(store.job(blocked).await.unwrap().state, JobState::Pending);
    assert_eq!(store.job(blocked).await.unwrap().attempts, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_jobs_land_in_the_error_queue() {
    let (_dir, store) = open().await;
    let id = store
        .enqueue(&NewJob::new("k", "order:1", json!({})))
        .await
        .unwrap();
    let always = handler_fn(|_job: &Job, _ctx: &JobContext| {
        Box::pin(async { Err(JobError::unknown("timeout", "no response from Visma")) })
    });
    let cfg = EngineConfig {
        retry: RetryPolicy {
            backoff: Backoff {
                base: Duration::from_millis(5),
                max_delay: Duration::from_millis(20),
            },
            max_attempts: 3,
        },
        poll_interval: Duration::from_millis(5),
        ..config()
    };
    let engine = Engine::new(store.clone(), cfg)
        .with_handler("k", always)
        .start();
    wait_idle(&store).await;
    engine.shutdown().await.unwrap();
    let job = store.job(id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Failed, 3));
    let e = job.error.unwrap();
    assert!(
        e.exhausted && e.code == "timeout" && e.message.contains("exhausted after 3 attempts"),
        "{e:?}"
    );
    let outcomes: Vec<String> = store
        .attempts_of(&[id])
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(outcomes, ["retry", "retry", "exhausted"]);
}

/// A stand-in for the order flow: a mapping that fails until "fixed", a snapshot, an audit
/// trail, an idempotent Visma write and a write-back follow-up.
struct FakeOrderFlow {
    fixed: AtomicBool,
    plugin_version: Mutex<String>,
    visma_creates: AtomicU32,
    snapshots_used: AtomicU32,
}

impl JobHandler for FakeOrderFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            if job.kind == "writeback" {
                ctx.record_echo("bigcommerce:abc", &job.subject, "h")
                    .await?;
                return Ok(JobOutcome::Done);
            }
            let order = match ctx.replay_snapshot() {
                Some(snap) => {
                    self.snapshots_used.fetch_add(1, Ordering::SeqCst);
                    snap.clone()
                }
                None => {
                    let fetched = json!({"id": 123, "total": "10.00"});
                    ctx.record_exchange(
                        "bigcommerce",
                        "GET",
                        "https://api.example/stores/abc/v2/orders/123",
                        None,
                        Some(200),
                        Some(&fetched.to_string()),
                        Duration::from_millis(12),
                    );
                    fetched
                }
            };
            ctx.save_snapshot(order.clone());
            let version = self.plugin_version.lock().unwrap().clone();
            ctx.set_plugin("standard", &version, "sha256:00");
            if !self.fixed.load(Ordering::SeqCst) {
                return Err(
                    JobError::permanent("mapping_error", "currency SEK not mapped")
                        .at("currency_code"),
                );
            }
            let key = IdentityKey::new(LegalEntityId::new("se"), "invoice", 123);
            let doc = match ctx
                .begin_write(&key, &ExternalRef::new("BC-abc-123"))
                .await?
            {
                WriteStart::AlreadyDone { visma_id } => visma_id,
                WriteStart::Proceed { .. } | WriteStart::LookUpFirst { .. } => {
                    self.visma_creates.fetch_add(1, Ordering::SeqCst);
                    ctx.record_exchange(
                        "visma",
                        "POST",
                        "https://visma.example/api/v2/customerinvoice",
                        Some(r#"{"externalReference":"BC-abc-123","password":"pw"}"#),
                        Some(201),
                        Some(r#"{"number":"INV-9"}"#),
                        Duration::from_millis(30),
                    );
                    ctx.complete_write(&key, "INV-9").await?;
                    "INV-9".to_owned()
                }
            };
            ctx.enqueue(NewJob::new(
                "writeback",
                "order:123",
                json!({"invoice": doc}),
            ));
            Ok(JobOutcome::Done)
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_after_a_fix_syncs_and_the_audit_trail_shows_every_attempt() {
    let (_dir, store) = open().await;
    let flow = Arc::new(FakeOrderFlow {
        fixed: AtomicBool::new(false),
        plugin_version: Mutex::new("1.0.0".into()),
        visma_creates: AtomicU32::new(0),
        snapshots_used: AtomicU32::new(0),
    });
    let id = store
        .enqueue(&NewJob::new("order.sync", "order:123", json!({})))
        .await
        .unwrap();
    let mut engine = Engine::new(store.clone(), config());
    engine
        .register("order.sync", flow.clone())
        .register("writeback", flow.clone());
    let engine = engine.start();
    let s = store.clone();
    wait_for("the mapping error", move || {
        let s = s.clone();
        Box::pin(async move { s.state_counts().await.unwrap().failed == 1 })
    })
    .await;
    assert_eq!(
        store.job(id).await.unwrap().snapshot,
        Some(json!({"id": 123, "total": "10.00"}))
    );

    // A fixed plugin is pushed; the operator replays everything failed.
    flow.fixed.store(true, Ordering::SeqCst);
    *flow.plugin_version.lock().unwrap() = "1.0.1".into();
    let report = store
        .replay(&ReplaySelector::AllFailed, ReplayMode::Snapshot, "alice")
        .await
        .unwrap();
    assert_eq!(report.changed, vec![id]);
    wait_idle(&store).await;
    assert_eq!(flow.snapshots_used.load(Ordering::SeqCst), 1);

    // Replaying a done job again does not write a second document.
    store
        .replay(&ReplaySelector::Job(id), ReplayMode::Refetch, "alice")
        .await
        .unwrap();
    wait_idle(&store).await;
    engine.shutdown().await.unwrap();
    assert_eq!(flow.visma_creates.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.state_counts().await.unwrap().done,
        3,
        "the order job and two write-backs"
    );
    assert!(
        store
            .is_echo(
                "bigcommerce:abc",
                "order:123",
                Some("h"),
                Duration::from_secs(60)
            )
            .await
            .unwrap()
    );

    for query in ["123", "INV-9"] {
        let trail = store.audit_search(query).await.unwrap();
        assert!(trail.job_ids.contains(&id), "{query}");
        let own: Vec<_> = trail.attempts.iter().filter(|a| a.job_id == id).collect();
        let summary: Vec<(&str, &str, &str)> = own
            .iter()
            .map(|a| {
                (
                    a.outcome.as_str(),
                    a.replay_mode.as_str(),
                    a.plugin.as_ref().unwrap().version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("failed", "refetch", "1.0.0"),
                ("done", "snapshot", "1.0.1"),
                ("done", "refetch", "1.0.1")
            ],
            "{query}"
        );
        assert_eq!(own[0].error_field_path.as_deref(), Some("currency_code"));
        let post = &own[1].exchanges[0];
        assert_eq!((post.system.as_str(), post.status), ("visma", Some(201)));
        assert!(!post.request_body.as_deref().unwrap().contains("\"pw\""));
        assert_eq!(
            trail
                .actions
                .iter()
                .filter(|a| a.action == "replay")
                .count(),
            2
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_short_attempts_finish_and_releases_stuck_ones() {
    let (_dir, store) = open().await;
    let quick = store
        .enqueue(&NewJob::new("slow", "order:1", json!({})))
        .await
        .unwrap();
    let stuck = store
        .enqueue(&NewJob::new("stuck", "order:2", json!({})))
        .await
        .unwrap();
    let started = Arc::new(AtomicU32::new(0));
    let (s1, s2) = (started.clone(), started.clone());
    let slow = handler_fn(move |_job: &Job, _ctx: &JobContext| {
        s1.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Ok(JobOutcome::Done)
        })
    });
    let hang = handler_fn(move |_job: &Job, _ctx: &JobContext| {
        s2.fetch_add(1, Ordering::SeqCst);
        Box::pin(futures::future::pending())
    });
    let engine = Engine::new(
        store.clone(),
        EngineConfig {
            shutdown_grace: Duration::from_millis(500),
            ..config()
        },
    )
    .with_handler("slow", slow)
    .with_handler("stuck", hang)
    .start();
    let s = started.clone();
    wait_for("both attempts", move || {
        let s = s.clone();
        Box::pin(async move { s.load(Ordering::SeqCst) == 2 })
    })
    .await;
    let report = engine.shutdown().await.unwrap();
    assert_eq!(report.released, 1);
    assert_eq!(store.job(quick).await.unwrap().state, JobState::Done);
    let back = store.job(stuck).await.unwrap();
    assert_eq!(
        (back.state, back.attempts, back.lease_owner),
        (JobState::Pending, 0, None)
    );
    let _ = Utc::now();
}
