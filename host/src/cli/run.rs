//! `ledgerlink run --config <file>`: the production entry point.

use crate::app::{App, AppOptions};
use crate::config::Config;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML configuration (secrets come from the environment variables it names).
    #[arg(long, short, env = "LEDGERLINK_CONFIG")]
    pub config: PathBuf,
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let app = App::start(config, AppOptions::default()).await?;
    println!(
        "{}",
        serde_json::json!({"service": "ledgerlink", "admin_url": format!("http://{}", app.admin_addr)})
    );
    tracing::info!(admin = %app.admin_addr, "ledgerlink running; Ctrl-C stops");
    shutdown_signal().await;
    app.shutdown().await
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
