//! Visma simulator throughput: invoice create and list over real HTTP on 127.0.0.1.
//!
//! Run: `cargo bench -p ledgerlink-sim --bench visma` (add `-- --quick` for a short run).
//! Prints, per scenario, requests, wall time, throughput and latency median / p99.

use std::time::{Duration, Instant};

use ledgerlink_sim::visma::{self, Config, GUEST_CUSTOMER};
use serde_json::{Value, json};

fn v(x: impl Into<Value>) -> Value {
    json!({ "value": x.into() })
}

fn invoice(i: usize) -> Value {
    json!({
        "customerNumber": v(GUEST_CUSTOMER),
        "externalReference": v(format!("BENCH-{i}")),
        "invoiceLines": [
            {"inventoryNumber": v("LL-MUG-01"), "quantity": v(2), "unitPriceInCurrency": v(99.5)},
            {"inventoryNumber": v("LL-COFFEE-500"), "quantity": v(1), "unitPriceInCurrency": v(119)},
        ],
    })
}

struct Row {
    name: String,
    requests: usize,
    wall: Duration,
    latencies: Vec<Duration>,
}

impl Row {
    fn print(&mut self) {
        self.latencies.sort();
        let pct = |p: f64| {
            let idx = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies[idx].as_secs_f64() * 1000.0
        };
        println!(
            "| {:<44} | {:>8} | {:>8.2} | {:>10.0} | {:>9.2} | {:>9.2} |",
            self.name,
            self.requests,
            self.wall.as_secs_f64(),
            self.requests as f64 / self.wall.as_secs_f64(),
            pct(0.5),
            pct(0.99)
        );
    }
}

/// Runs `total` requests from `concurrency` tasks; `make(i)` builds request i.
async fn run<F>(name: &str, total: usize, concurrency: usize, make: F) -> Row
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = std::sync::Arc::new(make);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = worker;
            while i < total {
                let t = Instant::now();
                let resp = make(i).send().await.expect("request");
                let status = resp.status();
                let _ = resp.bytes().await;
                assert!(status.is_success(), "{status}");
                lat.push(t.elapsed());
                i += concurrency;
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Row {
        name: name.to_string(),
        requests: total,
        wall: started.elapsed(),
        latencies,
    }
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let creates = if quick { 300 } else { 3000 };
    let lists = if quick { 50 } else { 300 };
    let sim = visma::start(Config::default()).await.expect("start");
    let info = sim.info().clone();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(&info.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("tenant_id", info.tenants[0].tenant_id.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let base = info.erp_base_url.clone();

    println!(
        "| {:<44} | {:>8} | {:>8} | {:>10} | {:>9} | {:>9} |",
        "scenario", "requests", "wall s", "req/s", "p50 ms", "p99 ms"
    );
    println!(
        "|{:-<46}|{:->10}|{:->10}|{:->12}|{:->11}|{:->11}|",
        "", "", "", "", "", ""
    );
    for concurrency in [1, 8] {
        let (h, b, t) = (http.clone(), base.clone(), token.clone());
        let offset = concurrency * 1_000_000;
        let mut row = run(
            &format!("create invoice (c={concurrency})"),
            creates,
            concurrency,
            move |i| {
                h.post(format!("{b}/v2/customerinvoice"))
                    .bearer_auth(&t)
                    .json(&invoice(offset + i))
            },
        )
        .await;
        row.print();
    }
    let total_docs = creates * 2;
    for (name, query) in [
        (
            "list invoices page of 100",
            "pageNumber=1&pageSize=100".to_string(),
        ),
        (
            "list by externalReference",
            format!("externalReference=BENCH-{}", 1_000_000 + creates / 2),
        ),
    ] {
        let (h, b, t) = (http.clone(), base.clone(), token.clone());
        let mut row = run(
            &format!("{name} ({total_docs} docs, c=8)"),
            lists,
            8,
            move |_| {
                h.get(format!("{b}/v1/customerinvoice?{query}"))
                    .bearer_auth(&t)
            },
        )
        .await;
        row.print();
    }
    sim.shutdown().await;
}
