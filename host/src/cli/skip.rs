//! `ledgerlink skip <job> --reason …`.

use super::ops::StoreArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct SkipArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    pub job: Option<i64>,
    #[arg(long, conflicts_with = "job")]
    pub all: bool,
    #[arg(long, conflicts_with = "job")]
    pub code: Option<String>,
    #[arg(long, conflicts_with = "job")]
    pub kind: Option<String>,
    /// Why it is resolved without running (kept in the audit log).
    #[arg(long)]
    pub reason: String,
    #[arg(long, default_value = "cli")]
    pub actor: String,
}

pub async fn run(a: SkipArgs) -> anyhow::Result<()> {
    let store = a.store.open().await?;
    let sel = super::replay::selector(a.job, a.all, a.code, a.kind)?;
    let report = store.skip(&sel, &a.reason, &a.actor).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
