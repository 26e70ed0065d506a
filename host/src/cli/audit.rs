//! `ledgerlink audit <order-id|document-no>`.

use super::ops::StoreArgs;
use clap::Args;

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// A BigCommerce order id or a Visma document number.
    pub query: String,
}

pub async fn run(a: AuditArgs) -> anyhow::Result<()> {
    let store = a.store.open().await?;
    let trail = store.audit_search(&a.query).await?;
    if trail.job_ids.is_empty() {
        anyhow::bail!("nothing recorded for {:?}", a.query);
    }
    println!("{}", serde_json::to_string_pretty(&trail)?);
    Ok(())
}
