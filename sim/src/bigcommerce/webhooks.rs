//! Webhooks v3: hook CRUD (owned by the caller's client id) and real HTTP delivery.
//!
//! Delivery follows NOTES §5: thin payload `{scope, store_id, data, hash, created_at, producer}`,
//! the hook's custom headers, any 2xx acknowledges, otherwise BigCommerce's retry ladder
//! (60 s … 86400 s, multiplied by `webhook_time_scale`), and the hook is deactivated
//! (`is_active: false`) after the last retry fails.
//!
//! Deliberate relaxations: destinations may be `http://127.0.0.1:*` / `http://localhost:*`
//! (the real API demands https on port 443); hooks fire at once (the real API may take up to a
//! minute); per-domain blocklisting is not simulated.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::Utc;
use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use sha2::Digest;
use tokio::sync::mpsc;

use super::http::*;
use super::limits::Stats;
use super::state::Hook;
use super::{AppState, ClientId, Shared};

const V3: Api = Api::V3;

/// BigCommerce's retry delays after a failed delivery, in seconds (NOTES §5.4).
pub const RETRY_LADDER_SECS: [u64; 11] = [
    60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400,
];

#[derive(Debug)]
struct Event {
    scope: String,
    data: Value,
    created_at: i64,
    seq: u64,
}

/// Queues events and delivers them to matching hooks in the background.
pub struct Dispatcher {
    tx: mpsc::UnboundedSender<Event>,
    seq: AtomicU64,
    stopped: Arc<AtomicBool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Dispatcher {
    pub fn new(shared: Weak<Shared>, time_scale: f64, timeout: Duration) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let stopped = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(timeout)
            .build()
            .expect("reqwest client builds");
        let task = tokio::spawn(run(
            shared,
            rx,
            client,
            time_scale.max(0.0),
            stopped.clone(),
        ));
        Self {
            tx,
            seq: AtomicU64::new(1),
            stopped,
            task: Mutex::new(Some(task)),
        }
    }

    /// Queue one event; delivery happens asynchronously.
    pub fn emit(&self, scope: &str, data: Value) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Event {
            scope: scope.to_string(),
            data,
            created_at: Utc::now().timestamp(),
            seq,
        });
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }
}

fn scope_matches(hook_scope: &str, event: &str) -> bool {
    match hook_scope.strip_suffix("/*") {
        Some(prefix) => event.starts_with(prefix) && event[prefix.len()..].starts_with('/'),
        None => hook_scope == event,
    }
}

/// The thin payload BigCommerce posts (NOTES §5.2).
#[derive(serde::Serialize)]
struct Payload<'a> {
    scope: &'a str,
    store_id: String,
    data: &'a Value,
    hash: &'a str,
    created_at: i64,
    producer: String,
}

/// Feeds `format!`-style output into a hasher without building the string.
struct HashSink<'a>(&'a mut sha2::Sha256);

impl std::fmt::Write for HashSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

async fn run(
    shared: Weak<Shared>,
    mut rx: mpsc::UnboundedReceiver<Event>,
    client: reqwest::Client,
    scale: f64,
    stopped: Arc<AtomicBool>,
) {
    while let Some(ev) = rx.recv().await {
        let Some(s) = shared.upgrade() else { return };
        let hooks: Vec<u64> = s
            .data
            .lock()
            .hooks
            .values()
            .filter(|h| h.is_active && scope_matches(&h.scope, &ev.scope))
            .map(|h| h.id)
            .collect();
        if hooks.is_empty() {
            continue;
        }
        // Duplicate deliveries of one event carry the same hash (NOTES §5.2). BigCommerce
        // documents SHA-1 of the payload; the simulator hashes scope, data, time and a sequence
        // number with SHA-256 (cut to SHA-1's 40 hex digits) so that distinct events that carry
        // equal `data` (two updates of one order) still get distinct hashes.
        let mut hasher = sha2::Sha256::new();
        let _ = std::fmt::Write::write_fmt(
            &mut HashSink(&mut hasher),
            format_args!("{}|{}|{}|{}", ev.scope, ev.data, ev.created_at, ev.seq),
        );
        let hash = hex::encode(&hasher.finalize()[..20]);
        // Encoded once: every hook and every retry posts the same bytes.
        let body = match serde_json::to_vec(&Payload {
            scope: &ev.scope,
            store_id: s.store_id.to_string(),
            data: &ev.data,
            hash: &hash,
            created_at: ev.created_at,
            producer: format!("stores/{}", s.store_hash),
        }) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                tracing::error!(error = %e, scope = %ev.scope, "webhook payload not encodable");
                continue;
            }
        };
        for hook in hooks {
            let faults = s.faults.lock().clone();
            if s.roll(faults.drop_webhooks_ratio) {
                Stats::bump(&s.stats.webhooks_dropped);
                continue;
            }
            let copies = if s.roll(faults.duplicate_webhooks_ratio) {
                Stats::bump(&s.stats.webhooks_duplicated);
                2
            } else {
                1
            };
            for _ in 0..copies {
                tokio::spawn(deliver(
                    Arc::downgrade(&s),
                    client.clone(),
                    hook,
                    body.clone(),
                    scale,
                    stopped.clone(),
                ));
            }
        }
    }
}

async fn deliver(
    shared: Weak<Shared>,
    client: reqwest::Client,
    hook_id: u64,
    body: Bytes,
    scale: f64,
    stopped: Arc<AtomicBool>,
) {
    for attempt in 0..=RETRY_LADDER_SECS.len() {
        if attempt > 0 {
            let delay = Duration::from_secs_f64(RETRY_LADDER_SECS[attempt - 1] as f64 * scale);
            tokio::time::sleep(delay).await;
        }
        if stopped.load(Ordering::Relaxed) {
            return;
        }
        let Some(s) = shared.upgrade() else { return };
        // A hook deleted or deactivated meanwhile gets nothing more; one changed meanwhile is
        // posted to as it is now.
        let req = {
            let store = s.data.lock();
            let Some(current) = store.hooks.get(&hook_id).filter(|h| h.is_active) else {
                return;
            };
            let mut req = client
                .post(&current.destination)
                .header("content-type", "application/json");
            for (k, v) in &current.headers {
                if let Some(v) = v.as_str() {
                    req = req.header(k.as_str(), v);
                }
            }
            req
        };
        Stats::bump(&s.stats.webhooks_sent);
        drop(s);
        let ok = matches!(req.body(body.clone()).send().await, Ok(r) if r.status().is_success());
        let Some(s) = shared.upgrade() else { return };
        if ok {
            Stats::bump(&s.stats.webhooks_delivered);
            return;
        }
        Stats::bump(&s.stats.webhooks_failed);
    }
    // The whole ladder failed: deactivate the hook, as BigCommerce does after ~48 h.
    if let Some(s) = shared.upgrade() {
        let mut store = s.data.lock();
        if let Some(h) = store.hooks.get_mut(&hook_id)
            && h.is_active
        {
            h.is_active = false;
            h.updated_at = Utc::now().timestamp();
            Stats::bump(&s.stats.hooks_deactivated);
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/hooks", get(list).post(create))
        .route("/v3/hooks/{id}", get(get_one).put(update).delete(delete))
}

fn hook_json(h: &Hook, store_hash: &str) -> Value {
    json!({
        "id": h.id, "client_id": h.client_id, "store_hash": store_hash, "scope": h.scope,
        "destination": h.destination, "is_active": h.is_active, "headers": h.headers,
        "created_at": h.created_at, "updated_at": h.updated_at,
    })
}

fn validate_destination(d: &str) -> ApiResult<()> {
    let ok = match reqwest::Url::parse(d) {
        Ok(u) => match u.scheme() {
            "https" => u.port_or_known_default() == Some(443),
            // Relaxation for local testing (documented above).
            "http" => matches!(u.host_str(), Some("127.0.0.1" | "localhost")),
            _ => false,
        },
        Err(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::unprocessable(V3, "The destination must be an https URL on port 443 (the simulator also allows http://127.0.0.1:*).")
            .field("destination", "invalid"))
    }
}

fn validate_scope(scope: &str) -> ApiResult<()> {
    let ok = scope.starts_with("store/")
        && scope.len() > 6
        && !scope.contains(' ')
        && !scope[..scope.len() - 1].contains('*');
    if ok {
        Ok(())
    } else {
        Err(ApiError::unprocessable(
            V3,
            format!("The scope {scope:?} is not a valid webhook scope."),
        )
        .field("scope", "invalid"))
    }
}

fn headers_field(body: &Value) -> ApiResult<Option<Map<String, Value>>> {
    match body.get("headers") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(Some(m.clone())),
        Some(_) => Err(
            ApiError::unprocessable(V3, "headers must be an object of string values.")
                .field("headers", "invalid"),
        ),
    }
}

async fn list(
    State(s): State<AppState>,
    Extension(client): Extension<ClientId>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let active = q.bool("is_active")?;
    let scope = q.str("scope");
    let dest = q.str("destination");
    let store = s.data.lock();
    let hooks: Vec<&Hook> = store
        .hooks
        .values()
        .filter(|h| h.client_id == client.0)
        .filter(|h| active.is_none_or(|a| h.is_active == a))
        .filter(|h| scope.is_none_or(|sc| h.scope == sc))
        .filter(|h| dest.is_none_or(|d| h.destination == d))
        .collect();
    Ok(v3_paged(&hooks, page, limit, |h| {
        hook_json(h, &s.store_hash)
    }))
}

async fn get_one(
    State(s): State<AppState>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = s.data.lock();
    let h = find(&store.hooks, &id, &client)?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(hook_json(h, &s.store_hash)),
    ))
}

fn find<'a>(
    hooks: &'a std::collections::BTreeMap<u64, Hook>,
    id: &str,
    client: &ClientId,
) -> ApiResult<&'a Hook> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| hooks.get(&id))
        .filter(|h| h.client_id == client.0)
        .ok_or_else(|| ApiError::not_found(V3, "webhook"))
}

async fn create(
    State(s): State<AppState>,
    Extension(client): Extension<ClientId>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let scope = str_field(&body, "scope")
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "scope is required.").field("scope", "required")
        })?
        .to_string();
    let dest = str_field(&body, "destination")
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "destination is required.").field("destination", "required")
        })?
        .to_string();
    validate_scope(&scope)?;
    validate_destination(&dest)?;
    let headers = headers_field(&body)?.unwrap_or_default();
    let is_active = match body.get("is_active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::unprocessable(V3, "is_active must be a boolean.")
                .field("is_active", "invalid"));
        }
    };
    let mut store = s.data.lock();
    let same_scope = store
        .hooks
        .values()
        .filter(|h| h.client_id == client.0 && h.scope == scope)
        .count();
    if store
        .hooks
        .values()
        .any(|h| h.client_id == client.0 && h.scope == scope && h.destination == dest)
    {
        return Err(ApiError::unprocessable(
            V3,
            "A hook with this scope and destination already exists for this client.",
        )
        .field("scope", "duplicate"));
    }
    if same_scope >= 10 {
        return Err(
            ApiError::unprocessable(V3, "At most 10 hooks per scope and client.")
                .field("scope", "limit reached"),
        );
    }
    let id = store.next_id("hook", 1);
    let now = Utc::now().timestamp();
    let hook = Hook {
        id,
        client_id: client.0.clone(),
        scope,
        destination: dest,
        is_active,
        headers,
        created_at: now,
        updated_at: now,
    };
    let v = hook_json(&hook, &s.store_hash);
    store.hooks.insert(id, hook);
    Ok(json_response(StatusCode::OK, v3_one(v)))
}

async fn update(
    State(s): State<AppState>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let hid = find(&store.hooks, &id, &client)?.id;
    let scope = str_field(&body, "scope").map(str::to_string);
    if let Some(sc) = &scope {
        validate_scope(sc)?;
    }
    let dest = str_field(&body, "destination").map(str::to_string);
    if let Some(d) = &dest {
        validate_destination(d)?;
    }
    let headers = headers_field(&body)?;
    let active = match body.get("is_active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::unprocessable(V3, "is_active must be a boolean.")
                .field("is_active", "invalid"));
        }
    };
    let h = store.hooks.get_mut(&hid).expect("found");
    if let Some(sc) = scope {
        h.scope = sc;
    }
    if let Some(d) = dest {
        h.destination = d;
    }
    if let Some(hd) = headers {
        h.headers = hd;
    }
    if let Some(a) = active {
        h.is_active = a;
    }
    h.updated_at = Utc::now().timestamp();
    Ok(json_response(
        StatusCode::OK,
        v3_one(hook_json(h, &s.store_hash)),
    ))
}

async fn delete(
    State(s): State<AppState>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
) -> ApiResult {
    let mut store = s.data.lock();
    let hid = find(&store.hooks, &id, &client)?.id;
    let h = store.hooks.remove(&hid).expect("found");
    Ok(json_response(
        StatusCode::OK,
        v3_one(hook_json(&h, &s.store_hash)),
    ))
}

#[cfg(test)]
mod tests {
    use super::scope_matches;

    #[test]
    fn wildcards_cover_the_family_only() {
        assert!(scope_matches("store/order/*", "store/order/created"));
        assert!(scope_matches("store/order/*", "store/order/refund/created"));
        assert!(!scope_matches("store/order/*", "store/orders/created"));
        assert!(!scope_matches("store/order/created", "store/order/updated"));
        assert!(scope_matches(
            "store/sku/inventory/updated",
            "store/sku/inventory/updated"
        ));
    }
}
