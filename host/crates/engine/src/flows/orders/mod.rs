//! Orders → Visma: customer, invoice (per order, per shipment or at completion), credit
//! notes for refunds and cancellations. One handler serves every order event: each job brings
//! the order to its current state in Visma, so duplicated, reordered or missed events all
//! converge (jobs of one order run one at a time, in order).

mod refunds;
mod sales_order;

use super::canonical::{self, OrderBundle};
use super::convert;
use super::customers::{CustomerKey, find_or_create};
use super::routing::{DocumentType, EntitySettings, InvoiceTiming, Route};
use super::writeback::{Acted, WriteBack, write_back_now};
use super::{FlowDeps, audit, audit_text, bc_err, call_plugin, canonical_err, store_of, visma_err};
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::{Job, JobContext};
use ledgerlink_bigcommerce::models::{Order, OrderState};
use ledgerlink_core::{BcOrderId, BoxFuture, ExternalRef, LegalEntityId, VismaDocumentNo};
use ledgerlink_runtime::types as wit;
use ledgerlink_store::{IdentityKey, NewJob, WriteStart};
use ledgerlink_visma::dto::{DocumentStatus, Invoice};
use ledgerlink_visma::{ReceiptLine, VismaError};
use std::sync::Arc;
use std::time::Instant;

pub const ID_CUSTOMER: &str = "customer";
pub const ID_INVOICE: &str = "invoice";
pub const ID_CREDIT_NOTE: &str = "credit_note";
pub const ID_SALES_ORDER: &str = "sales_order";
/// The inventory receipt that restocked a return (keyed like the refund's credit note).
pub const ID_RETURN_RECEIPT: &str = "return_receipt";
/// The invoice credit notes of an order invoiced per shipment are linked to (its first).
pub const ID_CREDIT_TARGET: &str = "invoice_credited";
pub const ID_SALES_ORDER_CANCEL: &str = "sales_order_cancel";
/// Appended to a document's identity kind once the document passed the totals check.
const VERIFIED_SUFFIX: &str = "_verified";

const STATUS_REFUNDED: u32 = 4;
const STATUS_CANCELLED: u32 = 5;
const STATUS_DECLINED: u32 = 6;
const STATUS_AWAITING_PAYMENT: u32 = 7;
const STATUS_SHIPPED: u32 = 2;
const STATUS_COMPLETED: u32 = 10;

pub struct OrderFlow {
    deps: Arc<FlowDeps>,
}

/// Echo-marker target for "the order flow has acted on this state of the order".
pub const SYNCED_TARGET: &str = "ledgerlink-synced";

/// Echo marker key for an order's `date_modified` after our own write-back.
pub fn echo_resource(store: &str, order: BcOrderId) -> String {
    format!("{store}:order:{order}")
}

pub fn modified_hash(order: &OrderState) -> String {
    // `date_modified` has one-second resolution: a merchant's change in the same second as our
    // write-back must still count, so the fields our sync acts on are part of the marker.
    format!(
        "{}|{}|{}|{}|{}",
        order.date_modified.to_rfc3339(),
        order.status_id,
        order.refunded_amount.unwrap_or_default(),
        order.items_shipped.unwrap_or_default(),
        order.total_inc_tax,
    )
}

impl JobHandler for OrderFlow {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        Box::pin(self.run(job, ctx))
    }
}

fn order_id_of(job: &Job) -> Result<BcOrderId, JobError> {
    let p = &job.payload;
    let id = p
        .get("order_id")
        .or_else(|| p.pointer("/data/order_id"))
        .or_else(|| p.pointer("/data/orderId"))
        .or_else(|| {
            p.pointer("/data/type")
                .filter(|t| t.as_str() == Some("order"))
                .and(p.pointer("/data/id"))
        })
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .or_else(|| {
            job.subject
                .strip_prefix("order:")
                .and_then(|s| s.parse().ok())
        });
    id.map(BcOrderId).ok_or_else(|| {
        JobError::permanent("bad_event", "the event names no order id").at("data.id")
    })
}

/// An order's first event: nothing of ours (sub-resources, write-backs) can precede it.
fn is_first_event(job: &Job) -> bool {
    job.kind == "store/order/created"
}

/// Paid (or, per posting rule, awaiting payment) orders are posted.
fn eligible(status: u32, entity: &EntitySettings) -> bool {
    match status {
        2 | 3 | 8 | 9 | 10 | 11 | 14 | STATUS_REFUNDED => true,
        STATUS_AWAITING_PAYMENT | 1 => entity.posting.include_awaiting_payment,
        _ => false,
    }
}

/// Which optional sub-resources an order job fetches. Shipments and refunds cost a request
/// each and are absent from most orders: they are fetched when the header says they can exist
/// (status, shipped count, refunded amount) or the event is about them. Any job but the
/// first (`store/order/created`) fetches them, so a refund or shipment the header does not
/// reveal (e.g. the merchant changed the status afterwards) is still seen by the next event.
/// Coupons only when the header shows a coupon's discount (see [`header_shows_coupons`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wanted {
    shipments: bool,
    refunds: bool,
    coupons: bool,
}

impl Wanted {
    fn of(job: &Job, order: &Order) -> Self {
        use ledgerlink_bigcommerce::models::status;
        let first_event = is_first_event(job);
        let shipped = order.items_shipped.unwrap_or(0) > 0
            || matches!(
                order.status_id,
                status::SHIPPED | status::PARTIALLY_SHIPPED | status::COMPLETED
            );
        Self {
            shipments: shipped || !first_event,
            refunds: header_shows_refunds(&order.state()) || !first_event,
            coupons: header_shows_coupons(order),
        }
    }

    fn describe(&self) -> String {
        let mut parts = vec!["products", "addresses"];
        if self.coupons {
            parts.push("coupons");
        }
        parts.push("taxes");
        if self.shipments {
            parts.push("shipments");
        }
        if self.refunds {
            parts.push("refunds");
        }
        parts.join(", ")
    }
}

/// Whether the order can carry coupons: `coupon_discount` (read-only, what coupons took off;
/// orders.v2 `order_RespOnly.coupon_discount`) is not zero, or unknown. Coupons cannot be
/// redeemed through the API (NOTES §6.4), so an order without a coupon discount has none.
/// A shipping coupon may lower the shipping instead of `coupon_discount`: shipping charged
/// below its base cost (`base_shipping_cost` above even the tax-inclusive cost) fetches them
/// too.
fn header_shows_coupons(order: &Order) -> bool {
    let discounted = order.coupon_discount.is_none_or(|d| !d.is_zero());
    let shipping_reduced = match (order.base_shipping_cost, order.shipping_cost_inc_tax) {
        (Some(base), Some(charged)) => base > charged,
        (Some(base), None) => !base.is_zero(),
        _ => false,
    };
    discounted || shipping_reduced
}

/// A refund sets the order's status to (partially) refunded; the simulator (and, despite the
/// spec's "always 0", some stores) also report `refunded_amount`.
fn header_shows_refunds(order: &OrderState) -> bool {
    use ledgerlink_bigcommerce::models::status;
    order.refunded_amount.is_some_and(|a| !a.is_zero())
        || matches!(
            order.status_id,
            status::REFUNDED | status::PARTIALLY_REFUNDED
        )
}

/// What the sub-resource fetch found, for the audit log (the full bundle is the job's
/// snapshot).
#[derive(serde::Serialize)]
struct BundleCounts {
    products: usize,
    shipping_addresses: usize,
    coupons: usize,
    taxes: usize,
    shipments: usize,
    refunds: usize,
}

impl BundleCounts {
    fn of(b: &OrderBundle) -> Self {
        Self {
            products: b.products.len(),
            shipping_addresses: b.shipping_addresses.len(),
            coupons: b.coupons.len(),
            taxes: b.taxes.len(),
            shipments: b.shipments.len(),
            refunds: b.refunds.len(),
        }
    }
}

impl OrderFlow {
    pub fn new(deps: Arc<FlowDeps>) -> Self {
        Self { deps }
    }

    /// The order's sub-resources, fetched together. Shipments, refunds and coupons only when
    /// they can exist (see [`Wanted`]); shipping addresses only when the header counts any.
    async fn fetch_rest(
        &self,
        store: &str,
        order: Order,
        wanted: Wanted,
    ) -> Result<OrderBundle, JobError> {
        let bc = self.deps.bc(store)?;
        let id = order.id;
        let with_addresses = order.shipping_address_count != Some(0);
        let (products, shipping_addresses, coupons, taxes, shipments, refunds) =
            futures::try_join!(
                bc.order_products(id),
                async {
                    if with_addresses {
                        bc.order_shipping_addresses(id).await
                    } else {
                        Ok(Vec::new())
                    }
                },
                async {
                    if wanted.coupons {
                        bc.order_coupons(id).await
                    } else {
                        Ok(Vec::new())
                    }
                },
                bc.order_taxes(id),
                async {
                    if wanted.shipments {
                        bc.order_shipments(id).await
                    } else {
                        Ok(Vec::new())
                    }
                },
                async {
                    if wanted.refunds {
                        bc.order_refunds(id).await
                    } else {
                        Ok(Vec::new())
                    }
                },
            )
            .map_err(bc_err)?;
        Ok(OrderBundle {
            order,
            products,
            shipping_addresses,
            coupons,
            taxes,
            shipments,
            refunds,
            po_number: None,
        })
    }

    /// Whether this state of the order is the echo of our own write-back: nothing to do.
    /// An order that may carry refunds is never taken for an echo (a refund must be credited
    /// even when it lands in the same second as our write); nor is anything `never` says.
    async fn own_echo(
        &self,
        ctx: &JobContext,
        store: &str,
        order: &OrderState,
        never: bool,
    ) -> Result<bool, JobError> {
        if never {
            return Ok(false);
        }
        ctx.is_echo(
            "bigcommerce",
            &echo_resource(store, order.id),
            Some(&modified_hash(order)),
            std::time::Duration::from_secs(24 * 3600),
        )
        .await
    }

    /// Syncs the order, then writes the numbers of the documents it verified back to
    /// BigCommerce in the same job (one job per order instead of two). A write-back that
    /// fails here becomes a job of its own, retried on its own; the Visma work is done.
    async fn run(&self, job: &Job, ctx: &JobContext) -> Result<JobOutcome, JobError> {
        let result = self.sync(job, ctx).await;
        // Also after a failure later in the attempt: the documents verified before it are
        // final, and a retry finds them verified and would not write them back.
        self.write_backs(ctx).await;
        result
    }

    async fn write_backs(&self, ctx: &JobContext) {
        let pending = std::mem::take(&mut *pending_write_backs(ctx).lock());
        for wb in pending {
            let r = write_back_now(
                &self.deps,
                ctx,
                &wb.store,
                wb.order,
                wb.field,
                &wb.number,
                Acted::State(&wb.acted),
            )
            .await;
            if let Err(e) = r {
                tracing::info!(order = %wb.order, error = %e, "write-back failed; queued as a job of its own");
                ctx.enqueue(wb.job());
            }
        }
    }

    async fn sync(&self, job: &Job, ctx: &JobContext) -> Result<JobOutcome, JobError> {
        let store = store_of(job)?;
        let id = order_id_of(job)?;
        ctx.tag_order(id);
        let echo = || JobOutcome::Skipped {
            reason: "our own write-back".into(),
        };
        let bundle = match ctx.replay_snapshot() {
            Some(snap) => {
                let bundle = serde_json::from_value::<OrderBundle>(snap.clone()).map_err(|e| {
                    JobError::permanent("bad_snapshot", format!("stored snapshot unreadable: {e}"))
                })?;
                if self
                    .own_echo(
                        ctx,
                        &store,
                        &bundle.order.state(),
                        !bundle.refunds.is_empty(),
                    )
                    .await?
                {
                    return Ok(echo());
                }
                bundle
            }
            None => {
                // The header first: the echo of our own write-back stops here, one request
                // instead of seven.
                let started = Instant::now();
                let body = self
                    .deps
                    .bc(&store)?
                    .get_order_body(id)
                    .await
                    .map_err(bc_err);
                // The body as it came (what BigCommerce answered, whether or not it decodes).
                audit_text(
                    ctx,
                    "bigcommerce",
                    "GET",
                    &format!("/v2/orders/{id}"),
                    &body.as_ref().map(|b| b.text()).map_err(Clone::clone),
                    started,
                );
                let body = body?;
                // A sync asked for because Visma changed (it invoiced a sales order) must look
                // at Visma even when BigCommerce's side is our own write-back.
                let visma_changed = job.payload.get("visma_invoice").is_some();
                // An order's first event precedes any write-back of ours (the poller reports
                // orders as updates): no echo marker to read. Should another event have synced
                // the order first after all, this job redoes the idempotent sync.
                let first_event = is_first_event(job);
                if !(first_event || visma_changed) {
                    // The echo of our own write-back needs only the order's state: the whole
                    // order is decoded once it is known to be work.
                    let state = body.state().map_err(bc_err)?;
                    if self
                        .own_echo(ctx, &store, &state, header_shows_refunds(&state))
                        .await?
                    {
                        return Ok(echo());
                    }
                }
                let order = body.order().map_err(bc_err)?;
                let wanted = Wanted::of(job, &order);
                let started = Instant::now();
                let b = self.fetch_rest(&store, order, wanted).await;
                audit(
                    ctx,
                    "bigcommerce",
                    "GET",
                    &format!("/v2/orders/{id}/* ({})", wanted.describe()),
                    None::<&()>,
                    &b.as_ref().map(BundleCounts::of).map_err(Clone::clone),
                    started,
                );
                b?
            }
        };
        ctx.save_snapshot(serde_json::to_value(&bundle).unwrap_or_default());

        let currency = canonical::currency_of(&bundle.order);
        let channel = bundle.order.channel_id.map(|c| c.0).unwrap_or(1);
        let Some(route) = self.deps.routing.route(&store, channel, &currency) else {
            return Ok(JobOutcome::Skipped {
                reason: format!(
                    "no routing rule for store {store}, channel {channel}, currency {currency}"
                ),
            });
        };
        let entity = self.deps.entity(&route.entity)?.clone();
        let mut bundle = bundle;
        if bundle.po_number.is_none()
            && let Some(field) = &entity.posting.po_number_metafield
        {
            bundle.po_number = self.po_number(ctx, &store, id, field).await?;
            ctx.save_snapshot(serde_json::to_value(&bundle).unwrap_or_default());
        }
        let mut did = Vec::new();

        let status = bundle.order.status_id;
        let invoice_key = IdentityKey::new(entity.id.clone(), ID_INVOICE, order_key(&store, id));
        let credit_key =
            IdentityKey::new(entity.id.clone(), ID_CREDIT_TARGET, order_key(&store, id));
        let order_invoice = ctx.identity(&invoice_key).await?;
        let mut invoice_no = match &order_invoice {
            Some(no) => Some(no.clone()),
            None => ctx.identity(&credit_key).await?,
        };
        let cancelled = matches!(status, STATUS_CANCELLED | STATUS_DECLINED);

        let sales_orders = entity.posting.document_type == DocumentType::SalesOrder;
        if sales_orders && invoice_no.is_none() {
            match self
                .sales_order_state(ctx, &store, &route, &entity, &bundle, &mut did)
                .await?
            {
                sales_order::SalesOrderState::Done(outcome) => return Ok(outcome),
                sales_order::SalesOrderState::Invoiced(no) => invoice_no = Some(no),
            }
        }

        match entity.posting.invoice_timing {
            // Under the SalesOrders rule Visma makes the invoice from the sales order.
            _ if sales_orders => {}
            InvoiceTiming::PerShipment => {
                if eligible(status, &entity) {
                    for s in &bundle.shipments {
                        let key = IdentityKey::new(
                            entity.id.clone(),
                            ID_INVOICE,
                            format!("{}/s{}", order_key(&store, id), s.id),
                        );
                        if ctx.identity(&key).await?.is_some() && verified(ctx, &key).await? {
                            continue;
                        }
                        let no = self
                            .post_invoice(ctx, &store, &route, &entity, &bundle, Some(s))
                            .await?;
                        did.push("shipment invoice");
                        // Credits are linked to the first invoice of the order (kept under its
                        // own kind: the invoice is already mapped to its shipment).
                        if ctx.identity(&credit_key).await?.is_none() {
                            ctx.store()
                                .put_identity(&credit_key, &no, Some(ctx.job_id()))
                                .await?;
                        }
                        invoice_no.get_or_insert(no);
                    }
                }
            }
            timing => {
                let due = eligible(status, &entity)
                    && (timing == InvoiceTiming::OnOrder
                        || matches!(status, STATUS_SHIPPED | STATUS_COMPLETED));
                // A document left unreleased after a totals mismatch is checked again (and
                // released once right) instead of being taken for done.
                let held = order_invoice.is_some() && !verified(ctx, &invoice_key).await?;
                if (invoice_no.is_none() && due) || held {
                    invoice_no = Some(
                        self.post_invoice(ctx, &store, &route, &entity, &bundle, None)
                            .await?,
                    );
                    did.push(if held {
                        "invoice re-checked"
                    } else {
                        "invoice"
                    });
                }
            }
        }

        if let Some(inv) = &invoice_no {
            for r in &bundle.refunds {
                if self
                    .post_refund(ctx, &route, &entity, &bundle, r, inv, &store)
                    .await?
                {
                    did.push("credit note");
                }
            }
            if cancelled
                && self
                    .post_cancellation(ctx, &route, &entity, &bundle, inv, &store)
                    .await?
            {
                did.push("cancellation credit note");
            }
        } else if cancelled {
            return Ok(JobOutcome::Skipped {
                reason: "cancelled before it was invoiced: nothing to undo in Visma".into(),
            });
        }

        finish(ctx, &store, &bundle, did, invoice_no.is_some()).await
    }

    /// The order's PO number from the metafield `namespace.key` the posting rule names; none
    /// when the order has no such metafield (not every order is a B2B order).
    async fn po_number(
        &self,
        ctx: &JobContext,
        store: &str,
        id: BcOrderId,
        field: &str,
    ) -> Result<Option<String>, JobError> {
        let Some((namespace, key)) = field.split_once('.') else {
            return Err(JobError::permanent(
                "bad_posting_rule",
                format!("po_number_metafield {field:?} must be \"namespace.key\""),
            ));
        };
        let started = Instant::now();
        let fields = self
            .deps
            .bc(store)?
            .order_metafields(id, Some(namespace))
            .await
            .map_err(bc_err);
        audit(
            ctx,
            "bigcommerce",
            "GET",
            &format!("/v3/orders/{id}/metafields?namespace={namespace}"),
            None::<&()>,
            &fields.as_ref().map(Vec::len).map_err(Clone::clone),
            started,
        );
        Ok(fields?
            .into_iter()
            .find(|m| m.key == key)
            .map(|m| m.value.trim().to_owned())
            .filter(|v| !v.is_empty()))
    }

    /// The order mapped by the entity's plugin (customer found or created first), and the
    /// document currency.
    async fn map_order(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        shipment: Option<&ledgerlink_bigcommerce::models::Shipment>,
    ) -> Result<(wit::SalesDocument, String), JobError> {
        // The run saved the bundle as its snapshot just after fetching it: convert that JSON
        // rather than serialising the bundle a second time.
        let mut order = ctx
            .with_saved_snapshot(|snap| match snap {
                Some(snap) => canonical::order_from_snapshot(snap, bundle, None),
                None => canonical::order(bundle, None),
            })
            .map_err(canonical_err)?;
        let currency = order.currency.clone();
        let wctx = self
            .deps
            .context(entity, route, store, order.channel_id, &currency);
        let customer = self
            .customer(ctx, store, route, entity, &order, &wctx)
            .await?;
        order.customer.visma_customer_number = Some(customer);
        let plugin = self.deps.plugin(ctx, &route.entity)?;
        let tables = self.deps.tables(entity);
        let wship = shipment
            .map(canonical::shipment)
            .transpose()
            .map_err(canonical_err)?;
        let (c, o) = (wctx, order);
        let doc = call_plugin(ctx, &plugin, move |p| {
            p.map_order(&c, &tables, &o, wship.as_ref())
        })
        .await?;
        Ok((doc, currency))
    }

    /// The Visma customer number for the order's buyer, created once if needed.
    async fn customer(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        order: &wit::Order,
        wctx: &wit::Context,
    ) -> Result<String, JobError> {
        let bc_customer = order.customer.bc_customer_id;
        if bc_customer == 0
            && let Some(guest) = &entity.posting.guest_customer
        {
            return Ok(guest.clone());
        }
        let key = CustomerKey::new(&entity.id, store, bc_customer, &order.customer.email);
        let (number, _) = find_or_create(&self.deps, ctx, &entity.id, &key, || async move {
            let plugin = self.deps.plugin(ctx, &route.entity)?;
            let tables = self.deps.tables(entity);
            let (c, o) = (wctx.clone(), order.clone());
            let mapped =
                call_plugin(ctx, &plugin, move |p| p.map_customer(&c, &tables, &o)).await?;
            Ok(convert::customer(&mapped))
        })
        .await?;
        Ok(number)
    }

    async fn post_invoice(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        shipment: Option<&ledgerlink_bigcommerce::models::Shipment>,
    ) -> Result<String, JobError> {
        let id = bundle.order.id;
        let key = match shipment {
            Some(s) => IdentityKey::new(
                entity.id.clone(),
                ID_INVOICE,
                format!("{}/s{}", order_key(store, id), s.id),
            ),
            None => IdentityKey::new(entity.id.clone(), ID_INVOICE, order_key(store, id)),
        };
        let reference = ExternalRef::new(match shipment {
            Some(s) => short_ref("bc-s", &format!("{store}:{id}:{}", s.id)),
            None => short_ref("bc-o", &format!("{store}:{id}")),
        });
        let (mut lookup_first, existing) = match begin_document(ctx, &key, &reference).await? {
            DocumentStart::Verified(number) => return Ok(number),
            DocumentStart::Create { lookup_first, held } => (lookup_first, held),
        };
        let (doc, currency) = self
            .map_order(ctx, store, route, entity, bundle, shipment)
            .await?;
        let mut inv = match doc {
            wit::SalesDocument::Invoice(i) => i,
            wit::SalesDocument::SalesOrder(_) => {
                return Err(JobError::permanent(
                    "wrong_document",
                    format!(
                        "the posting rule of {} asks for an invoice but the plugin mapped order {id} to a sales order (check its document-type setting)",
                        entity.id
                    ),
                ));
            }
        };
        if inv.branch_number.is_none() {
            inv.branch_number = route.branch.clone();
        }
        let vat = self.deps.vat_codes(&entity.id).await?;
        let mut body = convert::invoice(&inv, &vat)?;
        body.external_reference = Some(reference.as_str().to_owned());

        let visma = &self.deps.visma;
        let started = Instant::now();
        let held = match &existing {
            Some(no) => match visma
                .get_invoice(&entity.id, &VismaDocumentNo::new(no))
                .await
            {
                Ok(d) => Some(d),
                // Deleted in Visma while held: make it again (after a look-up by reference).
                Err(VismaError::NotFound { .. }) => {
                    lookup_first = true;
                    None
                }
                Err(e) => return Err(visma_err(e)),
            },
            None => None,
        };
        let found = match held {
            Some(d) => Some(d),
            None if lookup_first => visma
                .find_invoice_by_ref(&entity.id, &reference)
                .await
                .map_err(visma_err)?,
            None => None,
        };
        let doc: Invoice = match found {
            Some(d) => d,
            None => {
                let r = visma
                    .create_invoice_once(&entity.id, &reference, &body)
                    .await
                    .map_err(visma_err);
                audit(
                    ctx,
                    "visma",
                    "POST",
                    "v2/customerinvoice",
                    Some(&body),
                    &r.as_ref().map(|c| &c.doc).map_err(Clone::clone),
                    started,
                );
                match r {
                    Ok(c) => c.doc,
                    Err(e) => {
                        return Err(create_refused(ctx, &key, e)
                            .await
                            .with_payload(
                                "request",
                                serde_json::to_value(&body).unwrap_or_default(),
                            )
                            .with_payload(
                                "mapped",
                                serde_json::to_value(&inv).unwrap_or_default(),
                            ));
                    }
                }
            }
        };
        let number = doc.reference_number.clone();
        ctx.complete_write(&key, &number).await?;
        ctx.tag_document(&VismaDocumentNo::new(number.clone()));

        // Not released yet (a re-checked document may have been released by hand meanwhile).
        let unreleased = matches!(
            doc.status,
            None | Some(DocumentStatus::Hold) | Some(DocumentStatus::Balanced)
        );
        if existing.is_some() && !unreleased {
            // Released in Visma (by an accountant, or before documents were marked verified):
            // final, so taken as it stands.
            mark_verified(ctx, &key, &number).await?;
            return Ok(number);
        }

        let (visma_total, matches) = checked_total(
            doc.amount_in_currency.or(doc.amount),
            doc.rounding_diff,
            &currency,
            inv.expected_total,
        );
        if !matches {
            return Err(JobError::permanent(
                "totals_mismatch",
                format!(
                    "Visma invoice {number} totals {} but BigCommerce order {id} totals {} (minor units); it was left unreleased for review",
                    visma_total.map(|v| v.to_string()).unwrap_or_else(|| "nothing".into()),
                    inv.expected_total
                ),
            )
            .with_payload("visma_invoice", serde_json::to_value(&doc).unwrap_or_default())
            .with_payload("mapped", serde_json::to_value(&inv).unwrap_or_default()));
        }
        if entity.posting.release_invoices && unreleased {
            audited_release(
                ctx,
                &format!("v1/customerinvoice/{number}/action/release"),
                visma.release_invoice_unread(&entity.id, &VismaDocumentNo::new(number.clone())),
            )
            .await?;
        }
        mark_verified(ctx, &key, &number).await?;
        write_back(ctx, store, &bundle.order, entity, "invoice", &number);
        Ok(number)
    }

    /// The Visma customer an invoiced order was booked on: the identity map, else the
    /// invoice itself.
    async fn known_customer(
        &self,
        ctx: &JobContext,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        store: &str,
        invoice: &str,
    ) -> Result<String, JobError> {
        let o = &bundle.order;
        if o.customer_id.0 == 0
            && let Some(g) = &entity.posting.guest_customer
        {
            return Ok(g.clone());
        }
        let email = o
            .billing_address
            .as_ref()
            .map(|b| b.email.as_str())
            .unwrap_or_default();
        let key = CustomerKey::new(&entity.id, store, o.customer_id.0, email);
        if let Some(n) = ctx.identity(&key.key).await? {
            return Ok(n);
        }
        let inv = self
            .deps
            .visma
            .get_invoice(&entity.id, &VismaDocumentNo::new(invoice))
            .await
            .map_err(visma_err)?;
        inv.customer.and_then(|c| c.number).ok_or_else(|| {
            JobError::permanent(
                "missing_customer",
                format!("Visma invoice {invoice} names no customer"),
            )
        })
    }
}

/// Records the state acted on, so a write-back made from exactly this state can mark its own
/// change as an echo (and one made after a merchant's change does not), and says what the
/// job did.
async fn finish(
    ctx: &JobContext,
    store: &str,
    bundle: &OrderBundle,
    did: Vec<&'static str>,
    posted: bool,
) -> Result<JobOutcome, JobError> {
    let id = bundle.order.id;
    // Read by the write-back this job queues, a job of the same subject that runs only after
    // this result (and the marker with it) is committed: no separate commit needed.
    ctx.record_echo_on_success(
        SYNCED_TARGET,
        &echo_resource(store, id),
        &modified_hash(&bundle.order.state()),
    );
    if did.is_empty() {
        let reason = if posted {
            "already in Visma; nothing new".to_owned()
        } else {
            format!(
                "status {} ({}) is not posted by the posting rule",
                bundle.order.status_id, bundle.order.status
            )
        };
        return Ok(JobOutcome::Skipped { reason });
    }
    Ok(JobOutcome::Done)
}

/// The identity recording that the document under `key` passed the totals check (and was
/// released or opened as the posting rule says); its absence marks a held document.
fn verified_key(key: &IdentityKey) -> IdentityKey {
    IdentityKey::new(
        key.legal_entity.clone(),
        format!("{}{VERIFIED_SUFFIX}", key.kind),
        key.bc_id.clone(),
    )
}

async fn verified(ctx: &JobContext, key: &IdentityKey) -> Result<bool, JobError> {
    Ok(ctx.identity(&verified_key(key)).await?.is_some())
}

/// Recorded with the attempt's result (whatever it is: the document passed its check either
/// way), in the transaction that also records the document's mapping when this attempt made
/// it; [`verified`] sees it at once. Should the process die before the result is written,
/// the next attempt looks the document up (intent still open) or re-checks it (held), finds
/// it released and takes it as it stands.
async fn mark_verified(ctx: &JobContext, key: &IdentityKey, number: &str) -> Result<(), JobError> {
    ctx.put_identity_on_finish(&verified_key(key), number);
    Ok(())
}

/// `SO/000123` → (`SO`, `000123`).
fn split_order_no(no: &str) -> (&str, &str) {
    no.split_once('/').unwrap_or(("SO", no))
}

/// The totals check of an invoice or credit note: Visma's total in minor units, and whether
/// it comes to BigCommerce's `expected` to the cent. A company with cash rounding (e.g. whole
/// kronor) rounds the document total itself and says by how much in `roundingDiff`; the
/// total before that rounding matching is not a mismatch.
/// `amount` is the document's total in its currency.
fn checked_total(
    amount: Option<rust_decimal::Decimal>,
    rounding_diff: Option<rust_decimal::Decimal>,
    currency: &str,
    expected: i64,
) -> (Option<i64>, bool) {
    let total = amount.and_then(|a| convert::to_minor(a, currency));
    let before_rounding = amount
        .map(|a| a - rounding_diff.unwrap_or_default())
        .and_then(|a| convert::to_minor(a, currency));
    (
        total,
        total == Some(expected) || before_rounding == Some(expected),
    )
}

/// Where a create-once of a sales document starts.
enum DocumentStart {
    /// Created and verified before: nothing to do.
    Verified(String),
    /// To create, after a lookup by reference if an earlier attempt's outcome is unknown.
    /// `held`: created before but not verified (held after a totals mismatch, or its release
    /// or opening failed), to be checked again.
    Create {
        lookup_first: bool,
        held: Option<String>,
    },
}

async fn begin_document(
    ctx: &JobContext,
    key: &IdentityKey,
    reference: &ExternalRef,
) -> Result<DocumentStart, JobError> {
    Ok(match ctx.begin_write(key, reference).await? {
        WriteStart::AlreadyDone { visma_id } if verified(ctx, key).await? => {
            DocumentStart::Verified(visma_id)
        }
        WriteStart::AlreadyDone { visma_id } => DocumentStart::Create {
            lookup_first: false,
            held: Some(visma_id),
        },
        WriteStart::LookUpFirst { .. } => DocumentStart::Create {
            lookup_first: true,
            held: None,
        },
        WriteStart::Proceed { .. } => DocumentStart::Create {
            lookup_first: false,
            held: None,
        },
    })
}

/// The error of a failed create, after its write intent is settled: a permanent refusal
/// means Visma made nothing, so the intent is dropped and a replay creates afresh instead of
/// looking the document up first. Any other outcome keeps the intent.
async fn create_refused(ctx: &JobContext, key: &IdentityKey, e: JobError) -> JobError {
    if e.class == ledgerlink_core::ErrorClass::Permanent
        && let Err(store) = ctx.abandon_write(key).await
    {
        return store;
    }
    e
}

/// Queues the write-back of a verified Visma document's number (`field`: `invoice` or
/// `sales_order`) to the BigCommerce order, when the posting rule asks for it. The order job
/// makes it itself once its Visma work is done ([`OrderFlow::write_backs`]); `acted` is the
/// order state the job acted on.
fn write_back(
    ctx: &JobContext,
    store: &str,
    acted: &Order,
    entity: &EntitySettings,
    field: &'static str,
    number: &str,
) {
    if !entity.posting.write_back {
        return;
    }
    pending_write_backs(ctx).lock().push(WriteBack {
        store: store.to_owned(),
        order: acted.id,
        entity: entity.id.as_str().to_owned(),
        field,
        number: number.to_owned(),
        acted: modified_hash(&acted.state()),
    });
}

/// The write-backs this attempt owes, kept with the attempt.
fn pending_write_backs(ctx: &JobContext) -> Arc<parking_lot::Mutex<Vec<WriteBack>>> {
    ctx.pinned::<_, std::convert::Infallible>("order:write-backs", || {
        Ok(Arc::new(parking_lot::Mutex::new(Vec::new())))
    })
    .unwrap_or_else(|never| match never {})
}

/// Identity-map key of an order: store and id (one entity may serve several stores).
pub fn order_key(store: &str, id: BcOrderId) -> String {
    format!("{store}:{id}")
}

fn refund_key(store: &str, refund: u64) -> String {
    format!("{store}:r{refund}")
}

/// `<prefix>-<key>` when it fits Visma's 40-character reference, else `<prefix>-<hash>`.
pub fn short_ref(prefix: &str, key: &str) -> String {
    let full = format!("{prefix}-{key}");
    if full.len() <= 40 {
        return full;
    }
    use sha2::Digest;
    let h = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    format!("{prefix}-{}", &h[..32])
}

/// Releases a Visma document and records the call, with its outcome, in the audit log.
async fn audited_release<R>(
    ctx: &JobContext,
    what: &str,
    release: impl std::future::Future<Output = Result<R, VismaError>>,
) -> Result<(), JobError> {
    let started = Instant::now();
    let r = release.await.map(|_| ()).map_err(visma_err);
    audit(ctx, "visma", "POST", what, None::<&()>, &r, started);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's own `GET /v2/orders/{id}` example (a 5.00 coupon, 12.00 shipping incl. tax),
    /// with `changes` applied.
    fn order(changes: serde_json::Value) -> Order {
        let path = format!(
            "{}/../../../../shared/specs/bigcommerce/examples/order_v2_get.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for (k, x) in changes.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn coupons_are_fetched_only_when_the_header_shows_one() {
        assert!(header_shows_coupons(&order(serde_json::json!({}))));
        let plain = serde_json::json!({"coupon_discount": "0.0000"});
        assert!(!header_shows_coupons(&order(plain)));
        // Unknown: fetched.
        assert!(header_shows_coupons(&order(
            serde_json::json!({"coupon_discount": null})
        )));
        // Free shipping from a coupon leaves `coupon_discount` alone but charges less than the
        // base cost.
        let free_shipping = serde_json::json!({
            "coupon_discount": "0.0000", "shipping_cost_ex_tax": "0.0000",
            "shipping_cost_inc_tax": "0.0000", "shipping_cost_tax": "0.0000",
        });
        assert!(header_shows_coupons(&order(free_shipping)));
        // No shipping at all.
        let no_shipping = serde_json::json!({
            "coupon_discount": "0", "base_shipping_cost": "0", "shipping_cost_ex_tax": "0",
            "shipping_cost_inc_tax": "0",
        });
        assert!(!header_shows_coupons(&order(no_shipping)));
    }

    #[test]
    fn the_first_event_fetches_only_what_the_header_shows() {
        let job = |kind: &str| {
            let now = chrono::Utc::now();
            Job {
                id: ledgerlink_store::JobId(1),
                kind: kind.into(),
                subject: "order:1".into(),
                source: None,
                payload: serde_json::json!({"data": {"type": "order", "id": 1}}),
                event_id: None,
                parent_job_id: None,
                state: ledgerlink_store::JobState::Running,
                attempts: 1,
                next_run_at: now,
                lease_owner: None,
                lease_expires_at: None,
                replay_mode: Default::default(),
                snapshot: None,
                error: None,
                resolution: None,
                created_at: now,
                updated_at: now,
                finished_at: None,
            }
        };
        let plain = order(serde_json::json!({"coupon_discount": "0", "status_id": 11}));
        let first = Wanted::of(&job("store/order/created"), &plain);
        assert_eq!(
            (first.coupons, first.shipments, first.refunds),
            (false, false, false)
        );
        assert_eq!(first.describe(), "products, addresses, taxes");
        // A later event looks for shipments and refunds whatever the header says.
        let later = Wanted::of(&job("store/order/updated"), &plain);
        assert_eq!(
            (later.coupons, later.shipments, later.refunds),
            (false, true, true)
        );
    }
}
