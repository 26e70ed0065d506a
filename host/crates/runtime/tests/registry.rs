//! The registry: versions bound per legal entity, activate and rollback, refusal of a wrong
//! component with the active version kept, hot swap while calls run, the watched directory and
//! changes made by another process (the CLI).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::order::{context, order, tables};
use common::{PROBE, TWIN, WRONG_WIT, guest, relaxed};
use ledgerlink_runtime::registry::DEFAULT_ENTITY;
use ledgerlink_runtime::{
    PluginLimits, PluginRegistry, RegistryError, RegistryStore, Runtime, RuntimeConfig,
};

fn open(data: &Path) -> Arc<PluginRegistry> {
    let runtime = Runtime::new(RuntimeConfig {
        max_concurrent_instances: 32,
        ..PluginRegistry::runtime_config(data)
    })
    .unwrap();
    Arc::new(PluginRegistry::open(runtime, data).unwrap())
}

fn bytes(crate_name: &str) -> Vec<u8> {
    std::fs::read(guest(crate_name)).unwrap()
}

fn active_name(registry: &PluginRegistry, entity: &str) -> Option<String> {
    registry.plugin_for(entity).map(|p| p.name().to_string())
}

/// Calls `map_order` for `entity` and returns the name of the plugin that answered.
fn call(registry: &PluginRegistry, entity: &str) -> String {
    let plugin = registry.plugin_for(entity).expect("a plugin is bound");
    plugin
        .map_order(&context(&[]), &tables(), &order(1, 3), None)
        .expect("the call succeeds")
        .provenance
        .plugin
}

/// Generous on purpose: a version goes live after a compile, which on a loaded 2-core CI
/// machine running the other tests in parallel can take seconds. This is no speed test (the
/// swap time is measured by the benchmark); it only proves the swap happens without a restart.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn push_registers_stores_and_activates() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    assert!(registry.plugin_for("le-1").is_none());

    let record = registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
    assert_eq!(record.name, "sandbox-probe");
    assert_eq!(record.version, "1.0.0");
    assert_eq!(record.wit_version, "0.1.0");
    assert!(registry.store().component_path(&record.sha256).exists());
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
    // Another entity has no binding and there is no default.
    assert!(registry.plugin_for("le-2").is_none());

    let file = registry.store().read().unwrap();
    assert_eq!(file.versions, vec![record.clone()]);
    assert_eq!(file.bindings["le-1"].active, record.sha256);
}

#[test]
fn the_default_binding_serves_entities_without_their_own() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    registry
        .push(&bytes(PROBE), DEFAULT_ENTITY, relaxed())
        .unwrap();
    registry.push(&bytes(TWIN), "le-2", relaxed()).unwrap();
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
    assert_eq!(call(&registry, "le-2"), "swap-twin");
}

#[test]
fn wrong_wit_is_refused_and_the_active_version_stays() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
    let before = registry.store().read().unwrap();

    let err = registry
        .push(&bytes(WRONG_WIT), "le-1", relaxed())
        .unwrap_err();
    assert!(matches!(err, RegistryError::Refused(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("the active version stays"), "{message}");
    assert!(message.contains("mapping-plugin@0.1.0"), "{message}");

    assert_eq!(registry.store().read().unwrap(), before);
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
}

#[test]
fn a_rebuilt_component_under_an_old_version_number_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
    // Same code and `info()`, different bytes: a custom section appended to the component.
    let mut rebuilt = bytes(PROBE);
    let name = b"rebuilt";
    rebuilt.extend_from_slice(&[0x00, (1 + name.len() + 1) as u8, name.len() as u8]);
    rebuilt.extend_from_slice(name);
    rebuilt.push(0x01);
    let err = registry.push(&rebuilt, "le-1", relaxed()).unwrap_err();
    assert!(
        matches!(err, RegistryError::VersionConflict { .. }),
        "{err:?}"
    );
    assert_eq!(registry.store().read().unwrap().versions.len(), 1);
}

#[test]
fn activate_and_rollback() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    let probe = registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
    let twin = registry.push(&bytes(TWIN), "le-1", relaxed()).unwrap();
    assert_eq!(call(&registry, "le-1"), "swap-twin");

    let back = registry.rollback("le-1").unwrap();
    assert_eq!(back, probe);
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
    assert!(matches!(
        registry.rollback("le-1"),
        Err(RegistryError::NoHistory { .. })
    ));

    // Activate by name@version and by sha256 prefix.
    registry.activate("le-1", "swap-twin@2.0.0").unwrap();
    assert_eq!(call(&registry, "le-1"), "swap-twin");
    registry.activate("le-1", &probe.sha256[..10]).unwrap();
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
    assert!(matches!(
        registry.activate("le-1", "nothing@9"),
        Err(RegistryError::UnknownVersion { .. })
    ));
    // Another entity can use the other version at the same time.
    registry.activate("le-2", &twin.sha256).unwrap();
    assert_eq!(call(&registry, "le-2"), "swap-twin");
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
}

#[test]
fn a_restarted_host_restores_bindings_from_disk_without_recompiling() {
    let data = tempfile::tempdir().unwrap();
    {
        let registry = open(data.path());
        registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
        registry.push(&bytes(TWIN), "le-2", relaxed()).unwrap();
    }
    let registry = open(data.path());
    assert_eq!(registry.runtime().compile_count(), 0);
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
    assert_eq!(call(&registry, "le-2"), "swap-twin");
}

#[test]
fn swapping_while_calls_run_fails_no_call_and_new_calls_see_the_new_version() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    // Room for the slow call below on a busy CI machine: this test is about the swap.
    let limits = PluginLimits {
        deadline: Duration::from_secs(5),
        ..relaxed()
    };
    registry.push(&bytes(PROBE), "le-1", limits).unwrap();

    // A slow call that starts on the old version must finish on it.
    let slow = {
        let plugin = registry.plugin_for("le-1").unwrap();
        std::thread::spawn(move || {
            plugin.map_order(
                &context(&[("probe", "busy:40")]),
                &tables(),
                &order(1, 3),
                None,
            )
        })
    };

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (registry, stop, failures, calls) = (
                registry.clone(),
                stop.clone(),
                failures.clone(),
                calls.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let plugin = registry.plugin_for("le-1").unwrap();
                    match plugin.map_order(&context(&[]), &tables(), &order(1, 5), None) {
                        Ok(_) => calls.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("call failed during swap: {e}");
                            failures.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();

    wait_for("calls to start", || calls.load(Ordering::Relaxed) > 10);
    registry.push(&bytes(TWIN), "le-1", limits).unwrap();
    // Visible at once to every call that starts after the push returns.
    assert_eq!(call(&registry, "le-1"), "swap-twin");
    let after_swap = calls.load(Ordering::Relaxed);
    wait_for("calls after the swap", || {
        calls.load(Ordering::Relaxed) > after_swap + 10
    });
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }

    assert_eq!(failures.load(Ordering::Relaxed), 0);
    let slow = slow.join().unwrap().expect("the slow call finished");
    assert_eq!(slow.provenance.plugin, "sandbox-probe");
}

#[test]
fn a_version_dropped_in_the_watched_directory_goes_live_without_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
    let _watch = registry.watch().unwrap();

    // Publish by writing a temporary file and renaming it into place.
    let dir = registry.store().incoming_dir().join("le-1");
    std::fs::create_dir_all(&dir).unwrap();
    let tmp = dir.join(".twin.wasm.part");
    std::fs::write(&tmp, bytes(TWIN)).unwrap();
    std::fs::rename(&tmp, dir.join("twin.wasm")).unwrap();
    wait_for("the dropped version to go live", || {
        active_name(&registry, "le-1").as_deref() == Some("swap-twin")
    });
    wait_for("the dropped file to be taken", || {
        !dir.join("twin.wasm").exists()
    });

    // A wrong component is moved aside with the reason; the active version stays.
    std::fs::write(&tmp, bytes(WRONG_WIT)).unwrap();
    std::fs::rename(&tmp, dir.join("wrong.wasm")).unwrap();
    let rejected = registry.store().rejected_dir();
    wait_for("the wrong component to be rejected", || {
        std::fs::read_dir(&rejected)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".error.txt"))
    });
    let reason = std::fs::read_dir(&rejected)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".error.txt"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    assert!(reason.contains("mapping-plugin@0.1.0"), "{reason}");
    assert_eq!(call(&registry, "le-1"), "swap-twin");
}

#[test]
fn changes_made_by_another_process_are_picked_up() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    let probe = registry.push(&bytes(PROBE), "le-1", relaxed()).unwrap();
    let _watch = registry.watch().unwrap();

    // What `ledgerlink plugin push` / `activate` / `rollback` do from another process.
    let cli_runtime = Runtime::new(RuntimeConfig {
        max_concurrent_instances: 4,
        ..PluginRegistry::runtime_config(data.path())
    })
    .unwrap();
    let cli_store = RegistryStore::open(data.path()).unwrap();
    ledgerlink_runtime::registry::push(&cli_runtime, &cli_store, &bytes(TWIN), "le-1", relaxed())
        .unwrap();
    wait_for("the CLI push to go live", || {
        active_name(&registry, "le-1").as_deref() == Some("swap-twin")
    });
    // The CLI compiled it into the shared cache, so the host did not compile it again.
    assert_eq!(registry.runtime().compile_count(), 1);

    cli_store.rollback("le-1").unwrap();
    wait_for("the CLI rollback to go live", || {
        registry.plugin_for("le-1").unwrap().sha256() == probe.sha256
    });
}

#[test]
fn configured_versions_bind_once_and_an_operators_later_choice_survives_restarts() {
    let data = tempfile::tempdir().unwrap();
    let entities = ["le-1".to_string(), "le-2".to_string()];
    let probe = bytes(PROBE);
    {
        let registry = open(data.path());
        let done = registry.configure(&probe, &entities, None).unwrap();
        assert_eq!(done.bound, entities);
        assert_eq!(done.record.limits, PluginLimits::default());
        assert_eq!(call(&registry, "le-1"), "sandbox-probe");
        // The operator moves le-1 on.
        registry.push(&bytes(TWIN), "le-1", relaxed()).unwrap();
    }
    {
        // Same configuration on restart: nothing re-registered, le-1 keeps the operator's version.
        let registry = open(data.path());
        let done = registry.configure(&probe, &entities, None).unwrap();
        assert_eq!(done.bound, ["le-2"]);
        assert_eq!(done.kept.len(), 1);
        assert_eq!(done.kept[0].0, "le-1");
        assert!(
            done.kept[0].1.starts_with("swap-twin@2.0.0"),
            "{:?}",
            done.kept
        );
        assert_eq!(call(&registry, "le-1"), "swap-twin");
        assert_eq!(call(&registry, "le-2"), "sandbox-probe");
        let file = registry.store().read().unwrap();
        assert_eq!(file.versions.len(), 2);
        assert_eq!(file.bindings["le-1"].history.len(), 1);
    }
    {
        // The configuration now names another component: it wins, and rollback goes back.
        let registry = open(data.path());
        let limits = PluginLimits {
            deadline: Duration::from_millis(90),
            ..PluginLimits::default()
        };
        let done = registry
            .configure(&bytes(TWIN), &entities, Some(limits))
            .unwrap();
        assert_eq!(done.bound, entities);
        assert!(done.kept.is_empty());
        assert_eq!(done.record.limits, limits);
        assert_eq!(call(&registry, "le-2"), "swap-twin");
        registry.rollback("le-2").unwrap();
        assert_eq!(call(&registry, "le-2"), "sandbox-probe");
    }
}

#[test]
fn a_configured_component_with_the_wrong_wit_changes_nothing() {
    let data = tempfile::tempdir().unwrap();
    let registry = open(data.path());
    let entities = ["le-1".to_string()];
    registry.configure(&bytes(PROBE), &entities, None).unwrap();
    let before = registry.store().read().unwrap();
    let err = registry
        .configure(&bytes(WRONG_WIT), &entities, None)
        .unwrap_err();
    assert!(matches!(err, RegistryError::Refused(_)), "{err}");
    assert!(
        err.to_string().contains("the active version stays"),
        "{err}"
    );
    assert_eq!(registry.store().read().unwrap(), before);
    assert_eq!(call(&registry, "le-1"), "sandbox-probe");
}
