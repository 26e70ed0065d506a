//! Client configuration.

use ledgerlink_core::{Backoff, RequestBudget};
use std::sync::Arc;
use std::time::Duration;

/// Called with every HTTP response the client received (including ones it retried), e.g. to
/// check responses against the OpenAPI contract in tests or to feed an audit log.
pub type ResponseObserver = Arc<dyn Fn(&ResponseRecord) + Send + Sync>;

/// One response as seen on the wire.
#[derive(Debug, Clone)]
pub struct ResponseRecord {
    pub method: String,
    /// Path below the store base, e.g. `/v2/orders/12`, without the query.
    pub path: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: bytes::Bytes,
}

#[derive(Clone)]
pub struct ClientConfig {
    /// `https://api.bigcommerce.com/stores/{store_hash}` (no trailing `/v2` or `/v3`).
    pub base_url: String,
    /// Store API account or app access token (`X-Auth-Token`).
    pub auth_token: String,
    /// Whole-request timeout (connect, send, read the full body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries of a transient failure (5xx, timeout, reset) before giving up. 429s are
    /// waited out separately (see `max_rate_limit_waits`).
    pub max_retries: u32,
    pub backoff: Backoff,
    /// How many 429 answers in a row one request may wait out before failing.
    pub max_rate_limit_waits: u32,
    /// The store's shared quota. All clients of one store must share one budget, because
    /// BigCommerce counts the quota per store, not per token. `None` creates a private one.
    pub budget: Option<Arc<RequestBudget>>,
    /// The documented window length, used until the first response reports the real one.
    pub rate_window: Duration,
    /// Requests of this client in flight at once; more callers queue. This bounds open
    /// connections only: the budget stays exact at any concurrency (`benches/client.rs`
    /// measures 100 % of the quota and no 429 with 256 in flight), and 16 is far more than
    /// the default quota (5 requests/s) needs.
    pub max_in_flight: usize,
    pub user_agent: String,
    pub observer: Option<ResponseObserver>,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, auth_token: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            auth_token: auth_token.into(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 4,
            // Short in-request retries; the engine's own schedule covers long outages.
            backoff: Backoff {
                base: Duration::from_millis(250),
                max_delay: Duration::from_secs(10),
            },
            max_rate_limit_waits: 8,
            budget: None,
            rate_window: Duration::from_secs(30),
            max_in_flight: 16,
            user_agent: concat!("ledgerlink/", env!("CARGO_PKG_VERSION")).to_owned(),
            observer: None,
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}
