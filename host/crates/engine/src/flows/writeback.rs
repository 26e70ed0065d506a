//! Write-back to BigCommerce: the Visma invoice number on the order (metafield and staff
//! notes), and payment status read from Visma on a schedule. Each write records an echo
//! marker with the order's new `date_modified`, so the webhook our own write causes is
//! recognised and does no work.
//!
//! The order job writes the number back itself once its Visma work is done
//! ([`write_back_now`]); only a write-back that failed there becomes a job of its own
//! ([`WriteBackFlow`]), retried like any other.

use super::orders::{ID_INVOICE, SYNCED_TARGET, echo_resource, modified_hash};
use super::{FlowDeps, KIND_WRITE_BACK, audit, bc_err, store_of, visma_err};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use ledgerlink_bigcommerce::models::{NewMetafield, OrderUpdate};
use ledgerlink_core::{BcOrderId, BoxFuture, LegalEntityId, VismaDocumentNo};
use ledgerlink_store::NewJob;
use std::sync::Arc;
use std::time::Instant;

pub const METAFIELD_NAMESPACE: &str = "ledgerlink";
pub const KEY_INVOICE: &str = "visma_invoice_number";
pub const KEY_PAYMENT: &str = "visma_payment_status";
pub const KEY_SALES_ORDER: &str = "visma_sales_order_number";

pub struct WriteBackFlow {
    deps: Arc<FlowDeps>,
}

impl WriteBackFlow {
    pub fn new(deps: Arc<FlowDeps>) -> Self {
        Self { deps }
    }
}

fn field<'a>(job: &'a Job, name: &str) -> Result<&'a serde_json::Value, JobError> {
    job.payload.get(name).ok_or_else(|| {
        JobError::permanent("bad_job", format!("write-back job lacks {name:?}")).at(name)
    })
}

async fn set_metafield(
    deps: &FlowDeps,
    ctx: &JobContext,
    store: &str,
    order: BcOrderId,
    key: &str,
    value: &str,
) -> Result<(), JobError> {
    let bc = deps.bc(store)?;
    let mf = NewMetafield {
        permission_set: "app_only".into(),
        namespace: METAFIELD_NAMESPACE.into(),
        key: key.into(),
        value: value.into(),
        description: Some("Written by Ledgerlink".into()),
    };
    let started = Instant::now();
    let r = bc.upsert_order_metafield(order, &mf).await.map_err(bc_err);
    audit(
        ctx,
        "bigcommerce",
        "PUT",
        &format!("/v3/orders/{order}/metafields"),
        Some(&mf),
        &r.as_ref().map(|_| ()).map_err(Clone::clone),
        started,
    );
    r.map(|_| ())
}

/// What a write-back of a Visma document number needs to know.
#[derive(Debug, Clone)]
pub(crate) struct WriteBack {
    pub store: String,
    pub order: BcOrderId,
    pub entity: String,
    /// `invoice`, or under the SalesOrders rule `sales_order` (its `type/number`).
    pub field: &'static str,
    pub number: String,
    /// [`modified_hash`] of the order state the order flow acted on.
    pub acted: String,
}

impl WriteBack {
    /// The same write-back as a job of its own (retried by the engine, after the order job).
    pub(crate) fn job(&self) -> NewJob {
        let mut payload = serde_json::json!({
            "store": self.store,
            "order_id": self.order.0,
            "entity": self.entity,
        });
        payload[self.field] = serde_json::Value::from(self.number.as_str());
        NewJob {
            kind: KIND_WRITE_BACK.into(),
            subject: format!("order:{}", self.order),
            payload,
            source: Some(format!("bigcommerce:{}", self.store)),
        }
    }
}

/// How a write-back learns whether the order is still in the state the order flow acted on.
pub(crate) enum Acted<'a> {
    /// Known: the order flow's own state hash (a write-back made by the order job itself).
    State(&'a str),
    /// Recorded by an earlier order job as a [`SYNCED_TARGET`] marker (a write-back job).
    Marker,
}

/// Writes the Visma document number to the order: the metafield (created or updated) and a
/// line in the staff notes, appended to what the order holds right now (read just before the
/// write, so a note the merchant changed is kept). When the order is still in the state the
/// order flow acted on, the change this write causes is recorded as our own echo (the
/// webhook it triggers then does no work); a merchant's change in between is not, so its
/// webhook still does its work.
pub(crate) async fn write_back_now(
    deps: &FlowDeps,
    ctx: &JobContext,
    store: &str,
    order: BcOrderId,
    field: &str,
    number: &str,
    acted: Acted<'_>,
) -> Result<(), JobError> {
    let (key, label) = match field {
        "sales_order" => (KEY_SALES_ORDER, "sales order"),
        _ => (KEY_INVOICE, "invoice"),
    };
    let bc = deps.bc(store)?;
    // The metafield and the read of the notes are independent: sent together.
    let (_, current) =
        futures::try_join!(set_metafield(deps, ctx, store, order, key, number), async {
            // Only the notes and the state: the rest of the order is not read here.
            bc.get_order_body(order)
                .await
                .and_then(|b| b.state())
                .map_err(bc_err)
        },)?;
    // Only a write made from a state the order flow already acted on is a pure echo; if the
    // merchant changed the order meanwhile, its webhook must still do its work.
    let resource = echo_resource(store, order);
    let current_hash = modified_hash(&current);
    let from_synced = match acted {
        Acted::State(hash) => hash == current_hash,
        Acted::Marker => {
            ctx.is_echo(
                SYNCED_TARGET,
                &resource,
                Some(&current_hash),
                std::time::Duration::from_secs(24 * 3600),
            )
            .await?
        }
    };
    let note = format!("Visma {label} {number}");
    let notes = current.staff_notes.clone().unwrap_or_default();
    let after = if notes.contains(&note) {
        current
    } else {
        let staff_notes = if notes.trim().is_empty() {
            note
        } else {
            format!("{notes}\n{note}")
        };
        let update = OrderUpdate {
            staff_notes: Some(staff_notes),
            ..Default::default()
        };
        let started = Instant::now();
        let r = bc.update_order_state(order, &update).await.map_err(bc_err);
        audit(
            ctx,
            "bigcommerce",
            "PUT",
            &format!("/v2/orders/{order}"),
            Some(&update),
            &r.as_ref().map(|_| ()).map_err(Clone::clone),
            started,
        );
        r?
    };
    if from_synced {
        // The webhook this write causes is a job of this order's subject, run after this
        // one: the markers can travel with the result.
        let hash = modified_hash(&after);
        ctx.record_echo_on_success("bigcommerce", &resource, &hash);
        ctx.record_echo_on_success(SYNCED_TARGET, &resource, &hash);
    }
    Ok(())
}

impl JobHandler for WriteBackFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            let store = store_of(job)?;
            let order = BcOrderId(field(job, "order_id")?.as_u64().unwrap_or_default());
            // An invoice number, or under the SalesOrders rule the sales order's `type/number`.
            let (name, number) = match job.payload.get("sales_order") {
                Some(so) => ("sales_order", so),
                None => ("invoice", field(job, "invoice")?),
            };
            let number = number.as_str().unwrap_or_default().to_owned();
            ctx.tag_order(order);
            ctx.tag_document(&VismaDocumentNo::new(number.clone()));
            write_back_now(&self.deps, ctx, &store, order, name, &number, Acted::Marker).await?;
            Ok(JobOutcome::Done)
        })
    }
}

/// Reads the Visma status of invoices we created and writes paid/open to the order.
/// Payload: `{"store", "order_id", "entity"}`; one job per order, added by the scheduler.
pub struct PaymentStatusFlow {
    deps: Arc<FlowDeps>,
}

impl PaymentStatusFlow {
    pub fn new(deps: Arc<FlowDeps>) -> Self {
        Self { deps }
    }
}

impl JobHandler for PaymentStatusFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(async move {
            let store = store_of(job)?;
            let order = BcOrderId(field(job, "order_id")?.as_u64().unwrap_or_default());
            let entity = LegalEntityId::new(field(job, "entity")?.as_str().unwrap_or_default());
            ctx.tag_order(order);
            let key = ledgerlink_store::IdentityKey::new(
                entity.clone(),
                ID_INVOICE,
                super::orders::order_key(&store, order),
            );
            let Some(number) = ctx.identity(&key).await? else {
                return Ok(JobOutcome::Skipped {
                    reason: "no Visma invoice for this order yet".into(),
                });
            };
            let inv = self
                .deps
                .visma
                .get_invoice(&entity, &VismaDocumentNo::new(number.clone()))
                .await
                .map_err(visma_err)?;
            let balance = inv.balance_in_currency.or(inv.balance).unwrap_or_default();
            let status = if balance.is_zero() {
                "paid"
            } else if inv.status.as_ref().is_some_and(|s| s.is_released()) {
                "open"
            } else {
                "unreleased"
            };
            let value = format!("{status}; balance {balance}");
            set_metafield(&self.deps, ctx, &store, order, KEY_PAYMENT, &value).await?;
            let settings = self.deps.entity(&entity)?;
            let bc = self.deps.bc(&store)?;
            if status == "paid"
                && let Some(paid) = settings.posting.paid_status_id
            {
                let current = bc
                    .get_order_body(order)
                    .await
                    .and_then(|b| b.state())
                    .map_err(bc_err)?;
                if current.status_id != paid {
                    let after = bc
                        .update_order_state(
                            order,
                            &OrderUpdate {
                                status_id: Some(paid),
                                ..Default::default()
                            },
                        )
                        .await
                        .map_err(bc_err)?;
                    ctx.record_echo(
                        "bigcommerce",
                        &echo_resource(&store, order),
                        &modified_hash(&after),
                    )
                    .await?;
                }
            }
            Ok(JobOutcome::Done)
        })
    }
}
