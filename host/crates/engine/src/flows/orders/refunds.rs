//! Refunds, returns and cancellations after invoicing: credit notes linked to the invoice,
//! restock receipts, and what has already been credited.

use super::*;

impl OrderFlow {
    /// Credits already made for an order: (order line, quantity) and the total in minor units.
    pub(super) async fn already_credited(
        &self,
        store: &str,
        entity: &LegalEntityId,
        bundle: &OrderBundle,
        ctx: &JobContext,
    ) -> Result<(Vec<(u64, wit::Decimal)>, i64), JobError> {
        let digits = canonical::digits_of(&canonical::currency_of(&bundle.order));
        let mut lines: Vec<(u64, wit::Decimal)> = Vec::new();
        let mut total = 0i64;
        for r in &bundle.refunds {
            let key = IdentityKey::new(entity.clone(), ID_CREDIT_NOTE, refund_key(store, r.id.0));
            if ctx.identity(&key).await?.is_none() {
                continue;
            }
            total += ledgerlink_core::money::decimal_to_minor(r.total_amount, digits).unwrap_or(0);
            for it in &r.items {
                if let (ledgerlink_bigcommerce::models::RefundItemType::Product, Some(q)) =
                    (&it.item_type, it.quantity)
                {
                    lines.push((
                        it.item_id,
                        wit::Decimal {
                            digits: q as i64,
                            scale: 0,
                        },
                    ));
                }
            }
        }
        Ok((lines, total))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn post_refund(
        &self,
        ctx: &JobContext,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        refund: &ledgerlink_bigcommerce::models::Refund,
        invoice: &str,
        store: &str,
    ) -> Result<bool, JobError> {
        let key = IdentityKey::new(
            entity.id.clone(),
            ID_CREDIT_NOTE,
            refund_key(store, refund.id.0),
        );
        let restock = return_lines(entity, bundle, refund, &self.deps.tables(entity));
        if ctx.identity(&key).await?.is_some() {
            // Credited before; a return's restock may still be due (a crash in between).
            return self.restock(ctx, entity, store, refund, &restock).await;
        }
        let (credited, _) = self
            .already_credited(store, &entity.id, bundle, ctx)
            .await?;
        let customer = self
            .known_customer(ctx, entity, bundle, store, invoice)
            .await?;
        let order = canonical::order(bundle, Some(customer)).map_err(canonical_err)?;
        let mut wrefund = canonical::refund(
            refund,
            order,
            Some(wit::DocumentRef {
                document_type: "invoice".into(),
                number: invoice.to_owned(),
            }),
            credited,
        )
        .map_err(canonical_err)?;
        if !restock.is_empty() {
            // Goods that had shipped came back: the plugin books a return.
            wrefund.kind = wit::RefundKind::Return;
            for it in &mut wrefund.items {
                it.restock = it.item_type == wit::RefundItemType::Product;
            }
        }
        let reference = ExternalRef::new(short_ref("bc-r", &format!("{}", refund.id.0)));
        self.post_credit(
            ctx, store, route, entity, &key, &reference, wrefund, invoice,
        )
        .await?;
        self.restock(ctx, entity, store, refund, &restock).await?;
        Ok(true)
    }

    /// Puts returned goods back into Visma's stock once: an inventory receipt, released.
    pub(super) async fn restock(
        &self,
        ctx: &JobContext,
        entity: &EntitySettings,
        store: &str,
        refund: &ledgerlink_bigcommerce::models::Refund,
        lines: &[ReceiptLine],
    ) -> Result<bool, JobError> {
        if lines.is_empty() {
            return Ok(false);
        }
        let key = IdentityKey::new(
            entity.id.clone(),
            ID_RETURN_RECEIPT,
            refund_key(store, refund.id.0),
        );
        if verified(ctx, &key).await? {
            return Ok(false);
        }
        let reference = ExternalRef::new(short_ref("bc-rr", &format!("{}", refund.id.0)));
        let number = match ctx.begin_write(&key, &reference).await? {
            WriteStart::AlreadyDone { visma_id } => visma_id,
            start => {
                let visma = &self.deps.visma;
                let found = match start {
                    WriteStart::LookUpFirst { .. } => visma
                        .find_inventory_receipt_by_ref(
                            &entity.id,
                            &reference,
                            chrono::Utc::now() - chrono::Duration::hours(48),
                        )
                        .await
                        .map_err(visma_err)?,
                    _ => None,
                };
                let doc = match found {
                    Some(d) => d,
                    None => {
                        let description = format!("Return of BigCommerce refund {}", refund.id.0);
                        let started = Instant::now();
                        let r = visma
                            .create_inventory_receipt_once(
                                &entity.id,
                                &reference,
                                &description,
                                lines,
                            )
                            .await
                            .map_err(visma_err);
                        audit(
                            ctx,
                            "visma",
                            "POST",
                            "v1/inventoryReceipt",
                            Some(&lines),
                            &r.as_ref().map(|c| &c.doc).map_err(Clone::clone),
                            started,
                        );
                        match r {
                            Ok(c) => c.doc,
                            Err(e) => return Err(create_refused(ctx, &key, e).await),
                        }
                    }
                };
                ctx.complete_write(&key, &doc.reference_number).await?;
                doc.reference_number
            }
        };
        audited_release(
            ctx,
            &format!("v1/inventoryReceipt/{number}/action/release"),
            self.deps
                .visma
                .release_inventory_receipt(&entity.id, &number),
        )
        .await?;
        mark_verified(ctx, &key, &number).await?;
        Ok(true)
    }

    pub(super) async fn post_cancellation(
        &self,
        ctx: &JobContext,
        route: &Route,
        entity: &EntitySettings,
        bundle: &OrderBundle,
        invoice: &str,
        store: &str,
    ) -> Result<bool, JobError> {
        let id = bundle.order.id;
        let key = IdentityKey::new(
            entity.id.clone(),
            ID_CREDIT_NOTE,
            format!("{}/cancel", order_key(store, id)),
        );
        if ctx.identity(&key).await?.is_some() {
            return Ok(false);
        }
        let (credited, credited_total) = self
            .already_credited(store, &entity.id, bundle, ctx)
            .await?;
        let customer = self
            .known_customer(ctx, entity, bundle, store, invoice)
            .await?;
        let order = canonical::order(bundle, Some(customer)).map_err(canonical_err)?;
        if order.total_inc_tax - credited_total <= 0 {
            return Ok(false);
        }
        let wrefund = canonical::cancellation(
            order,
            wit::DocumentRef {
                document_type: "invoice".into(),
                number: invoice.to_owned(),
            },
            credited,
            credited_total,
        )
        .map_err(canonical_err)?;
        let reference = ExternalRef::new(short_ref("bc-x", &format!("{store}:{id}")));
        self.post_credit(
            ctx, store, route, entity, &key, &reference, wrefund, invoice,
        )
        .await?;
        Ok(true)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn post_credit(
        &self,
        ctx: &JobContext,
        store: &str,
        route: &Route,
        entity: &EntitySettings,
        key: &IdentityKey,
        reference: &ExternalRef,
        wrefund: wit::Refund,
        invoice: &str,
    ) -> Result<String, JobError> {
        let start = ctx.begin_write(key, reference).await?;
        let lookup_first = match start {
            WriteStart::AlreadyDone { visma_id } => return Ok(visma_id),
            WriteStart::LookUpFirst { .. } => true,
            WriteStart::Proceed { .. } => false,
        };
        let currency = wrefund.currency.clone();
        let wctx = self
            .deps
            .context(entity, route, store, wrefund.order.channel_id, &currency);
        let plugin = self.deps.plugin(ctx, &route.entity)?;
        let tables = self.deps.tables(entity);
        let (c, r) = (wctx, wrefund.clone());
        let mut cn = call_plugin(ctx, &plugin, move |p| p.map_credit_note(&c, &tables, &r)).await?;
        if cn.original_invoice_number.is_empty() {
            cn.original_invoice_number = invoice.to_owned();
        }
        if cn.customer_number.is_empty() {
            // The customer of the invoice being credited.
            let inv = self
                .deps
                .visma
                .get_invoice(&entity.id, &VismaDocumentNo::new(invoice))
                .await
                .map_err(visma_err)?;
            cn.customer_number = inv.customer.and_then(|c| c.number).unwrap_or_default();
        }
        if cn.branch_number.is_none() {
            cn.branch_number = route.branch.clone();
        }
        let vat = self.deps.vat_codes(&entity.id).await?;
        let apply = entity.posting.release_credit_notes.then(|| {
            ledgerlink_core::money::minor_to_decimal(
                cn.expected_total,
                canonical::digits_of(&currency),
            )
        });
        let mut body = convert::credit_note(&cn, &vat, apply)?;
        // No amount on the application: Visma then applies what is open on the invoice, up to
        // the credit note's own total. A company that rounds totals (whole kronor in Sweden)
        // rounds both documents, so BigCommerce's unrounded amount could exceed the rounded
        // credit note or invoice balance (refused) or fall short of it (a balance left open).
        for line in &mut body.application_lines {
            line.amount_paid = None;
        }
        body.external_reference = Some(reference.as_str().to_owned());
        let visma = &self.deps.visma;
        let found = if lookup_first {
            visma
                .find_credit_note_by_ref(&entity.id, reference)
                .await
                .map_err(visma_err)?
        } else {
            None
        };
        let doc = match found {
            Some(d) => d,
            None => {
                let started = Instant::now();
                let r = visma
                    .create_credit_note_once(&entity.id, reference, &body)
                    .await
                    .map_err(visma_err);
                audit(
                    ctx,
                    "visma",
                    "POST",
                    "v2/customerCreditNote",
                    Some(&body),
                    &r.as_ref().map(|c| &c.doc).map_err(Clone::clone),
                    started,
                );
                match r {
                    Ok(c) => c.doc,
                    Err(e) => {
                        return Err(create_refused(ctx, key, e)
                            .await
                            .with_payload(
                                "request",
                                serde_json::to_value(&body).unwrap_or_default(),
                            )
                            .with_payload(
                                "mapped",
                                serde_json::to_value(&cn).unwrap_or_default(),
                            ));
                    }
                }
            }
        };
        let number = doc.reference_number.clone();
        ctx.complete_write(key, &number).await?;
        let (visma_total, matches) = checked_total(
            doc.amount_in_currency.or(doc.amount),
            doc.rounding_diff,
            &currency,
            cn.expected_total,
        );
        if !matches {
            return Err(JobError::permanent(
                "totals_mismatch",
                format!(
                    "Visma credit note {number} totals {} but the BigCommerce refund totals {} (minor units); left unreleased for review",
                    visma_total.map(|v| v.to_string()).unwrap_or_else(|| "nothing".into()),
                    cn.expected_total
                ),
            )
            .with_payload("mapped", serde_json::to_value(&cn).unwrap_or_default()));
        }
        if entity.posting.release_credit_notes {
            audited_release(
                ctx,
                &format!("v1/customerCreditNote/{number}/action/release"),
                visma.release_credit_note(&entity.id, &VismaDocumentNo::new(number.clone())),
            )
            .await?;
        }
        Ok(number)
    }
}

/// What a refund puts back into stock when the entity restocks returns: the refunded units of
/// each stocked line that had shipped (units never shipped never left the warehouse), into
/// the plugin's `return-warehouse` (else `default-warehouse`), item numbers as the plugin maps
/// them (table `item-number`, else the SKU). Empty when nothing is to be restocked.
pub(super) fn return_lines(
    entity: &EntitySettings,
    bundle: &OrderBundle,
    refund: &ledgerlink_bigcommerce::models::Refund,
    tables: &ledgerlink_runtime::MappingTables,
) -> Vec<ReceiptLine> {
    use ledgerlink_bigcommerce::models::RefundItemType;
    if !entity.posting.restock_returns {
        return Vec::new();
    }
    let settings = &entity.posting.settings;
    let Some(warehouse) = settings
        .get("return-warehouse")
        .or_else(|| settings.get("default-warehouse"))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for it in &refund.items {
        let (RefundItemType::Product, Some(q)) = (&it.item_type, it.quantity) else {
            continue;
        };
        let Some(line) = bundle.products.iter().find(|p| p.id == it.item_id) else {
            continue;
        };
        let shipped = line.quantity_shipped.unwrap_or(0);
        let digital = line.kind.as_deref() == Some("digital");
        let units = q.min(shipped);
        if units == 0 || digital || line.sku.trim().is_empty() {
            continue;
        }
        let sku = line.sku.trim();
        out.push(ReceiptLine {
            inventory_number: tables.lookup("item-number", sku).unwrap_or(sku).to_owned(),
            warehouse_id: warehouse.clone(),
            quantity: units.into(),
            uom: None,
        });
    }
    out
}
