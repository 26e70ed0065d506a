//! `ledgerlink sim bigcommerce|visma`: one simulator in the foreground. It prints one JSON line
//! with its base URL and credentials on stdout, then serves until Ctrl-C. With
//! `--state-file` its data survives a restart (loaded on start, saved every few seconds and on
//! Ctrl-C).

use clap::{Args, Subcommand};
use ledgerlink_sim::Seed;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// The BigCommerce store API simulator.
    Bigcommerce(BigCommerceArgs),
    /// The Visma.net ERP (+ SalesOrders v3, Visma Connect) simulator.
    Visma(VismaArgs),
}

#[derive(Debug, Args)]
pub struct BigCommerceArgs {
    #[arg(long, default_value = "127.0.0.1:7301")]
    pub listen: SocketAddr,
    /// `demo` (a realistic store) or `empty`.
    #[arg(long, default_value = "demo")]
    pub seed: Seed,
    /// Requests per rate-limit window (BigCommerce Standard/Plus: 150 per 30 s); 0 = unlimited.
    #[arg(long, default_value_t = 150)]
    pub quota: u32,
    /// Rate-limit window in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub window_ms: u64,
    /// Fixed API token instead of a random one.
    #[arg(long, env = "LEDGERLINK_SIM_BC_TOKEN")]
    pub auth_token: Option<String>,
    /// Multiplies BigCommerce's webhook retry ladder (1.0 = real delays).
    #[arg(long, default_value_t = 1.0)]
    pub webhook_time_scale: f64,
    /// Keep the store's data in this JSON file: loaded instead of `--seed` when it exists,
    /// saved every 5 s and on Ctrl-C. Delete it to start from the seed again.
    #[arg(long)]
    pub state_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VismaArgs {
    #[arg(long, default_value = "127.0.0.1:7302")]
    pub listen: SocketAddr,
    /// `demo` (two companies) or `empty`.
    #[arg(long, default_value = "demo")]
    pub seed: Seed,
    /// Requests per window per company and client; 0 = unlimited.
    #[arg(long, default_value_t = 0)]
    pub quota: u32,
    /// Rate-limit window in milliseconds.
    #[arg(long, default_value_t = 3_600_000)]
    pub window_ms: u64,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Keep every company's data in this JSON file: loaded instead of `--seed` when it
    /// exists, saved every 5 s and on Ctrl-C. Delete it to start from the seed again.
    #[arg(long)]
    pub state_file: Option<PathBuf>,
}

pub fn bigcommerce_config(a: &BigCommerceArgs) -> ledgerlink_sim::bigcommerce::Config {
    ledgerlink_sim::bigcommerce::Config {
        listen: a.listen,
        seed: a.seed,
        quota: (a.quota > 0).then_some(a.quota),
        window: Duration::from_millis(a.window_ms),
        webhook_time_scale: a.webhook_time_scale,
        auth_token: a.auth_token.clone(),
        state_file: a.state_file.clone(),
        ..Default::default()
    }
}

pub fn visma_config(a: &VismaArgs) -> ledgerlink_sim::visma::Config {
    ledgerlink_sim::visma::Config {
        listen: a.listen,
        seed: a.seed,
        quota: (a.quota > 0).then_some(a.quota),
        window: Duration::from_millis(a.window_ms),
        token_ttl: Duration::from_secs(a.token_ttl_secs),
        state_file: a.state_file.clone(),
        ..Default::default()
    }
}

pub async fn run(cmd: SimCommand) -> anyhow::Result<()> {
    match cmd {
        SimCommand::Bigcommerce(a) => {
            let sim = ledgerlink_sim::bigcommerce::start(bigcommerce_config(&a)).await?;
            println!("{}", serde_json::to_string(sim.info())?);
            tokio::signal::ctrl_c().await?;
            sim.shutdown().await;
        }
        SimCommand::Visma(a) => {
            let sim = ledgerlink_sim::visma::start(visma_config(&a)).await?;
            println!("{}", serde_json::to_string(sim.info())?);
            tokio::signal::ctrl_c().await?;
            sim.shutdown().await;
        }
    }
    Ok(())
}
