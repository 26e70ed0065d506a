//! The compile cache: a second load takes the compiled artifact from disk, and an artifact
//! that does not match its checksum is recompiled, never run.

mod common;

use common::order::{context, order, tables};
use common::{PROBE, guest, relaxed};
use ledgerlink_runtime::{CacheOutcome, Runtime, RuntimeConfig};

fn cached_runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(dir.to_path_buf()),
        max_concurrent_instances: 8,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[test]
fn second_load_uses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let first = cached_runtime(dir.path());
    let plugin = first.load_file(&guest(PROBE), relaxed()).unwrap();
    assert_eq!(plugin.cache_outcome(), &CacheOutcome::Compiled);
    assert_eq!(first.compile_count(), 1);
    let artifact = first.cache_path(plugin.sha256()).unwrap();
    assert!(artifact.exists());
    assert!(
        artifact
            .file_name()
            .unwrap()
            .to_string_lossy()
            .contains(first.engine_hash())
    );

    // A new runtime (a restarted host) with the same engine settings: no compile.
    let second = cached_runtime(dir.path());
    let again = second.load_file(&guest(PROBE), relaxed()).unwrap();
    assert_eq!(again.cache_outcome(), &CacheOutcome::Hit);
    assert_eq!(second.compile_count(), 0);
    again
        .map_order(&context(&[]), &tables(), &order(1, 5), None)
        .expect("the cached component runs");
}

#[test]
fn a_corrupt_cache_file_is_recompiled_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path());
    let plugin = rt.load_file(&guest(PROBE), relaxed()).unwrap();
    let artifact = rt.cache_path(plugin.sha256()).unwrap();

    // Flip bytes in the middle of the compiled code, keeping the file a valid-looking ELF.
    let mut bytes = std::fs::read(&artifact).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 64] {
        *b ^= 0xFF;
    }
    std::fs::write(&artifact, &bytes).unwrap();

    let rt2 = cached_runtime(dir.path());
    let reloaded = rt2.load_file(&guest(PROBE), relaxed()).unwrap();
    match reloaded.cache_outcome() {
        CacheOutcome::Recompiled { reason } => {
            assert!(reason.contains("does not match its checksum"), "{reason}")
        }
        other => panic!("expected a recompile, got {other:?}"),
    }
    assert_eq!(rt2.compile_count(), 1);
    reloaded
        .map_order(&context(&[]), &tables(), &order(1, 5), None)
        .expect("the recompiled component runs");

    // The cache was repaired: the next load is a hit again.
    let rt3 = cached_runtime(dir.path());
    let third = rt3.load_file(&guest(PROBE), relaxed()).unwrap();
    assert_eq!(third.cache_outcome(), &CacheOutcome::Hit);
}

#[test]
fn a_truncated_artifact_with_a_forged_checksum_is_refused_by_the_engine() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let rt = cached_runtime(dir.path());
    let plugin = rt.load_file(&guest(PROBE), relaxed()).unwrap();
    let artifact = rt.cache_path(plugin.sha256()).unwrap();
    let bytes = std::fs::read(&artifact).unwrap();
    let truncated = &bytes[..bytes.len() / 3];
    std::fs::write(&artifact, truncated).unwrap();
    std::fs::write(
        artifact.with_extension("cwasm.sha256"),
        hex::encode(Sha256::digest(truncated)),
    )
    .unwrap();

    let rt2 = cached_runtime(dir.path());
    let reloaded = rt2.load_file(&guest(PROBE), relaxed()).unwrap();
    assert!(
        matches!(reloaded.cache_outcome(), CacheOutcome::Recompiled { .. }),
        "{:?}",
        reloaded.cache_outcome()
    );
}
