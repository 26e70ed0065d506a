//! `ledgerlink sandbox`: both simulators and the host in one process, wired together.
//!
//! Restart behaviour: everything lives under `--data-dir`: the host's SQLite (identity map,
//! queue, audit log, error queue, plugin registry) and both simulators' state files,
//! `sim/bigcommerce.json` and `sim/visma.json` (every order, customer, product, stock level,
//! webhook registration, Visma document, number series and id counter). The simulators save
//! every 5 s and on Ctrl-C, so starting again resumes the same world: documents posted before
//! stay in Visma, new BigCommerce ids continue after the old ones, pending and failed jobs
//! resume. A kill (not Ctrl-C) loses at most the last few seconds of simulator changes. The
//! seed (`demo`, fixed API token, same store hash) is used only when a state file is missing;
//! a state file that cannot be read stops the start with an error naming it. To begin again
//! from a fresh seed, start with `--reset` (deletes the data directory).

use crate::app::{App, AppOptions};
use crate::config::{Config, EntitySection, HostSection, PluginSection, StoreSection};
use clap::Args;
use ledgerlink_core::LegalEntityId;
use ledgerlink_engine::flows::{PostingRules, RouteRule};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const SANDBOX_BC_TOKEN: &str = "ledgerlink-sandbox-bc-token";
pub const SANDBOX_ADMIN_TOKEN: &str = "ledgerlink-sandbox-admin";
pub const DEFAULT_PLUGIN: &str = "target/wasm32-wasip2/release/ledgerlink_standard.wasm";

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[arg(long, default_value = "127.0.0.1:7300")]
    pub listen: SocketAddr,
    #[arg(long, default_value = "127.0.0.1:7301")]
    pub bigcommerce_listen: SocketAddr,
    #[arg(long, default_value = "127.0.0.1:7302")]
    pub visma_listen: SocketAddr,
    #[arg(long, default_value = "./ledgerlink-data")]
    pub data_dir: PathBuf,
    /// The mapping plugin made active for every route.
    #[arg(long, default_value = DEFAULT_PLUGIN)]
    pub plugin: PathBuf,
    /// Delete the data directory before starting.
    #[arg(long)]
    pub reset: bool,
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
}

/// Mapping tables for the demo data of both simulators, with the table names the standard
/// plugin reads (see `plugins/standard/README.md`).
pub fn demo_tables() -> BTreeMap<String, BTreeMap<String, String>> {
    let t = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    BTreeMap::from([
        (
            "vat-category".to_owned(),
            t(&[
                // The simulator's tax classes (0 default 25 %, 1 non-taxable, 2 shipping,
                // 3 gift wrapping, 4 food 12 %, 5 books 6 %) ...
                ("0", "HIGH"),
                ("1", "ZERO"),
                ("2", "HIGH"),
                ("3", "HIGH"),
                ("4", "MEDIUM"),
                ("5", "LOW"),
                // ... and rates, for lines without a class.
                ("rate:25", "HIGH"),
                ("rate:24", "HIGH"),
                ("rate:12", "MEDIUM"),
                ("rate:14", "MEDIUM"),
                ("rate:6", "LOW"),
                ("rate:10", "LOW"),
                ("rate:0", "ZERO"),
            ]),
        ),
        (
            "payment-method".to_owned(),
            t(&[
                ("Credit Card", "CARD"),
                ("Test Payment Gateway", "CARD"),
                ("Manual", "INVOICE"),
                ("Klarna", "KLARNA"),
            ]),
        ),
        // Visma warehouses → BigCommerce locations (1 Stockholm, 2 Göteborg).
        (
            "warehouse".to_owned(),
            t(&[("MAIN", "1"), ("GBG", "2"), ("HEL", "1")]),
        ),
        // BigCommerce price lists → Visma customer price classes (1 "EUR storefront",
        // 2 "Wholesale").
        (
            "price-class".to_owned(),
            t(&[("1", "RETAIL"), ("2", "B2B")]),
        ),
        // For plugins keyed by tax class (the simulator's classes: 0 default 25 %,
        // 1 non-taxable, 2 shipping, 3 gift wrapping, 4 food 12 %, 5 books 6 %).
        (
            "tax-class→vat-category".to_owned(),
            t(&[
                ("0", "HIGH"),
                ("1", "ZERO"),
                ("2", "HIGH"),
                ("3", "HIGH"),
                ("4", "MEDIUM"),
                ("5", "LOW"),
            ]),
        ),
    ])
}

/// Posting-rule settings the standard plugin needs (accounts for non-stock lines).
pub fn demo_settings() -> BTreeMap<String, String> {
    [
        ("rounding-account", "3740"),
        ("rounding-vat-category", "ZERO"),
        ("freight-account", "3540"),
        ("handling-account", "3540"),
        ("gift-wrapping-account", "3540"),
        ("discount-account", "3731"),
        ("fee-account", "3590"),
        ("refund-account", "3010"),
        ("order-refund-vat-category", "HIGH"),
        (
            "guest-customer-number",
            ledgerlink_sim::visma::GUEST_CUSTOMER,
        ),
        // The returns warehouse has no shop location: its stock is not for sale.
        ("unmapped-warehouses", "skip"),
        ("default-uom", "PCS"),
        ("item-class", "GOODS"),
        ("default-payment-method", "CARD"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The configuration the sandbox (and the end-to-end tests) run with, against simulators
/// already started.
pub fn sandbox_config(
    bc: &ledgerlink_sim::bigcommerce::Info,
    visma: &ledgerlink_sim::visma::Info,
    data_dir: &Path,
    plugin: &Path,
    listen: SocketAddr,
    workers: usize,
) -> Config {
    let posting = PostingRules {
        guest_customer: Some(ledgerlink_sim::visma::GUEST_CUSTOMER.to_owned()),
        settings: demo_settings(),
        ..Default::default()
    };
    let entity = |id: &str, tenant: &str, currency: &str, branch: &str| EntitySection {
        id: LegalEntityId::new(id),
        tenant_id: tenant.to_owned(),
        client_id: visma.client_id.clone(),
        client_secret: Some(visma.client_secret.clone()),
        client_secret_env: None,
        token_url: visma.token_url.clone(),
        erp_base_url: visma.erp_base_url.clone(),
        salesorder_base_url: Some(visma.salesorder_base_url.clone()),
        scope: String::new(),
        base_currency: currency.to_owned(),
        branch: Some(branch.to_owned()),
        posting: posting.clone(),
        tables: demo_tables(),
    };
    let route = |channel: u64, entity: &str| RouteRule {
        store: Some(bc.store_hash.clone()),
        channel: Some(channel),
        currency: None,
        entity: LegalEntityId::new(entity),
        branch: None,
        plugin: "standard".to_owned(),
    };
    Config {
        host: HostSection {
            data_dir: data_dir.to_path_buf(),
            database_url: None,
            database_url_env: None,
            listen,
            public_url: None,
            admin_token: Some(SANDBOX_ADMIN_TOKEN.to_owned()),
            admin_token_env: None,
            workers,
            poll_interval_secs: 5,
            stock_interval_secs: 2,
            payment_interval_secs: 10,
        },
        stores: vec![StoreSection {
            hash: bc.store_hash.clone(),
            base_url: bc.base_url.clone(),
            auth_token: Some(bc.auth_token.clone()),
            auth_token_env: None,
            webhook_secret: Some("ledgerlink-sandbox-webhook-secret".to_owned()),
            webhook_secret_env: None,
            register_hooks: true,
            stock_from: Some(LegalEntityId::new("se")),
        }],
        entities: vec![
            entity("se", ledgerlink_sim::visma::SE_TENANT, "SEK", "1"),
            entity("fi", ledgerlink_sim::visma::FI_TENANT, "EUR", "1"),
        ],
        plugins: vec![PluginSection {
            name: "standard".to_owned(),
            path: plugin.to_path_buf(),
            deadline_ms: None,
            memory_mib: None,
        }],
        routes: vec![route(1, "se"), route(2, "fi")],
    }
}

/// The dev loop's usual stumble: a plugin rebuilt under the version the data dir's registry
/// already holds with other content is refused (a version names one component, for the audit).
fn rebuilt_plugin_hint(e: anyhow::Error, data_dir: &Path) -> anyhow::Error {
    let conflict = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<ledgerlink_runtime::RegistryError>(),
            Some(ledgerlink_runtime::RegistryError::VersionConflict { .. })
        )
    });
    if conflict {
        e.context(format!(
            "the plugin was rebuilt without a new version number: bump its version, or start \
             afresh with --reset (deletes {})",
            data_dir.display()
        ))
    } else {
        e
    }
}

/// The BigCommerce simulator's state file under a sandbox data directory.
pub fn bigcommerce_state_file(data_dir: &Path) -> PathBuf {
    data_dir.join("sim").join("bigcommerce.json")
}

/// The Visma simulator's state file under a sandbox data directory.
pub fn visma_state_file(data_dir: &Path) -> PathBuf {
    data_dir.join("sim").join("visma.json")
}

/// A running sandbox: both simulators and the host.
pub struct Sandbox {
    pub bigcommerce: ledgerlink_sim::bigcommerce::Running,
    pub visma: ledgerlink_sim::visma::Running,
    pub app: App,
}

impl Sandbox {
    /// Start both simulators (resuming their state files under `data_dir` when present) and
    /// the host. `--reset` is applied first.
    pub async fn start(a: &SandboxArgs) -> anyhow::Result<Sandbox> {
        if a.reset && a.data_dir.exists() {
            std::fs::remove_dir_all(&a.data_dir)?;
        }
        anyhow::ensure!(
            a.plugin.exists(),
            "plugin {} not found: build it with scripts/wasm-plugins.sh or pass --plugin",
            a.plugin.display()
        );
        let bc = ledgerlink_sim::bigcommerce::start(ledgerlink_sim::bigcommerce::Config {
            listen: a.bigcommerce_listen,
            auth_token: Some(SANDBOX_BC_TOKEN.to_owned()),
            quota: None,
            webhook_time_scale: 0.01,
            state_file: Some(bigcommerce_state_file(&a.data_dir)),
            ..Default::default()
        })
        .await?;
        let visma = match ledgerlink_sim::visma::start(ledgerlink_sim::visma::Config {
            listen: a.visma_listen,
            state_file: Some(visma_state_file(&a.data_dir)),
            ..Default::default()
        })
        .await
        {
            Ok(v) => v,
            Err(e) => {
                bc.shutdown().await;
                return Err(e);
            }
        };
        let config = sandbox_config(
            bc.info(),
            visma.info(),
            &a.data_dir,
            &a.plugin,
            a.listen,
            a.workers,
        );
        let app = match App::start(config, AppOptions::default()).await {
            Ok(app) => app,
            Err(e) => {
                bc.shutdown().await;
                visma.shutdown().await;
                return Err(rebuilt_plugin_hint(e, &a.data_dir));
            }
        };
        Ok(Sandbox {
            bigcommerce: bc,
            visma,
            app,
        })
    }

    /// Stop the host, then the simulators (each writes its state file a last time).
    pub async fn stop(self) -> anyhow::Result<()> {
        let host = self.app.shutdown().await;
        // Each simulator's shutdown is bounded (a few seconds) and ends with the state write.
        self.bigcommerce.shutdown().await;
        self.visma.shutdown().await;
        host
    }
}

pub async fn run(a: SandboxArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(&a).await?;
    println!("{}", serde_json::to_string(sandbox.bigcommerce.info())?);
    println!("{}", serde_json::to_string(sandbox.visma.info())?);
    println!(
        "{}",
        serde_json::json!({
            "service": "ledgerlink",
            "admin_url": format!("http://{}", sandbox.app.admin_addr),
            "admin_token": sandbox.app.admin_token,
        })
    );
    super::run::shutdown_signal().await;
    tracing::info!("stopping");
    sandbox.stop().await
}
