//! Mappings an attempt learns (`JobContext::complete_write`, `put_identity_on_finish`) are
//! written with its result: the attempt itself sees them at once, the store once the result
//! is written, whatever the outcome.

use ledgerlink_core::{Backoff, ExternalRef, LegalEntityId};
use ledgerlink_engine::{
    Engine, EngineConfig, IdentityKey, Job, JobContext, JobError, JobOutcome, RetryPolicy, Store,
    WriteStart, handler_fn,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Seen = (u32, &'static str, String);

fn key(kind: &str) -> IdentityKey {
    IdentityKey::new(LegalEntityId::new("se-ab"), kind, "s:1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_sees_its_own_mappings_and_they_are_stored_with_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("ledgerlink.db")).await.unwrap();
    // What each attempt saw, as (attempt, step, value).
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let s = seen.clone();
    let handler = handler_fn(move |_job: &Job, ctx: &JobContext| {
        let seen = s.clone();
        Box::pin(async move {
            let note =
                |step, value: String| seen.lock().unwrap().push((ctx.attempt(), step, value));
            let reference = ExternalRef::new("bc-o-1");
            let start = ctx.begin_write(&key("invoice"), &reference).await?;
            note("begin", format!("{start:?}"));
            if ctx.attempt() > 1 {
                return Ok(JobOutcome::Done);
            }
            ctx.complete_write(&key("invoice"), "INV-1").await?;
            ctx.put_identity_on_finish(&key("invoice_verified"), "INV-1");
            // Seen by this attempt at once, by the store only with the result.
            note("ctx", format!("{:?}", ctx.identity(&key("invoice")).await?));
            note(
                "store",
                format!("{:?}", ctx.store().identity(&key("invoice")).await?),
            );
            let again = ctx.begin_write(&key("invoice"), &reference).await?;
            note("again", format!("{again:?}"));
            // A failure after the write: the mapping is recorded all the same.
            Err(JobError::transient("visma_503", "unavailable", None))
        })
    });
    let cfg = EngineConfig {
        workers: 2,
        poll_interval: Duration::from_millis(20),
        retry: RetryPolicy {
            backoff: Backoff {
                base: Duration::from_millis(20),
                max_delay: Duration::from_millis(50),
            },
            max_attempts: 5,
        },
        ..EngineConfig::default()
    };
    let engine = Engine::new(store.clone(), cfg)
        .with_handler("k", handler)
        .start();
    let job = store
        .enqueue(&ledgerlink_engine::NewJob::new("k", "order:1", json!({})))
        .await
        .unwrap();
    let started = Instant::now();
    while store.job(job).await.unwrap().state.is_unfinished() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "job never finished"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine.shutdown().await.unwrap();

    let seen = seen.lock().unwrap().clone();
    assert!(seen[0].2.starts_with("Proceed"), "{seen:?}");
    assert_eq!(seen[1], (1, "ctx", "Some(\"INV-1\")".into()));
    assert_eq!(seen[2], (1, "store", "None".into()));
    assert_eq!(
        seen[3],
        (
            1,
            "again",
            format!(
                "{:?}",
                WriteStart::AlreadyDone {
                    visma_id: "INV-1".into()
                }
            )
        )
    );
    // The second attempt finds the mapping the failed first one recorded: nothing to write.
    assert_eq!(
        seen[4],
        (
            2,
            "begin",
            format!(
                "{:?}",
                WriteStart::AlreadyDone {
                    visma_id: "INV-1".into()
                }
            )
        )
    );
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(
        store.identity(&key("invoice")).await.unwrap(),
        Some("INV-1".into())
    );
    assert_eq!(
        store.identity(&key("invoice_verified")).await.unwrap(),
        Some("INV-1".into())
    );
    assert_eq!(store.open_intent_count().await.unwrap(), 0);
    // The audit finds the attempt by the document it wrote.
    let trail = store.audit_search("INV-1").await.unwrap();
    assert!(!trail.attempts.is_empty());
}
