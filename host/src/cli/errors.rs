//! `ledgerlink errors list`: the error queue.

use super::ops::StoreArgs;
use clap::{Args, Subcommand};
use ledgerlink_store::JobFilter;

#[derive(Debug, Subcommand)]
pub enum ErrorsCommand {
    /// Jobs waiting in the error queue, newest first.
    List(ErrorsListArgs),
}

#[derive(Debug, Args)]
pub struct ErrorsListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long)]
    pub kind: Option<String>,
    /// Error code, e.g. `mapping_error`.
    #[arg(long)]
    pub code: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: ErrorsCommand) -> anyhow::Result<()> {
    let ErrorsCommand::List(a) = cmd;
    let store = a.store.open().await?;
    let jobs = store
        .errors_list(&JobFilter {
            kind: a.kind,
            error_code: a.code,
            limit: Some(a.limit),
            ..Default::default()
        })
        .await?;
    if a.json {
        for j in &jobs {
            println!("{}", serde_json::to_string(j)?);
        }
        return Ok(());
    }
    if jobs.is_empty() {
        println!("the error queue is empty");
        return Ok(());
    }
    println!(
        "{:>6}  {:<28} {:<16} {:<20} message",
        "job", "kind", "subject", "code"
    );
    for j in &jobs {
        let (code, msg, path) = j
            .error
            .as_ref()
            .map(|e| (e.code.as_str(), e.message.as_str(), e.field_path.as_deref()))
            .unwrap_or(("", "", None));
        let at = path.map(|p| format!(" [at {p}]")).unwrap_or_default();
        println!(
            "{:>6}  {:<28} {:<16} {:<20} {msg}{at}",
            j.id.0, j.kind, j.subject, code
        );
    }
    Ok(())
}
