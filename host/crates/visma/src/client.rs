//! The client core: which connection a legal entity uses, and the one place every request
//! goes through (rate budget, token, send, classify, retry).

use crate::config::{ClientSettings, EntityConnection};
use crate::error::{VismaError, parse_error_body};
use crate::token::TokenCache;
use ledgerlink_core::{LegalEntityId, RateLimitSnapshot, RequestBudget};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A Visma.net ERP client for any number of legal entities. Cheap to clone; share one
/// instance between all workers so tokens and rate budgets are shared too.
#[derive(Clone)]
pub struct VismaClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub settings: ClientSettings,
    pub entities: HashMap<LegalEntityId, Arc<Entity>>,
    pub stats: Stats,
}

pub(crate) struct Entity {
    pub conn: EntityConnection,
    pub token: TokenCache,
    pub budget: Arc<RequestBudget>,
    /// Shared with `budget`: whether a response has told us about the quota yet.
    pub rate: Arc<RateProbe>,
}

/// Until the first response of a company + client arrives, the budget does not know the
/// quota and cannot count. Letting many workers start at once would leave requests in flight
/// that the first response's `X-RateLimit-Remaining` does not include, and the budget would
/// over-trust it. So the very first request goes alone; everyone else waits for its answer.
#[derive(Default)]
pub(crate) struct RateProbe {
    seen: std::sync::atomic::AtomicBool,
    gate: tokio::sync::Mutex<()>,
}

/// Counters over the client's lifetime, for tests, benchmarks and metrics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    confirmed_lookups: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent to the ERP / SalesOrders API (token requests not included).
    pub requests: u64,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// 429 responses received.
    pub throttled: u64,
    /// Lookups by external reference made to confirm a create with an unknown outcome.
    pub confirm_lookups: u64,
}

/// What kind of call a request is; decides whether a failed attempt may simply be repeated.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// GET: repeat freely.
    Read,
    /// PUT/PATCH with the full new state (and usually If-Match): repeating is harmless.
    Update,
    /// POST that creates a document: if it may have reached the server, never repeat it
    /// blindly; report the outcome as unknown so the caller confirms by external reference.
    Create {
        what: &'static str,
        external_ref: String,
    },
    /// POST action (release, cancel): like a create, the caller checks the document's state.
    Action { what: &'static str, key: String },
}

#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: Method,
    pub url: String,
    pub query: Vec<(String, String)>,
    /// JSON, encoded once and shared by every attempt without a copy.
    pub body: Option<bytes::Bytes>,
    pub if_match: Option<String>,
    pub kind: Kind,
}

impl Req {
    pub fn get(url: String) -> Self {
        Self {
            method: Method::GET,
            url,
            query: Vec::new(),
            body: None,
            if_match: None,
            kind: Kind::Read,
        }
    }

    pub fn query(mut self, k: &str, v: impl ToString) -> Self {
        self.query.push((k.to_owned(), v.to_string()));
        self
    }

    pub fn query_opt(self, k: &str, v: Option<impl ToString>) -> Self {
        match v {
            Some(v) => self.query(k, v),
            None => self,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Resp {
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, VismaError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let snippet: String = String::from_utf8_lossy(&self.body)
                .chars()
                .take(300)
                .collect();
            VismaError::Decode(format!("{e} in {snippet}"))
        })
    }

    pub fn etag(&self) -> Option<String> {
        header_str(&self.headers, "etag").map(str::to_owned)
    }

    pub fn location(&self) -> Option<String> {
        header_str(&self.headers, "location").map(str::to_owned)
    }
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Reads `X-RateLimit-*` (and `Retry-After`) from a response.
pub(crate) fn rate_snapshot(h: &HeaderMap) -> RateLimitSnapshot {
    let num = |name: &str| header_str(h, name).and_then(|v| v.trim().parse::<u64>().ok());
    let secs = |name: &str| {
        header_str(h, name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    };
    RateLimitSnapshot {
        quota: num("x-ratelimit-limit"),
        remaining: num("x-ratelimit-remaining"),
        reset_in: secs("x-ratelimit-reset"),
    }
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    header_str(h, "retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Why one attempt failed, before deciding whether to try again.
struct Failure {
    error: VismaError,
    retry_after: Option<Duration>,
    /// The request may have been processed by the server.
    maybe_applied: bool,
    /// Hand the failure back at once instead of waiting to retry.
    give_up: bool,
}

impl VismaClient {
    pub fn new(
        settings: ClientSettings,
        connections: impl IntoIterator<Item = EntityConnection>,
    ) -> Result<Self, VismaError> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(64)
            .default_headers(headers)
            .build()
            .map_err(|e| VismaError::Transport(format!("building HTTP client: {e}")))?;
        // The quota is per company *and* client: entities sharing both share one budget.
        let mut budgets: HashMap<(String, String), (Arc<RequestBudget>, Arc<RateProbe>)> =
            HashMap::new();
        let mut entities = HashMap::new();
        for conn in connections {
            let (budget, rate) = budgets
                .entry((conn.tenant_id.0.clone(), conn.client_id.clone()))
                .or_insert_with(|| {
                    (
                        Arc::new(
                            RequestBudget::with_reserve(
                                settings.rate_window + settings.rate_window_margin,
                                settings.rate_reserve,
                            )
                            .with_reset_slack(settings.rate_reset_slack),
                        ),
                        Arc::new(RateProbe::default()),
                    )
                })
                .clone();
            let id = conn.entity.clone();
            let entity = Arc::new(Entity {
                conn,
                token: TokenCache::new(),
                budget,
                rate,
            });
            if entities.insert(id.clone(), entity).is_some() {
                return Err(VismaError::Decode(format!(
                    "legal entity {id} configured twice"
                )));
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                settings,
                entities,
                stats: Stats::default(),
            }),
        })
    }

    pub fn entities(&self) -> impl Iterator<Item = &LegalEntityId> {
        self.inner.entities.keys()
    }

    pub fn connection(&self, entity: &LegalEntityId) -> Result<&EntityConnection, VismaError> {
        Ok(&self.entity(entity)?.conn)
    }

    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.stats;
        ClientStats {
            requests: s.requests.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
            throttled: s.throttled.load(Ordering::Relaxed),
            confirm_lookups: s.confirmed_lookups.load(Ordering::Relaxed),
        }
    }

    /// Tokens fetched for this entity so far.
    pub fn token_fetches(&self, entity: &LegalEntityId) -> Result<u64, VismaError> {
        Ok(self.entity(entity)?.token.fetches())
    }

    /// The request budget of the entity's company + client (shared with other entities that
    /// use the same company and client).
    pub fn budget(&self, entity: &LegalEntityId) -> Result<Arc<RequestBudget>, VismaError> {
        Ok(self.entity(entity)?.budget.clone())
    }

    pub(crate) fn entity(&self, entity: &LegalEntityId) -> Result<&Arc<Entity>, VismaError> {
        self.inner
            .entities
            .get(entity)
            .ok_or_else(|| VismaError::UnknownEntity(entity.clone()))
    }

    pub(crate) fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    pub(crate) fn note_confirm_lookup(&self) {
        self.inner
            .stats
            .confirmed_lookups
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Sends `req` for `entity` with retries for transient failures.
    pub(crate) async fn execute(&self, ent: &Entity, req: &Req) -> Result<Resp, VismaError> {
        let settings = &self.inner.settings;
        let mut attempt: u32 = 0;
        let mut auth_retried = false;
        loop {
            attempt += 1;
            let failure = match self.attempt(ent, req, &mut auth_retried).await {
                Ok(resp) => return Ok(resp),
                Err(f) => f,
            };
            if failure.maybe_applied {
                match &req.kind {
                    Kind::Create { what, external_ref } => {
                        return Err(VismaError::OutcomeUnknown {
                            kind: what,
                            external_ref: external_ref.clone(),
                            detail: failure.error.to_string(),
                        });
                    }
                    Kind::Action { what, key } => {
                        return Err(VismaError::OutcomeUnknown {
                            kind: what,
                            external_ref: key.clone(),
                            detail: failure.error.to_string(),
                        });
                    }
                    Kind::Read | Kind::Update => {}
                }
            }
            if failure.give_up
                || !is_retryable(&failure.error)
                || attempt >= settings.retry.max_attempts
                || failure
                    .retry_after
                    .is_some_and(|w| w > settings.max_inline_wait)
            {
                return Err(failure.error);
            }
            let delay = settings.retry.backoff.delay(attempt, failure.retry_after);
            tracing::debug!(
                entity = %ent.conn.entity, url = %req.url, attempt, ?delay, error = %failure.error,
                "transient Visma failure, retrying"
            );
            self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        ent: &Entity,
        req: &Req,
        auth_retried: &mut bool,
    ) -> Result<Resp, Failure> {
        let never_sent = |error: VismaError| Failure {
            error,
            retry_after: None,
            maybe_applied: false,
            give_up: false,
        };
        loop {
            let _probe = if ent.rate.seen.load(Ordering::Acquire) {
                None
            } else {
                let guard = ent.rate.gate.lock().await;
                // Another worker's probe may have answered while we waited.
                (!ent.rate.seen.load(Ordering::Acquire)).then_some(guard)
            };
            let max_wait = self.inner.settings.max_inline_wait;
            let Ok(grant) = tokio::time::timeout(max_wait, ent.budget.acquire()).await else {
                // The quota is spent for longer than a worker should idle (Visma windows
                // are an hour): hand the job back to be scheduled later.
                return Err(Failure {
                    error: VismaError::RateLimited {
                        retry_after: Some(max_wait),
                    },
                    retry_after: Some(max_wait),
                    maybe_applied: false,
                    give_up: true,
                });
            };
            let token = ent
                .token
                .get(&self.inner.http, &ent.conn, &self.inner.settings)
                .await
                .map_err(never_sent)?;
            let mut rb = self
                .inner
                .http
                .request(req.method.clone(), &req.url)
                .header(reqwest::header::AUTHORIZATION, token.authorization.clone());
            if !req.query.is_empty() {
                rb = rb.query(&req.query);
            }
            if let Some(body) = &req.body {
                rb = rb
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        reqwest::header::HeaderValue::from_static("application/json"),
                    )
                    .body(body.clone());
            }
            if let Some(etag) = &req.if_match {
                rb = rb.header(reqwest::header::IF_MATCH, etag);
            }
            if let Some(branch) = &ent.conn.branch {
                // Third-party clients send the branch as a header too; the ERP ignores it
                // where the body names one.
                rb = rb.header(BRANCH_HEADER, branch);
            }
            self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut res = match rb.send().await {
                Ok(r) => r,
                Err(e) => {
                    return Err(Failure {
                        maybe_applied: !e.is_connect(),
                        error: VismaError::Transport(describe(&e)),
                        retry_after: None,
                        give_up: false,
                    });
                }
            };
            let status = res.status().as_u16();
            let headers = std::mem::take(res.headers_mut());
            // Dropped unobserved on the early returns above: the request got no answer.
            grant.observe(rate_snapshot(&headers));
            ent.rate.seen.store(true, Ordering::Release);
            let body = match res.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    // A 4xx was refused whatever its body; anything else may have happened.
                    return Err(Failure {
                        maybe_applied: !(400..500).contains(&status),
                        error: VismaError::Transport(format!("reading response: {}", describe(&e))),
                        retry_after: None,
                        give_up: false,
                    });
                }
            };
            if (200..300).contains(&status) {
                return Ok(Resp { headers, body });
            }
            let (message, code) = parse_error_body(&body);
            let hint = retry_after(&headers).or_else(|| rate_snapshot(&headers).reset_in);
            let failure = |error, maybe_applied| Failure {
                error,
                retry_after: hint,
                maybe_applied,
                give_up: false,
            };
            return Err(match status {
                401 if !*auth_retried => {
                    // The token may have been revoked or expired early: one fresh try.
                    *auth_retried = true;
                    ent.token.invalidate(token.generation);
                    continue;
                }
                401 | 403 => failure(VismaError::Auth { status, message }, false),
                404 => failure(
                    VismaError::NotFound {
                        what: format!("{} ({message})", path_of(&req.url)),
                    },
                    false,
                ),
                412 => failure(
                    VismaError::Conflict {
                        path: path_of(&req.url).to_owned(),
                        sent_etag: req.if_match.clone(),
                        current_etag: None,
                    },
                    false,
                ),
                429 => {
                    self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    ent.budget.exhausted(hint);
                    failure(VismaError::RateLimited { retry_after: hint }, false)
                }
                // The server gave up waiting for our request: nothing was processed.
                408 => failure(
                    VismaError::Server {
                        status,
                        message,
                        retry_after: hint,
                    },
                    false,
                ),
                s if s >= 500 => failure(
                    VismaError::Server {
                        status,
                        message,
                        retry_after: hint,
                    },
                    true,
                ),
                _ => failure(
                    VismaError::Validation {
                        status,
                        message,
                        code,
                    },
                    false,
                ),
            });
        }
    }

    /// Runs `req` against the entity and decodes a JSON body.
    pub(crate) async fn call_json<T: DeserializeOwned>(
        &self,
        entity: &LegalEntityId,
        req: Req,
    ) -> Result<T, VismaError> {
        let ent = self.entity(entity)?;
        self.execute(ent, &req).await?.json()
    }
}

const BRANCH_HEADER: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("branchid");

fn is_retryable(e: &VismaError) -> bool {
    matches!(
        e,
        VismaError::Transport(_) | VismaError::Server { .. } | VismaError::RateLimited { .. }
    )
}

fn path_of(url: &str) -> &str {
    url.find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]))
        .unwrap_or(url)
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_of_strips_scheme_and_host() {
        assert_eq!(
            path_of("http://127.0.0.1:1234/v1/customerinvoice/1?x=1"),
            "/v1/customerinvoice/1?x=1"
        );
        assert_eq!(path_of("/v1/x"), "/v1/x");
    }

    #[test]
    fn reads_rate_limit_headers() {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Limit", "100".parse().unwrap());
        h.insert("X-RateLimit-Remaining", "42".parse().unwrap());
        h.insert("X-RateLimit-Reset", "12".parse().unwrap());
        let s = rate_snapshot(&h);
        assert_eq!(s.quota, Some(100));
        assert_eq!(s.remaining, Some(42));
        assert_eq!(s.reset_in, Some(Duration::from_secs(12)));
    }
}
