//! The business flows: job handlers that carry BigCommerce events through the mapping plugin
//! to Visma and back. Every flow is a plain [`crate::JobHandler`], registered by
//! [`register`] for the job kinds (webhook scopes) it serves.
//!
//! Exactly-once in effect: every Visma write goes intent → create-once (look-up by our
//! external reference before any repeat) → identity map, so a crash or a lost reply at any
//! point never produces a second document.

pub mod canonical;
mod convert;
mod customers;
mod orders;
pub mod plugins;
mod products;
pub mod routing;
mod stock;
mod writeback;

pub use customers::{CUSTOMER_SCOPES, CustomerFlow, KIND_CUSTOMER_SYNC};
pub use orders::OrderFlow;
pub use products::ProductFlow;
pub use routing::{
    DocumentType, EntitySettings, InvoiceTiming, PostingRules, Route, RouteRule, Routing,
};
pub use stock::{StockFlow, StockSettings};
pub use writeback::{PaymentStatusFlow, WriteBackFlow};

use crate::engine::Engine;
use crate::error::JobError;
use ledgerlink_bigcommerce::Client as BcClient;
use ledgerlink_core::{ErrorClass, LegalEntityId};
use ledgerlink_runtime::{CallError, LoadedPlugin, MappingTables, PluginRegistry, types as wit};
use ledgerlink_visma::{VismaClient, VismaError};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// Job kinds the flows add themselves (webhook jobs are named by their scope).
pub const KIND_ORDER_SYNC: &str = "ledgerlink/order/sync";
pub const KIND_WRITE_BACK: &str = "ledgerlink/order/write-back";
pub const KIND_PAYMENT_STATUS: &str = "ledgerlink/payments/check";
pub const KIND_PRODUCT_SYNC: &str = "ledgerlink/product/sync";
pub const KIND_STOCK_SYNC: &str = "ledgerlink/stock/sync";

/// Webhook scopes that mean "bring this order to its current state". `statusUpdated` and
/// `shipment/updated` are not subscribed (see `DEFAULT_SCOPES`) but handled when delivered.
pub const ORDER_SCOPES: &[&str] = &[
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/archived",
    "store/order/refund/created",
    "store/shipment/created",
    "store/shipment/updated",
    KIND_ORDER_SYNC,
];

/// Webhook scopes that need no work (our own metafield writes, messages, inventory moves,
/// deletions); recorded and skipped, never failed. No hook of ours subscribes to them any more
/// (`DEFAULT_SCOPES` names exact scopes), but the family wildcards earlier versions registered
/// deliver them until `ensure_hooks` retires those.
pub const IGNORED_SCOPES: &[&str] = &[
    "store/order/metafield/created",
    "store/order/metafield/updated",
    "store/order/metafield/deleted",
    "store/order/message/created",
    "store/order/transaction/created",
    "store/order/transaction/updated",
    "store/order/email/created",
    "store/product/inventory/updated",
    "store/product/inventory/order/updated",
    "store/product/metafield/created",
    "store/product/metafield/updated",
    "store/product/metafield/deleted",
    "store/sku/inventory/updated",
    "store/sku/inventory/order/updated",
    // A deleted account's Visma customer stays: documents refer to it.
    "store/customer/deleted",
    "store/customer/payment/instrument/default/updated",
    // Price lists themselves; their records' prices come with the records' events.
    "store/priceList/created",
    "store/priceList/activated",
    "store/priceList/deactivated",
    "store/priceList/assignment/updated",
];

pub const PRODUCT_SCOPES: &[&str] = &[
    "store/product/created",
    "store/product/updated",
    // Deleted: the Visma items become inactive (never deleted).
    "store/product/deleted",
    "store/sku/created",
    "store/sku/updated",
    "store/sku/deleted",
    // Price-list records: the products of the records' variants are synced again.
    "store/priceList/record/created",
    "store/priceList/record/updated",
    "store/priceList/record/deleted",
    "store/priceList/records/created",
    "store/priceList/records/updated",
    "store/priceList/records/deleted",
    KIND_PRODUCT_SYNC,
];

/// What the flows share: one BigCommerce client per store, the Visma client for every
/// entity, the routing/posting configuration and the plugin registry (the version each legal
/// entity maps with, hot-swapped without a restart).
/// VAT category → (VAT code, rate %) of one entity.
pub type VatCodeMap = HashMap<String, (String, rust_decimal::Decimal)>;

pub struct FlowDeps {
    pub stores: BTreeMap<String, BcClient>,
    pub visma: VismaClient,
    pub routing: Routing,
    pub plugins: Arc<PluginRegistry>,
    vat_codes: Mutex<HashMap<LegalEntityId, Arc<VatCodeMap>>>,
    tables: Mutex<HashMap<LegalEntityId, MappingTables>>,
}

impl FlowDeps {
    pub fn new(
        stores: BTreeMap<String, BcClient>,
        visma: VismaClient,
        routing: Routing,
        plugins: Arc<PluginRegistry>,
    ) -> Self {
        Self {
            stores,
            visma,
            routing,
            plugins,
            vat_codes: Mutex::new(HashMap::new()),
            tables: Mutex::new(HashMap::new()),
        }
    }

    pub fn bc(&self, store: &str) -> Result<&BcClient, JobError> {
        self.stores.get(store).ok_or_else(|| {
            JobError::permanent(
                "unknown_store",
                format!("store {store:?} is not configured; add it under [[stores]]"),
            )
        })
    }

    pub fn entity(&self, id: &LegalEntityId) -> Result<&EntitySettings, JobError> {
        self.routing.entity(id).ok_or_else(|| {
            JobError::permanent(
                "unknown_entity",
                format!("legal entity {id} is routed to but not configured"),
            )
        })
    }

    /// The plugin version `entity` maps with for the rest of this attempt (see
    /// [`plugins::plugin_for_attempt`]).
    pub fn plugin(
        &self,
        ctx: &crate::JobContext,
        entity: &LegalEntityId,
    ) -> Result<Arc<LoadedPlugin>, JobError> {
        plugins::plugin_for_attempt(&self.plugins, ctx, entity)
    }

    pub fn tables(&self, entity: &EntitySettings) -> MappingTables {
        self.tables
            .lock()
            .entry(entity.id.clone())
            .or_insert_with(|| MappingTables::new(entity.tables.clone()))
            .clone()
    }

    /// The plugin call context for a document.
    pub fn context(
        &self,
        entity: &EntitySettings,
        route: &Route,
        store: &str,
        channel: u64,
        currency: &str,
    ) -> wit::Context {
        let mut settings: Vec<(String, String)> = entity
            .posting
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !entity.posting.settings.contains_key("document-type") {
            settings.push((
                "document-type".into(),
                entity.posting.document_type.as_setting().into(),
            ));
        }
        if let Some(g) = &entity.posting.guest_customer
            && !entity
                .posting
                .settings
                .contains_key("guest-customer-number")
        {
            settings.push(("guest-customer-number".into(), g.clone()));
        }
        wit::Context {
            legal_entity: entity.id.as_str().to_owned(),
            store_hash: store.to_owned(),
            channel_id: channel,
            currency: currency.to_owned(),
            base_currency: entity.base_currency.clone(),
            branch: route.branch.clone(),
            settings,
        }
    }

    /// VAT category → (VAT code, rate %) of an entity, read from Visma once.
    pub async fn vat_codes(&self, entity: &LegalEntityId) -> Result<Arc<VatCodeMap>, JobError> {
        if let Some(c) = self.vat_codes.lock().get(entity) {
            return Ok(c.clone());
        }
        let cats = self
            .visma
            .list_vat_categories(entity)
            .await
            .map_err(visma_err)?;
        let mut map = HashMap::new();
        for c in cats {
            if let Some(line) = c.vat_category_lines.first()
                && let Some(code) = &line.vat_id
            {
                let rate = line
                    .vat_rates
                    .iter()
                    .rev()
                    .find_map(|r| r.vat_rate)
                    .unwrap_or_default();
                map.insert(c.vat_category_id.clone(), (code.clone(), rate));
            }
        }
        let map = Arc::new(map);
        self.vat_codes.lock().insert(entity.clone(), map.clone());
        Ok(map)
    }
}

/// Registers every flow on `engine`.
pub fn register(engine: &mut Engine, deps: Arc<FlowDeps>, stock: StockSettings) {
    let orders = Arc::new(OrderFlow::new(deps.clone()));
    for kind in ORDER_SCOPES {
        engine.register(*kind, orders.clone());
    }
    let products = Arc::new(ProductFlow::new(deps.clone()));
    for kind in PRODUCT_SCOPES {
        engine.register(*kind, products.clone());
    }
    let customers = Arc::new(CustomerFlow::new(deps.clone()));
    for kind in CUSTOMER_SCOPES {
        engine.register(*kind, customers.clone());
    }
    let ignore: Arc<dyn crate::JobHandler> = Arc::new(Ignore);
    for kind in IGNORED_SCOPES {
        engine.register(*kind, ignore.clone());
    }
    engine.register(KIND_WRITE_BACK, Arc::new(WriteBackFlow::new(deps.clone())));
    engine.register(
        KIND_PAYMENT_STATUS,
        Arc::new(PaymentStatusFlow::new(deps.clone())),
    );
    let stock = Arc::new(StockFlow::new(deps, stock));
    engine.register(KIND_STOCK_SYNC, stock.clone());
    engine.register(stock::KIND_STOCK_RETRY, stock);
}

/// Records and skips events that need no work.
struct Ignore;

impl crate::JobHandler for Ignore {
    fn handle<'a>(
        &'a self,
        job: &'a crate::Job,
        _ctx: &'a crate::JobContext,
    ) -> ledgerlink_core::BoxFuture<'a, Result<crate::JobOutcome, JobError>> {
        let reason = format!("{} needs no work", job.kind);
        Box::pin(async move { Ok(crate::JobOutcome::Skipped { reason }) })
    }
}

// --- error classification ----------------------------------------------------------------

pub(crate) fn visma_err(e: VismaError) -> JobError {
    let code = match &e {
        VismaError::Validation { .. } => "visma_validation",
        VismaError::NotFound { .. } => "visma_not_found",
        VismaError::Auth { .. } => "visma_auth",
        VismaError::Conflict { .. } => "visma_conflict",
        VismaError::RateLimited { .. } => "visma_rate_limited",
        VismaError::Server { .. } => "visma_server",
        VismaError::Transport(_) => "visma_transport",
        VismaError::OutcomeUnknown { .. } => "visma_outcome_unknown",
        _ => "visma_error",
    };
    JobError::new(e.class(), code, e.to_string())
}

pub(crate) fn bc_err(e: ledgerlink_bigcommerce::Error) -> JobError {
    let class = e.class();
    let code = match class {
        ErrorClass::Permanent => "bigcommerce_rejected",
        _ => "bigcommerce_unavailable",
    };
    JobError::new(class, code, e.to_string())
}

pub(crate) fn call_err(e: CallError) -> JobError {
    if let Some(errors) = e.mapping_errors() {
        let first = errors.first();
        let mut je = JobError::permanent(
            "mapping_error",
            errors
                .iter()
                .map(|m| format!("{} ({}): {}", m.path, m.code, m.message))
                .collect::<Vec<_>>()
                .join("; "),
        );
        if let Some(f) = first {
            je = je.at(f.path.clone());
        }
        return je.with_payload(
            "mapping_errors",
            serde_json::to_value(errors).unwrap_or_default(),
        );
    }
    JobError::new(e.class(), "plugin_error", e.to_string())
}

pub(crate) fn canonical_err(e: canonical::CanonicalError) -> JobError {
    JobError::permanent("bad_source", e.message.clone()).at(e.path)
}

/// Store hash from a job's source (`bigcommerce:<hash>`) or payload (`store`).
pub(crate) fn store_of(job: &crate::Job) -> Result<String, JobError> {
    if let Some(s) = job.payload.get("store").and_then(|v| v.as_str()) {
        return Ok(s.to_owned());
    }
    job.source
        .as_deref()
        .and_then(|s| s.strip_prefix("bigcommerce:"))
        .map(str::to_owned)
        .ok_or_else(|| {
            JobError::permanent(
                "bad_event",
                "the job names no BigCommerce store (source or payload.store)",
            )
        })
}

/// Runs a plugin call on the blocking pool, with its provenance recorded on the attempt.
pub(crate) async fn call_plugin<T, F>(
    ctx: &crate::JobContext,
    plugin: &Arc<LoadedPlugin>,
    f: F,
) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce(&LoadedPlugin) -> Result<ledgerlink_runtime::Mapped<T>, CallError> + Send + 'static,
{
    ctx.set_plugin(plugin.name(), plugin.version(), plugin.sha256());
    let attempt = ctx.attempt();
    let mapped = plugin
        .run_blocking(f)
        .await
        .map_err(|e| plugin_call_err(e, attempt))?;
    Ok(mapped.value)
}

/// A plugin stopped at its deadline this many attempts in a row is taken for one that loops or
/// is too slow for its deadline, not for a busy machine.
pub(crate) const TIMEOUT_ATTEMPTS: u32 = 3;

/// [`call_err`], except that a deadline hit is retried only [`TIMEOUT_ATTEMPTS`] times: a busy
/// machine can make a sound mapping late once, but an operator must not wait out the whole
/// 48 h retry budget to learn that a plugin loops.
pub(crate) fn plugin_call_err(e: CallError, attempt: u32) -> JobError {
    if let CallError::Timeout { plugin, deadline } = &e
        && attempt >= TIMEOUT_ATTEMPTS
    {
        return JobError::permanent(
            "plugin_timeout",
            format!(
                "plugin {plugin} was stopped at its deadline of {} ms on {attempt} attempts in a \
                 row: it loops or needs a longer deadline (deadline_ms in its [[plugins]] \
                 section); replay after fixing it",
                deadline.as_millis()
            ),
        );
    }
    call_err(e)
}

/// Records a logical exchange (what we sent, what came back) in the attempt's audit.
pub(crate) fn audit<T: serde::Serialize, R: serde::Serialize>(
    ctx: &crate::JobContext,
    system: &str,
    method: &str,
    what: &str,
    request: Option<&T>,
    result: &Result<R, JobError>,
    started: Instant,
) {
    let request = request.and_then(|r| serde_json::to_string(r).ok());
    let response = result.as_ref().map(|v| serde_json::to_string(v).ok());
    record(
        ctx,
        system,
        method,
        what,
        request.as_deref(),
        response.as_ref().map(Option::as_deref).map_err(|e| *e),
        started,
    );
}

/// [`audit`] of a request without a body whose answer is already JSON text (a response body
/// as it came): recorded as it is, not decoded and encoded again.
pub(crate) fn audit_text<S: AsRef<str>>(
    ctx: &crate::JobContext,
    system: &str,
    method: &str,
    what: &str,
    result: &Result<S, JobError>,
    started: Instant,
) {
    let response = result.as_ref().map(|text| Some(text.as_ref()));
    record(ctx, system, method, what, None, response, started);
}

/// An answer (`Ok`, its body if any) or the error in its place, as `{"error": "…"}`.
fn record(
    ctx: &crate::JobContext,
    system: &str,
    method: &str,
    what: &str,
    request: Option<&str>,
    response: Result<Option<&str>, &JobError>,
    started: Instant,
) {
    let error;
    let (status, body) = match response {
        Ok(body) => (Some(200), body),
        Err(e) => {
            error = error_body(e);
            (None, Some(error.as_str()))
        }
    };
    ctx.record_exchange(
        system,
        method,
        what,
        request,
        status,
        body,
        started.elapsed(),
    );
}

/// `{"error": "<message>"}`, JSON-escaped (a Rust `{:?}` string is not valid JSON for
/// every message, e.g. one with a control character).
fn error_body(e: &JobError) -> String {
    serde_json::json!({ "error": e.to_string() }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledgerlink_core::ErrorClass;

    #[test]
    fn an_error_in_place_of_an_answer_is_recorded_as_valid_json() {
        let e = JobError::permanent("visma_validation", "bad \"name\" \u{1b}[31m Åsa\nline 2");
        let body: serde_json::Value = serde_json::from_str(&error_body(&e)).unwrap();
        assert_eq!(body["error"], e.to_string());
    }
    use std::time::Duration;

    fn timeout() -> CallError {
        CallError::Timeout {
            plugin: "p 1.0.0".into(),
            deadline: Duration::from_millis(50),
        }
    }

    /// Every scope we subscribe to reaches a flow that acts on it (none is only skipped, none
    /// would fail for want of a handler), and no retired wildcard is subscribed any more.
    #[test]
    fn every_subscribed_scope_has_a_flow_that_acts_on_it() {
        use ledgerlink_bigcommerce::webhooks::{DEFAULT_SCOPES, RETIRED_SCOPES};
        let handled: Vec<&str> = ORDER_SCOPES
            .iter()
            .chain(PRODUCT_SCOPES)
            .chain(CUSTOMER_SCOPES)
            .copied()
            .collect();
        for scope in DEFAULT_SCOPES {
            assert!(handled.contains(scope), "{scope} has no flow");
            assert!(!IGNORED_SCOPES.contains(scope), "{scope} is only skipped");
            assert!(!scope.ends_with("/*"), "{scope} is a wildcard");
        }
        for scope in RETIRED_SCOPES {
            assert!(!DEFAULT_SCOPES.contains(scope), "{scope}");
        }
    }

    #[test]
    fn a_deadline_hit_is_retried_a_few_times_then_parked() {
        for attempt in 1..TIMEOUT_ATTEMPTS {
            let e = plugin_call_err(timeout(), attempt);
            assert!(
                matches!(e.class, ErrorClass::Transient { .. }),
                "attempt {attempt}: {e:?}"
            );
        }
        let e = plugin_call_err(timeout(), TIMEOUT_ATTEMPTS);
        assert_eq!(e.class, ErrorClass::Permanent, "{e:?}");
        assert_eq!(e.code, "plugin_timeout");
        assert!(e.message.contains("50 ms"), "{}", e.message);
    }

    #[test]
    fn other_plugin_failures_keep_their_class_whatever_the_attempt() {
        let trap = || CallError::Trap {
            plugin: "p".into(),
            message: "unreachable".into(),
            stderr: String::new(),
        };
        assert_eq!(plugin_call_err(trap(), 1).class, ErrorClass::Permanent);
        assert_eq!(plugin_call_err(trap(), 9).class, ErrorClass::Permanent);
        let busy = || CallError::Instantiation {
            plugin: "p".into(),
            message: "pool full".into(),
        };
        assert_eq!(plugin_call_err(busy(), 1).class, busy().class());
        assert_eq!(plugin_call_err(busy(), 9).class, busy().class());
    }
}
