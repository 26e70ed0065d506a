//! The middleware every ERP and SalesOrders request passes: latency and faults, token check,
//! the fixed-window quota per company + client with `X-RateLimit-*` headers, and counters.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

use super::Sim;
use super::auth::{self, Ctx};
use super::error::ErpError;
use super::faults::Action;
use super::server::ConnHandle;
use crate::common::window::FixedWindow;

const POLICY: &str = "4-fixed-window";

/// One caller's quota window.
pub type Window = FixedWindow<Instant>;

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub token_requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub injected_429: AtomicU64,
    pub injected_errors: AtomicU64,
    pub injected_timeouts: AtomicU64,
    pub dropped_after_commit: AtomicU64,
    pub by_status: Mutex<BTreeMap<u16, u64>>,
}

impl Stats {
    pub fn count_token_request(&self) {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
    }

    fn status(&self, status: StatusCode) {
        *self.by_status.lock().entry(status.as_u16()).or_default() += 1;
    }

    pub fn snapshot(&self) -> serde_json::Value {
        let by_status: BTreeMap<String, u64> = self
            .by_status
            .lock()
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        serde_json::json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "token_requests": self.token_requests.load(Ordering::Relaxed),
            "rate_limited": self.rate_limited.load(Ordering::Relaxed),
            "injected_429": self.injected_429.load(Ordering::Relaxed),
            "injected_errors": self.injected_errors.load(Ordering::Relaxed),
            "injected_timeouts": self.injected_timeouts.load(Ordering::Relaxed),
            "dropped_after_commit": self.dropped_after_commit.load(Ordering::Relaxed),
            "responses_by_status": by_status,
        })
    }
}

/// The quota state a response reports.
struct Quota {
    limit: u32,
    remaining: u32,
    reset_in: Duration,
}

impl Quota {
    fn apply(&self, headers: &mut HeaderMap) {
        let reset = self.reset_in.as_secs_f64().ceil() as u64;
        let put = |h: &mut HeaderMap, name: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(name, v);
            }
        };
        put(headers, "x-ratelimit-limit", self.limit.to_string());
        put(headers, "x-ratelimit-remaining", self.remaining.to_string());
        put(headers, "x-ratelimit-reset", reset.to_string());
        put(headers, "x-ratelimit-policy", POLICY.to_string());
    }
}

/// Takes one unit from the caller's window; `Err` when the window is used up.
fn take_quota(sim: &Sim, ctx: &Ctx) -> Option<Result<Quota, Quota>> {
    let limit = sim.quota?;
    let mut limits = sim.limits.lock();
    let now = Instant::now();
    let window = limits
        .entry((ctx.company, ctx.client_id.clone()))
        .or_default();
    let reset_in = window.roll(now, sim.window);
    Some(match window.take(limit) {
        Some(remaining) => Ok(Quota {
            limit,
            remaining,
            reset_in,
        }),
        None => Err(Quota {
            limit,
            remaining: 0,
            reset_in,
        }),
    })
}

fn too_many(sim: &Sim, quota: Option<&Quota>, message: &str) -> Response {
    let mut resp = ErpError::too_many_requests(message).into_response();
    let reset = quota
        .map(|q| q.reset_in)
        .unwrap_or(Duration::from_secs(1))
        .max(Duration::from_secs(1));
    if let Some(q) = quota {
        q.apply(resp.headers_mut());
    }
    if let Ok(v) = HeaderValue::from_str(&(reset.as_secs_f64().ceil() as u64).to_string()) {
        resp.headers_mut().insert("retry-after", v);
    }
    sim.stats.status(resp.status());
    resp
}

fn finish(sim: &Sim, mut resp: Response, quota: Option<&Quota>) -> Response {
    if let Some(q) = quota {
        q.apply(resp.headers_mut());
    }
    // A v4 id from the thread's generator, not the OS one (`new_v4` asks the kernel every time).
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    if let Ok(v) = HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf)) {
        resp.headers_mut().insert("ipp-request-id", v);
    }
    sim.stats.status(resp.status());
    resp
}

pub async fn gate(State(sim): State<Arc<Sim>>, mut req: Request, next: Next) -> Response {
    sim.stats.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let conn = req
        .extensions()
        .get::<ConnectInfo<ConnHandle>>()
        .map(|c| c.0.clone());

    let ctx = match auth::authenticate(&sim, req.headers(), &method, &path) {
        Ok(ctx) => ctx,
        Err(e) => return finish(&sim, e.into_response(), None),
    };
    let quota = match take_quota(&sim, &ctx) {
        None => None,
        Some(Ok(q)) => Some(q),
        Some(Err(q)) => {
            sim.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            let msg = format!(
                "API calls quota exceeded: {} requests per window for this company and client. Try again in {} seconds.",
                q.limit,
                q.reset_in.as_secs_f64().ceil() as u64
            );
            return too_many(&sim, Some(&q), &msg);
        }
    };

    let (latency, action) = sim.faults.lock().decide(&method, &path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match action {
        Action::Pass => {}
        Action::Burst429 => {
            sim.stats.injected_429.fetch_add(1, Ordering::Relaxed);
            let q = quota.map(|q| Quota {
                remaining: 0,
                reset_in: Duration::from_secs(1),
                ..q
            });
            return too_many(
                &sim,
                q.as_ref(),
                "API calls quota exceeded (injected burst). Try again in 1 seconds.",
            );
        }
        Action::Error => {
            sim.stats.injected_errors.fetch_add(1, Ordering::Relaxed);
            let resp =
                ErpError::internal("An error has occurred (injected fault).").into_response();
            return finish(&sim, resp, quota.as_ref());
        }
        Action::Timeout(hold) => {
            sim.stats.injected_timeouts.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(hold).await;
            if let Some(conn) = &conn {
                conn.kill();
            }
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        Action::CommitThenDrop => {}
    }

    req.extensions_mut().insert(ctx);
    let resp = next.run(req).await;
    if action == Action::CommitThenDrop {
        if let Some(conn) = &conn {
            sim.stats
                .dropped_after_commit
                .fetch_add(1, Ordering::Relaxed);
            conn.kill();
        }
        return resp;
    }
    finish(&sim, resp, quota.as_ref())
}

pub async fn not_found(req: Request) -> Response {
    ErpError::not_found(format!(
        "No HTTP resource was found that matches the request URI '{}'.",
        req.uri().path()
    ))
    .into_response()
}
