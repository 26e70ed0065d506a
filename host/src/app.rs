//! The running host: store, clients, plugin runtime, engine with the flows, webhook receiver,
//! order poller, schedules and the admin API, wired from a [`Config`].

use crate::config::Config;
use anyhow::Context;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ledgerlink_bigcommerce::{
    Client as BcClient, ClientConfig, HookSpec, OrderPoller, PollerConfig, ReceiverConfig,
    webhook_router,
};
use ledgerlink_core::{EventSink, VismaTenantId, Watermarks};
use ledgerlink_engine::flows::{self, FlowDeps, StockSettings};
use ledgerlink_engine::{
    Engine, EngineConfig, EngineHandle, JobFilter, JobId, ReplayMode, ReplaySelector,
};
use ledgerlink_runtime::registry::WatchHandle;
use ledgerlink_runtime::{PluginRegistry, Runtime};
use ledgerlink_store::{NewJob, Store};
use ledgerlink_visma::{ClientSettings, EntityConnection, VismaClient};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use subtle_eq::ct_eq;
use tokio::sync::watch;
use tokio::task::JoinSet;

mod plugin_api;

mod subtle_eq {
    /// Constant-time comparison of the presented bearer token.
    pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

pub const WEBHOOK_PATH: &str = "/webhooks/bigcommerce";
pub const SECRET_HEADER: &str = "X-Ledgerlink-Secret";

/// Options the CLI may override.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Use this listener instead of binding `config.host.listen` (tests bind port 0 first).
    pub listener: Option<std::sync::Arc<std::sync::Mutex<Option<std::net::TcpListener>>>>,
    pub engine: Option<EngineConfig>,
}

pub struct App {
    pub admin_addr: SocketAddr,
    pub admin_token: String,
    pub store: Store,
    /// The plugin version each legal entity maps with (`<data_dir>/plugins/`), hot-swapped by
    /// `ledgerlink plugin push|activate|rollback`, the watched directory and the admin API.
    pub plugins: Arc<PluginRegistry>,
    plugin_watch: Option<WatchHandle>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    engine: EngineHandle,
}

#[derive(Clone)]
struct AdminState {
    store: Store,
    token: Arc<str>,
    plugins: Arc<PluginRegistry>,
    /// Configured plugin name → the legal entities whose routes name it.
    plugin_entities: Arc<BTreeMap<String, Vec<String>>>,
}

impl App {
    pub async fn start(config: Config, options: AppOptions) -> anyhow::Result<App> {
        std::fs::create_dir_all(&config.host.data_dir)
            .with_context(|| format!("creating {}", config.host.data_dir.display()))?;
        let store = Store::open(config.database()?)
            .await
            .context("opening the database")?;
        let admin_token = config.admin_token()?;

        // Plugins: the registry under the data dir, with the configured ones registered and
        // bound, watched so that new versions reach this running host.
        let plugins = {
            let config = config.clone();
            tokio::task::spawn_blocking(move || open_plugins(&config))
                .await
                .context("opening the plugin registry panicked")??
        };
        let plugin_watch = plugins.watch().with_context(|| {
            format!(
                "watching the plugin directory {}",
                plugins.store().root().display()
            )
        })?;

        // Clients.
        let mut stores = BTreeMap::new();
        for s in &config.stores {
            let client = BcClient::new(ClientConfig::new(&s.base_url, s.auth_token()?))
                .with_context(|| format!("BigCommerce client for {}", s.hash))?;
            stores.insert(s.hash.clone(), client);
        }
        let mut connections = Vec::new();
        for e in &config.entities {
            connections.push(EntityConnection {
                entity: e.id.clone(),
                tenant_id: VismaTenantId::new(e.tenant_id.clone()),
                client_id: e.client_id.clone(),
                client_secret: e.client_secret()?,
                token_url: e.token_url.clone(),
                scope: e.scope.clone(),
                erp_base_url: e.erp_base_url.clone(),
                salesorder_base_url: e
                    .salesorder_base_url
                    .clone()
                    .unwrap_or_else(|| e.erp_base_url.clone()),
                branch: e.branch.clone(),
            });
        }
        let visma =
            VismaClient::new(ClientSettings::default(), connections).context("Visma client")?;
        let deps = Arc::new(FlowDeps::new(
            stores.clone(),
            visma,
            config.routing(),
            plugins.clone(),
        ));

        // Engine.
        let mut engine_cfg = options.engine.clone().unwrap_or_default();
        engine_cfg.workers = config.host.workers.max(1);
        let mut engine = Engine::new(store.clone(), engine_cfg);
        let stock = StockSettings {
            feeds: config
                .stores
                .iter()
                .filter_map(|s| s.stock_from.clone().map(|e| (e, s.hash.clone())))
                .collect(),
        };
        flows::register(&mut engine, deps.clone(), stock.clone());
        let engine = engine.start();

        // HTTP: receiver + admin API on one listener.
        let std_listener = options
            .listener
            .as_ref()
            .and_then(|l| l.lock().ok().and_then(|mut g| g.take()));
        let listener = match std_listener {
            Some(l) => {
                l.set_nonblocking(true)?;
                tokio::net::TcpListener::from_std(l)?
            }
            None => tokio::net::TcpListener::bind(config.host.listen)
                .await
                .with_context(|| format!("binding {}", config.host.listen))?,
        };
        let admin_addr = listener.local_addr()?;
        let public_url = config
            .host
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{admin_addr}"));

        let sink: Arc<dyn EventSink> = Arc::new(store.clone());
        let mut router = Router::new();
        for s in &config.stores {
            let mut rc = ReceiverConfig::new(
                SECRET_HEADER,
                s.webhook_secret()?,
                format!("bigcommerce:{}", s.hash),
            );
            rc.path = format!("{WEBHOOK_PATH}/{}", s.hash);
            router = router.merge(webhook_router(rc, sink.clone()));
        }
        let admin = AdminState {
            store: store.clone(),
            token: admin_token.clone().into(),
            plugins: plugins.clone(),
            plugin_entities: Arc::new(config.plugin_entities()),
        };
        router = router.merge(admin_router(admin));

        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        {
            let mut rx = stop_rx.clone();
            tasks.spawn(async move {
                let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                });
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "HTTP server stopped");
                }
            });
        }

        // Hooks, pollers, schedules.
        for s in &config.stores {
            let client = stores[&s.hash].clone();
            if s.register_hooks {
                let spec = HookSpec::new(
                    format!("{public_url}{WEBHOOK_PATH}/{}", s.hash),
                    SECRET_HEADER,
                    s.webhook_secret()?,
                );
                match client.ensure_hooks(&spec).await {
                    Ok(r) => {
                        tracing::info!(store = %s.hash, created = r.created.len(), repaired = r.reactivated.len() + r.updated.len(), retired = ?r.retired, "webhooks in place");
                        if !r.retire_waiting.is_empty() {
                            // The exact hooks replacing an earlier version's wildcards are
                            // new: the wildcards go once those surely fire.
                            tasks.spawn(retire_later(
                                client.clone(),
                                spec,
                                s.hash.clone(),
                                stop_rx.clone(),
                            ));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(store = %s.hash, error = %e, "could not register webhooks; the poller covers orders")
                    }
                }
            }
            if config.host.poll_interval_secs > 0 {
                let mut pc = PollerConfig::new(
                    format!("bigcommerce:{}", s.hash),
                    format!("bigcommerce:{}:orders", s.hash),
                );
                pc.initial_lookback = Duration::from_secs(3650 * 24 * 3600);
                let marks: Arc<dyn Watermarks> = Arc::new(store.clone());
                let poller = OrderPoller::new(client.clone(), sink.clone(), marks, pc);
                let interval = Duration::from_secs(config.host.poll_interval_secs);
                let mut rx = stop_rx.clone();
                tasks.spawn(async move {
                    poller
                        .run(interval, async move {
                            let _ = rx.wait_for(|s| *s).await;
                        })
                        .await
                });
            }
        }
        if config.host.stock_interval_secs > 0 && !stock.feeds.is_empty() {
            let store = store.clone();
            let every = Duration::from_secs(config.host.stock_interval_secs);
            let mut rx = stop_rx.clone();
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(every);
                let mut n: u64 = 0;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = rx.wait_for(|s| *s) => break,
                    }
                    // Every 60th pass (and the first) is a full sync, the rest are deltas.
                    let full = n.is_multiple_of(60);
                    n += 1;
                    let job = NewJob::new(
                        flows::KIND_STOCK_SYNC,
                        "stock",
                        serde_json::json!({"full": full}),
                    );
                    if let Err(e) = enqueue_if_idle(&store, &job).await {
                        tracing::warn!(error = %e, "could not schedule the stock sync");
                    }
                }
            });
        }
        if config.host.payment_interval_secs > 0 {
            let (store, deps) = (store.clone(), deps.clone());
            let entities: Vec<_> = config.entities.iter().map(|e| e.id.clone()).collect();
            let every = Duration::from_secs(config.host.payment_interval_secs);
            let mut rx = stop_rx.clone();
            tasks.spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = rx.wait_for(|s| *s) => break,
                    }
                    for entity in &entities {
                        if let Err(e) = schedule_payment_checks(&store, &deps, entity).await {
                            tracing::warn!(%entity, error = %e, "payment status check not scheduled");
                        }
                    }
                }
            });
        }
        Ok(App {
            admin_addr,
            admin_token,
            store,
            plugins,
            plugin_watch: Some(plugin_watch),
            stop,
            tasks,
            engine,
        })
    }

    /// Stops taking work, lets running jobs finish (within the engine's grace), stops the
    /// server and background tasks.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let report = self.engine.shutdown().await?;
        tracing::info!(
            attempts = report.attempts,
            released = report.released,
            "engine stopped"
        );
        while self.tasks.join_next().await.is_some() {}
        if let Some(watch) = self.plugin_watch.take() {
            // Joins the watcher thread, which may be finishing a compile.
            let _ = tokio::task::spawn_blocking(move || drop(watch)).await;
        }
        self.store.close().await;
        Ok(())
    }
}

/// Opens the plugin registry under the data dir and registers every configured plugin,
/// bound to the legal entities whose routes name it (see [`PluginRegistry::configure`]: a
/// version an operator activated since the configuration last changed stays active).
fn open_plugins(config: &Config) -> anyhow::Result<Arc<PluginRegistry>> {
    let data_dir = &config.host.data_dir;
    let runtime = Runtime::new(PluginRegistry::runtime_config(data_dir))
        .context("starting the plugin runtime")?;
    let registry =
        PluginRegistry::open(runtime, data_dir).context("opening the plugin registry")?;
    let entities = config.plugin_entities();
    for p in &config.plugins {
        let bytes = std::fs::read(&p.path)
            .with_context(|| format!("reading plugin {:?} from {}", p.name, p.path.display()))?;
        let bound = entities.get(&p.name).cloned().unwrap_or_default();
        let done = registry
            .configure(&bytes, &bound, p.limits())
            .with_context(|| {
                format!(
                    "plugin {:?} ({}) cannot be registered; the registry is unchanged",
                    p.name,
                    p.path.display()
                )
            })?;
        tracing::info!(
            plugin = %p.name,
            version = %done.record.label(),
            bound = ?done.bound,
            "configured plugin registered"
        );
        for (entity, active) in &done.kept {
            tracing::info!(
                plugin = %p.name,
                %entity,
                %active,
                "legal entity keeps the plugin version activated since the configuration last changed"
            );
        }
    }
    Ok(Arc::new(registry))
}

/// Queues a payment-status job for every invoice of ours that Visma changed since the last
/// pass (payments and credit notes change an invoice's balance and modification time).
async fn schedule_payment_checks(
    store: &Store,
    deps: &FlowDeps,
    entity: &ledgerlink_core::LegalEntityId,
) -> anyhow::Result<()> {
    use ledgerlink_visma::dto::{DateFilter, InvoiceFilter};
    let mark = format!("visma:{entity}:payments");
    let since = store
        .watermark(&mark)
        .await?
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&chrono::Utc));
    let started = chrono::Utc::now();
    let invoices = deps
        .visma
        .list_invoices(
            entity,
            &InvoiceFilter {
                last_modified: since.map(DateFilter::since),
                ..Default::default()
            },
        )
        .await?;
    for inv in invoices {
        let Some(bc) = store
            .identity_by_visma(entity, "invoice", &inv.reference_number)
            .await?
        else {
            queue_sales_order_invoice(store, entity, &inv).await?;
            continue;
        };
        // `<store>:<order>` or `<store>:<order>/s<shipment>`.
        let Some((store_hash, rest)) = bc.split_once(':') else {
            continue;
        };
        let Some(order) = rest.split('/').next().and_then(|o| o.parse::<u64>().ok()) else {
            continue;
        };
        store
            .enqueue(&NewJob {
                kind: flows::KIND_PAYMENT_STATUS.into(),
                subject: format!("order:{order}"),
                payload: serde_json::json!({"store": store_hash, "order_id": order, "entity": entity.as_str()}),
                source: Some(format!("bigcommerce:{store_hash}")),
            })
            .await?;
    }
    store.set_watermark(&mark, &started.to_rfc3339()).await?;
    Ok(())
}

/// An invoice Visma made from one of our sales orders (its lines name the order) is not in
/// the identity map yet: a sync of that order learns it, writes its number back and queues
/// its payment check.
async fn queue_sales_order_invoice(
    store: &Store,
    entity: &ledgerlink_core::LegalEntityId,
    inv: &ledgerlink_visma::dto::Invoice,
) -> anyhow::Result<()> {
    let Some((order_type, number)) = inv.sales_order() else {
        return Ok(());
    };
    let so = format!("{order_type}/{number}");
    let Some(bc) = store.identity_by_visma(entity, "sales_order", &so).await? else {
        return Ok(());
    };
    let Some((store_hash, order)) = bc
        .split_once(':')
        .and_then(|(s, o)| Some((s, o.parse::<u64>().ok()?)))
    else {
        return Ok(());
    };
    store
        .enqueue(&NewJob {
            kind: flows::KIND_ORDER_SYNC.into(),
            subject: format!("order:{order}"),
            payload: serde_json::json!({
                "store": store_hash, "order_id": order, "visma_invoice": inv.reference_number,
            }),
            source: Some(format!("bigcommerce:{store_hash}")),
        })
        .await?;
    Ok(())
}

/// Adds a scheduled job unless one of its kind is still waiting (schedules never pile up).
async fn enqueue_if_idle(store: &Store, job: &NewJob) -> anyhow::Result<()> {
    let waiting = store
        .list_jobs(&JobFilter {
            kind: Some(job.kind.clone()),
            state: Some(ledgerlink_store::JobState::Pending),
            limit: Some(1),
            ..Default::default()
        })
        .await?;
    if waiting.is_empty() {
        store.enqueue(job).await?;
    }
    Ok(())
}

// --- admin API ---------------------------------------------------------------------------

fn admin_router(state: AdminState) -> Router {
    let api = Router::new()
        .route("/api/errors", get(errors_list))
        .route("/api/jobs", get(jobs_list))
        .route("/api/replay", post(replay))
        .route("/api/skip", post(skip))
        .route("/api/audit/{query}", get(audit))
        .merge(plugin_api::routes())
        .route("/api/stats", get(stats))
        .route("/api/sync/{kind}", post(sync_now))
        .layer(middleware::from_fn_with_state(state.clone(), bearer));
    Router::new()
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .merge(api)
        .with_state(state)
}

async fn bearer(State(st): State<AdminState>, req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| ct_eq(t.as_bytes(), st.token.as_bytes()));
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "missing or wrong bearer token"})),
        )
            .into_response();
    }
    next.run(req).await
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({"error": self.1}))).into_response()
    }
}

impl<E: std::fmt::Display> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    kind: Option<String>,
    subject: Option<String>,
    code: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
}

impl ListQuery {
    fn filter(&self) -> Result<JobFilter, ApiError> {
        Ok(JobFilter {
            kind: self.kind.clone(),
            subject: self.subject.clone(),
            error_code: self.code.clone(),
            state: self
                .state
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(bad)?,
            limit: Some(self.limit.unwrap_or(100).min(1000)),
            ..Default::default()
        })
    }
}

async fn errors_list(
    State(st): State<AdminState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let jobs = st.store.errors_list(&q.filter()?).await?;
    Ok(Json(serde_json::json!({"errors": jobs})))
}

async fn jobs_list(
    State(st): State<AdminState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let jobs = st.store.list_jobs(&q.filter()?).await?;
    Ok(Json(serde_json::json!({"jobs": jobs})))
}

async fn stats(State(st): State<AdminState>) -> Result<Json<serde_json::Value>, ApiError> {
    let counts = st.store.state_counts().await?;
    let unprocessed = st.store.unprocessed_event_count().await?;
    let events = st.store.event_count().await?;
    Ok(Json(serde_json::json!({
        "jobs": counts, "events": events, "unprocessed_events": unprocessed
    })))
}

/// `{"job": 12}` or `{"filter": {...}}` or `{"all": true}`, with optional `"mode"` and `"actor"`.
#[derive(Debug, Deserialize)]
struct ActionBody {
    job: Option<i64>,
    filter: Option<JobFilter>,
    #[serde(default)]
    all: bool,
    mode: Option<String>,
    reason: Option<String>,
    actor: Option<String>,
}

impl ActionBody {
    fn selector(&self) -> Result<ReplaySelector, ApiError> {
        match (&self.job, &self.filter, self.all) {
            (Some(id), None, false) => Ok(ReplaySelector::Job(JobId(*id))),
            (None, Some(f), false) => Ok(ReplaySelector::Filter(f.clone())),
            (None, None, true) => Ok(ReplaySelector::AllFailed),
            _ => Err(bad(
                "give exactly one of \"job\", \"filter\" or \"all\": true",
            )),
        }
    }
}

async fn replay(
    State(st): State<AdminState>,
    Json(body): Json<ActionBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mode: ReplayMode = body
        .mode
        .as_deref()
        .unwrap_or("refetch")
        .parse()
        .map_err(bad)?;
    let actor = body.actor.clone().unwrap_or_else(|| "admin-api".into());
    let report = st.store.replay(&body.selector()?, mode, &actor).await?;
    Ok(Json(serde_json::to_value(report)?))
}

async fn skip(
    State(st): State<AdminState>,
    Json(body): Json<ActionBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let reason = body
        .reason
        .clone()
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| bad("a \"reason\" is required to skip"))?;
    let actor = body.actor.clone().unwrap_or_else(|| "admin-api".into());
    let report = st.store.skip(&body.selector()?, &reason, &actor).await?;
    Ok(Json(serde_json::to_value(report)?))
}

async fn audit(
    State(st): State<AdminState>,
    UrlPath(query): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let trail = st.store.audit_search(&query).await?;
    Ok(Json(serde_json::to_value(trail)?))
}

/// `POST /api/sync/stock?full=true` and friends: queue a sync now.
async fn sync_now(
    State(st): State<AdminState>,
    UrlPath(kind): UrlPath<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let job = match kind.as_str() {
        "stock" => NewJob::new(
            flows::KIND_STOCK_SYNC,
            "stock",
            serde_json::json!({"full": q.get("full").is_some_and(|v| v == "true")}),
        ),
        other => return Err(bad(format!("unknown sync {other:?} (use stock)"))),
    };
    let id = st.store.enqueue(&job).await?;
    Ok(Json(serde_json::json!({"job": id})))
}

/// Runs `ensure_hooks` again once the hooks it just created have settled, until no retired
/// wildcard of ours waits for them (a few tries; the next start finishes the job otherwise).
async fn retire_later(
    client: BcClient,
    spec: HookSpec,
    store: String,
    mut stop: watch::Receiver<bool>,
) {
    for _ in 0..5 {
        tokio::select! {
            _ = tokio::time::sleep(spec.settle + Duration::from_secs(5)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match client.ensure_hooks(&spec).await {
            Ok(r) if r.retire_waiting.is_empty() => {
                tracing::info!(%store, retired = ?r.retired, "earlier wildcard webhooks removed");
                return;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(%store, error = %e, "webhook check failed; trying again"),
        }
    }
}
