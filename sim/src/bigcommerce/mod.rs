//! BigCommerce API simulator.
//!
//! Serves the REST Management API under `/stores/{store_hash}/v2|v3/…` with the real paths,
//! status codes and body shapes (see `docs/sim-bigcommerce.md` and `sim/README.md`), plus an
//! admin API under `/__admin/…` for fault injection and statistics.
//!
//! Request pipeline (outermost first): store hash → `X-Auth-Token` (401) → injected connection
//! reset → per-store quota (429 + headers) → injected latency and 5xx → route.

mod admin;
mod catalog;
mod customers;
mod http;
mod inventory;
mod limits;
mod orders;
mod persist;
mod refunds;
pub mod seed;
mod settings;
mod state;
mod views;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use rand::Rng;

pub use limits::Faults;
pub use seed::demo_skus;

use http::{Api, ApiError};
use limits::{Stats, Window};
use state::Store;

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// `127.0.0.1:0` in tests.
    pub listen: SocketAddr,
    pub seed: crate::Seed,
    /// Requests per window; `None` = unlimited. Default `Some(150)` (Standard/Plus plan).
    pub quota: Option<u32>,
    /// Default 30 s.
    pub window: Duration,
    /// 1.0 = BigCommerce's real webhook retry ladder (60 s … 86400 s); tests use e.g. 0.001.
    pub webhook_time_scale: f64,
    /// Store hash in the base URL; default `ledgerlink01`.
    pub store_hash: String,
    /// API token; default random per start unless set.
    pub auth_token: Option<String>,
    /// Webhook delivery timeout (BigCommerce does not document one; default 10 s).
    pub webhook_timeout: Duration,
    /// Seed for the deterministic demo data and fault dice.
    pub rng_seed: u64,
    /// Keep the store's data in this JSON file: loaded on start when it exists (instead of
    /// `seed`), written every few seconds when it changed and on `shutdown`. `None` = memory
    /// only. A file that cannot be read is an error, never silently replaced by a new seed.
    pub state_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: crate::Seed::Demo,
            quota: Some(150),
            window: Duration::from_secs(30),
            webhook_time_scale: 1.0,
            store_hash: "ledgerlink01".into(),
            auth_token: None,
            webhook_timeout: Duration::from_secs(10),
            rng_seed: 42,
            state_file: None,
        }
    }
}

/// What the CLI prints as one JSON line on start.
#[derive(serde::Serialize, Clone, Debug)]
pub struct Info {
    /// Always `"bigcommerce"`.
    pub service: String,
    /// `http://addr/stores/<hash>`.
    pub base_url: String,
    pub auth_token: String,
    pub client_id: String,
    pub store_hash: String,
}

/// A running simulator; dropping it without `shutdown` leaves the server task running until
/// the runtime stops.
pub struct Running {
    info: Info,
    addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    shared: Arc<Shared>,
    autosave: Option<crate::common::state_file::Autosave>,
}

impl Running {
    pub fn info(&self) -> &Info {
        &self.info
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    /// Request and webhook counters (same JSON as `GET /__admin/stats`).
    pub fn stats(&self) -> serde_json::Value {
        self.shared.stats.snapshot()
    }
    /// Set fault injection directly (same as `POST /__admin/faults`).
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock() = faults;
    }
    /// Change the quota at run time (same as `PUT /__admin/quota`); the window restarts.
    pub fn set_quota(&self, quota: Option<u32>, window: Duration) {
        *self.shared.window.lock() = Window::new(quota, window);
    }
    /// Stop serving; with a state file, write it a last time (an error is logged).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        // Graceful shutdown waits for open connections; do not let one that hangs keep the
        // state file from its last write.
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
        self.shared.webhooks.stop();
        if let Some(autosave) = self.autosave
            && let Err(e) = autosave.finish().await
        {
            tracing::error!(error = %e, "BigCommerce simulator state not saved on shutdown");
        }
    }
}

/// One API account: token and the client id derived from it (hooks are owned by client id).
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub token: String,
    pub client_id: String,
}

/// State shared by all handlers.
pub(crate) struct Shared {
    pub store_hash: String,
    pub store_id: u64,
    pub base_url: String,
    pub accounts: Mutex<Vec<Account>>,
    pub data: Mutex<Store>,
    pub window: Mutex<Window>,
    pub faults: Mutex<Faults>,
    pub stats: Stats,
    pub webhooks: webhooks::Dispatcher,
    pub rng: Mutex<rand::rngs::StdRng>,
}

impl Shared {
    fn roll(&self, ratio: f64) -> bool {
        ratio > 0.0 && self.rng.lock().random_bool(ratio.min(1.0))
    }
}

pub(crate) type AppState = Arc<Shared>;

/// Start serving; returns once the listener is bound.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    use rand::SeedableRng;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let token = config.auth_token.clone().unwrap_or_else(|| {
        let mut rng = rand::rng();
        (0..31)
            .map(|_| char::from_digit(rng.random_range(0..36), 36).unwrap_or('0'))
            .collect()
    });
    let client_id = format!(
        "sim{}",
        &hex::encode(sha2::Sha256::digest_str(&token))[..28]
    );
    let base_url = format!("http://{addr}/stores/{}", config.store_hash);
    let store = initial_store(&config)?;
    let stats = Stats::default();
    let shared = Arc::new_cyclic(|weak| Shared {
        store_hash: config.store_hash.clone(),
        store_id: 1_001_234,
        base_url: base_url.clone(),
        accounts: Mutex::new(vec![Account {
            token: token.clone(),
            client_id: client_id.clone(),
        }]),
        data: Mutex::new(store),
        window: Mutex::new(Window::new(config.quota, config.window)),
        faults: Mutex::new(Faults::default()),
        stats,
        webhooks: webhooks::Dispatcher::new(
            weak.clone(),
            config.webhook_time_scale,
            config.webhook_timeout,
        ),
        rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(config.rng_seed ^ 0x5eed)),
    });

    let api = Router::new()
        .merge(orders::routes())
        .merge(refunds::routes())
        .merge(catalog::routes())
        .merge(inventory::routes())
        .merge(customers::routes())
        .merge(settings::routes())
        .merge(webhooks::routes())
        .fallback(|| async { ApiError::not_found(Api::V3, "resource") })
        .layer(middleware::from_fn_with_state(shared.clone(), api_pipeline));
    let app = Router::new()
        .nest(&format!("/stores/{}", config.store_hash), api)
        .merge(admin::routes().layer(middleware::from_fn_with_state(shared.clone(), admin_auth)))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"status": 404, "title": "Store not found"})),
            )
        })
        .with_state(shared.clone());

    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Running {
        info: Info {
            service: "bigcommerce".into(),
            base_url,
            auth_token: token,
            client_id,
            store_hash: config.store_hash,
        },
        addr,
        shutdown: tx,
        task,
        autosave: config.state_file.map(|path| {
            let shared = shared.clone();
            crate::common::state_file::Autosave::spawn(path, move || {
                persist::encode(&shared.data.lock())
            })
        }),
        shared,
    })
}

/// The saved store when the state file exists, else a fresh one from `seed`.
fn initial_store(config: &Config) -> anyhow::Result<Store> {
    if let Some(path) = &config.state_file
        && path.exists()
    {
        return Ok(persist::load(path)?);
    }
    let now = chrono::Utc::now();
    let mut store = Store::new(now);
    if config.seed == crate::Seed::Demo {
        seed::demo(&mut store, now, config.rng_seed);
    }
    if let Some(path) = &config.state_file {
        // Written at once so a kill before the first autosave still resumes the same world.
        persist::save(&store, path)?;
    }
    Ok(store)
}

trait DigestStr {
    fn digest_str(s: &str) -> Vec<u8>;
}
impl DigestStr for sha2::Sha256 {
    fn digest_str(s: &str) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha256::digest(s.as_bytes()).to_vec()
    }
}

/// The client id of the authenticated caller, put in request extensions by the pipeline.
#[derive(Debug, Clone)]
pub(crate) struct ClientId(pub String);

fn authenticate(shared: &Shared, req: &Request) -> Option<ClientId> {
    let token = req.headers().get("x-auth-token")?.to_str().ok()?;
    shared
        .accounts
        .lock()
        .iter()
        .find(|a| a.token == token)
        .map(|a| ClientId(a.client_id.clone()))
}

fn unauthorized() -> Response {
    ApiError::new(
        Api::V3,
        StatusCode::UNAUTHORIZED,
        "You are not authorized to access this resource; send a valid X-Auth-Token header.",
    )
    .into_response()
}

async fn api_pipeline(State(shared): State<AppState>, mut req: Request, next: Next) -> Response {
    Stats::bump(&shared.stats.requests);
    let Some(client) = authenticate(&shared, &req) else {
        Stats::bump(&shared.stats.unauthorized);
        return unauthorized();
    };
    req.extensions_mut().insert(client);
    let faults = shared.faults.lock().clone();
    if shared.roll(faults.reset_ratio) {
        Stats::bump(&shared.stats.injected_resets);
        // Abort the connection task without writing a response: the client sees the connection
        // close mid-request. `resume_unwind` skips the panic hook, so nothing is printed.
        std::panic::resume_unwind(Box::new("injected connection reset"));
    }
    let decision = {
        let mut f = shared.faults.lock();
        shared
            .window
            .lock()
            .check(tokio::time::Instant::now(), &mut f.burst_429)
    };
    let mut resp = if !decision.allowed {
        Stats::bump(&shared.stats.rate_limited);
        let mut r = ApiError::new(
            Api::V3,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests: the store's API quota for this window is used up.",
        )
        .into_response();
        let secs = decision.reset_in.as_millis().div_ceil(1000).max(1);
        r.headers_mut()
            .insert("x-retry-after", HeaderValue::from(secs as u64));
        r
    } else {
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        if shared.roll(faults.error_ratio) {
            Stats::bump(&shared.stats.injected_errors);
            ApiError::new(
                Api::V3,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error (injected fault)",
            )
            .into_response()
        } else {
            next.run(req).await
        }
    };
    if decision.quota != u32::MAX {
        let h = resp.headers_mut();
        h.insert(
            "x-rate-limit-requests-quota",
            HeaderValue::from(decision.quota),
        );
        h.insert(
            "x-rate-limit-requests-left",
            HeaderValue::from(decision.left),
        );
        h.insert(
            "x-rate-limit-time-window-ms",
            HeaderValue::from(decision.window.as_millis() as u64),
        );
        h.insert(
            "x-rate-limit-time-reset-ms",
            HeaderValue::from(decision.reset_in.as_millis() as u64),
        );
    }
    resp
}

async fn admin_auth(State(shared): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(client) = authenticate(&shared, &req) else {
        return unauthorized();
    };
    req.extensions_mut().insert(client);
    next.run(req).await
}
