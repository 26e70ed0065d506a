//! Customer invoices.

use super::{Created, add_date_filter, check_ref, pick_by_ref, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::dto::{ActionResult, DocumentStatus, Invoice, InvoiceFilter, InvoiceUpdate};
use crate::error::VismaError;
use ledgerlink_core::{ExternalRef, LegalEntityId, VismaDocumentNo};
use reqwest::Method;

impl VismaClient {
    /// `GET /v1/customerinvoice/{invoiceNumber}`.
    pub async fn get_invoice(
        &self,
        entity: &LegalEntityId,
        number: &VismaDocumentNo,
    ) -> Result<Invoice, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/customerinvoice/{}", seg(number.as_str())));
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/customerinvoice` with filters, all pages.
    pub async fn list_invoices(
        &self,
        entity: &LegalEntityId,
        f: &InvoiceFilter,
    ) -> Result<Vec<Invoice>, VismaError> {
        let conn = self.connection(entity)?;
        let mut req = Req::get(conn.erp_url("v1/customerinvoice"))
            .query_opt("externalReference", f.external_reference.as_deref())
            .query_opt("customerRefNumber", f.customer_ref_number.as_deref())
            .query_opt("paymentReference", f.payment_reference.as_deref())
            .query_opt("customer", f.customer.as_deref())
            .query_opt("branch", f.branch.as_deref())
            .query_opt("status", f.status.as_ref().map(status_str))
            .query_opt("released", f.released);
        if f.expand_applications {
            req = req.query("expandApplications", true);
        }
        req = add_date_filter(req, "documentDate", f.document_date);
        req = add_date_filter(req, "lastModifiedDateTime", f.last_modified);
        self.list_all(entity, req).await
    }

    /// The invoice carrying our external reference, if any.
    pub async fn find_invoice_by_ref(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
    ) -> Result<Option<Invoice>, VismaError> {
        let r = check_ref(reference)?;
        let found = self
            .list_invoices(
                entity,
                &InvoiceFilter {
                    external_reference: Some(r.to_owned()),
                    ..Default::default()
                },
            )
            .await?;
        Ok(pick_by_ref(
            found,
            r,
            |i| i.external_reference.as_deref(),
            |i| i.reference_number.clone(),
        ))
    }

    /// Creates an invoice (`POST /v2/customerinvoice`) carrying `reference` as its
    /// `externalReference`, and never creates it twice: when a reply is lost the invoice is
    /// looked up by the reference before the create is repeated.
    pub async fn create_invoice_once(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        invoice: &InvoiceUpdate,
    ) -> Result<Created<Invoice>, VismaError> {
        let r = check_ref(reference)?.to_owned();
        let conn = self.connection(entity)?;
        let mut body = invoice.clone();
        body.external_reference = Some(r.clone());
        if body.branch_number.is_none() {
            body.branch_number = conn.branch.clone();
        }
        let req = Req {
            method: Method::POST,
            url: conn.erp_url("v2/customerinvoice"),
            query: Vec::new(),
            body: Some(to_json(&body)?),
            if_match: None,
            kind: Kind::Create {
                what: "invoice",
                external_ref: r,
            },
        };
        self.create_once(
            entity,
            req,
            || self.find_invoice_by_ref(entity, reference),
            |key| async move { self.get_invoice(entity, &VismaDocumentNo::new(key)).await },
        )
        .await
    }

    /// Like [`Self::create_invoice_once`] but looks the reference up first, for a job that may
    /// have run before.
    pub async fn ensure_invoice(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        invoice: &InvoiceUpdate,
    ) -> Result<Created<Invoice>, VismaError> {
        self.ensure(
            || self.find_invoice_by_ref(entity, reference),
            || self.create_invoice_once(entity, reference, invoice),
        )
        .await
    }

    /// Releases an invoice (`POST /v1/customerinvoice/{n}/action/release`) and returns it as
    /// it is afterwards. Releasing an already released invoice is not an error.
    pub async fn release_invoice(
        &self,
        entity: &LegalEntityId,
        number: &VismaDocumentNo,
    ) -> Result<Invoice, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!(
            "v1/customerinvoice/{}/action/release",
            seg(number.as_str())
        ));
        self.confirmed_action(
            entity,
            url,
            "invoice release",
            number.as_str(),
            None,
            || self.get_invoice(entity, number),
            |i: &Invoice| i.status.as_ref().is_some_and(DocumentStatus::is_released),
        )
        .await
    }

    /// [`Self::release_invoice`] for a caller that only needs the invoice released: a plain
    /// success is not followed by a read of the invoice (one request instead of two). A lost
    /// reply or an "already released" refusal is still confirmed by reading it.
    pub async fn release_invoice_unread(
        &self,
        entity: &LegalEntityId,
        number: &VismaDocumentNo,
    ) -> Result<(), VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!(
            "v1/customerinvoice/{}/action/release",
            seg(number.as_str())
        ));
        self.action_then(
            entity,
            url,
            "invoice release",
            number.as_str(),
            None,
            false,
            || self.get_invoice(entity, number),
            |i: &Invoice| i.status.as_ref().is_some_and(DocumentStatus::is_released),
        )
        .await
        .map(|_| ())
    }

    /// Runs an action (release, cancel) with confirmation by re-reading the document: a lost
    /// reply or an "already done" refusal both end with a read that shows the real state.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn confirmed_action<T, Get, GetFut>(
        &self,
        entity: &LegalEntityId,
        url: String,
        what: &'static str,
        key: &str,
        if_match: Option<String>,
        get: Get,
        done: impl Fn(&T) -> bool,
    ) -> Result<T, VismaError>
    where
        Get: Fn() -> GetFut,
        GetFut: std::future::Future<Output = Result<T, VismaError>>,
    {
        match self
            .action_then(entity, url, what, key, if_match, true, get, done)
            .await?
        {
            Some(doc) => Ok(doc),
            None => unreachable!("a confirmed action reads the document after a success"),
        }
    }

    /// [`Self::confirmed_action`]; `read_after_success` says whether a plain success is
    /// followed by a read of the document (`None` when it is not).
    #[allow(clippy::too_many_arguments)]
    async fn action_then<T, Get, GetFut>(
        &self,
        entity: &LegalEntityId,
        url: String,
        what: &'static str,
        key: &str,
        if_match: Option<String>,
        read_after_success: bool,
        get: Get,
        done: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, VismaError>
    where
        Get: Fn() -> GetFut,
        GetFut: std::future::Future<Output = Result<T, VismaError>>,
    {
        let ent = self.entity(entity)?;
        let req = Req {
            method: Method::POST,
            url,
            query: Vec::new(),
            body: None,
            if_match,
            kind: Kind::Action {
                what,
                key: key.to_owned(),
            },
        };
        let retry = self.settings().retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.execute(ent, &req).await {
                Ok(resp) => {
                    // ERP actions answer with an action result; v3 with the document.
                    let result: ActionResult =
                        serde_json::from_slice(&resp.body).unwrap_or_default();
                    if result.action_result.as_deref() == Some("Failed") {
                        return Err(VismaError::ActionFailed {
                            action: what.into(),
                            message: result.error_info.unwrap_or_default(),
                        });
                    }
                    if !read_after_success {
                        return Ok(None);
                    }
                    return get().await.map(Some);
                }
                Err(e @ VismaError::Validation { .. }) => {
                    let doc = get().await?;
                    return if done(&doc) { Ok(Some(doc)) } else { Err(e) };
                }
                Err(e @ VismaError::OutcomeUnknown { .. }) => {
                    let doc = get().await?;
                    if done(&doc) {
                        return Ok(Some(doc));
                    }
                    if attempt >= retry.max_attempts {
                        return Err(e);
                    }
                    tokio::time::sleep(retry.backoff.delay(attempt, None)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

pub(crate) fn status_str(s: &DocumentStatus) -> String {
    match serde_json::to_value(s) {
        Ok(serde_json::Value::String(v)) => v,
        _ => format!("{s:?}"),
    }
}

/// A request body as JSON bytes, encoded straight from the DTO (no `Value` in between).
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<bytes::Bytes, VismaError> {
    serde_json::to_vec(v)
        .map(bytes::Bytes::from)
        .map_err(|e| VismaError::Decode(format!("encoding request body: {e}")))
}
