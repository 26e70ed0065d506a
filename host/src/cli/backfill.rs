//! `ledgerlink backfill orders|products --since <date>`: queue every order (or product) of
//! the configured stores changed since a date, with a progress bar. The jobs go into the
//! same durable queue as webhooks, so a running `ledgerlink run` (or the next start) does
//! the work with the usual exactly-once guarantees; queuing twice is harmless (every job
//! brings its order to the current state, and documents are created once).
//!
//! Resumable: the last queued id per store is kept as a watermark; a second run with the
//! same `--since` continues after it (`--restart` starts over).

use crate::config::Config;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use ledgerlink_bigcommerce::Client as BcClient;
use ledgerlink_bigcommerce::ClientConfig;
use ledgerlink_bigcommerce::models::{OrderFilter, ProductFilter};
use ledgerlink_engine::flows::{KIND_ORDER_SYNC, KIND_PRODUCT_SYNC};
use ledgerlink_store::{NewJob, Store};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum What {
    Orders,
    Products,
    Customers,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    pub what: What,
    #[arg(long, short, env = "LEDGERLINK_CONFIG")]
    pub config: PathBuf,
    /// `YYYY-MM-DD` or an RFC 3339 time.
    #[arg(long)]
    pub since: String,
    /// Forget the stored progress and start from `--since` again.
    #[arg(long)]
    pub restart: bool,
}

fn parse_since(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--since {s:?}: use YYYY-MM-DD or an RFC 3339 time"))?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

pub async fn run(a: BackfillArgs) -> anyhow::Result<()> {
    let config = Config::load(&a.config)?;
    let since = parse_since(&a.since)?;
    let store = Store::open(config.host.data_dir.join("ledgerlink.sqlite")).await?;
    for s in &config.stores {
        let client = BcClient::new(ClientConfig::new(&s.base_url, s.auth_token()?))?;
        let source = format!("bigcommerce:{}", s.hash);
        match a.what {
            What::Orders => orders(&store, &client, &s.hash, &source, since, a.restart).await?,
            What::Products => products(&store, &client, &s.hash, &source, since).await?,
            What::Customers => {
                // Customers reach Visma with their first order (found or created by external
                // reference); there is no customer-only job to queue.
                println!(
                    "store {}: customers are synced with their orders; backfill orders instead",
                    s.hash
                );
            }
        }
    }
    println!("queued; a running `ledgerlink run` processes the jobs");
    Ok(())
}

async fn orders(
    store: &Store,
    client: &BcClient,
    hash: &str,
    source: &str,
    since: DateTime<Utc>,
    restart: bool,
) -> anyhow::Result<()> {
    let mark = format!("backfill:orders:{hash}:{}", since.to_rfc3339());
    let after: u64 = if restart {
        0
    } else {
        store
            .watermark(&mark)
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let filter = OrderFilter {
        min_date_modified: Some(since),
        min_id: (after > 0).then_some(after + 1),
        ..Default::default()
    };
    let total = client.orders_count(&filter).await?;
    let pb = bar(total, &format!("{hash}: orders"));
    let mut pages = client.orders(&filter, 250);
    while let Some(page) = pages.try_next().await? {
        for o in page {
            let job = NewJob {
                kind: KIND_ORDER_SYNC.into(),
                subject: format!("order:{}", o.id),
                payload: serde_json::json!({"store": hash, "order_id": o.id.0, "producer": "ledgerlink/backfill"}),
                source: Some(source.to_owned()),
            };
            store.enqueue(&job).await?;
            store.set_watermark(&mark, &o.id.0.to_string()).await?;
            pb.inc(1);
        }
    }
    pb.finish();
    Ok(())
}

async fn products(
    store: &Store,
    client: &BcClient,
    hash: &str,
    source: &str,
    since: DateTime<Utc>,
) -> anyhow::Result<()> {
    let list = client
        .list_products(&ProductFilter {
            date_modified_min: Some(since),
            ..Default::default()
        })
        .await?;
    let pb = bar(list.len() as u64, &format!("{hash}: products"));
    for p in list {
        store
            .enqueue(&NewJob {
                kind: KIND_PRODUCT_SYNC.into(),
                subject: format!("product:{}", p.id),
                payload: serde_json::json!({"store": hash, "product_id": p.id.0}),
                source: Some(source.to_owned()),
            })
            .await?;
        pb.inc(1);
    }
    pb.finish();
    Ok(())
}
