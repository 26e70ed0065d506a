//! End-to-end throughput and latency: orders created in the BigCommerce simulator (rate
//! limits off) → webhook → host (SQLite, standard plugin) → Visma invoice → write-back.
//!
//! `cargo bench -p ledgerlink --bench e2e`. Each run starts fresh simulators and a fresh host
//! and measures two phases:
//! - **burst**: `E2E_ORDERS` orders (default 1000) created as fast as the simulator takes
//!   them; orders/s = orders ÷ time until the last invoice is recorded (and until every job,
//!   write-backs and their echo webhooks included, has finished);
//! - **steady**: orders created at `E2E_RATE` per second (default 1000, the goal) for
//!   `E2E_STEADY_SECS` seconds (default 3); latency from the order's creation in BigCommerce to
//!   its Visma invoice being recorded by the host (the identity map row written right after
//!   Visma's answer), p50/p99.
//!
//! The simulators and the load driver run on a runtime of their own (threads named
//! `ledgerlink-sim`), on the same cores as the host, so the table also splits the CPU time per
//! order between the host and the rest: the host's figure is what an order costs a production
//! host, where BigCommerce and Visma run elsewhere.
//!
//! `E2E_RUNS` runs (default 3); the table shows every run and the median. `E2E_DATABASE_URL`
//! (a `postgres://` URL of an empty database; use `E2E_RUNS=1` and a fresh database per run)
//! puts the store on PostgreSQL instead of a SQLite file. Other knobs:
//! `E2E_WORKERS` (default 16). Each run is a fresh process (the bench runs itself again), so
//! peak RSS is what one run of the host + both simulators needs, not what earlier runs left
//! in the allocator; `E2E_SAME_PROCESS=1` runs them all in this process instead (the peak is
//! then reset at the start of each run, and each run prints the RSS it starts from). Diagnostics: `E2E_TRACE=1` prints the audit timeline of the three
//! slowest steady orders, `E2E_LOG=sqlx=debug` writes the host's logs (every SQL statement
//! with its time) to `e2e-log.jsonl`, `E2E_KEEP_DB=1` keeps the database.

use hdrhistogram::Histogram;
use ledgerlink::app::{App, AppOptions};
use ledgerlink::cli::sandbox::sandbox_config;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A `kB` figure of `/proc/self/status` (`VmHWM`, `VmRSS`, …) in MB.
fn status_mb(field: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

// The allocator the `ledgerlink` binary runs with (src/main.rs), so the bench measures it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mb() -> Option<f64> {
    status_mb("VmHWM:")
}

/// Threads of this process, from `/proc/self/status`.
fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    ledgerlink::alloc::tune();
    // `E2E_LOG=<filter>` (e.g. `sqlx=debug`) writes the host's logs as JSON lines to
    // `e2e-log.jsonl`, for finding where the time goes.
    if let Ok(filter) = std::env::var("E2E_LOG") {
        let file = std::fs::File::create("e2e-log.jsonl")?;
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The simulators and the load driver run on their own runtime, on threads named
    // `SIM_THREAD`, so the CPU they use can be told apart from the host's (see `Cpu`).
    let sims = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SIM_THREAD)
        .enable_all()
        .build()?;
    let result = rt.block_on(run_all(sims.handle().clone()));
    sims.shutdown_background();
    result
}

/// Thread name of the simulators' and load driver's runtime (at most 15 bytes: Linux cuts
/// thread names there).
const SIM_THREAD: &str = "ledgerlink-sim";

/// CPU time used so far (user + system), in seconds: by the whole process (threads that
/// already exited included), and by the threads named [`SIM_THREAD`]. The host's share is the
/// difference: its runtime, SQLite's worker threads, the plugin runtime's threads.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    process: f64,
    sims: f64,
}

impl Cpu {
    fn now() -> Cpu {
        // utime and stime: fields 14 and 15 of `stat`, in clock ticks (100 per second on
        // Linux), after the parenthesised command name.
        fn ticks(stat: &str) -> Option<f64> {
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        }
        let process = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| ticks(&s))
            .unwrap_or(0.0);
        let mut sims = 0.0;
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for t in tasks.flatten() {
                let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
                if comm.trim_end() == SIM_THREAD {
                    let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
                    sims += ticks(&stat).unwrap_or(0.0);
                }
            }
        }
        Cpu { process, sims }
    }

    fn since(self, start: Cpu) -> Cpu {
        Cpu {
            process: self.process - start.process,
            sims: self.sims - start.sims,
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct RunResult {
    burst_orders: usize,
    burst_synced: usize,
    /// Orders per second until the last invoice was recorded.
    burst_to_invoice: f64,
    /// Orders per second until every job (write-backs, echo webhooks) had finished.
    burst_with_writeback: f64,
    steady_rate: usize,
    steady_orders: usize,
    steady_synced: usize,
    /// Orders per second the steady phase achieved (creation start → last invoice).
    steady_achieved: f64,
    p50_ms: u64,
    p99_ms: u64,
    max_ms: u64,
    /// Peak resident memory of this run (the peak is reset when a run starts).
    peak_rss_mb: f64,
    /// CPU time per order (both phases, webhook ingestion, jobs, write-backs and their echo
    /// webhooks included) used by the host: what one order costs a production host.
    host_cpu_ms: f64,
    /// CPU time per order used by the two simulators and the load driver.
    sims_cpu_ms: f64,
}

async fn run_all(sims: tokio::runtime::Handle) -> anyhow::Result<()> {
    let runs = env_num("E2E_RUNS", 3).max(1);
    let workers = env_num("E2E_WORKERS", 16);
    let plugin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/release/ledgerlink_standard.wasm");
    anyhow::ensure!(
        plugin.exists(),
        "build the standard plugin first (scripts/wasm-plugins.sh)"
    );
    let child = std::env::var_os(CHILD_ENV).is_some();
    let same_process = child || std::env::var_os("E2E_SAME_PROCESS").is_some();
    let mut results = Vec::new();
    for i in 0..runs {
        let r = if same_process {
            one_run(&plugin, workers, &sims).await?
        } else {
            run_in_child().await?
        };
        if child {
            // The parent reads this line; everything else goes to stderr.
            println!("{RESULT_PREFIX}{}", serde_json::to_string(&r)?);
            return Ok(());
        }
        eprintln!("run {}: {r:?}", i + 1);
        results.push(r);
    }
    print_table(&results, workers);
    Ok(())
}

const CHILD_ENV: &str = "E2E_CHILD";
const RESULT_PREFIX: &str = "e2e-result ";

/// One run in a fresh process: this bench again, told to do one run and print its result.
async fn run_in_child() -> anyhow::Result<RunResult> {
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, "1")
        .stderr(std::process::Stdio::inherit())
        .output()
        .await?;
    anyhow::ensure!(out.status.success(), "the run failed: {}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .ok_or_else(|| anyhow::anyhow!("the run printed no result: {stdout}"))?;
    Ok(serde_json::from_str(line)?)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The value of one run.
type Metric = fn(&RunResult) -> f64;

/// Name, unit, the value of one run, target, decimals shown.
type TableRow = (&'static str, &'static str, Metric, &'static str, usize);

/// Cores this machine has: the host alone could use them all.
fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// One row of the table: each run's value and their median.
fn print_row(results: &[RunResult], (name, unit, get, target, decimals): &TableRow) {
    let values: Vec<f64> = results.iter().map(get).collect();
    let mut line = format!("| {name} |");
    for v in &values {
        line.push_str(&format!(" {v:.decimals$}{unit} |"));
    }
    line.push_str(&format!(
        " **{:.decimals$}{unit}** | {target} |",
        median(values)
    ));
    println!("{line}");
}

fn print_table(results: &[RunResult], workers: usize) {
    let first = results[0];
    println!(
        "\nend to end, {} runs; {workers} workers; burst {} orders; steady {} orders/s offered for {} orders",
        results.len(),
        first.burst_orders,
        first.steady_rate,
        first.steady_orders
    );
    let rows: [TableRow; 6] = [
        (
            "burst: orders/s to Visma invoice",
            "",
            |r| r.burst_to_invoice,
            "≥ 1,000",
            0,
        ),
        (
            "burst: orders/s incl. write-back",
            "",
            |r| r.burst_with_writeback,
            "—",
            0,
        ),
        (
            "steady: orders/s achieved",
            "",
            |r| r.steady_achieved,
            "= offered",
            0,
        ),
        (
            "steady: p50 order→Visma invoice",
            " ms",
            |r| r.p50_ms as f64,
            "—",
            0,
        ),
        (
            "steady: p99 order→Visma invoice",
            " ms",
            |r| r.p99_ms as f64,
            "≤ 250 ms",
            0,
        ),
        (
            "steady: max order→Visma invoice",
            " ms",
            |r| r.max_ms as f64,
            "—",
            0,
        ),
    ];
    let after: [TableRow; 4] = [
        (
            "peak RSS (host + both simulators)",
            " MB",
            |r| r.peak_rss_mb,
            "≤ 150 MB",
            0,
        ),
        ("host CPU per order", " ms", |r| r.host_cpu_ms, "—", 2),
        (
            "simulators + load driver CPU per order",
            " ms",
            |r| r.sims_cpu_ms,
            "—",
            2,
        ),
        (
            "host capacity alone (cores ÷ host CPU per order)",
            "/s",
            |r| cores() * 1e3 / r.host_cpu_ms.max(1e-9),
            "≥ 1,000",
            0,
        ),
    ];
    let mut header = String::from("| metric |");
    let mut rule = String::from("|---|");
    for i in 0..results.len() {
        header.push_str(&format!(" run {} |", i + 1));
        rule.push_str("---|");
    }
    header.push_str(" median | target |");
    rule.push_str("---|---|");
    println!("{header}\n{rule}");
    for row in &rows {
        print_row(results, row);
    }
    let mut lost = String::from("| orders not synced |");
    let mut total_lost = 0;
    for r in results {
        let n = (r.burst_orders - r.burst_synced) + (r.steady_orders - r.steady_synced);
        total_lost += n;
        lost.push_str(&format!(" {n} |"));
    }
    lost.push_str(&format!(" **{total_lost}** (sum) | 0 |"));
    println!("{lost}");
    for row in &after {
        print_row(results, row);
    }
}

async fn one_run(
    plugin: &Path,
    workers: usize,
    sims: &tokio::runtime::Handle,
) -> anyhow::Result<RunResult> {
    let burst_orders = env_num("E2E_ORDERS", 1000);
    let rate = env_num("E2E_RATE", 1000).max(1);
    let steady_secs = env_num("E2E_STEADY_SECS", 3).max(1);

    eprintln!(
        "run start: RSS {:.0} MB, {} threads",
        status_mb("VmRSS:").unwrap_or(f64::NAN),
        threads()
    );
    // "5" resets the peak (VmHWM) to the current size, so each run reports its own peak.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let bc = sims
        .spawn(ledgerlink_sim::bigcommerce::start(
            ledgerlink_sim::bigcommerce::Config {
                quota: None,
                seed: ledgerlink_sim::Seed::Empty,
                webhook_time_scale: 0.001,
                ..Default::default()
            },
        ))
        .await??;
    let visma = sims
        .spawn(ledgerlink_sim::visma::start(
            ledgerlink_sim::visma::Config::default(),
        ))
        .await??;
    let dir = tempfile::tempdir()?;
    let mut config = sandbox_config(
        bc.info(),
        visma.info(),
        dir.path(),
        plugin,
        "127.0.0.1:0".parse()?,
        workers,
    );
    // `E2E_DATABASE_URL=postgres://…` runs the store on PostgreSQL: an empty database per run
    // (order ids restart with each fresh simulator, so an earlier run's rows would be taken
    // for this run's orders).
    if let Ok(url) = std::env::var("E2E_DATABASE_URL") {
        config.host.database_url = Some(url);
    }
    config.host.poll_interval_secs = 0;
    config.host.stock_interval_secs = 0;
    config.host.payment_interval_secs = 0;
    let app = App::start(config, AppOptions::default()).await?;
    let http = reqwest::Client::new();
    let base = bc.info().base_url.clone();
    let token = bc.info().auth_token.clone();
    let store_hash = bc.info().store_hash.clone();

    // One product the Visma demo company also has.
    let product: Value = http
        .post(format!("{base}/v3/catalog/products"))
        .header("X-Auth-Token", &token)
        .json(&serde_json::json!({"name": "Enamel Camp Mug", "type": "physical", "sku": "LL-MUG-01",
                                  "price": 149, "weight": 0.3, "tax_class_id": 0, "inventory_tracking": "none"}))
        .send()
        .await?
        .json()
        .await?;
    let product_id = product["data"]["id"].as_u64().unwrap_or(0);
    let maker = Arc::new(OrderMaker {
        http: http.clone(),
        url: format!("{base}/v2/orders"),
        token,
        product_id,
    });

    // Burst.
    let cpu_start = Cpu::now();
    let start = Instant::now();
    let burst_started = SystemTime::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..burst_orders {
        let (maker, sem) = (maker.clone(), sem.clone());
        tasks.spawn_on(
            async move {
                let _p = sem.acquire().await;
                maker.create(i).await
            },
            sims,
        );
    }
    let mut burst_ids = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        let (id, at) = r??;
        burst_ids.insert(id, at);
    }
    let invoices = wait_for_invoices(&app, &store_hash, &burst_ids).await?;
    let last = invoices.values().max().copied().unwrap_or(burst_started);
    let to_invoice = last
        .duration_since(burst_started)
        .unwrap_or_default()
        .as_secs_f64();
    let with_writeback = drain(&app).await?.duration_since(start).as_secs_f64();

    // Steady: one order every 1/rate seconds, each on its own task so a slow answer does not
    // hold the pace back.
    let steady_orders = rate * steady_secs;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let steady_started = SystemTime::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..steady_orders {
        tick.tick().await;
        let maker = maker.clone();
        tasks.spawn_on(async move { maker.create(burst_orders + i).await }, sims);
    }
    let mut steady_ids = HashMap::new();
    while let Some(r) = tasks.join_next().await {
        let (id, at) = r??;
        steady_ids.insert(id, at);
    }
    let steady_invoices = wait_for_invoices(&app, &store_hash, &steady_ids).await?;
    let mut hist = Histogram::<u64>::new(3)?;
    for (id, recorded) in &steady_invoices {
        let created = steady_ids[id];
        hist.record(
            recorded
                .duration_since(created)
                .unwrap_or_default()
                .as_millis() as u64,
        )?;
    }
    let steady_last = steady_invoices
        .values()
        .max()
        .copied()
        .unwrap_or(steady_started);
    let steady_secs_taken = steady_last
        .duration_since(steady_started)
        .unwrap_or_default()
        .as_secs_f64();
    drain(&app).await?;
    let cpu = Cpu::now().since(cpu_start);
    let orders = (burst_orders + steady_orders) as f64;
    if std::env::var_os("E2E_TRACE").is_some() {
        trace_slowest(&app, &steady_ids, &steady_invoices).await?;
    }

    let db_bytes: u64 = ["ledgerlink.sqlite", "ledgerlink.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.path().join(f)).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "database + WAL after the run: {:.1} MB ({:.1} kB per order)",
        db_bytes as f64 / 1e6,
        db_bytes as f64 / 1e3 / (burst_orders + steady_orders) as f64
    );
    app.shutdown().await?;
    if std::env::var_os("E2E_KEEP_DB").is_some() {
        eprintln!("database kept in {}", dir.keep().display());
    }
    bc.shutdown().await;
    visma.shutdown().await;
    Ok(RunResult {
        burst_orders,
        burst_synced: invoices.len(),
        burst_to_invoice: invoices.len() as f64 / to_invoice.max(1e-9),
        burst_with_writeback: invoices.len() as f64 / with_writeback.max(1e-9),
        steady_rate: rate,
        steady_orders,
        steady_synced: steady_invoices.len(),
        steady_achieved: steady_invoices.len() as f64 / steady_secs_taken.max(1e-9),
        p50_ms: hist.value_at_quantile(0.5),
        p99_ms: hist.value_at_quantile(0.99),
        max_ms: hist.max(),
        peak_rss_mb: peak_rss_mb().unwrap_or(f64::NAN),
        host_cpu_ms: (cpu.process - cpu.sims) * 1e3 / orders,
        sims_cpu_ms: cpu.sims * 1e3 / orders,
    })
}

struct OrderMaker {
    http: reqwest::Client,
    url: String,
    token: String,
    product_id: u64,
}

impl OrderMaker {
    /// Creates one paid guest order; its id and when BigCommerce answered.
    async fn create(&self, i: usize) -> anyhow::Result<(u64, SystemTime)> {
        let body = serde_json::json!({
            "status_id": 11, "channel_id": 1, "customer_id": 0,
            "billing_address": {"first_name": "Bench", "last_name": format!("{i}"), "street_1": "Gatan 1",
                "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE", "email": "bench@example.com"},
            "products": [{"product_id": self.product_id, "quantity": 1}],
        });
        let v: Value = self
            .http
            .post(&self.url)
            .header("X-Auth-Token", &self.token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = v["id"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("order create answered without an id: {v}"))?;
        Ok((id, SystemTime::now()))
    }
}

/// Waits (up to 3 minutes) until every order in `orders` has its invoice in the identity map;
/// returns when each was recorded.
async fn wait_for_invoices(
    app: &App,
    store_hash: &str,
    orders: &HashMap<u64, SystemTime>,
) -> anyhow::Result<HashMap<u64, SystemTime>> {
    let deadline = Instant::now() + Duration::from_secs(180);
    let prefix = format!("{store_hash}:");
    loop {
        let mut found = HashMap::new();
        for (bc_id, _, at) in app.store.identities_of_kind("invoice").await? {
            let Some(id) = bc_id
                .strip_prefix(&prefix)
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if orders.contains_key(&id) {
                found.insert(id, SystemTime::from(at));
            }
        }
        if found.len() == orders.len() || Instant::now() > deadline {
            return Ok(found);
        }
        // Each look reads every invoice identity, and the figures use the times recorded in
        // them, not when this loop saw them: look seldom, to leave the CPU to the host.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Prints where the time of the three slowest orders went: each attempt of each of their
/// jobs and its exchanges, in milliseconds from the order's creation.
async fn trace_slowest(
    app: &App,
    created: &HashMap<u64, SystemTime>,
    recorded: &HashMap<u64, SystemTime>,
) -> anyhow::Result<()> {
    let mut by_latency: Vec<(Duration, u64)> = recorded
        .iter()
        .map(|(id, at)| (at.duration_since(created[id]).unwrap_or_default(), *id))
        .collect();
    by_latency.sort();
    let ms = |t: chrono::DateTime<chrono::Utc>, from: SystemTime| {
        SystemTime::from(t)
            .duration_since(from)
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or_else(|e| -e.duration().as_secs_f64() * 1e3)
    };
    for (latency, id) in by_latency.iter().rev().take(3) {
        let from = created[id];
        eprintln!("order {id}: invoice after {latency:?}");
        for a in app.store.audit_search(&id.to_string()).await?.attempts {
            eprintln!(
                "  {:>8.1} ms  {} {} ({:.1} ms) {}",
                ms(a.started_at, from),
                a.kind,
                a.outcome,
                a.duration_ms,
                a.error_message.unwrap_or_default()
            );
            for x in a.exchanges {
                eprintln!(
                    "  {:>8.1} ms    {} {} {} ({:.1} ms)",
                    ms(x.at, from),
                    x.system,
                    x.method,
                    x.url,
                    x.duration_ms
                );
            }
        }
    }
    Ok(())
}

/// Waits (up to 2 minutes) until no job is pending or running, write-backs and the echo
/// webhooks they cause included, for 300 ms in a row; returns when that idle spell began.
async fn drain(app: &App) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut idle_since: Option<Instant> = None;
    while Instant::now() < deadline {
        if app.store.open_job_count().await? == 0 {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_millis(300) {
                return Ok(since);
            }
        } else {
            idle_since = None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Ok(Instant::now())
}
