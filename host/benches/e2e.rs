//! End-to-end throughput and latency: orders created in the BigCommerce simulator (rate
//! limits off) → webhook → host (SQLite, standard plugin) → Visma invoice → write-back.
//!
//! `cargo bench -p ledgerlink --bench e2e` (env `E2E_ORDERS`, default 500; `E2E_WORKERS`,
//! default 16). Prints a table: orders/s, p50/p99 webhook→Visma latency, peak RSS.

use hdrhistogram::Histogram;
use ledgerlink::app::{App, AppOptions};
use ledgerlink::cli::sandbox::sandbox_config;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let orders = env_num("E2E_ORDERS", 500);
    let workers = env_num("E2E_WORKERS", 16);
    let plugin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/release/ledgerlink_standard.wasm");
    anyhow::ensure!(
        plugin.exists(),
        "build the standard plugin first (scripts/wasm-plugins.sh)"
    );
    let bc = ledgerlink_sim::bigcommerce::start(ledgerlink_sim::bigcommerce::Config {
        quota: None,
        seed: ledgerlink_sim::Seed::Empty,
        webhook_time_scale: 0.001,
        ..Default::default()
    })
    .await?;
    let visma = ledgerlink_sim::visma::start(ledgerlink_sim::visma::Config::default()).await?;
    let dir = tempfile::tempdir()?;
    let mut config = sandbox_config(
        bc.info(),
        visma.info(),
        dir.path(),
        &plugin,
        "127.0.0.1:0".parse()?,
        workers,
    );
    config.host.poll_interval_secs = 0;
    config.host.stock_interval_secs = 0;
    config.host.payment_interval_secs = 0;
    let engine = ledgerlink::engine::EngineConfig {
        poll_interval: Duration::from_millis(20),
        ..Default::default()
    };
    let app = App::start(
        config,
        AppOptions {
            engine: Some(engine),
            ..Default::default()
        },
    )
    .await?;
    let http = reqwest::Client::new();
    let base = bc.info().base_url.clone();
    let token = bc.info().auth_token.clone();

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
    let mut created: HashMap<u64, Instant> = HashMap::new();
    let start = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..orders {
        let (http, base, token, sem) = (http.clone(), base.clone(), token.clone(), sem.clone());
        tasks.spawn(async move {
            let _p = sem.acquire().await;
            let body = serde_json::json!({
                "status_id": 11, "channel_id": 1, "customer_id": 0,
                "billing_address": {"first_name": "Bench", "last_name": format!("{i}"), "street_1": "Gatan 1",
                    "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE", "email": "bench@example.com"},
                "products": [{"product_id": product_id, "quantity": 1}],
            });
            let v: Value = http.post(format!("{base}/v2/orders")).header("X-Auth-Token", token).json(&body).send().await?.json().await?;
            anyhow::Ok((v["id"].as_u64().unwrap_or(0), Instant::now()))
        });
    }
    while let Some(r) = tasks.join_next().await {
        let (id, at) = r??;
        created.insert(id, at);
    }
    let created_in = start.elapsed();

    // Watch Visma for the invoices; first sighting per order gives its latency.
    let mut hist = Histogram::<u64>::new(3)?;
    let mut seen: HashMap<u64, Duration> = HashMap::new();
    let url = format!("{}/__admin/documents", visma.info().erp_base_url);
    let deadline = Instant::now() + Duration::from_secs(180);
    while seen.len() < created.len() && Instant::now() < deadline {
        let docs: Vec<Value> = http.get(&url).send().await?.json().await?;
        let now = Instant::now();
        for d in docs {
            let Some(r) = d["external_reference"].as_str() else {
                continue;
            };
            let Some(id) = r.rsplit(':').next().and_then(|s| s.parse::<u64>().ok()) else {
                continue;
            };
            if let Some(t) = created.get(&id) {
                seen.entry(id)
                    .or_insert_with(|| now.saturating_duration_since(*t));
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = start.elapsed();
    for d in seen.values() {
        hist.record(d.as_millis() as u64)?;
    }
    // Wait for the write-backs to drain, so the measurement covers them.
    let drain_start = Instant::now();
    loop {
        let c = app.store.state_counts().await?;
        if c.pending + c.running == 0 || drain_start.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let with_writeback = start.elapsed();
    println!("| metric | value |");
    println!("|---|---|");
    println!("| orders | {} (synced {}) |", orders, seen.len());
    println!("| workers | {workers} |");
    println!(
        "| creating orders in BigCommerce sim | {:.2} s |",
        created_in.as_secs_f64()
    );
    println!(
        "| orders/s to Visma invoice | {:.1} |",
        seen.len() as f64 / total.as_secs_f64()
    );
    println!(
        "| orders/s incl. write-back | {:.1} |",
        seen.len() as f64 / with_writeback.as_secs_f64()
    );
    println!("| p50 order→Visma | {} ms |", hist.value_at_quantile(0.5));
    println!("| p99 order→Visma | {} ms |", hist.value_at_quantile(0.99));
    println!(
        "| peak RSS (whole process: host + both simulators) | {:.0} MB |",
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    app.shutdown().await?;
    bc.shutdown().await;
    visma.shutdown().await;
    Ok(())
}
