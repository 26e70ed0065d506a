//! The SalesOrders v3 posting rule: one sales order per BigCommerce order, created on hold,
//! opened once its totals check out, cancelled with the order.

use super::*;

impl OrderFlow {
    /// The SalesOrders v3 posting rule, before the order is invoiced: one sales order per
    /// order (created on hold, opened once its totals are verified), cancelled in Visma when
    /// the order is cancelled in BigCommerce. Refunds need an invoice to credit, which only
    /// exists once Visma has invoiced the order.
    pub(super) async fn sales_order_state(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        mut did: Vec<&'static str>,
    ) -> Result<JobOutcome, JobError> {
        let id = bundle.order.id;
        let status = bundle.order.status_id;
        let key = IdentityKey::new(entity.id.clone(), ID_SALES_ORDER, order_key(store, id));
        let mut order_no = ctx.identity(&key).await?;
        let cancelled = matches!(status, STATUS_CANCELLED | STATUS_DECLINED);
        if cancelled {
            let Some(no) = &order_no else {
                return Ok(JobOutcome::Skipped {
                    reason: "cancelled before it was posted: nothing to undo in Visma".into(),
                });
            };
            let cancel_key = IdentityKey::new(
                entity.id.clone(),
                ID_SALES_ORDER_CANCEL,
                order_key(store, id),
            );
            if ctx.identity(&cancel_key).await?.is_none() {
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
                    .put_identity(&cancel_key, no, Some(ctx.job_id()))
                    .await?;
                ctx.tag_document(&VismaDocumentNo::new(no.clone()));
                did.push("sales order cancelled");
            }
        } else if eligible(status, entity) && (order_no.is_none() || !verified(ctx, &key).await?) {
            let held = order_no.is_some();
            order_no = Some(
                self.post_sales_order(ctx, store, route, entity, bundle)
                    .await?,
            );
            did.push(if held {
                "sales order re-checked"
            } else {
                "sales order"
            });
        }
        if let Some(no) = &order_no {
            let refund_key_of = |r: &ledgerlink_bigcommerce::models::Refund| {
                IdentityKey::new(entity.id.clone(), ID_CREDIT_NOTE, refund_key(store, r.id.0))
            };
            for r in &bundle.refunds {
                if ctx.identity(&refund_key_of(r)).await?.is_none() {
                    return Err(JobError::permanent(
                        "not_invoiced",
                        format!(
                            "refund {} of order {id} cannot be credited yet: the order is Visma sales order {no}, which has no invoice to credit; invoice it in Visma (or adjust the sales order) and skip this event",
                            r.id.0
                        ),
                    ));
                }
            }
        }
        finish(ctx, store, bundle, did, order_no.is_some()).await
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
        let body = convert::sales_order(&so, &vat)?;
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
            write_back(ctx, store, id, entity, "sales_order", &number);
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
        write_back(ctx, store, id, entity, "sales_order", &number);
        Ok(number)
    }
}
