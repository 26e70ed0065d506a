//! Client throughput at BigCommerce's default quota (150 requests per window) against the
//! simulator, as a share of the quota, with 429s counted on both sides.
//!
//! The window is shortened from 30 s to 1 s so a run takes well under a minute; the budget
//! logic does not depend on the window length. Each level runs for 10 windows with N workers
//! issuing order list / order GET requests back to back through one shared client.
//!
//! Run: `cargo bench -p ledgerlink-bigcommerce --bench client`

use futures::future::join_all;
use hdrhistogram::Histogram;
use ledgerlink_bigcommerce::models::{BillingAddress, NewOrder, NewOrderProduct, OrderFilter};
use ledgerlink_bigcommerce::{Client, ClientConfig};
use ledgerlink_core::BcOrderId;
use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::Config;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const QUOTA: u32 = 150;
const WINDOW: Duration = Duration::from_secs(1);
const WINDOWS_PER_RUN: u32 = 10;

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

async fn run_level(workers: usize) -> Row {
    let sim = ledgerlink_sim::bigcommerce::start(Config {
        seed: Seed::Empty,
        quota: Some(QUOTA),
        window: WINDOW,
        ..Config::default()
    })
    .await
    .expect("simulator starts");
    let info = sim.info().clone();
    let mut cfg = ClientConfig::new(info.base_url.clone(), info.auth_token.clone());
    cfg.rate_window = WINDOW;
    let client = Client::new(cfg).expect("client");
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(client.create_order(&order(i)).await.expect("order").id);
    }
    // Start measuring on a fresh window.
    tokio::time::sleep(WINDOW + Duration::from_millis(50)).await;
    let before = client.stats();
    let sim_before = sim.stats()["rate_limited"].as_u64().unwrap_or(0);
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new(3).unwrap()));
    let start = Instant::now();
    let deadline = start + WINDOW * WINDOWS_PER_RUN;
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
            utilisation: requests as f64 / f64::from(QUOTA * WINDOWS_PER_RUN),
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

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "BigCommerce client at the default quota ({QUOTA} requests / window, window shortened to {} ms, {WINDOWS_PER_RUN} windows per row)",
        WINDOW.as_millis()
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
    for workers in [1, 4, 16, 64] {
        let r = rt.block_on(run_level(workers));
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
