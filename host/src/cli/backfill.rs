//! `ledgerlink backfill orders|products|customers --since <date>`: queue every order (product,
//! customer account) of the configured stores changed since a date, with a progress bar. The jobs go
//! into the same durable queue as webhooks, so a running `ledgerlink run` (or the next start)
//! does the work with the usual exactly-once guarantees; queuing twice is harmless (every job
//! brings its order to the current state, and documents are created once).
//!
//! Resumable: the last queued id per store and `--since` is kept as a watermark, written with
//! each job, so an interrupted run (Ctrl-C, a crash, `--limit`) continues after the last job
//! it queued when started again with the same `--since`; `--restart` starts over.

use crate::config::{Config, StoreSection};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use futures::TryStreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ledgerlink_bigcommerce::Client as BcClient;
use ledgerlink_bigcommerce::ClientConfig;
use ledgerlink_bigcommerce::models::{CustomerFilter, OrderFilter, ProductFilter};
use ledgerlink_engine::flows::{KIND_CUSTOMER_SYNC, KIND_ORDER_SYNC, KIND_PRODUCT_SYNC};
use ledgerlink_store::{NewJob, Store};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    Orders,
    Products,
    Customers,
}

impl What {
    fn as_str(self) -> &'static str {
        match self {
            What::Orders => "orders",
            What::Products => "products",
            What::Customers => "customers",
        }
    }
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
    /// Queue at most this many jobs per store in this run (the next run continues).
    #[arg(long)]
    pub limit: Option<u64>,
}

/// What one backfill does, independent of the command line.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    pub what: What,
    pub since: DateTime<Utc>,
    pub restart: bool,
    /// At most this many jobs per store.
    pub limit: Option<u64>,
    /// Draw a progress bar on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
}

/// What a backfill queued, per store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillReport {
    pub stores: Vec<StoreReport>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    pub store: String,
    /// Jobs queued by this run.
    pub queued: u64,
    /// Ids this run resumed after (0 when it started from `since`).
    pub resumed_after: u64,
    /// Whether the run stopped at `limit` with more left to queue.
    pub more: bool,
}

pub fn parse_since(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("--since {s:?}: use YYYY-MM-DD or an RFC 3339 time"))?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

fn bar(len: u64, what: &str, visible: bool) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        Some(len),
        if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// The watermark of one backfill: per kind, store and `since`.
pub fn watermark_name(what: What, store: &str, since: DateTime<Utc>) -> String {
    format!("backfill:{}:{store}:{}", what.as_str(), since.to_rfc3339())
}

pub async fn run(a: BackfillArgs) -> anyhow::Result<()> {
    let config = Config::load(&a.config)?;
    let opts = BackfillOptions {
        what: a.what,
        since: parse_since(&a.since)?,
        restart: a.restart,
        limit: a.limit,
        progress: true,
    };
    let store = Store::open(config.database()?).await?;
    let report = backfill(&store, &config.stores, &opts).await?;
    for s in &report.stores {
        let resumed = if s.resumed_after > 0 {
            format!(" (resumed after id {})", s.resumed_after)
        } else {
            String::new()
        };
        let more = if s.more {
            "; more left: run again to continue"
        } else {
            ""
        };
        println!(
            "store {}: {} {} queued{resumed}{more}",
            s.store,
            s.queued,
            a.what.as_str()
        );
    }
    println!("queued; a running `ledgerlink run` processes the jobs");
    Ok(())
}

/// Queues the backfill's jobs for every store in `stores` into `store`.
pub async fn backfill(
    store: &Store,
    stores: &[StoreSection],
    opts: &BackfillOptions,
) -> anyhow::Result<BackfillReport> {
    let mut report = BackfillReport::default();
    for s in stores {
        let client = BcClient::new(ClientConfig::new(&s.base_url, s.auth_token()?))?;
        let r = match opts.what {
            What::Orders => orders(store, &client, &s.hash, opts).await?,
            What::Products => products(store, &client, &s.hash, opts).await?,
            What::Customers => customers(store, &client, &s.hash, opts).await?,
        };
        report.stores.push(r);
    }
    Ok(report)
}

async fn resume_point(store: &Store, mark: &str, restart: bool) -> anyhow::Result<u64> {
    if restart {
        store.set_watermark(mark, "0").await?;
        return Ok(0);
    }
    Ok(store
        .watermark(mark)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

async fn orders(
    store: &Store,
    client: &BcClient,
    hash: &str,
    opts: &BackfillOptions,
) -> anyhow::Result<StoreReport> {
    let mark = watermark_name(What::Orders, hash, opts.since);
    let after = resume_point(store, &mark, opts.restart).await?;
    let filter = OrderFilter {
        min_date_modified: Some(opts.since),
        min_id: (after > 0).then_some(after + 1),
        // Ascending ids make the watermark a clean resume point.
        sort: Some("id:asc".into()),
        ..Default::default()
    };
    let total = client.orders_count(&filter).await?;
    let total = opts.limit.map_or(total, |l| total.min(l));
    let pb = bar(total, &format!("{hash}: orders"), opts.progress);
    let mut report = StoreReport {
        store: hash.to_owned(),
        resumed_after: after,
        ..Default::default()
    };
    let mut pages = client.orders(&filter, 250);
    'pages: while let Some(page) = pages.try_next().await? {
        for o in page {
            if opts.limit.is_some_and(|l| report.queued >= l) {
                report.more = true;
                break 'pages;
            }
            let job = NewJob {
                kind: KIND_ORDER_SYNC.into(),
                subject: format!("order:{}", o.id),
                payload: serde_json::json!({"store": hash, "order_id": o.id.0, "producer": "ledgerlink/backfill"}),
                source: Some(format!("bigcommerce:{hash}")),
            };
            store.enqueue(&job).await?;
            store.set_watermark(&mark, &o.id.0.to_string()).await?;
            report.queued += 1;
            pb.inc(1);
        }
    }
    pb.finish();
    Ok(report)
}

async fn products(
    store: &Store,
    client: &BcClient,
    hash: &str,
    opts: &BackfillOptions,
) -> anyhow::Result<StoreReport> {
    let mark = watermark_name(What::Products, hash, opts.since);
    let after = resume_point(store, &mark, opts.restart).await?;
    let mut list = client
        .list_products(&ProductFilter {
            date_modified_min: Some(opts.since),
            ..Default::default()
        })
        .await?;
    list.retain(|p| p.id.0 > after);
    list.sort_by_key(|p| p.id.0);
    let total = opts
        .limit
        .map_or(list.len() as u64, |l| (list.len() as u64).min(l));
    let pb = bar(total, &format!("{hash}: products"), opts.progress);
    let mut report = StoreReport {
        store: hash.to_owned(),
        resumed_after: after,
        ..Default::default()
    };
    for p in list {
        if opts.limit.is_some_and(|l| report.queued >= l) {
            report.more = true;
            break;
        }
        store
            .enqueue(&NewJob {
                kind: KIND_PRODUCT_SYNC.into(),
                subject: format!("product:{}", p.id),
                payload: serde_json::json!({"store": hash, "product_id": p.id.0, "producer": "ledgerlink/backfill"}),
                source: Some(format!("bigcommerce:{hash}")),
            })
            .await?;
        store.set_watermark(&mark, &p.id.0.to_string()).await?;
        report.queued += 1;
        pb.inc(1);
    }
    pb.finish();
    Ok(report)
}

/// Customer accounts modified since `since`, in id order (v3 customers has no `id:min`, so the
/// ids are listed and the resume point skips those already queued).
async fn customers(
    store: &Store,
    client: &BcClient,
    hash: &str,
    opts: &BackfillOptions,
) -> anyhow::Result<StoreReport> {
    let mark = watermark_name(What::Customers, hash, opts.since);
    let after = resume_point(store, &mark, opts.restart).await?;
    let mut ids: Vec<u64> = client
        .list_customers(&CustomerFilter {
            date_modified_min: Some(opts.since),
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|c| c.id.0)
        .filter(|id| *id > after)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let total = opts
        .limit
        .map_or(ids.len() as u64, |l| (ids.len() as u64).min(l));
    let pb = bar(total, &format!("{hash}: customers"), opts.progress);
    let mut report = StoreReport {
        store: hash.to_owned(),
        resumed_after: after,
        ..Default::default()
    };
    for id in ids {
        if opts.limit.is_some_and(|l| report.queued >= l) {
            report.more = true;
            break;
        }
        store
            .enqueue(&NewJob {
                kind: KIND_CUSTOMER_SYNC.into(),
                subject: format!("customer:{id}"),
                payload: serde_json::json!({"store": hash, "customer_id": id, "producer": "ledgerlink/backfill"}),
                source: Some(format!("bigcommerce:{hash}")),
            })
            .await?;
        store.set_watermark(&mark, &id.to_string()).await?;
        report.queued += 1;
        pb.inc(1);
    }
    pb.finish();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_an_rfc3339_time_and_says_what_it_wants_otherwise() {
        assert_eq!(
            parse_since("2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-01-31T10:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-01-31T08:00:00+00:00"
        );
        let e = parse_since("31/01/2026").unwrap_err().to_string();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn each_since_keeps_its_own_progress() {
        let a = parse_since("2026-01-01").unwrap();
        let b = parse_since("2026-02-01").unwrap();
        assert_ne!(
            watermark_name(What::Orders, "abc", a),
            watermark_name(What::Orders, "abc", b)
        );
        assert_ne!(
            watermark_name(What::Orders, "abc", a),
            watermark_name(What::Products, "abc", a)
        );
    }
}
