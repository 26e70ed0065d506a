//! Visma.net ERP API simulator: the ERP monolith (`/v1`, `/v2` paths as in the vendored
//! OpenAPI file), the SalesOrders v3 service (under `/salesorder`, standing in for the
//! `salesorder.visma.net` host) and a Visma Connect token endpoint (`/connect/token`), all on
//! one listener. See `sim/README.md` ("Visma") for the behaviour and the admin endpoints.

mod admin;
mod ar;
mod auth;
mod customers;
mod error;
mod faults;
mod gate;
mod inventory;
mod invoices;
mod lookups;
mod payments;
mod persist;
mod salesorders;
mod seed;
mod server;
mod so_invoice;
mod state;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use seed::{DemoSku, FI_TENANT, GUEST_CUSTOMER, SE_TENANT, demo_skus};

/// A client application registered with Visma Connect.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
}

pub struct Config {
    /// `127.0.0.1:0` in tests.
    pub listen: SocketAddr,
    pub seed: crate::Seed,
    /// Requests per window per company + client; `None` = unlimited (and no
    /// `X-RateLimit-*` headers).
    pub quota: Option<u32>,
    pub window: Duration,
    /// Access token lifetime (the real one is 3600 s).
    pub token_ttl: Duration,
    /// Applications allowed to get tokens; the first one is reported in [`Info`]. Every client
    /// may get tokens for every company.
    pub clients: Vec<ClientCredentials>,
    /// Cap on `pageSize`, reported as `metadata.maxPageSize`.
    pub max_page_size: usize,
    /// Keep every company's data in this JSON file: loaded on start when it exists (instead
    /// of `seed`), written every few seconds when it changed and on `shutdown`. `None` =
    /// memory only. A file that cannot be read is an error, never silently replaced.
    pub state_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: crate::Seed::Demo,
            quota: None,
            window: Duration::from_secs(3600),
            token_ttl: Duration::from_secs(3600),
            clients: vec![
                ClientCredentials {
                    client_id: "ledgerlink_sim_client".into(),
                    client_secret: "ledgerlink-sim-secret".into(),
                },
                ClientCredentials {
                    client_id: "ledgerlink_sim_other".into(),
                    client_secret: "ledgerlink-sim-other-secret".into(),
                },
            ],
            max_page_size: 1000,
            state_file: None,
        }
    }
}

#[derive(serde::Serialize, Clone, Debug)]
pub struct Info {
    /// Always `"visma"`.
    pub service: String,
    /// Base of the ERP monolith; paths as in the spec (`{erp_base_url}/v1/customer`).
    pub erp_base_url: String,
    /// Base of the SalesOrders service (`{salesorder_base_url}/api/v3/SalesOrders`).
    pub salesorder_base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub tenants: Vec<TenantInfo>,
}

#[derive(serde::Serialize, Clone, Debug)]
pub struct TenantInfo {
    pub tenant_id: String,
    pub company: String,
}

/// The running simulator; dropping it without `shutdown` leaves the server running until the
/// runtime ends.
pub struct Running {
    info: Info,
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    autosave: Option<crate::common::state_file::Autosave>,
}

impl Running {
    pub fn info(&self) -> &Info {
        &self.info
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        // Graceful shutdown waits for open connections; a request parked by the timeout fault
        // would hold it up, so give up waiting after a moment.
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
        if let Some(autosave) = self.autosave
            && let Err(e) = autosave.finish().await
        {
            tracing::error!(error = %e, "Visma simulator state not saved on shutdown");
        }
    }
}

/// Everything the handlers share.
pub(crate) struct Sim {
    pub state: Mutex<state::State>,
    pub clock: state::Clock,
    pub clients: Vec<ClientCredentials>,
    pub quota: Option<u32>,
    pub window: Duration,
    pub token_ttl: Duration,
    pub max_page_size: usize,
    pub tokens: Mutex<HashMap<String, auth::Token>>,
    pub limits: Mutex<HashMap<(usize, String), gate::Window>>,
    pub faults: Mutex<faults::Faults>,
    pub stats: gate::Stats,
    pub info: Info,
}

impl Sim {
    /// `{erp_base_url}{path}` for `Location` headers.
    pub fn erp_url(&self, path: &str) -> String {
        format!("{}{}", self.info.erp_base_url, path)
    }
}

pub async fn start(config: Config) -> anyhow::Result<Running> {
    anyhow::ensure!(
        !config.clients.is_empty(),
        "the Visma simulator needs at least one client"
    );
    anyhow::ensure!(config.max_page_size > 0, "max_page_size must be positive");
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let companies = initial_companies(&config)?;
    let info = Info {
        service: "visma".into(),
        erp_base_url: base.clone(),
        salesorder_base_url: format!("{base}/salesorder"),
        token_url: format!("{base}/connect/token"),
        client_id: config.clients[0].client_id.clone(),
        client_secret: config.clients[0].client_secret.clone(),
        tenants: companies
            .iter()
            .map(|c| TenantInfo {
                tenant_id: c.tenant_id.clone(),
                company: c.name.clone(),
            })
            .collect(),
    };
    let sim = Arc::new(Sim {
        state: Mutex::new(state::State { companies }),
        clock: state::Clock::default(),
        clients: config.clients,
        quota: config.quota,
        window: config.window,
        token_ttl: config.token_ttl,
        max_page_size: config.max_page_size,
        tokens: Mutex::new(HashMap::new()),
        limits: Mutex::new(HashMap::new()),
        faults: Mutex::new(faults::Faults::default()),
        stats: gate::Stats::default(),
        info: info.clone(),
    });
    let autosave = config.state_file.clone().map(|path| {
        let sim = sim.clone();
        crate::common::state_file::Autosave::spawn(path, move || persist::encode(&sim.state.lock()))
    });
    let app = router(sim);
    let (stop, stopped) = oneshot::channel::<()>();
    let listener = server::KillableListener::new(listener);
    let task = tokio::spawn(async move {
        let serve = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<server::ConnHandle>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "visma simulator stopped with an error");
        }
    });
    Ok(Running {
        info,
        addr,
        stop,
        task,
        autosave,
    })
}

/// The saved companies when the state file exists, else fresh ones from `seed`.
fn initial_companies(config: &Config) -> anyhow::Result<Vec<state::Company>> {
    if let Some(path) = &config.state_file
        && path.exists()
    {
        return Ok(persist::load(path)?.companies);
    }
    let companies = seed::companies(config.seed == crate::Seed::Demo);
    if let Some(path) = &config.state_file {
        // Written at once so a kill before the first autosave still resumes the same world.
        let state = state::State { companies };
        persist::save(&state, path)?;
        return Ok(state.companies);
    }
    Ok(companies)
}

fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .merge(customers::routes())
        .merge(invoices::routes())
        .merge(payments::routes())
        .merge(inventory::routes())
        .merge(lookups::routes())
        .merge(salesorders::routes())
        .merge(so_invoice::routes())
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            gate::gate,
        ));
    Router::new()
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(api)
        .fallback(gate::not_found)
        .with_state(sim)
}
