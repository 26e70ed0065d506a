//! Client throughput at BigCommerce's default quota (150 requests per window) against the
//! simulator, as a share of the quota, with 429s counted on both sides.
//!
//! The window is shortened from 30 s to 3 s so a run takes about two minutes; the budget
//! logic does not depend on the window length (a shorter window only makes the simulator's
//! latency a larger share of it). Each level runs for 5 windows with N workers issuing order
//! list / order GET requests back to back through one shared client.
//!
//! Run: `cargo bench -p ledgerlink-bigcommerce --bench client`
//! Options after `--`: `--window-ms N` (e.g. 30000 for the real window), `--windows N`,
//! `--latency-ms N` (the simulator delays every answer, as a distant API would),
//! `--max-in-flight N` (the client's cap on concurrent requests, default from `ClientConfig`).

use futures::future::join_all;
use hdrhistogram::Histogram;
use ledgerlink_bigcommerce::models::{BillingAddress, NewOrder, NewOrderProduct, OrderFilter};
use ledgerlink_bigcommerce::{Client, ClientConfig};
use ledgerlink_core::BcOrderId;
use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::{Config, Faults};
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const QUOTA: u32 = 150;

/// What one run measures.
#[derive(Debug, Clone, Copy)]
struct Setup {
    window: Duration,
    windows: u32,
    latency_ms: u64,
    max_in_flight: Option<usize>,
}

struct Row {
    workers: usize,
    requests: u64,
    client_429: u64,
    sim_429: u64,
    utilisation: f64,
    median_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

async fn run_level(setup: Setup, workers: usize) -> Row {
    let sim = ledgerlink_sim::bigcommerce::start(Config {
        seed: Seed::Empty,
        quota: Some(QUOTA),
        window: setup.window,
        ..Config::default()
    })
    .await
    .expect("simulator starts");
    let info = sim.info().clone();
    let mut cfg = ClientConfig::new(info.base_url.clone(), info.auth_token.clone());
    cfg.rate_window = setup.window;
    if let Some(n) = setup.max_in_flight {
        cfg.max_in_flight = n;
    }
    let client = Client::new(cfg).expect("client");
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(client.create_order(&order(i)).await.expect("order").id);
    }
    sim.set_faults(Faults {
        latency_ms: setup.latency_ms,
        ..Faults::default()
    });
    // Start measuring on a fresh window.
    tokio::time::sleep(setup.window + Duration::from_millis(50)).await;
    let before = client.stats();
    let sim_before = sim.stats()["rate_limited"].as_u64().unwrap_or(0);
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let start = Instant::now();
    let deadline = start + setup.window * setup.windows;
    let tasks = (0..workers).map(|w| {
        let client = client.clone();
        let hist = hist.clone();
        let ids = ids.clone();
        async move {
            let mut n = w;
            while Instant::now() < deadline {
                let t = Instant::now();
                if n % 2 == 0 {
                    let id: BcOrderId = ids[n % ids.len()];
                    client.get_order(id).await.expect("get order");
                } else {
                    client
                        .v2_page::<serde_json::Value>(
                            "/v2/orders",
                            &OrderFilter::default().to_query(),
                            1,
                            10,
                        )
                        .await
                        .expect("list orders");
                }
                // Only requests sent and answered inside the measured windows count.
                if Instant::now() <= deadline {
                    hist.lock()
                        .unwrap()
                        .record(t.elapsed().as_micros() as u64)
                        .unwrap();
                }
                n += workers;
            }
        }
    });
    join_all(tasks).await;
    let after = client.stats();
    let sim_after = sim.stats()["rate_limited"].as_u64().unwrap_or(0);
    let row = {
        let h = hist.lock().unwrap();
        let requests = h.len();
        Row {
            workers,
            requests,
            client_429: after.rate_limited - before.rate_limited,
            sim_429: sim_after - sim_before,
            utilisation: requests as f64 / f64::from(QUOTA * setup.windows),
            median_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
            p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
            max_ms: h.max() as f64 / 1000.0,
        }
    };
    sim.shutdown().await;
    row
}

fn order(n: u64) -> NewOrder {
    NewOrder {
        billing_address: BillingAddress {
            first_name: "Bench".into(),
            country_iso2: "SE".into(),
            country: "Sweden".into(),
            email: format!("bench{n}@example.com"),
            ..Default::default()
        },
        products: vec![NewOrderProduct {
            name: Some("Bench item".into()),
            quantity: 1,
            price_ex_tax: Some(Decimal::new(8000, 2)),
            price_inc_tax: Some(Decimal::new(10000, 2)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    let value = args.get(at + 1)?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} needs a whole number, got {value:?}")),
    )
}

fn main() {
    let setup = Setup {
        window: Duration::from_millis(arg("--window-ms").unwrap_or(3000)),
        windows: arg("--windows").map_or(5, |n| n as u32),
        latency_ms: arg("--latency-ms").unwrap_or(0),
        max_in_flight: arg("--max-in-flight").map(|n| n as usize),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "BigCommerce client at the default quota ({QUOTA} requests / window, window shortened to {} ms, {} windows per row, simulator latency {} ms, max in flight {})",
        setup.window.as_millis(),
        setup.windows,
        setup.latency_ms,
        setup
            .max_in_flight
            .unwrap_or_else(|| ClientConfig::new("", "").max_in_flight)
    );
    println!(
        "{:>7} {:>9} {:>10} {:>8} {:>12} {:>10} {:>9} {:>9}",
        "workers",
        "requests",
        "client429",
        "sim429",
        "utilisation",
        "median_ms",
        "p99_ms",
        "max_ms"
    );
    for workers in [1, 4, 16, 32, 64] {
        let r = rt.block_on(run_level(setup, workers));
        println!(
            "{:>7} {:>9} {:>10} {:>8} {:>11.1}% {:>10.2} {:>9.1} {:>9.1}",
            r.workers,
            r.requests,
            r.client_429,
            r.sim_429,
            r.utilisation * 100.0,
            r.median_ms,
            r.p99_ms,
            r.max_ms
        );
    }
}
