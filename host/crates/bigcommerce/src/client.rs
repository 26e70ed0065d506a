//! The HTTP core: one place that authenticates, spends the shared request budget, reads the
//! rate-limit headers, retries transient failures and turns answers into typed errors.

use crate::config::{ClientConfig, ResponseRecord};
use crate::error::{ApiError, Error};
use bytes::Bytes;
use ledgerlink_core::{RateLimitSnapshot, RequestBudget};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Query parameters, in order.
pub type Query = Vec<(String, String)>;

/// Counters since the client was created; cheap to read, for benchmarks and health pages.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (every attempt counts).
    pub requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Attempts repeated after a transient failure (not counting 429 waits).
    pub retries: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    retries: AtomicU64,
}

/// A BigCommerce store client. Cheap to clone; clones share the connection pool and budget.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    cfg: ClientConfig,
    budget: Arc<RequestBudget>,
    in_flight: tokio::sync::Semaphore,
    counters: Counters,
}

/// A response body with its status, before decoding.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Bytes,
}

/// One request. `idempotent` decides whether failures that may have reached the server
/// (5xx, timeouts, resets after sending) are retried: never for creates such as refunds.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Query,
    /// Shared with every attempt without a copy.
    pub body: Option<Bytes>,
    pub idempotent: bool,
}

impl Request {
    pub fn get(path: impl Into<String>, query: Query) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            query,
            body: None,
            idempotent: true,
        }
    }

    pub fn with_json<B: Serialize + ?Sized>(
        method: Method,
        path: impl Into<String>,
        body: &B,
    ) -> Result<Self, Error> {
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::Invalid(format!("cannot encode request body: {e}")))?;
        Ok(Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: Some(Bytes::from(body)),
            idempotent,
        })
    }
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Result<Self, Error> {
        let base = cfg.base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Invalid(format!(
                "base_url {base:?} must start with http:// or https://"
            )));
        }
        let mut headers = HeaderMap::new();
        let mut token = HeaderValue::from_str(&cfg.auth_token)
            .map_err(|_| Error::Invalid("auth token contains invalid characters".into()))?;
        token.set_sensitive(true);
        headers.insert("X-Auth-Token", token);
        headers.insert("Accept", HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build HTTP client: {e}")))?;
        let cfg_in_flight = cfg.max_in_flight.max(1);
        let budget = cfg
            .budget
            .clone()
            .unwrap_or_else(|| Arc::new(RequestBudget::new(cfg.rate_window)));
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                cfg,
                budget,
                in_flight: tokio::sync::Semaphore::new(cfg_in_flight),
                counters: Counters::default(),
            }),
        })
    }

    /// The budget this client spends from (share it with other clients of the same store).
    pub fn budget(&self) -> Arc<RequestBudget> {
        self.inner.budget.clone()
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Sends a request with budget, retries and error mapping; any 2xx comes back raw.
    pub async fn execute(&self, req: &Request) -> Result<RawResponse, Error> {
        let cfg = &self.inner.cfg;
        let method = req.method.as_str();
        let url = format!("{}{}", self.inner.base, req.path);
        let mut failures = 0u32;
        let mut limited = 0u32;
        loop {
            // Held for one attempt (not across backoff sleeps); never closed.
            let permit = self.inner.in_flight.acquire().await;
            let grant = self.inner.budget.acquire().await;
            self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut rb = self.inner.http.request(req.method.clone(), &url);
            if !req.query.is_empty() {
                rb = rb.query(&req.query);
            }
            if let Some(body) = &req.body {
                rb = rb
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(body.clone());
            }
            let outcome = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let snap = rate_limit_snapshot(resp.headers());
                    let retry_after = retry_after(resp.headers(), &snap, status);
                    // Only the response observer (tests, contract checks) reads it.
                    let content_type = cfg.observer.as_ref().and_then(|_| {
                        resp.headers()
                            .get(CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned)
                    });
                    // Feed the budget as soon as the headers are in, before the body. The
                    // grant tells it which of its windows the request was granted in.
                    grant.observe(snap);
                    match resp.bytes().await {
                        Ok(body) => Ok((status, snap, retry_after, content_type, body)),
                        Err(e) => Err(self.transport_error(req, method, e)),
                    }
                }
                Err(e) => {
                    // No answer: the request may or may not have been counted.
                    drop(grant);
                    Err(self.transport_error(req, method, e))
                }
            };
            drop(permit);
            let err = match outcome {
                Ok((status, snap, retry_after, content_type, body)) => {
                    if let Some(obs) = &cfg.observer {
                        obs(&ResponseRecord {
                            method: method.to_owned(),
                            path: req.path.clone(),
                            status: status.as_u16(),
                            content_type,
                            body: body.clone(),
                        });
                    }
                    if status.is_success() {
                        return Ok(RawResponse {
                            status: status.as_u16(),
                            body,
                        });
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.inner
                            .counters
                            .rate_limited
                            .fetch_add(1, Ordering::Relaxed);
                        limited += 1;
                        let err = ApiError::from_response(
                            method,
                            &req.path,
                            429,
                            &body,
                            retry_after,
                            req.idempotent,
                        );
                        tracing::warn!(path = %req.path, ?retry_after, "BigCommerce answered 429");
                        if limited > cfg.max_rate_limit_waits {
                            return Err(Error::Api(Box::new(err)));
                        }
                        // The request was refused, not processed: always safe to repeat.
                        self.inner.budget.exhausted(retry_after);
                        let quota_known = snap.reset_in.is_some();
                        if !quota_known || limited > 1 {
                            // A 429 without quota headers means platform load, and repeated
                            // 429s mean someone else spends our quota: back off further.
                            tokio::time::sleep(cfg.backoff.delay(limited, retry_after)).await;
                        }
                        continue;
                    }
                    let err = ApiError::from_response(
                        method,
                        &req.path,
                        status.as_u16(),
                        &body,
                        retry_after,
                        req.idempotent,
                    );
                    Error::Api(Box::new(err))
                }
                Err(e) => e,
            };
            let retry = matches!(err.class(), ledgerlink_core::ErrorClass::Transient { .. });
            if !retry || failures >= cfg.max_retries {
                return Err(err);
            }
            failures += 1;
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            let hint = match &err {
                Error::Api(a) => a.retry_after,
                _ => None,
            };
            let delay = cfg.backoff.delay(failures, hint);
            tracing::debug!(path = %req.path, %err, ?delay, attempt = failures, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn transport_error(&self, req: &Request, method: &str, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                method: method.to_owned(),
                path: req.path.clone(),
                after: self.inner.cfg.timeout,
                idempotent: req.idempotent,
            }
        } else {
            Error::Transport {
                method: method.to_owned(),
                path: req.path.clone(),
                message: error_chain(&e),
                sent: !e.is_connect(),
                idempotent: req.idempotent,
            }
        }
    }

    /// GET and decode a JSON body.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Query,
    ) -> Result<T, Error> {
        let raw = self.execute(&Request::get(path, query)).await?;
        decode("GET", path, &raw.body)
    }

    /// GET a v2 collection: a bare array, or 204 with no body for "nothing (more)".
    pub async fn get_v2_list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Query,
    ) -> Result<Vec<T>, Error> {
        let raw = self.execute(&Request::get(path, query)).await?;
        if raw.status == 204 || raw.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        decode("GET", path, &raw.body)
    }

    /// Sends a JSON body and decodes the answer.
    pub async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let req = Request::with_json(method.clone(), path, body)?;
        let raw = self.execute(&req).await?;
        decode(method.as_str(), path, &raw.body)
    }

    /// Sends a request whose answer has no body we need (e.g. DELETE → 204).
    pub async fn send_no_content(&self, req: &Request) -> Result<(), Error> {
        self.execute(req).await.map(|_| ())
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        method: method.to_owned(),
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Reads `X-Rate-Limit-*` (names are case-insensitive on the wire).
pub(crate) fn rate_limit_snapshot(h: &HeaderMap) -> RateLimitSnapshot {
    RateLimitSnapshot {
        quota: header_u64(h, "x-rate-limit-requests-quota"),
        remaining: header_u64(h, "x-rate-limit-requests-left"),
        reset_in: header_u64(h, "x-rate-limit-time-reset-ms").map(Duration::from_millis),
    }
}

/// The server's wait hint. For a 429 the quota reset comes first; every response carries the
/// reset, so for other statuses only an explicit `X-Retry-After` / `Retry-After` counts.
fn retry_after(h: &HeaderMap, snap: &RateLimitSnapshot, status: StatusCode) -> Option<Duration> {
    let explicit = header_u64(h, "x-retry-after")
        .or_else(|| header_u64(h, "retry-after"))
        .map(Duration::from_secs);
    if status == StatusCode::TOO_MANY_REQUESTS {
        snap.reset_in.or(explicit)
    } else {
        explicit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::join_all;
    use ledgerlink_sim::Seed;
    use ledgerlink_sim::bigcommerce::{Config, Faults};

    /// Many workers, no in-flight cap and slow answers: requests are in flight whenever a
    /// window resets, and answers from the old window arrive after the new one opened. The
    /// budget must neither overrun a window nor let those stale answers restore its count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_workers_across_window_resets_never_get_429() {
        const QUOTA: u32 = 60;
        let window = Duration::from_millis(400);
        let sim = ledgerlink_sim::bigcommerce::start(Config {
            seed: Seed::Empty,
            quota: Some(QUOTA),
            window,
            ..Config::default()
        })
        .await
        .expect("simulator starts");
        sim.set_faults(Faults {
            latency_ms: 15,
            ..Faults::default()
        });
        let info = sim.info().clone();
        let mut cfg = ClientConfig::new(info.base_url.clone(), info.auth_token.clone());
        cfg.rate_window = window;
        cfg.max_in_flight = 256;
        let client = Client::new(cfg).expect("client");
        // Three and a half windows' worth, so at least three resets happen under load.
        let per_worker = 5;
        let workers = (QUOTA as usize * 7 / 2).div_ceil(per_worker);
        let results = join_all((0..workers).map(|_| {
            let client = client.clone();
            async move {
                for _ in 0..per_worker {
                    client
                        .get_v2_list::<serde_json::Value>("/v2/orders", Vec::new())
                        .await?;
                }
                Ok::<_, Error>(())
            }
        }))
        .await;
        for r in results {
            r.expect("every request succeeds");
        }
        let stats = client.stats();
        assert_eq!(stats.requests, (workers * per_worker) as u64, "{stats:?}");
        assert_eq!(stats.rate_limited, 0, "{stats:?}");
        assert_eq!(sim.stats()["rate_limited"], 0);
        sim.shutdown().await;
    }
}
