//! How to reach one Visma.net company. One legal entity = one company = one tenant, and a
//! Visma Connect token is bound to exactly one tenant, so every setting is per entity.

use ledgerlink_core::{LegalEntityId, VismaTenantId};
use std::time::Duration;

/// Connection settings for one legal entity.
#[derive(Clone)]
pub struct EntityConnection {
    pub entity: LegalEntityId,
    pub tenant_id: VismaTenantId,
    pub client_id: String,
    pub client_secret: String,
    /// Visma Connect token endpoint, e.g. `https://connect.visma.com/connect/token`.
    pub token_url: String,
    /// Space-separated scopes for the token request; empty sends no `scope` field.
    pub scope: String,
    /// ERP base without the version, e.g. `https://api.finance.visma.net`.
    pub erp_base_url: String,
    /// SalesOrders v3 base, e.g. `https://salesorder.visma.net` (paths `/api/v3/…` are added).
    pub salesorder_base_url: String,
    /// Branch number written on documents that do not name one.
    pub branch: Option<String>,
}

impl std::fmt::Debug for EntityConnection {
    // The secret never reaches logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityConnection")
            .field("entity", &self.entity)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_url", &self.token_url)
            .field("erp_base_url", &self.erp_base_url)
            .field("salesorder_base_url", &self.salesorder_base_url)
            .field("branch", &self.branch)
            .finish()
    }
}

impl EntityConnection {
    pub(crate) fn erp_url(&self, path: &str) -> String {
        join(&self.erp_base_url, path)
    }

    pub(crate) fn so_url(&self, path: &str) -> String {
        join(&self.salesorder_base_url, path)
    }
}

fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Retry behaviour for transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per call including the first one.
    pub max_attempts: u32,
    pub backoff: ledgerlink_core::Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            backoff: ledgerlink_core::Backoff {
                base: Duration::from_millis(500),
                max_delay: Duration::from_secs(30),
            },
        }
    }
}

/// Client-wide settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub retry: RetryPolicy,
    /// Whole-request timeout; past it a create's outcome is unknown and gets confirmed.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// The documented rate-limit window ("X requests per hour for each company and client"),
    /// used until the server's `X-RateLimit-Reset` says otherwise.
    pub rate_window: Duration,
    /// Added to `rate_window` for our own count of windows. A server window that starts with
    /// the first request to arrive begins a little after we decided to send it; without the
    /// margin our window would end that little bit before the server's, and the requests
    /// released at our reset would meet the old, spent window (429).
    pub rate_window_margin: Duration,
    /// Resolution of the server's `X-RateLimit-Reset` (whole seconds at Visma): resets that
    /// move by less than this are the same window.
    pub rate_reset_slack: Duration,
    /// Requests per window left unused for other programs sharing the same company + client.
    pub rate_reserve: u64,
    /// A token is refreshed once less than this fraction of its lifetime is left
    /// (capped at `token_refresh_max_margin`), so no request goes out with a dying token.
    pub token_refresh_fraction: f64,
    pub token_refresh_max_margin: Duration,
    /// A server-requested wait (Retry-After, rate-limit reset) longer than this is not slept
    /// through inside a call: the error goes back to the engine, which reschedules the job.
    pub max_inline_wait: Duration,
    /// Page size for v1 list calls (lowered to the server's `maxPageSize` when smaller).
    pub page_size: u32,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            rate_window: Duration::from_secs(3600),
            rate_window_margin: Duration::from_millis(50),
            rate_reset_slack: Duration::from_secs(1),
            rate_reserve: 0,
            token_refresh_fraction: 0.2,
            token_refresh_max_margin: Duration::from_secs(120),
            max_inline_wait: Duration::from_secs(60),
            page_size: 500,
        }
    }
}
