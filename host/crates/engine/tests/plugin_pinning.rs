//! A job maps with the plugin version it first got for its legal entity for the whole attempt,
//! even when the registry swaps the entity's version in between; its next attempt sees the new
//! one. Uses the test guests built by `scripts/wasm-plugins.sh`.

use ledgerlink_core::{Backoff, LegalEntityId};
use ledgerlink_engine::flows::plugins::plugin_for_attempt;
use ledgerlink_engine::{
    Engine, EngineConfig, JobError, JobOutcome, NewJob, RetryPolicy, Store, handler_fn,
};
use ledgerlink_runtime::{PluginLimits, PluginRegistry, Runtime};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn guest(name: &str) -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let path = target
        .join("wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run scripts/wasm-plugins.sh first)",
            path.display()
        )
    })
}

/// What each attempt saw: (attempt, first pick, pick after the swap, registry's live version).
type Seen = Arc<Mutex<Vec<(u32, String, String, String)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_keeps_its_plugin_version_across_a_swap_and_the_next_attempt_sees_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("ledgerlink.db")).await.unwrap();
    let runtime = Runtime::new(PluginRegistry::runtime_config(dir.path())).unwrap();
    let registry = Arc::new(PluginRegistry::open(runtime, dir.path()).unwrap());
    let probe = registry
        .push(
            &guest("ledgerlink_test_sandbox_probe"),
            "le-1",
            PluginLimits::default(),
        )
        .unwrap();
    let twin_bytes = Arc::new(guest("ledgerlink_test_swap_twin"));

    let seen: Seen = Arc::default();
    let unbound: Arc<Mutex<Option<JobError>>> = Arc::default();
    let mut engine = Engine::new(
        store.clone(),
        EngineConfig {
            workers: 1,
            poll_interval: Duration::from_millis(20),
            retry: RetryPolicy {
                backoff: Backoff {
                    base: Duration::from_millis(20),
                    max_delay: Duration::from_millis(50),
                },
                max_attempts: 5,
            },
            ..EngineConfig::default()
        },
    );
    {
        let (registry, seen, unbound, twin) = (
            registry.clone(),
            seen.clone(),
            unbound.clone(),
            twin_bytes.clone(),
        );
        engine.register(
            "test/map",
            Arc::new(handler_fn(move |_job, ctx| {
                let (registry, seen, unbound, twin) = (
                    registry.clone(),
                    seen.clone(),
                    unbound.clone(),
                    twin.clone(),
                );
                Box::pin(async move {
                    let entity = LegalEntityId::new("le-1");
                    let first = plugin_for_attempt(&registry, ctx, &entity)?;
                    if ctx.attempt() == 1 {
                        // Another operator pushes a new version mid-attempt.
                        let r = registry.clone();
                        tokio::task::spawn_blocking(move || {
                            r.push(&twin, "le-1", PluginLimits::default()).unwrap()
                        })
                        .await
                        .unwrap();
                        *unbound.lock().unwrap() =
                            plugin_for_attempt(&registry, ctx, &LegalEntityId::new("le-none"))
                                .err();
                    }
                    let again = plugin_for_attempt(&registry, ctx, &entity)?;
                    let live = registry.plugin_for("le-1").unwrap();
                    seen.lock().unwrap().push((
                        ctx.attempt(),
                        first.sha256().to_owned(),
                        again.sha256().to_owned(),
                        live.sha256().to_owned(),
                    ));
                    if ctx.attempt() == 1 {
                        return Err(JobError::transient("again", "one more attempt", None));
                    }
                    Ok(JobOutcome::Done)
                })
            })),
        );
    }
    let engine = engine.start();
    store
        .enqueue(&NewJob::new("test/map", "s-1", serde_json::json!({})))
        .await
        .unwrap();
    let started = Instant::now();
    while seen.lock().unwrap().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job never ran twice"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.shutdown().await.unwrap();

    let twin = registry.plugin_for("le-1").unwrap().sha256().to_owned();
    assert_ne!(twin, probe.sha256);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[0],
        (1, probe.sha256.clone(), probe.sha256.clone(), twin.clone()),
        "attempt 1 keeps the version it started with though the registry moved on"
    );
    assert_eq!(seen[1], (2, twin.clone(), twin.clone(), twin));

    let err = unbound
        .lock()
        .unwrap()
        .take()
        .expect("no plugin for le-none");
    assert_eq!(err.code, "no_active_plugin");
    assert!(err.message.contains("ledgerlink plugin push"), "{err:?}");
    assert!(
        matches!(err.class, ledgerlink_core::ErrorClass::Transient { .. }),
        "{err:?}"
    );
}
