//! Visma Connect access tokens, one cache per legal entity. A token is refreshed a margin
//! before it expires; concurrent callers that find it stale wait for a single refresh
//! instead of each asking the token endpoint.

use crate::config::{ClientSettings, EntityConnection};
use crate::error::{VismaError, parse_error_body};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Clone)]
pub(crate) struct Token {
    /// `Bearer <access token>`, built once per token rather than once per request.
    pub authorization: reqwest::header::HeaderValue,
    /// Bumped on every fetch; lets a 401 invalidate only the token it was sent with.
    pub generation: u64,
    refresh_at: Instant,
    expires_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

pub(crate) struct TokenCache {
    current: parking_lot::Mutex<Option<Token>>,
    refresh: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    fetches: AtomicU64,
}

impl TokenCache {
    pub fn new() -> Self {
        Self {
            current: parking_lot::Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// Tokens fetched so far (for tests and metrics).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn fresh(&self, now: Instant) -> Option<Token> {
        self.current
            .lock()
            .as_ref()
            .filter(|t| now < t.refresh_at)
            .cloned()
    }

    pub async fn get(
        &self,
        http: &reqwest::Client,
        conn: &EntityConnection,
        settings: &ClientSettings,
    ) -> Result<Token, VismaError> {
        if let Some(t) = self.fresh(Instant::now()) {
            return Ok(t);
        }
        let _single_flight = self.refresh.lock().await;
        // Someone else may have refreshed while we waited for the lock.
        if let Some(t) = self.fresh(Instant::now()) {
            return Ok(t);
        }
        match self.fetch(http, conn, settings).await {
            Ok(t) => {
                *self.current.lock() = Some(t.clone());
                Ok(t)
            }
            Err(e) => {
                // The old token is past its refresh point but not yet expired: keep working
                // with it rather than failing requests because Connect had a hiccup.
                let still_valid = self
                    .current
                    .lock()
                    .as_ref()
                    .filter(|t| Instant::now() + Duration::from_secs(1) < t.expires_at)
                    .cloned();
                match (still_valid, &e) {
                    (Some(t), VismaError::Transport(_) | VismaError::Server { .. }) => {
                        tracing::warn!(entity = %conn.entity, error = %e, "token refresh failed; using the current token until it expires");
                        Ok(t)
                    }
                    _ => Err(e),
                }
            }
        }
    }

    /// Drops the token after the API answered 401 to it, unless it was already replaced.
    pub fn invalidate(&self, generation: u64) {
        let mut cur = self.current.lock();
        if cur.as_ref().is_some_and(|t| t.generation == generation) {
            *cur = None;
        }
    }

    async fn fetch(
        &self,
        http: &reqwest::Client,
        conn: &EntityConnection,
        settings: &ClientSettings,
    ) -> Result<Token, VismaError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.fetch_once(http, conn, settings).await {
                Ok(t) => return Ok(t),
                Err(e @ (VismaError::Transport(_) | VismaError::Server { .. })) => e,
                Err(e) => return Err(e),
            };
            if attempt >= settings.retry.max_attempts {
                return Err(err);
            }
            tracing::debug!(entity = %conn.entity, attempt, error = %err, "token request failed, retrying");
            tokio::time::sleep(settings.retry.backoff.delay(attempt, None)).await;
        }
    }

    async fn fetch_once(
        &self,
        http: &reqwest::Client,
        conn: &EntityConnection,
        settings: &ClientSettings,
    ) -> Result<Token, VismaError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &conn.client_id),
            ("client_secret", &conn.client_secret),
            ("tenant_id", conn.tenant_id.as_str()),
        ];
        if !conn.scope.is_empty() {
            form.push(("scope", &conn.scope));
        }
        let started = Instant::now();
        let res = http
            .post(&conn.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| VismaError::Transport(format!("token request: {e}")))?;
        let status = res.status().as_u16();
        let body = res
            .bytes()
            .await
            .map_err(|e| VismaError::Transport(format!("token response: {e}")))?;
        if status >= 500 || status == 429 {
            let (message, _) = parse_error_body(&body);
            return Err(VismaError::Server {
                status,
                message,
                retry_after: None,
            });
        }
        if !(200..300).contains(&status) {
            let (message, _) = parse_error_body(&body);
            return Err(VismaError::Auth { status, message });
        }
        let tr: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| VismaError::Decode(format!("token response: {e}")))?;
        // Connect tokens live an hour; assume so if the response does not say.
        let lifetime = Duration::from_secs(tr.expires_in.unwrap_or(3600));
        let margin = lifetime
            .mul_f64(settings.token_refresh_fraction.clamp(0.0, 0.9))
            .min(settings.token_refresh_max_margin);
        // Count the lifetime from when we asked, not when the answer arrived.
        let expires_at = started + lifetime;
        let mut authorization =
            reqwest::header::HeaderValue::try_from(format!("Bearer {}", tr.access_token))
                .map_err(|_| VismaError::Decode("token response: unusable access token".into()))?;
        authorization.set_sensitive(true);
        self.fetches.fetch_add(1, Ordering::Relaxed);
        Ok(Token {
            authorization,
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
            refresh_at: expires_at - margin,
            expires_at,
        })
    }
}
