//! Runtime benchmark: `cargo bench -p ledgerlink-runtime`. Needs the guests built first
//! (`scripts/test.sh` does it; or `cargo build --release --target wasm32-wasip2 -p
//! ledgerlink-standard -p ledgerlink-test-sandbox-probe -p ledgerlink-test-swap-twin`).
//!
//! Prints medians and p99 of: one `map-order` call (fresh instance + call) on a 20-line order,
//! the same through tokio's blocking pool, a component load from the compile cache, and a hot
//! swap through the watched directory under a steady call load (time until new calls see the
//! new version, failed calls, slowest call meanwhile). Figures, not assertions: compare them
//! with the targets in the last column.

#[path = "../tests/common/order.rs"]
mod order;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledgerlink_runtime::canonical::{Fixture, FixtureCall};
use ledgerlink_runtime::types::{Context, Order};
use ledgerlink_runtime::{
    LoadedPlugin, MappingTables, PluginLimits, PluginRegistry, Runtime, RuntimeConfig,
};

const CALLS: usize = 5_000;
const LOADS: usize = 200;
const SWAPS: usize = 10;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace().join(dir),
        None => workspace().join("target"),
    }
}

fn guest(name: &str) -> PathBuf {
    let path = target_dir()
        .join("wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    if !path.exists() {
        eprintln!(
            "{} is missing: build the guests first (scripts/test.sh)",
            path.display()
        );
        std::process::exit(2);
    }
    path
}

struct Row {
    what: String,
    n: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    target: String,
}

fn row(what: &str, samples: &mut [Duration], target: &str) -> Row {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Row {
        what: what.to_string(),
        n: samples.len(),
        p50: at(0.5),
        p99: at(0.99),
        max: *samples.last().unwrap(),
        target: target.to_string(),
    }
}

fn fmt(d: Duration) -> String {
    if d >= Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    }
}

fn time_calls(
    plugin: &LoadedPlugin,
    ctx: &Context,
    tables: &MappingTables,
    order: &Order,
) -> Vec<Duration> {
    for _ in 0..200 {
        let _ = plugin.map_order(ctx, tables, order, None);
    }
    (0..CALLS)
        .map(|_| {
            let started = Instant::now();
            let result = plugin.map_order(ctx, tables, order, None);
            let took = started.elapsed();
            std::hint::black_box(result.ok());
            took
        })
        .collect()
}

/// The standard plugin on a fixture order grown to 20 lines (the fixture's tables fit it).
fn standard_order() -> Option<(Context, MappingTables, Order)> {
    let fixture =
        Fixture::load(&workspace().join("tests/fixtures/order-multi-line-coupon.json")).ok()?;
    let FixtureCall::MapOrder { ctx, mut order, .. } = fixture.input().ok()? else {
        return None;
    };
    let (lines, taxes) = (order.lines.clone(), order.taxes.clone());
    let mut next_id = 90_000;
    while order.lines.len() < 20 {
        for line in &lines {
            if order.lines.len() == 20 {
                break;
            }
            next_id += 1;
            let mut copy = line.clone();
            copy.id = next_id;
            copy.sku = format!("{}-{next_id}", line.sku);
            // Only the original lines carry the coupon, so the order totals stay consistent.
            copy.discounts.clear();
            for tax in taxes.iter().filter(|t| t.order_line_id == Some(line.id)) {
                let mut tax = tax.clone();
                tax.order_line_id = Some(next_id);
                order.taxes.push(tax);
            }
            order.subtotal_ex_tax += copy.total_ex_tax;
            order.subtotal_inc_tax += copy.total_inc_tax;
            order.total_ex_tax += copy.total_ex_tax;
            order.total_inc_tax += copy.total_inc_tax;
            order.total_tax += copy.total_tax;
            order.lines.push(copy);
        }
    }
    Some((ctx, fixture.tables, order))
}

fn main() {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");

    // 1. map-order, fresh instance + call, 20 lines.
    let probe = runtime
        .load_file(
            &guest("ledgerlink_test_sandbox_probe"),
            PluginLimits::default(),
        )
        .expect("probe loads");
    let order20 = order::order(1, 20);
    let (ctx, tables) = (order::context(&[]), order::tables());
    probe
        .map_order(&ctx, &tables, &order20, None)
        .expect("the probe maps the 20-line order");
    let mut samples = time_calls(&probe, &ctx, &tables, &order20);
    rows.push(row(
        "map-order 20 lines, test mapping (fresh instance + call)",
        &mut samples,
        "p99 ≤ 200 µs (stretch 100)",
    ));

    let standard = target_dir().join("wasm32-wasip2/release/ledgerlink_standard.wasm");
    match (standard.exists(), standard_order()) {
        (true, Some((sctx, stables, sorder))) => {
            let plugin = runtime
                .load_file(&standard, PluginLimits::default())
                .expect("standard loads");
            let outcome = match plugin.map_order(&sctx, &stables, &sorder, None) {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("error: {e}"),
            };
            notes.push(format!(
                "standard plugin on the 20-line fixture order: {outcome}"
            ));
            let mut samples = time_calls(&plugin, &sctx, &stables, &sorder);
            rows.push(row(
                "map-order 20 lines, standard plugin (fresh instance + call)",
                &mut samples,
                "p99 ≤ 200 µs (stretch 100)",
            ));
        }
        _ => notes.push("standard plugin or its fixture missing: skipped its row".to_string()),
    }

    // 1b. The same call from async code through the blocking pool.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let shared = Arc::new(probe);
    let mut samples: Vec<Duration> = tokio.block_on(async {
        let mut out = Vec::with_capacity(CALLS);
        for i in 0..CALLS + 200 {
            let (order, ctx, tables) = (order20.clone(), ctx.clone(), tables.clone());
            let started = Instant::now();
            let result = shared
                .run_blocking(move |p| p.map_order(&ctx, &tables, &order, None).is_ok())
                .await;
            if i >= 200 {
                out.push(started.elapsed());
            }
            assert!(result);
        }
        out
    });
    rows.push(row(
        "map-order 20 lines via run_blocking (incl. clone + spawn_blocking)",
        &mut samples,
        "-",
    ));

    // 2. Component load from the compile cache.
    let cache = tempfile::tempdir().unwrap();
    let cached = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    let probe_path = guest("ledgerlink_test_sandbox_probe");
    let started = Instant::now();
    cached
        .load_file(&probe_path, PluginLimits::default())
        .unwrap();
    notes.push(format!(
        "first load (compile + write cache): {}",
        fmt(started.elapsed())
    ));
    let mut samples: Vec<Duration> = (0..LOADS)
        .map(|_| {
            let started = Instant::now();
            let plugin = cached
                .load_file(&probe_path, PluginLimits::default())
                .unwrap();
            let took = started.elapsed();
            assert_eq!(
                plugin.cache_outcome(),
                &ledgerlink_runtime::CacheOutcome::Hit
            );
            took
        })
        .collect();
    rows.push(row(
        "load from cache (read + verify + deserialize + checks + info())",
        &mut samples,
        "≤ 5 ms",
    ));

    // 3. Hot swap through the watched directory under a steady call load.
    let (visible, failed, total, slowest) = swap_under_load();
    let mut visible = visible;
    rows.push(row(
        "hot swap: drop in watched dir → new calls see it",
        &mut visible,
        "≤ 1 s",
    ));

    println!();
    println!("| measure | n | p50 | p99 | max | target |");
    println!("|---|---:|---:|---:|---:|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.what,
            r.n,
            fmt(r.p50),
            fmt(r.p99),
            fmt(r.max),
            r.target
        );
    }
    println!();
    println!(
        "hot swap: {failed} failed calls of {total} during {SWAPS} swaps (target 0); slowest call meanwhile {}",
        fmt(slowest)
    );
    for note in notes {
        println!("note: {note}");
    }
}

fn swap_under_load() -> (Vec<Duration>, u64, u64, Duration) {
    let data = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(PluginRegistry::runtime_config(data.path())).unwrap();
    let registry = Arc::new(PluginRegistry::open(runtime, data.path()).unwrap());
    let versions = [
        std::fs::read(guest("ledgerlink_test_sandbox_probe")).unwrap(),
        std::fs::read(guest("ledgerlink_test_swap_twin")).unwrap(),
    ];
    registry
        .push(&versions[0], "le-1", PluginLimits::default())
        .unwrap();
    let _watch = registry.watch().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let total = Arc::new(AtomicU64::new(0));
    let slowest = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (registry, stop, failed, total, slowest) = (
                registry.clone(),
                stop.clone(),
                failed.clone(),
                total.clone(),
                slowest.clone(),
            );
            std::thread::spawn(move || {
                let (ctx, tables, order) =
                    (order::context(&[]), order::tables(), order::order(1, 20));
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let plugin = registry.plugin_for("le-1").expect("bound");
                    if plugin.map_order(&ctx, &tables, &order, None).is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    total.fetch_add(1, Ordering::Relaxed);
                    slowest.fetch_max(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    // A steady load, not a saturating one: leave the watcher a core.
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        })
        .collect();

    let incoming = registry.store().incoming_dir().join("le-1");
    std::fs::create_dir_all(&incoming).unwrap();
    let mut visible = Vec::new();
    for i in 0..SWAPS {
        std::thread::sleep(Duration::from_millis(100));
        let bytes = &versions[(i + 1) % 2];
        let before = registry.plugin_for("le-1").unwrap().sha256().to_string();
        let tmp = incoming.join(".next.wasm.part");
        std::fs::write(&tmp, bytes).unwrap();
        let started = Instant::now();
        std::fs::rename(&tmp, incoming.join(format!("v{i}.wasm"))).unwrap();
        while registry.plugin_for("le-1").unwrap().sha256() == before {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "swap never became visible"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        visible.push(started.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    (
        visible,
        failed.load(Ordering::Relaxed),
        total.load(Ordering::Relaxed),
        Duration::from_nanos(slowest.load(Ordering::Relaxed)),
    )
}
