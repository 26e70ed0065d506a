//! Registering our webhooks and repairing them: BigCommerce deactivates a hook after its
//! retry ladder runs out (or after 90 days without events), and hooks can be deleted or
//! pointed elsewhere by hand. `ensure_hooks` brings the store back to the wanted set.

use crate::client::Client;
use crate::error::Error;
use crate::models::{Hook, HookWrite};
use std::collections::BTreeMap;
use std::time::Duration;

/// The events the connector acts on, each subscribed by its exact scope: a family wildcard
/// such as `store/order/*` also delivers events that only cost a delivery and a job to skip
/// (the metafield our own write-back creates, order messages, transactions, inventory moves
/// our stock sync causes). Every scope here has a handler in the engine's flows.
pub const DEFAULT_SCOPES: &[&str] = &[
    // Orders. `store/order/statusUpdated` is left out: `store/order/updated` fires on a status
    // change too (webhooks.v3.yml `store_order_updated`: "Changes to the following fields
    // trigger this event: Status, …"), so it would only deliver each status change twice.
    "store/order/created",
    "store/order/updated",
    "store/order/archived",
    "store/order/refund/created",
    // Shipments are a family of their own (`{type: "shipment", id, orderId}`, NOTES §5.3),
    // which `store/order/*` never delivered: a shipment that leaves the status as it was
    // (a second partial shipment) is seen only through it. `store/shipment/updated` changes
    // tracking details only (`orderShipment_Put` has no items), which no document carries.
    "store/shipment/created",
    // Catalog.
    "store/product/created",
    "store/product/updated",
    "store/product/deleted",
    "store/sku/created",
    "store/sku/updated",
    "store/sku/deleted",
    // Customer accounts and their addresses.
    "store/customer/created",
    "store/customer/updated",
    "store/customer/address/created",
    "store/customer/address/updated",
    "store/customer/address/deleted",
    // Price-list records: prices change without any product or SKU event (NOTES §15).
    "store/priceList/record/created",
    "store/priceList/record/updated",
    "store/priceList/record/deleted",
    "store/priceList/records/created",
    "store/priceList/records/updated",
    "store/priceList/records/deleted",
];

/// The family wildcards earlier versions registered. `ensure_hooks` deletes ours once the
/// exact hooks that replace them have been in place long enough to fire (see
/// [`HookSpec::settle`]); until then both deliver, and the inbox keeps one copy of each event
/// (the copies carry the same `hash`, NOTES §5.2).
pub const RETIRED_SCOPES: &[&str] = &[
    "store/order/*",
    "store/product/*",
    "store/sku/*",
    "store/customer/*",
    "store/priceList/*",
];

/// A new or re-activated hook can take up to a minute to start firing
/// (docs:docs/integrations/webhooks/overview.mdx, NOTES §5.1).
pub const HOOK_SETTLE: Duration = Duration::from_secs(90);

/// What we want registered.
#[derive(Debug, Clone)]
pub struct HookSpec {
    /// Public HTTPS URL of our receiver.
    pub destination: String,
    pub scopes: Vec<String>,
    /// Custom header BigCommerce sends with every delivery, and its secret value.
    pub secret_header: String,
    pub secret: String,
    /// How long the wanted hooks must have existed, unchanged and active, before a retired
    /// wildcard of ours is deleted ([`HOOK_SETTLE`]).
    pub settle: Duration,
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
            settle: HOOK_SETTLE,
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
    /// Retired wildcards of ours ([`RETIRED_SCOPES`]) deleted, the exact hooks being in place.
    pub retired: Vec<String>,
    /// Retired wildcards of ours kept for now: the hooks replacing them were created or
    /// repaired too recently to be sure they fire. Run `ensure_hooks` again after
    /// [`HookSpec::settle`].
    pub retire_waiting: Vec<String>,
}

impl HookRepairReport {
    pub fn changed(&self) -> bool {
        !(self.created.is_empty()
            && self.reactivated.is_empty()
            && self.updated.is_empty()
            && self.deleted_duplicates.is_empty()
            && self.retired.is_empty())
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
        self.retire_wildcards(spec, &existing, &mut report).await?;
        Ok(report)
    }

    /// Deletes our hooks of [`RETIRED_SCOPES`] the spec no longer wants, but only when every
    /// wanted hook was already in place (unchanged and active) when this run began and has
    /// existed for [`HookSpec::settle`]: a hook just created or re-activated may not fire yet,
    /// and deleting the wildcard then could miss events. Until then both deliver and the
    /// inbox deduplicates.
    async fn retire_wildcards(
        &self,
        spec: &HookSpec,
        existing: &[Hook],
        report: &mut HookRepairReport,
    ) -> Result<(), Error> {
        let retired: Vec<&Hook> = existing
            .iter()
            .filter(|h| {
                RETIRED_SCOPES.contains(&h.scope.as_str())
                    && !spec.scopes.contains(&h.scope)
                    && is_ours(h, spec)
            })
            .collect();
        if retired.is_empty() {
            return Ok(());
        }
        let now = chrono::Utc::now().timestamp();
        let settled = report.unchanged.len() == spec.scopes.len()
            && spec.scopes.iter().all(|scope| {
                existing
                    .iter()
                    .filter(|h| &h.scope == scope && h.is_active && is_ours(h, spec))
                    .any(|h| {
                        // A hook without a creation time existed before this run at least.
                        h.created_at
                            .is_none_or(|t| now.saturating_sub(t) >= spec.settle.as_secs() as i64)
                    })
            });
        for hook in retired {
            if !settled {
                report.retire_waiting.push(hook.scope.clone());
                continue;
            }
            match self.delete_hook(hook.id).await {
                Ok(()) => report.retired.push(hook.scope.clone()),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
