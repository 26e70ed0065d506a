//! Client throughput under a rate quota, as a fraction of that quota.
//!
//! Runs the Visma simulator with a quota of Q requests per (short) window and lets W workers
//! share one client for a number of windows. Visma's windows are an hour long and its
//! `X-RateLimit-Reset` is in whole seconds; a 1 s window is the hardest case for the budget,
//! since the reset header then says "1" for the whole window. The goal is ≥ 95 % of the quota used with zero
//! 429 responses: the request budget must neither waste the quota nor overrun it.
//!
//! `cargo bench -p ledgerlink-visma --bench client` (add `-- --quick` for one short row).

use futures::future::join_all;
use hdrhistogram::Histogram;
use ledgerlink_core::{LegalEntityId, VismaDocumentNo, VismaTenantId};
use ledgerlink_sim::visma::{self, GUEST_CUSTOMER, SE_TENANT};
use ledgerlink_visma::dto::{InvoiceLineUpdate, InvoiceUpdate};
use ledgerlink_visma::{ClientSettings, EntityConnection, VismaClient};
use rust_decimal::Decimal;
use std::time::Duration;
use tokio::time::Instant;

struct Row {
    quota: u32,
    window: Duration,
    workers: usize,
    windows: u32,
}

struct Outcome {
    ok: u64,
    failed: u64,
    server_429: u64,
    client_429: u64,
    fraction: f64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn client_for(sim: &visma::Running, window: Duration) -> VismaClient {
    let info = sim.info();
    VismaClient::new(
        ClientSettings {
            rate_window: window,
            ..ClientSettings::default()
        },
        [EntityConnection {
            entity: LegalEntityId::new("se"),
            tenant_id: VismaTenantId::new(SE_TENANT),
            client_id: info.client_id.clone(),
            client_secret: info.client_secret.clone(),
            token_url: info.token_url.clone(),
            scope: String::new(),
            erp_base_url: info.erp_base_url.clone(),
            salesorder_base_url: info.salesorder_base_url.clone(),
            branch: None,
        }],
    )
    .expect("client")
}

async fn sim_stats(sim: &visma::Running) -> serde_json::Value {
    reqwest::get(format!("{}/__admin/stats", sim.info().erp_base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn run(row: &Row) -> Outcome {
    let sim = visma::start(visma::Config {
        quota: Some(row.quota),
        window: row.window,
        ..Default::default()
    })
    .await
    .expect("simulator");
    let entity = LegalEntityId::new("se");

    // Set-up: one invoice to read back, then let the set-up window expire.
    let setup = client_for(&sim, row.window);
    let sku = visma::demo_skus()
        .into_iter()
        .find(|s| s.stocked)
        .expect("demo sku")
        .sku;
    let invoice = setup
        .create_invoice_once(
            &entity,
            &ledgerlink_core::ExternalRef::new("bench-1"),
            &InvoiceUpdate {
                customer_number: Some(GUEST_CUSTOMER.into()),
                invoice_lines: vec![InvoiceLineUpdate {
                    inventory_number: Some(sku.into()),
                    quantity: Some(Decimal::ONE),
                    unit_price_in_currency: Some(Decimal::from(100)),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .expect("set-up invoice")
        .doc;
    let number = VismaDocumentNo::new(invoice.reference_number);
    tokio::time::sleep(row.window + Duration::from_millis(200)).await;
    let before = sim_stats(&sim).await["rate_limited"].as_u64().unwrap_or(0);

    let client = client_for(&sim, row.window);
    let duration = row.window * row.windows;
    let start = Instant::now();
    let deadline = start + duration;
    let workers = (0..row.workers).map(|_| {
        let client = client.clone();
        let entity = entity.clone();
        let number = number.clone();
        async move {
            let mut hist = Histogram::<u64>::new(3).unwrap();
            let (mut ok, mut failed) = (0u64, 0u64);
            loop {
                let t0 = Instant::now();
                if t0 >= deadline {
                    break;
                }
                let res = client.get_invoice(&entity, &number).await;
                let done = Instant::now();
                if done > deadline {
                    // Finished after the measured windows (it waited for the next one).
                    break;
                }
                match res {
                    Ok(_) => ok += 1,
                    Err(_) => failed += 1,
                }
                hist.record((done - t0).as_micros() as u64).unwrap();
            }
            (ok, failed, hist)
        }
    });
    let results = join_all(workers).await;
    let elapsed = start.elapsed();
    let mut hist = Histogram::<u64>::new(3).unwrap();
    let (mut ok, mut failed) = (0, 0);
    for (o, f, h) in results {
        ok += o;
        failed += f;
        hist.add(h).unwrap();
    }
    let after = sim_stats(&sim).await["rate_limited"].as_u64().unwrap_or(0);
    let outcome = Outcome {
        ok,
        failed,
        server_429: after - before,
        client_429: client.stats().throttled,
        fraction: ok as f64 / (row.quota as f64 * row.windows as f64),
        per_sec: ok as f64 / elapsed.as_secs_f64(),
        p50_ms: hist.value_at_quantile(0.5) as f64 / 1000.0,
        p99_ms: hist.value_at_quantile(0.99) as f64 / 1000.0,
    };
    sim.shutdown().await;
    outcome
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let s = Duration::from_secs(1);
    let rows: Vec<Row> = if quick {
        vec![Row {
            quota: 100,
            window: s,
            workers: 8,
            windows: 3,
        }]
    } else {
        let mut rows = Vec::new();
        for quota in [150, 500] {
            for workers in [1, 4, 16, 32] {
                rows.push(Row {
                    quota,
                    window: s,
                    workers,
                    windows: 5,
                });
            }
        }
        rows
    };
    println!(
        "{:>6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>9} {:>9} {:>8} {:>8}",
        "quota",
        "window",
        "workers",
        "windows",
        "ok",
        "fail",
        "429s",
        "of quota",
        "req/s",
        "p50 ms",
        "p99 ms"
    );
    let mut all_good = true;
    for row in &rows {
        let o = run(row).await;
        let good = o.fraction >= 0.95 && o.server_429 == 0;
        all_good &= good;
        println!(
            "{:>6} {:>6.1}s {:>7} {:>7} {:>7} {:>6} {:>6} {:>8.1}% {:>9.1} {:>8.2} {:>8.2}{}",
            row.quota,
            row.window.as_secs_f64(),
            row.workers,
            row.windows,
            o.ok,
            o.failed,
            o.server_429.max(o.client_429),
            o.fraction * 100.0,
            o.per_sec,
            o.p50_ms,
            o.p99_ms,
            if good { "" } else { "  <- below goal" }
        );
    }
    println!(
        "goal: >= 95% of the quota with zero 429s: {}",
        if all_good { "met" } else { "NOT met" }
    );
}
