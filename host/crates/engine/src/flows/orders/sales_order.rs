//! The SalesOrders v3 posting rule: one sales order per BigCommerce order, created on hold
//! with the order's billing and shipping address, opened once its totals check out, cancelled
//! with the order while Visma has not invoiced it. Once Visma has invoiced it (someone
//! prepared the order's invoice in the ERP), that invoice is the order's invoice: refunds and
//! cancellations are credited against it and its number and payment status are written back.

use super::*;
use ledgerlink_visma::dto::{NewOrderAddress, NewOrderParty, OrderContact, SalesOrder};

/// Where the SalesOrders rule leaves an order job.
pub(super) enum SalesOrderState {
    /// Nothing more to do: the job's outcome.
    Done(JobOutcome),
    /// Visma has invoiced the sales order: the invoice (released) refunds and cancellations
    /// are credited against, as under the invoice rule.
    Invoiced(String),
}

/// What Visma has made of a sales order so far.
enum Invoicing {
    /// Not invoiced (yet): open, on hold, or prepared but not released.
    Pending(String),
    /// Cancelled in Visma: nothing was invoiced, nothing will be.
    Cancelled,
    /// Invoiced, and the invoice released.
    Invoiced(String),
}

impl OrderFlow {
    /// The SalesOrders v3 posting rule: one sales order per order (created on hold, opened
    /// once its totals are verified). Before Visma invoices it, cancelling the order in
    /// BigCommerce cancels the sales order, and a refund waits for the invoice (a transient
    /// retry whose reason says so, within the retry budget): the credit note is made against
    /// the invoice Visma makes from the order. After that the order is treated as invoiced.
    pub(super) async fn sales_order_state(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        did: &mut Vec<&'static str>,
    ) -> Result<SalesOrderState, JobError> {
        let id = bundle.order.id;
        let status = bundle.order.status_id;
        let key = IdentityKey::new(entity.id.clone(), ID_SALES_ORDER, order_key(store, id));
        let cancel_key = IdentityKey::new(
            entity.id.clone(),
            ID_SALES_ORDER_CANCEL,
            order_key(store, id),
        );
        let cancelled = matches!(status, STATUS_CANCELLED | STATUS_DECLINED);
        let mut order_no = ctx.identity(&key).await?;
        let mut just_created = false;
        if order_no.is_none() && cancelled {
            return Ok(SalesOrderState::Done(JobOutcome::Skipped {
                reason: "cancelled before it was posted: nothing to undo in Visma".into(),
            }));
        }
        if eligible(status, entity) && (order_no.is_none() || !verified(ctx, &key).await?) {
            let held = order_no.is_some();
            order_no = Some(
                self.post_sales_order(ctx, store, route, entity, bundle)
                    .await?,
            );
            just_created = !held;
            did.push(if held {
                "sales order re-checked"
            } else {
                "sales order"
            });
        }
        let Some(no) = order_no else {
            return finish(ctx, store, bundle, std::mem::take(did), false)
                .await
                .map(SalesOrderState::Done);
        };
        if ctx.identity(&cancel_key).await?.is_some() {
            // Cancelled by us: nothing was invoiced, so refunds have nothing to credit.
            return finish(ctx, store, bundle, std::mem::take(did), true)
                .await
                .map(SalesOrderState::Done);
        }
        let pending: Vec<u64> = {
            let mut out = Vec::new();
            for r in &bundle.refunds {
                let k =
                    IdentityKey::new(entity.id.clone(), ID_CREDIT_NOTE, refund_key(store, r.id.0));
                if ctx.identity(&k).await?.is_none() {
                    out.push(r.id.0);
                }
            }
            out
        };
        if just_created && !cancelled && pending.is_empty() {
            // Made a moment ago: Visma cannot have invoiced it yet.
            return finish(ctx, store, bundle, std::mem::take(did), true)
                .await
                .map(SalesOrderState::Done);
        }
        match self.invoicing(ctx, store, entity, id, &no).await? {
            Invoicing::Invoiced(invoice) => {
                did.push("invoice made from the sales order");
                return Ok(SalesOrderState::Invoiced(invoice));
            }
            Invoicing::Cancelled => {
                // Cancelled in Visma by hand: as if we had; refunds have nothing to credit.
                ctx.store()
                    .put_identity(&cancel_key, &no, Some(ctx.job_id()))
                    .await?;
                did.push("sales order found cancelled in Visma");
                return finish(ctx, store, bundle, std::mem::take(did), true)
                    .await
                    .map(SalesOrderState::Done);
            }
            Invoicing::Pending(_) if cancelled => {
                self.cancel_sales_order(ctx, entity, &no, &cancel_key)
                    .await?;
                did.push("sales order cancelled");
                return finish(ctx, store, bundle, std::mem::take(did), true)
                    .await
                    .map(SalesOrderState::Done);
            }
            Invoicing::Pending(state) if !pending.is_empty() => {
                let refunds = pending
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(JobError::transient(
                    "awaiting_invoice",
                    format!(
                        "refund {refunds} of order {id} waits for Visma to invoice sales order {no} ({state}): the credit note is made against the invoice Visma makes from it; retried until then (error queue once the retry budget is spent)"
                    ),
                    None,
                ));
            }
            Invoicing::Pending(_) => {}
        }
        finish(ctx, store, bundle, std::mem::take(did), true)
            .await
            .map(SalesOrderState::Done)
    }

    /// Reads the sales order and, once Visma has invoiced it, makes its invoice known: the
    /// identity map learns it (kind `invoice`, verified: Visma made it from our checked
    /// order) and its number and payment status are queued for write-back.
    async fn invoicing(
        &self,
        ctx: &JobContext,
        store: &str,
        entity: &EntitySettings,
        id: BcOrderId,
        no: &str,
    ) -> Result<Invoicing, JobError> {
        let (order_type, order_id) = split_order_no(no);
        let visma = &self.deps.visma;
        let started = Instant::now();
        let r = visma
            .get_sales_order(&entity.id, order_type, order_id)
            .await
            .map_err(visma_err);
        audit(
            ctx,
            "visma",
            "GET",
            &format!("api/v3/SalesOrders/{no}"),
            None::<&()>,
            &r.as_ref().map_err(Clone::clone),
            started,
        );
        let so: SalesOrder = r?;
        let Some(invoice) = so.invoice_id().map(str::to_owned) else {
            return Ok(match so.status.as_deref() {
                Some("Cancelled") => Invoicing::Cancelled,
                s => {
                    Invoicing::Pending(format!("status {}, no invoice yet", s.unwrap_or("unknown")))
                }
            });
        };
        let started = Instant::now();
        let r = visma
            .get_invoice(&entity.id, &VismaDocumentNo::new(invoice.clone()))
            .await
            .map_err(visma_err);
        audit(
            ctx,
            "visma",
            "GET",
            &format!("v1/customerinvoice/{invoice}"),
            None::<&()>,
            &r.as_ref()
                .map(|i| &i.reference_number)
                .map_err(Clone::clone),
            started,
        );
        let inv = r?;
        if let Some((t, n)) = inv.sales_order()
            && (t, n) != (order_type, order_id)
        {
            return Err(JobError::permanent(
                "invoice_mismatch",
                format!(
                    "Visma sales order {no} names invoice {invoice}, but that invoice was made from sales order {t}/{n}; check the order in Visma"
                ),
            ));
        }
        if !inv.status.as_ref().is_some_and(|s| s.is_released()) {
            return Ok(Invoicing::Pending(format!(
                "invoice {invoice} prepared, not released yet"
            )));
        }
        // The jobs first, then the identity: a crash in between learns the invoice again
        // (and repeats an idempotent write-back) instead of never writing it back.
        if entity.posting.write_back {
            let payload = serde_json::json!({
                "store": store, "order_id": id.0, "entity": entity.id.as_str(), "invoice": invoice,
            });
            ctx.store()
                .enqueue(&NewJob {
                    kind: super::super::KIND_WRITE_BACK.into(),
                    subject: format!("order:{id}"),
                    payload,
                    source: Some(format!("bigcommerce:{store}")),
                })
                .await?;
        }
        ctx.store()
            .enqueue(&NewJob {
                kind: super::super::KIND_PAYMENT_STATUS.into(),
                subject: format!("order:{id}"),
                payload: serde_json::json!({
                    "store": store, "order_id": id.0, "entity": entity.id.as_str(),
                }),
                source: Some(format!("bigcommerce:{store}")),
            })
            .await?;
        let key = IdentityKey::new(entity.id.clone(), ID_INVOICE, order_key(store, id));
        ctx.store()
            .put_identity(&key, &invoice, Some(ctx.job_id()))
            .await?;
        mark_verified(ctx, &key, &invoice).await?;
        ctx.tag_document(&VismaDocumentNo::new(invoice.clone()));
        Ok(Invoicing::Invoiced(invoice))
    }

    /// Cancels the sales order in Visma once (releasing the stock it booked).
    async fn cancel_sales_order(
        &self,
        ctx: &JobContext,
        entity: &EntitySettings,
        no: &str,
        cancel_key: &IdentityKey,
    ) -> Result<(), JobError> {
        let (order_type, order_id) = split_order_no(no);
        let started = Instant::now();
        let r = self
            .deps
            .visma
            .cancel_sales_order(&entity.id, order_type, order_id, None)
            .await
            .map_err(visma_err);
        audit(
            ctx,
            "visma",
            "POST",
            &format!("api/v3/SalesOrders/{order_type}/{order_id}/cancel"),
            None::<&()>,
            &r,
            started,
        );
        r?;
        ctx.store()
            .put_identity(cancel_key, no, Some(ctx.job_id()))
            .await?;
        ctx.tag_document(&VismaDocumentNo::new(no.to_owned()));
        Ok(())
    }

    /// Creates the order's SalesOrders v3 order once (or re-checks one left on hold), checks
    /// Visma's total against BigCommerce's to the cent, and opens it.
    pub(super) async fn post_sales_order(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
    ) -> Result<String, JobError> {
        let id = bundle.order.id;
        let key = IdentityKey::new(entity.id.clone(), ID_SALES_ORDER, order_key(store, id));
        let reference = ExternalRef::new(short_ref("bc-o", &format!("{store}:{id}")));
        let (lookup_first, existing) = match begin_document(ctx, &key, &reference).await? {
            DocumentStart::Verified(number) => return Ok(number),
            DocumentStart::Create { lookup_first, held } => (lookup_first, held),
        };
        let (doc, currency) = self
            .map_order(ctx, store, route, entity, bundle, None)
            .await?;
        let wit::SalesDocument::SalesOrder(mut so) = doc else {
            return Err(JobError::permanent(
                "wrong_document",
                format!(
                    "the posting rule of {} asks for a sales order but the plugin mapped order {id} to an invoice (check its document-type setting)",
                    entity.id
                ),
            ));
        };
        if so.branch_number.is_none() {
            so.branch_number = route.branch.clone();
        }
        let vat = self.deps.vat_codes(&entity.id).await?;
        let mut body = convert::sales_order(&so, &vat)?;
        body.billing = order_party(so.billing_address.as_ref(), so.billing_contact.as_ref());
        body.shipping = order_party(so.shipping_address.as_ref(), so.shipping_contact.as_ref());
        let visma = &self.deps.visma;
        let existing_doc = match &existing {
            Some(no) => {
                let (t, n) = split_order_no(no);
                match visma.get_sales_order_versioned(&entity.id, t, n).await {
                    Ok(v) => Some(v),
                    // Deleted in Visma while held: create it again.
                    Err(VismaError::NotFound { .. }) => None,
                    Err(e) => return Err(visma_err(e)),
                }
            }
            None => None,
        };
        let current = match existing_doc {
            Some(v) => v,
            None => {
                let started = Instant::now();
                let since = chrono::Utc::now() - chrono::Duration::hours(48);
                let r = if lookup_first || existing.is_some() {
                    visma
                        .ensure_sales_order(&entity.id, &reference, &body, since)
                        .await
                } else {
                    visma
                        .create_sales_order_once(&entity.id, &reference, &body)
                        .await
                }
                .map_err(visma_err);
                audit(
                    ctx,
                    "visma",
                    "POST",
                    "api/v3/SalesOrders",
                    Some(&body),
                    &r.as_ref().map(|c| &c.doc).map_err(Clone::clone),
                    started,
                );
                let created = match r {
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
                                serde_json::to_value(&so).unwrap_or_default(),
                            ));
                    }
                };
                visma
                    .get_sales_order_versioned(&entity.id, &created.order_type, &created.order_id)
                    .await
                    .map_err(visma_err)?
            }
        };
        let doc = current.doc;
        let number = format!("{}/{}", doc.order_type, doc.order_id);
        ctx.complete_write(&key, &number).await?;
        ctx.tag_document(&VismaDocumentNo::new(number.clone()));
        if existing.is_some() && doc.status.as_deref() != Some("Hold") {
            // Taken off hold (or cancelled) in Visma by hand: taken as it stands.
            mark_verified(ctx, &key, &number).await?;
            write_back(ctx, store, &bundle.order, entity, "sales_order", &number);
            return Ok(number);
        }
        let visma_total = doc
            .order_total
            .and_then(|a| convert::to_minor(a, &currency));
        if visma_total != Some(so.expected_total) {
            return Err(JobError::permanent(
                "totals_mismatch",
                format!(
                    "Visma sales order {number} totals {} but BigCommerce order {id} totals {} (minor units); it was left on hold for review",
                    visma_total.map(|v| v.to_string()).unwrap_or_else(|| "nothing".into()),
                    so.expected_total
                ),
            )
            .with_payload("visma_sales_order", serde_json::to_value(&doc).unwrap_or_default())
            .with_payload("mapped", serde_json::to_value(&so).unwrap_or_default()));
        }
        if doc.status.as_deref() == Some("Hold") {
            let patch = ledgerlink_visma::dto::SalesOrderPatch {
                status: Some("Open".into()),
                ..Default::default()
            };
            let etag = current.etag.unwrap_or_default();
            let started = Instant::now();
            let r = visma
                .update_sales_order(&entity.id, &doc.order_type, &doc.order_id, &patch, &etag)
                .await
                .map_err(visma_err);
            audit(
                ctx,
                "visma",
                "PATCH",
                &format!("api/v3/SalesOrders/{number}"),
                Some(&patch),
                &r.as_ref().map(|v| &v.doc).map_err(Clone::clone),
                started,
            );
            r?;
        }
        mark_verified(ctx, &key, &number).await?;
        write_back(ctx, store, &bundle.order, entity, "sales_order", &number);
        Ok(number)
    }
}

/// The order's own billing or shipping party as v3 wants it: an address only when it names
/// a country (the service requires one and fills no gaps from the customer), a contact only
/// when it says something.
fn order_party(
    address: Option<&wit::VismaAddress>,
    contact: Option<&wit::VismaContact>,
) -> Option<NewOrderParty> {
    let text = |s: &str| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    let address = address
        .filter(|a| !a.country_id.trim().is_empty())
        .map(|a| NewOrderAddress {
            line1: text(&a.line1),
            line2: text(&a.line2),
            line3: text(&a.line3),
            postal_code: text(&a.postal_code),
            city: text(&a.city),
            country_id: a.country_id.trim().to_ascii_uppercase(),
            state_id: a.county_id.as_deref().and_then(text),
        });
    let contact = contact
        .map(|c| OrderContact {
            name: text(&c.name),
            attention: text(&c.attention),
            email: text(&c.email),
            phone1: text(&c.phone),
        })
        .filter(|c| *c != OrderContact::default());
    (address.is_some() || contact.is_some()).then_some(NewOrderParty { address, contact })
}
