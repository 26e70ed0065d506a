//! BigCommerce simulator throughput: requests per second for `GET /v2/orders/{id}` and
//! `GET /v2/orders?limit=50` on the demo store (+1000 extra orders), quota off.
//!
//! Run: `cargo bench -p ledgerlink-sim --bench bigcommerce` (add `-- --quick` for a short run).
//! Prints a table of medians over rounds, with p50/p99 request latency.

use std::time::{Duration, Instant};

use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::{Config, start};
use serde_json::json;

const CONCURRENCY: usize = 16;

struct Round {
    rps: f64,
    latencies: Vec<Duration>,
}

async fn round(client: &reqwest::Client, token: &str, urls: &[String], length: Duration) -> Round {
    let deadline = Instant::now() + length;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let client = client.clone();
        let token = token.to_string();
        let urls = urls.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = w;
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = client
                    .get(&urls[i % urls.len()])
                    .header("x-auth-token", &token)
                    .send()
                    .await
                    .expect("request");
                assert!(r.status().is_success(), "status {}", r.status());
                r.bytes().await.expect("body");
                lat.push(t.elapsed());
                i += CONCURRENCY;
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("worker"));
    }
    let secs = started.elapsed().as_secs_f64();
    Round {
        rps: latencies.len() as f64 / secs,
        latencies,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, length) = if quick {
        (3, Duration::from_millis(500))
    } else {
        (5, Duration::from_secs(2))
    };
    let sim = start(Config {
        seed: Seed::Demo,
        quota: None,
        ..Config::default()
    })
    .await
    .expect("simulator");
    let info = sim.info().clone();
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    // Grow the store to > 1000 orders so list pages are full and realistic.
    for i in 0..1000 {
        let r = client
            .post(format!("{}/v2/orders", info.base_url))
            .header("x-auth-token", &info.auth_token)
            .json(&json!({"status_id": 11, "billing_address": {"first_name": "B", "last_name": "N", "country": "Sweden", "country_iso2": "SE", "email": format!("b{i}@example.se")},
                          "shipping_addresses": [{"first_name": "B", "last_name": "N", "country": "Sweden", "country_iso2": "SE"}],
                          "products": [{"name": "Bench item", "quantity": 1 + i % 3, "price_inc_tax": 125}], "shipping_cost_inc_tax": 49}))
            .send()
            .await
            .expect("create order");
        assert!(r.status().is_success());
    }
    let get_urls: Vec<String> = (100..1100)
        .map(|id| format!("{}/v2/orders/{id}", info.base_url))
        .collect();
    let list_urls: Vec<String> = (1..=20)
        .map(|p| format!("{}/v2/orders?limit=50&page={p}", info.base_url))
        .collect();
    println!(
        "BigCommerce simulator, {CONCURRENCY} concurrent clients, {rounds} rounds × {:.1} s, quota off",
        length.as_secs_f64()
    );
    println!(
        "{:<28} {:>12} {:>10} {:>10}",
        "endpoint", "median rps", "p50 ms", "p99 ms"
    );
    for (name, urls) in [
        ("GET /v2/orders/{id}", &get_urls),
        ("GET /v2/orders?limit=50", &list_urls),
    ] {
        round(&client, &info.auth_token, urls, Duration::from_millis(200)).await; // warm-up
        let mut rps = Vec::new();
        let mut lat = Vec::new();
        for _ in 0..rounds {
            let r = round(&client, &info.auth_token, urls, length).await;
            rps.push(r.rps);
            lat.extend(r.latencies);
        }
        let p50 = percentile(&mut lat, 0.50);
        let p99 = percentile(&mut lat, 0.99);
        println!(
            "{:<28} {:>12.0} {:>10.2} {:>10.2}",
            name,
            median(rps),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    sim.shutdown().await;
}
