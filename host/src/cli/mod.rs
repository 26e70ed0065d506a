//! Command-line interface. Each subcommand has its own module with its arguments beside it;
//! this module only parses, sets up logging and a tokio runtime, and maps errors to exit codes.

pub mod audit;
pub mod backfill;
pub mod errors;
mod ops;
pub mod plugin;
pub mod replay;
pub mod run;
pub mod sandbox;
pub mod sim;
pub mod skip;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "ledgerlink",
    version,
    about = "BigCommerce ⇄ Visma.net ERP sync with sandboxed WebAssembly mapping plugins"
)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax); `RUST_LOG` wins when set.
    #[arg(long, global = true, default_value = "info")]
    pub log: String,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an API simulator (BigCommerce or Visma.net ERP) on its own.
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Run the host with a configuration file (production entry point).
    Run(run::RunArgs),
    /// Both simulators and the host in one process, wired together, for trying Ledgerlink.
    Sandbox(sandbox::SandboxArgs),
    /// The error queue.
    #[command(subcommand)]
    Errors(errors::ErrorsCommand),
    /// Run failed (or any) jobs again.
    Replay(replay::ReplayArgs),
    /// Resolve jobs without running them, with a reason.
    Skip(skip::SkipArgs),
    /// Everything recorded for a BigCommerce order id or Visma document number.
    Audit(audit::AuditArgs),
    /// Queue every order/product changed since a date (resumable, with a progress bar).
    Backfill(backfill::BackfillArgs),
    /// Build, test, push, activate and roll back mapping plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log, cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sim(cmd) => sim::run(cmd).await.map(|()| ExitCode::SUCCESS),
        Command::Run(a) => run::run(a).await.map(|()| ExitCode::SUCCESS),
        Command::Sandbox(a) => sandbox::run(a).await.map(|()| ExitCode::SUCCESS),
        Command::Errors(c) => errors::run(c).await.map(|()| ExitCode::SUCCESS),
        Command::Replay(a) => replay::run(a).await.map(|()| ExitCode::SUCCESS),
        Command::Skip(a) => skip::run(a).await.map(|()| ExitCode::SUCCESS),
        Command::Audit(a) => audit::run(a).await.map(|()| ExitCode::SUCCESS),
        Command::Backfill(a) => backfill::run(a).await.map(|()| ExitCode::SUCCESS),
        Command::Plugin(c) => plugin::run(c).await.map(|()| ExitCode::SUCCESS),
    }
}

fn init_tracing(filter: &str, json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(filter));
    // Logs go to stderr: stdout carries the JSON lines other programs read.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
