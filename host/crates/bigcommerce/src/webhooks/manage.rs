//! Registering our webhooks and repairing them: BigCommerce deactivates a hook after its
//! retry ladder runs out (or after 90 days without events), and hooks can be deleted or
//! pointed elsewhere by hand. `ensure_hooks` brings the store back to the wanted set.

use crate::client::Client;
use crate::error::Error;
use crate::models::{Hook, HookWrite};
use std::collections::BTreeMap;

/// The event families the connector consumes.
pub const DEFAULT_SCOPES: &[&str] = &[
    "store/order/*",
    "store/product/*",
    "store/sku/*",
    "store/customer/*",
    // Price-list prices change without any product or SKU event (NOTES §15).
    "store/priceList/*",
];

/// What we want registered.
#[derive(Debug, Clone)]
pub struct HookSpec {
    /// Public HTTPS URL of our receiver.
    pub destination: String,
    pub scopes: Vec<String>,
    /// Custom header BigCommerce sends with every delivery, and its secret value.
    pub secret_header: String,
    pub secret: String,
}

impl HookSpec {
    pub fn new(
        destination: impl Into<String>,
        secret_header: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        Self {
            destination: destination.into(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            secret_header: secret_header.into(),
            secret: secret.into(),
        }
    }

    fn headers(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(self.secret_header.clone(), self.secret.clone())])
    }
}

/// What `ensure_hooks` did, per scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookRepairReport {
    pub created: Vec<String>,
    pub reactivated: Vec<String>,
    /// Destination or secret header changed back to ours.
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    /// Extra hooks of ours for a scope that already had one (they would deliver twice).
    pub deleted_duplicates: Vec<u64>,
}

impl HookRepairReport {
    pub fn changed(&self) -> bool {
        !(self.created.is_empty()
            && self.reactivated.is_empty()
            && self.updated.is_empty()
            && self.deleted_duplicates.is_empty())
    }
}

/// A hook is ours when it carries our secret header name (hooks are per API account, but an
/// account may own hooks for other purposes) or already points at our destination.
fn is_ours(hook: &Hook, spec: &HookSpec) -> bool {
    hook.destination == spec.destination
        || hook.headers.as_ref().is_some_and(|h| {
            h.keys()
                .any(|k| k.eq_ignore_ascii_case(&spec.secret_header))
        })
}

fn headers_match(hook: &Hook, spec: &HookSpec) -> bool {
    hook.headers.as_ref().is_some_and(|h| {
        h.iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(&spec.secret_header) && v == &spec.secret)
    })
}

impl Client {
    /// Registers and repairs our hooks: creates missing scopes, re-activates deactivated
    /// hooks, fixes a changed destination or secret, and deletes duplicates. Safe to run at
    /// every start and periodically.
    pub async fn ensure_hooks(&self, spec: &HookSpec) -> Result<HookRepairReport, Error> {
        let existing = self.hooks().await?;
        let mut report = HookRepairReport::default();
        for scope in &spec.scopes {
            let mut ours: Vec<&Hook> = existing
                .iter()
                .filter(|h| &h.scope == scope && is_ours(h, spec))
                .collect();
            // Prefer one already pointing at our destination, then an active one.
            ours.sort_by_key(|h| (h.destination != spec.destination, !h.is_active, h.id));
            let Some((keep, extra)) = ours.split_first() else {
                self.create_hook(&HookWrite {
                    scope: Some(scope.clone()),
                    destination: Some(spec.destination.clone()),
                    is_active: Some(true),
                    headers: Some(spec.headers()),
                })
                .await?;
                report.created.push(scope.clone());
                continue;
            };
            for dup in extra {
                match self.delete_hook(dup.id).await {
                    Ok(()) => report.deleted_duplicates.push(dup.id),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e),
                }
            }
            let dest_ok = keep.destination == spec.destination;
            let headers_ok = headers_match(keep, spec);
            if dest_ok && headers_ok && keep.is_active {
                report.unchanged.push(scope.clone());
                continue;
            }
            self.update_hook(
                keep.id,
                &HookWrite {
                    scope: None,
                    destination: (!dest_ok).then(|| spec.destination.clone()),
                    is_active: Some(true),
                    headers: (!headers_ok).then(|| spec.headers()),
                },
            )
            .await?;
            if dest_ok && headers_ok {
                report.reactivated.push(scope.clone());
            } else {
                report.updated.push(scope.clone());
            }
        }
        Ok(report)
    }
}
