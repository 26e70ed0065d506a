//! Customer credit notes, linked to the invoice they credit through application lines.

use super::invoices::{status_str, to_json};
use super::{Created, add_date_filter, check_ref, pick_by_ref, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::dto::{CreditNote, CreditNoteFilter, CreditNoteUpdate, DocumentStatus};
use crate::error::VismaError;
use ledgerlink_core::{ExternalRef, LegalEntityId, VismaDocumentNo};
use reqwest::Method;

impl VismaClient {
    /// `GET /v1/customerCreditNote/{creditNoteNumber}`.
    pub async fn get_credit_note(
        &self,
        entity: &LegalEntityId,
        number: &VismaDocumentNo,
    ) -> Result<CreditNote, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/customerCreditNote/{}", seg(number.as_str())));
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/customerCreditNote` with filters, all pages.
    pub async fn list_credit_notes(
        &self,
        entity: &LegalEntityId,
        f: &CreditNoteFilter,
    ) -> Result<Vec<CreditNote>, VismaError> {
        let conn = self.connection(entity)?;
        let mut req = Req::get(conn.erp_url("v1/customerCreditNote"))
            .query_opt("externalReference", f.external_reference.as_deref())
            .query_opt("customer", f.customer.as_deref())
            .query_opt("status", f.status.as_ref().map(status_str));
        if f.expand_applications {
            req = req.query("expandApplications", true);
        }
        req = add_date_filter(req, "lastModifiedDateTime", f.last_modified);
        self.list_all(entity, req).await
    }

    pub async fn find_credit_note_by_ref(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
    ) -> Result<Option<CreditNote>, VismaError> {
        let r = check_ref(reference)?;
        let found = self
            .list_credit_notes(
                entity,
                &CreditNoteFilter {
                    external_reference: Some(r.to_owned()),
                    expand_applications: true,
                    ..Default::default()
                },
            )
            .await?;
        Ok(pick_by_ref(
            found,
            r,
            |c| c.external_reference.as_deref(),
            |c| c.reference_number.clone(),
        ))
    }

    /// Creates a credit note (`POST /v2/customerCreditNote`) carrying `reference`, at most
    /// once. Link it to the original invoice with
    /// [`crate::dto::ApplicationLineUpdate::to_invoice`] in `application_lines`.
    pub async fn create_credit_note_once(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        note: &CreditNoteUpdate,
    ) -> Result<Created<CreditNote>, VismaError> {
        let r = check_ref(reference)?.to_owned();
        let conn = self.connection(entity)?;
        let mut body = note.clone();
        body.external_reference = Some(r.clone());
        if body.branch_number.is_none() {
            body.branch_number = conn.branch.clone();
        }
        let req = Req {
            method: Method::POST,
            url: conn.erp_url("v2/customerCreditNote"),
            query: Vec::new(),
            body: Some(to_json(&body)?),
            if_match: None,
            kind: Kind::Create {
                what: "credit note",
                external_ref: r,
            },
        };
        self.create_once(
            entity,
            req,
            || self.find_credit_note_by_ref(entity, reference),
            |key| async move {
                self.get_credit_note(entity, &VismaDocumentNo::new(key))
                    .await
            },
        )
        .await
    }

    /// Looks the reference up first, then [`Self::create_credit_note_once`].
    pub async fn ensure_credit_note(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        note: &CreditNoteUpdate,
    ) -> Result<Created<CreditNote>, VismaError> {
        self.ensure(
            || self.find_credit_note_by_ref(entity, reference),
            || self.create_credit_note_once(entity, reference, note),
        )
        .await
    }

    /// `POST /v1/customerCreditNote/{n}/action/release`: posts the credit note, which applies
    /// it to the linked invoice and lowers the invoice's balance.
    pub async fn release_credit_note(
        &self,
        entity: &LegalEntityId,
        number: &VismaDocumentNo,
    ) -> Result<CreditNote, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!(
            "v1/customerCreditNote/{}/action/release",
            seg(number.as_str())
        ));
        self.confirmed_action(
            entity,
            url,
            "credit note release",
            number.as_str(),
            None,
            || self.get_credit_note(entity, number),
            |c: &CreditNote| c.status.as_ref().is_some_and(DocumentStatus::is_released),
        )
        .await
    }
}
