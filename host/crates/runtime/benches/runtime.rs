//! Runtime benchmark: `cargo bench -p ledgerlink-runtime`. Needs the guests built first
//! (`scripts/test.sh` does it; or `scripts/wasm-plugins.sh`).
//!
//! Prints p50/p90/p99/max of: one `map-order` call of the standard plugin (fresh instance +
//! call) on the 20-line fixture order `tests/fixtures/order-20-lines.json`, the per-call floor
//! (fresh instance + the trivial `info` export), the same map-order through tokio's blocking
//! pool, a component load from the compile cache, and a hot swap through the watched directory
//! under a steady call load (time until new calls see the new version, failed calls, slowest
//! call meanwhile). Figures, not assertions: compare them with the targets in the last column.
//!
//! Wall-clock percentiles on a shared 2-core machine are dominated by the scheduler: a call
//! that loses its core waits a whole time slice (ms). So the call rows also give the on-CPU
//! time of each call (the thread's CPU clock) and how many calls lost their core while they
//! ran (`/proc/thread-self/schedstat`); the load average at start says how busy the machine
//! was.
//!
//! `cargo bench -p ledgerlink-runtime -- --only-map-order N` runs only N map-order calls and
//! prints nothing else (for `perf` / `valgrind --tool=callgrind`).

#[path = "../tests/common/order.rs"]
mod order;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ledgerlink_runtime::canonical::{Fixture, FixtureCall};
use ledgerlink_runtime::types::{Context, Order, SalesDocument};
use ledgerlink_runtime::{
    LoadedPlugin, MappingTables, PluginLimits, PluginRegistry, Runtime, RuntimeConfig,
};

const WARM_UP: usize = 1_000;
const CALLS: usize = 10_000;
const LOADS: usize = 200;
const SWAPS: usize = 10;
const FIXTURE: &str = "tests/fixtures/order-20-lines.json";
const CALL_TARGET: &str = "p99 ≤ 200 µs (stretch 100)";

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
            "{} is missing: build the guests first (scripts/wasm-plugins.sh)",
            path.display()
        );
        std::process::exit(2);
    }
    path
}

/// How many times the kernel has put this thread on a CPU (the third field of
/// `/proc/thread-self/schedstat`): if it moved during a call, the call lost its core meanwhile.
/// Read with one `pread` on a file kept open.
struct SchedStat(File);

impl SchedStat {
    fn open() -> Option<SchedStat> {
        File::open("/proc/thread-self/schedstat")
            .ok()
            .map(SchedStat)
    }

    fn times_scheduled(&self) -> u64 {
        let mut buf = [0u8; 96];
        let n = self.0.read_at(&mut buf, 0).unwrap_or(0);
        std::str::from_utf8(&buf[..n])
            .unwrap_or("")
            .split_whitespace()
            .nth(2)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0)
    }
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
}

/// This thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, exact to the nanosecond, unlike the
/// tick-granular schedstat run time). std has no API for it and this is only a bench, so a
/// direct libc call rather than a new dependency.
fn thread_cpu_time() -> Duration {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec with the C layout on 64-bit Linux.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Wall time, on-CPU time and whether the thread was switched out, for each timed call.
#[derive(Default)]
struct Samples {
    wall: Vec<Duration>,
    on_cpu: Vec<Duration>,
    switched_out: usize,
    /// Calls that returned an error, and the first such error. On a loaded machine a call that
    /// loses its core for longer than the 50 ms deadline is stopped: that is counted, not
    /// hidden, and does not end the run.
    failed: usize,
    first_failure: Option<String>,
}

/// Times `CALLS` calls of `f` after `WARM_UP` untimed ones.
fn time_calls<E: std::fmt::Display>(mut f: impl FnMut() -> Result<(), E>) -> Samples {
    for _ in 0..WARM_UP {
        let _ = f();
    }
    let stat = SchedStat::open();
    let mut samples = Samples::default();
    for _ in 0..CALLS {
        let scheduled = stat.as_ref().map(SchedStat::times_scheduled);
        let cpu = thread_cpu_time();
        let started = Instant::now();
        let outcome = f();
        let took = started.elapsed();
        if let Err(e) = outcome {
            samples.failed += 1;
            samples.first_failure.get_or_insert_with(|| e.to_string());
        }
        samples.on_cpu.push(thread_cpu_time().saturating_sub(cpu));
        samples.wall.push(took);
        if let (Some(stat), Some(before)) = (&stat, scheduled)
            && stat.times_scheduled() != before
        {
            samples.switched_out += 1;
        }
    }
    samples
}

struct Row {
    what: String,
    n: usize,
    p50: Duration,
    p90: Duration,
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
        p90: at(0.9),
        p99: at(0.99),
        max: *samples.last().unwrap(),
        target: target.to_string(),
    }
}

/// A wall-clock row and, when the kernel gave us the figures, its on-CPU twin.
fn call_rows(rows: &mut Vec<Row>, notes: &mut Vec<String>, what: &str, mut s: Samples) {
    rows.push(row(&format!("{what}, wall"), &mut s.wall, CALL_TARGET));
    rows.push(row(&format!("{what}, on-CPU"), &mut s.on_cpu, "-"));
    notes.push(format!(
        "{what}: the thread lost its core during {} of {} calls; {} calls failed{}",
        s.switched_out,
        CALLS,
        s.failed,
        s.first_failure
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    ));
}

fn fmt(d: Duration) -> String {
    if d >= Duration::from_millis(10) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The benchmark's order: the 20-line fixture, built by the canonical loader exactly as the
/// golden tests and `ledgerlink plugin test` build it.
fn fixture_order() -> (Context, MappingTables, Order) {
    let path = workspace().join(FIXTURE);
    let fixture = Fixture::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let input = fixture
        .input()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let FixtureCall::MapOrder {
        ctx,
        order,
        shipment: None,
    } = input
    else {
        panic!("{FIXTURE} is not a map-order fixture without a shipment");
    };
    assert_eq!(order.lines.len(), 20, "{FIXTURE} must have 20 lines");
    (ctx, fixture.tables, order)
}

/// The standard plugin, or the component `LEDGERLINK_BENCH_PLUGIN` names (to compare builds).
fn standard_path() -> PathBuf {
    std::env::var_os("LEDGERLINK_BENCH_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| guest("ledgerlink_standard"))
}

fn load_standard(runtime: &Runtime) -> LoadedPlugin {
    runtime
        .load_file(&standard_path(), PluginLimits::default())
        .expect("the standard plugin loads")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--only-map-order") {
        let n = args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000);
        return only_map_order(n);
    }

    let load_at_start = load_average();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");

    // 1. map-order, fresh instance + call, standard plugin, the 20-line fixture order.
    let standard = Arc::new(load_standard(&runtime));
    let (ctx, tables, order20) = fixture_order();
    let mapped = standard
        .map_order(&ctx, &tables, &order20, None)
        .expect("the standard plugin maps the 20-line fixture order");
    let (kind, lines_out) = match &mapped.value {
        SalesDocument::SalesOrder(so) => ("sales order", so.lines.len()),
        SalesDocument::Invoice(inv) => ("invoice", inv.lines.len()),
    };
    notes.push(format!(
        "{FIXTURE}: {} lines in, a {kind} of {lines_out} lines out, plugin {}",
        order20.lines.len(),
        mapped.provenance
    ));
    let samples = time_calls(|| {
        standard
            .map_order(&ctx, &tables, &order20, None)
            .map(|mapped| {
                std::hint::black_box(mapped);
            })
    });
    call_rows(
        &mut rows,
        &mut notes,
        "map-order 20 lines, standard plugin (fresh instance + call)",
        samples,
    );

    // 1b. The floor under every call: a fresh instance and the trivial `info` export.
    let samples = time_calls(|| {
        standard.info(&tables).map(|info| {
            std::hint::black_box(info);
        })
    });
    call_rows(
        &mut rows,
        &mut notes,
        "floor: fresh instance + info() (no mapping work)",
        samples,
    );

    // 1c. The same map-order from async code through the blocking pool.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut samples, failed): (Vec<Duration>, usize) = tokio.block_on(async {
        let mut out = Vec::with_capacity(CALLS);
        let mut failed = 0;
        for i in 0..CALLS + WARM_UP {
            let (order, ctx, tables) = (order20.clone(), ctx.clone(), tables.clone());
            let started = Instant::now();
            let ok = standard
                .run_blocking(move |p| p.map_order(&ctx, &tables, &order, None).is_ok())
                .await;
            if i >= WARM_UP {
                out.push(started.elapsed());
                failed += usize::from(!ok);
            }
        }
        (out, failed)
    });
    notes.push(format!(
        "map-order via run_blocking: {failed} of {CALLS} calls failed"
    ));
    rows.push(row(
        "map-order 20 lines via run_blocking (incl. clones + spawn_blocking), wall",
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
    let standard_path = standard_path();
    let started = Instant::now();
    cached
        .load_file(&standard_path, PluginLimits::default())
        .unwrap();
    notes.push(format!(
        "first load of the standard plugin (compile + write cache): {}",
        fmt(started.elapsed())
    ));
    let mut samples: Vec<Duration> = (0..LOADS)
        .map(|_| {
            let started = Instant::now();
            let plugin = cached
                .load_file(&standard_path, PluginLimits::default())
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
    let (mut visible, failed, total, slowest, first_failure) = swap_under_load();
    rows.push(row(
        "hot swap: drop in watched dir → new calls see it",
        &mut visible,
        "≤ 1 s",
    ));

    println!();
    println!("load average at start (1/5/15 min): {load_at_start}");
    println!();
    println!("| measure | n | p50 | p90 | p99 | max | target |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.what,
            r.n,
            fmt(r.p50),
            fmt(r.p90),
            fmt(r.p99),
            fmt(r.max),
            r.target
        );
    }
    println!();
    println!(
        "hot swap: {failed} failed calls of {total} during {SWAPS} swaps (target 0){}; slowest call meanwhile {}",
        first_failure
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        fmt(slowest)
    );
    for note in notes {
        println!("note: {note}");
    }
    println!("load average at end: {}", load_average());
}

/// Only map-order calls, no output: a steady loop to profile.
fn only_map_order(n: usize) {
    // One pool slot: valgrind cannot reserve the default pool's terabyte of address space.
    let runtime = Runtime::new(RuntimeConfig {
        max_concurrent_instances: 1,
        ..RuntimeConfig::default()
    })
    .expect("runtime");
    let standard = load_standard(&runtime);
    let (ctx, tables, order20) = fixture_order();
    for _ in 0..n {
        let result = standard.map_order(&ctx, &tables, &order20, None);
        assert!(result.is_ok(), "{:?}", result.err());
    }
}

/// Swaps the test probe and its twin (two builds of one test mapping) under two callers:
/// time until visible, failed calls, total calls, slowest call, the first failure.
fn swap_under_load() -> (Vec<Duration>, u64, u64, Duration, Option<String>) {
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
    let first_failure = Arc::new(Mutex::new(None::<String>));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (registry, stop, failed, total, slowest, first_failure) = (
                registry.clone(),
                stop.clone(),
                failed.clone(),
                total.clone(),
                slowest.clone(),
                first_failure.clone(),
            );
            std::thread::spawn(move || {
                let (ctx, tables, order) =
                    (order::context(&[]), order::tables(), order::order(1, 20));
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let plugin = registry.plugin_for("le-1").expect("bound");
                    if let Err(e) = plugin.map_order(&ctx, &tables, &order, None) {
                        failed.fetch_add(1, Ordering::Relaxed);
                        let mut first = first_failure.lock().unwrap();
                        first.get_or_insert_with(|| e.to_string());
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
        first_failure.lock().unwrap().take(),
    )
}
