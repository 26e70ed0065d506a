//! Shared by the operator commands: open the store named by `--config` or `--data-dir`.

use crate::config::Config;
use clap::Args;
use ledgerlink_store::Store;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Configuration file (its `host.database_url(_env)` or `host.data_dir` names the database).
    #[arg(long, short, env = "LEDGERLINK_CONFIG", conflicts_with = "data_dir")]
    pub config: Option<PathBuf>,
    /// Data directory, instead of a configuration file.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    pub async fn open(&self) -> anyhow::Result<Store> {
        let db = match (&self.config, &self.data_dir) {
            (Some(c), _) => Config::load(c)?.database()?,
            (None, Some(d)) => d.join(crate::config::SQLITE_FILE),
            (None, None) => PathBuf::from("./ledgerlink-data").join(crate::config::SQLITE_FILE),
        };
        if let Some(url) = db.to_str().filter(|d| ledgerlink_store::is_postgres_url(d)) {
            return Ok(Store::open(url).await?);
        }
        anyhow::ensure!(
            db.exists(),
            "no Ledgerlink database at {} (pass --config or --data-dir)",
            db.display()
        );
        Ok(Store::open(db).await?)
    }
}
