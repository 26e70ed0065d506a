//! `ledgerlink replay <job> | --all | --code … --kind …`.

use super::ops::StoreArgs;
use clap::Args;
use ledgerlink_store::{JobFilter, JobId, ReplayMode, ReplaySelector};

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// One job id.
    pub job: Option<i64>,
    /// Every job in the error queue.
    #[arg(long, conflicts_with = "job")]
    pub all: bool,
    /// Failed jobs with this error code.
    #[arg(long, conflicts_with = "job")]
    pub code: Option<String>,
    #[arg(long, conflicts_with = "job")]
    pub kind: Option<String>,
    /// `refetch` (default: fetch the source again, map with the plugin active now) or
    /// `snapshot` (the source as the failed attempt saw it).
    #[arg(long, default_value = "refetch")]
    pub mode: ReplayMode,
    #[arg(long, default_value = "cli")]
    pub actor: String,
}

pub fn selector(
    job: Option<i64>,
    all: bool,
    code: Option<String>,
    kind: Option<String>,
) -> anyhow::Result<ReplaySelector> {
    Ok(match (job, all, code.is_some() || kind.is_some()) {
        (Some(id), _, _) => ReplaySelector::Job(JobId(id)),
        (None, true, false) => ReplaySelector::AllFailed,
        (None, false, true) => ReplaySelector::Filter(JobFilter {
            error_code: code,
            kind,
            ..Default::default()
        }),
        _ => anyhow::bail!("name a job id, --all, or a filter (--code / --kind)"),
    })
}

pub async fn run(a: ReplayArgs) -> anyhow::Result<()> {
    let store = a.store.open().await?;
    let sel = selector(a.job, a.all, a.code, a.kind)?;
    let report = store.replay(&sel, a.mode, &a.actor).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!(
        "replayed {} job(s); a running `ledgerlink run` picks them up within its poll interval",
        report.changed.len()
    );
    Ok(())
}
