//! Helpers shared by the runtime's integration tests.
#![allow(dead_code)]

pub mod order;

use std::path::PathBuf;

use ledgerlink_runtime::{LoadedPlugin, PluginLimits, Runtime, RuntimeConfig};

/// The workspace root (three levels above this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The cargo target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// A test guest built for wasm32-wasip2 (`ledgerlink_test_sandbox_probe`, …). Fails the test
/// with the command to run when it has not been built.
pub fn guest(crate_name: &str) -> PathBuf {
    let path = target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{crate_name}.wasm"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/test.sh, or `cargo build --release --target wasm32-wasip2 \
         -p ledgerlink-test-sandbox-probe -p ledgerlink-test-swap-twin -p ledgerlink-test-wrong-wit`",
        path.display()
    );
    path
}

pub const PROBE: &str = "ledgerlink_test_sandbox_probe";
pub const TWIN: &str = "ledgerlink_test_swap_twin";
pub const WRONG_WIT: &str = "ledgerlink_test_wrong_wit";

/// A runtime with a small instance pool (tests run many runtimes side by side).
pub fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        max_concurrent_instances: 16,
        ..RuntimeConfig::default()
    })
    .expect("runtime starts")
}

/// Limits for tests that are not about the deadline: a busy CI machine can stall a sound call
/// for longer than the production default of 50 ms.
pub fn relaxed() -> PluginLimits {
    PluginLimits {
        deadline: std::time::Duration::from_secs(2),
        ..PluginLimits::default()
    }
}

pub fn load(runtime: &Runtime, crate_name: &str, limits: PluginLimits) -> LoadedPlugin {
    runtime
        .load_file(&guest(crate_name), limits)
        .unwrap_or_else(|e| panic!("{crate_name} loads: {e}"))
}
