//! Shared by the operator commands: open the store named by `--config` or `--data-dir`.

use crate::config::Config;
use clap::Args;
use ledgerlink_store::Store;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Configuration file (its `host.data_dir` names the database).
    #[arg(long, short, env = "LEDGERLINK_CONFIG", conflicts_with = "data_dir")]
    pub config: Option<PathBuf>,
    /// Data directory, instead of a configuration file.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl StoreArgs {
    pub async fn open(&self) -> anyhow::Result<Store> {
        let dir = match (&self.config, &self.data_dir) {
            (Some(c), _) => Config::load(c)?.host.data_dir,
            (None, Some(d)) => d.clone(),
            (None, None) => PathBuf::from("./ledgerlink-data"),
        };
        let db = dir.join("ledgerlink.sqlite");
        anyhow::ensure!(
            db.exists(),
            "no Ledgerlink database at {} (pass --config or --data-dir)",
            db.display()
        );
        Ok(Store::open(db).await?)
    }
}
