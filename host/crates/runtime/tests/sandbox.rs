//! The sandbox: a misbehaving plugin is stopped or denied, the failure is a value for that one
//! call, and the host and the next call are unharmed.

mod common;

use std::time::{Duration, Instant};

use common::order::{context, order, tables};
use common::{PROBE, WRONG_WIT, guest, load, relaxed, runtime};
use ledgerlink_runtime::types::SalesDocument;
use ledgerlink_runtime::{CallError, LoadError, LoadedPlugin, MappingTables, PluginLimits};
use sha2::{Digest, Sha256};

fn probe(plugin: &LoadedPlugin, behaviour: &str, target: &str) -> Result<SalesDocument, CallError> {
    let ctx = context(&[("probe", behaviour), ("probe-target", target)]);
    plugin
        .map_order(&ctx, &tables(), &order(1, 3), None)
        .map(|mapped| mapped.value)
}

/// The host is unharmed: the same plugin maps a normal order right after a failure.
fn assert_still_works(plugin: &LoadedPlugin) {
    let doc = probe(plugin, "normal", "").expect("a normal call after a failed one succeeds");
    let SalesDocument::SalesOrder(so) = doc else {
        panic!("expected a sales order")
    };
    assert_eq!(so.lines.len(), 4, "3 item lines + freight");
}

fn denied_message(result: Result<SalesDocument, CallError>) -> String {
    match result {
        Err(CallError::Mapping(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(
                errors[0].code, "denied",
                "the guest got through: {}",
                errors[0].message
            );
            eprintln!("denied as expected: {}", errors[0].message);
            errors[0].message.clone()
        }
        other => panic!("expected the guest to report a denied attempt, got {other:?}"),
    }
}

#[test]
fn normal_call_maps_and_records_provenance() {
    let rt = runtime();
    let plugin = load(&rt, PROBE, relaxed());
    let bytes = std::fs::read(guest(PROBE)).unwrap();
    let mapped = plugin
        .map_order(&context(&[]), &tables(), &order(7, 20), None)
        .expect("maps");
    assert_eq!(mapped.provenance.plugin, "sandbox-probe");
    assert_eq!(mapped.provenance.version, "1.0.0");
    assert_eq!(
        mapped.provenance.sha256,
        hex::encode(Sha256::digest(&bytes))
    );
    assert_eq!(plugin.wit_version(), "0.1.0");
    let SalesDocument::SalesOrder(so) = mapped.value else {
        panic!("expected a sales order")
    };
    assert_eq!(so.external_reference, "bc:abc123:order:7");
    assert_eq!(so.lines.len(), 21);
    // `lookup` reached the tables handed to this call.
    assert_eq!(so.payment_method_id.as_deref(), Some("KLARNA"));
    assert_eq!(so.lines[0].vat_category_id, "3");
    assert_eq!(so.lines[20].account.as_deref(), Some("3020"));
}

#[test]
fn mapping_errors_come_back_as_values_with_paths() {
    let rt = runtime();
    let plugin = load(&rt, PROBE, relaxed());
    let err = plugin
        .map_order(&context(&[]), &MappingTables::default(), &order(1, 2), None)
        .unwrap_err();
    let errors = err.mapping_errors().expect("mapping errors");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[1].path, "lines[1].tax-class-id");
    assert_eq!(errors[1].code, "missing-vat-mapping");
    assert!(
        err.to_string().contains("no VAT category for tax class 1"),
        "{err}"
    );
}

#[test]
fn endless_loop_is_stopped_at_the_deadline() {
    let rt = runtime();
    let limits = PluginLimits {
        deadline: Duration::from_millis(200),
        ..relaxed()
    };
    let plugin = load(&rt, PROBE, limits);
    let started = Instant::now();
    let err = probe(&plugin, "loop", "").unwrap_err();
    let took = started.elapsed();
    match &err {
        CallError::Timeout { deadline, plugin } => {
            assert_eq!(*deadline, Duration::from_millis(200));
            assert!(plugin.contains("sandbox-probe@1.0.0"), "{plugin}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(200),
        "stopped before its deadline: {took:?}"
    );
    // Not a speed target: only proof it was stopped rather than left running.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(err.to_string().contains("deadline of 200 ms"), "{err}");
    assert_still_works(&plugin);
}

#[test]
fn deadline_is_per_plugin() {
    let rt = runtime();
    let patient = load(
        &rt,
        PROBE,
        PluginLimits {
            deadline: Duration::from_secs(2),
            ..relaxed()
        },
    );
    let strict = load(
        &rt,
        PROBE,
        PluginLimits {
            deadline: Duration::from_millis(20),
            ..relaxed()
        },
    );
    probe(&patient, "busy:60", "").expect("60 ms of work fits a 2 s deadline");
    assert!(matches!(
        probe(&strict, "busy:60", ""),
        Err(CallError::Timeout { .. })
    ));
}

#[test]
fn unbounded_allocation_is_stopped_at_the_cap() {
    let rt = runtime();
    let limits = PluginLimits {
        memory_bytes: 16 << 20,
        deadline: Duration::from_secs(5),
    };
    let plugin = load(&rt, PROBE, limits);
    let err = probe(&plugin, "alloc", "").unwrap_err();
    match &err {
        CallError::MemoryExceeded { cap_bytes, .. } => assert_eq!(*cap_bytes, 16 << 20),
        other => panic!("expected the memory cap, got {other:?}"),
    }
    assert_still_works(&plugin);
}

#[test]
fn files_are_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "the-host-secret").unwrap();
    let rt = runtime();
    let plugin = load(&rt, PROBE, relaxed());
    let message = denied_message(probe(&plugin, "file", secret.to_str().unwrap()));
    assert!(!message.contains("the-host-secret"));
    // Relative paths have no preopened directory to resolve against either.
    denied_message(probe(&plugin, "file", "Cargo.toml"));
    assert_still_works(&plugin);
}

#[test]
fn environment_is_empty() {
    let rt = runtime();
    let plugin = load(&rt, PROBE, relaxed());
    assert!(std::env::var("PATH").is_ok(), "the host has PATH set");
    let message = denied_message(probe(&plugin, "env", "PATH"));
    assert!(message.contains("PATH"), "{message}");
    assert_still_works(&plugin);
}

#[test]
fn sockets_are_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let rt = runtime();
    let plugin = load(&rt, PROBE, relaxed());
    denied_message(probe(&plugin, "socket", &target));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the guest reached the host's listener: {other:?}"),
    }
    assert_still_works(&plugin);
}

#[test]
fn a_panic_reaches_the_operator_with_its_message() {
    let rt = runtime();
    let plugin = load(&rt, PROBE, relaxed());
    let err = probe(&plugin, "panic", "").unwrap_err();
    match &err {
        CallError::Trap { stderr, .. } => {
            assert!(
                stderr.contains("deliberate panic for order mapping"),
                "{stderr}"
            )
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert!(err.to_string().contains("deliberate panic"), "{err}");
    assert_still_works(&plugin);
}

#[test]
fn one_runaway_call_does_not_stop_the_others() {
    let rt = runtime();
    let plugin = std::sync::Arc::new(load(
        &rt,
        PROBE,
        PluginLimits {
            deadline: Duration::from_secs(1),
            ..PluginLimits::default()
        },
    ));
    let runaway = {
        let plugin = plugin.clone();
        std::thread::spawn(move || probe(&plugin, "loop", ""))
    };
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let plugin = plugin.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    probe(&plugin, "normal", "").expect("normal calls succeed meanwhile");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert!(matches!(
        runaway.join().unwrap(),
        Err(CallError::Timeout { .. })
    ));
}

#[tokio::test]
async fn calls_run_from_async_code_on_the_blocking_pool() {
    let rt = runtime();
    let plugin = std::sync::Arc::new(load(&rt, PROBE, relaxed()));
    let panicked = plugin
        .run_blocking(|p| probe(p, "panic", ""))
        .await
        .unwrap_err();
    assert!(matches!(panicked, CallError::Trap { .. }));
    let doc = plugin.run_blocking(|p| probe(p, "normal", "")).await;
    assert!(doc.is_ok());
}

#[test]
fn wrong_wit_is_refused_with_a_clear_message() {
    let rt = runtime();
    let err = rt.load_file(&guest(WRONG_WIT), relaxed()).unwrap_err();
    assert!(matches!(err, LoadError::WitMismatch { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("ledgerlink:mapping/mapping-plugin@0.1.0"),
        "{message}"
    );
    assert!(
        message.contains("ledgerlink:mapping/mapper@0.1.0"),
        "{message}"
    );
    // The runtime still loads and runs a good plugin.
    assert_still_works(&load(&rt, PROBE, relaxed()));
}

#[test]
fn garbage_and_core_modules_are_malformed() {
    let rt = runtime();
    let garbage = rt
        .load_bytes(b"definitely not wasm", relaxed())
        .unwrap_err();
    assert!(
        matches!(garbage, LoadError::Malformed { .. }),
        "{garbage:?}"
    );
    // A core module (not a component) is refused too.
    let core_module = b"\0asm\x01\0\0\0";
    let err = rt.load_bytes(core_module, relaxed()).unwrap_err();
    assert!(matches!(err, LoadError::Malformed { .. }), "{err:?}");
}

#[test]
fn a_cap_beyond_the_pool_is_refused() {
    let rt = runtime();
    let err = rt
        .load_file(
            &guest(PROBE),
            PluginLimits {
                memory_bytes: usize::MAX,
                ..relaxed()
            },
        )
        .unwrap_err();
    assert!(matches!(err, LoadError::LimitTooLarge { .. }), "{err:?}");
}
