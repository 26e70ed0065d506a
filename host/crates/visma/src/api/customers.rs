//! Customers.

use super::invoices::to_json;
use super::{Created, add_date_filter, check_ref, pick_by_ref, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::dto::{Customer, CustomerFilter, CustomerUpdate, DateFilter, Versioned};
use crate::error::VismaError;
use chrono::Utc;
use ledgerlink_core::{ExternalRef, LegalEntityId, VismaCustomerNo};
use reqwest::Method;
use std::future::Future;

impl VismaClient {
    /// `GET /v1/customer/{customerCd}`.
    pub async fn get_customer(
        &self,
        entity: &LegalEntityId,
        number: &VismaCustomerNo,
    ) -> Result<Customer, VismaError> {
        Ok(self.get_customer_versioned(entity, number).await?.doc)
    }

    /// The customer with its ETag, for [`Self::update_customer`].
    pub async fn get_customer_versioned(
        &self,
        entity: &LegalEntityId,
        number: &VismaCustomerNo,
    ) -> Result<Versioned<Customer>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/customer/{}", seg(number.as_str())));
        let ent = self.entity(entity)?;
        let resp = self.execute(ent, &Req::get(url)).await?;
        Ok(Versioned {
            etag: resp.etag(),
            doc: resp.json()?,
        })
    }

    /// `GET /v1/customer` with filters, all pages.
    pub async fn list_customers(
        &self,
        entity: &LegalEntityId,
        f: &CustomerFilter,
    ) -> Result<Vec<Customer>, VismaError> {
        let conn = self.connection(entity)?;
        let mut req = Req::get(conn.erp_url("v1/customer"))
            .query_opt("name", f.name.as_deref())
            .query_opt("email", f.email.as_deref())
            .query_opt("corporateId", f.corporate_id.as_deref())
            .query_opt("vatRegistrationId", f.vat_registration_id.as_deref())
            .query_opt(
                "status",
                f.status.and_then(|s| {
                    serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                }),
            );
        req = add_date_filter(req, "lastModifiedDateTime", f.last_modified);
        self.list_all(entity, req).await
    }

    /// Creates a customer at most once. The reference is written to `accountReference`; when
    /// the body names a customer `number` the lookup is by number, otherwise by customers
    /// created since just before this call whose `accountReference` matches.
    pub async fn create_customer_once(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        customer: &CustomerUpdate,
    ) -> Result<Created<Customer>, VismaError> {
        let r = check_ref(reference)?.to_owned();
        let conn = self.connection(entity)?;
        let mut body = customer.clone();
        body.account_reference = Some(r.clone());
        let req = Req {
            method: Method::POST,
            url: conn.erp_url("v1/customer"),
            query: Vec::new(),
            body: Some(to_json(&body)?),
            if_match: None,
            kind: Kind::Create {
                what: "customer",
                external_ref: r.clone(),
            },
        };
        // Clock skew between us and the ERP is absorbed by a generous margin; the match on
        // accountReference does the real selection.
        let since = Utc::now() - chrono::Duration::minutes(10);
        let number = body.number.clone();
        let body = &body;
        let find = || {
            let number = number.clone();
            let r = r.clone();
            async move {
                match number {
                    Some(n) => match self.get_customer(entity, &VismaCustomerNo::new(n)).await {
                        Ok(c) => Ok(Some(c)),
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e),
                    },
                    None => self.find_new_customer(entity, &r, body, since).await,
                }
            }
        };
        self.create_once(entity, req, find, |key| async move {
            self.get_customer(entity, &VismaCustomerNo::new(key)).await
        })
        .await
    }

    async fn find_new_customer(
        &self,
        entity: &LegalEntityId,
        reference: &str,
        body: &CustomerUpdate,
        since: chrono::DateTime<Utc>,
    ) -> Result<Option<Customer>, VismaError> {
        let mut req = Req::get(self.connection(entity)?.erp_url("v1/customer"))
            .query_opt("name", body.name.as_deref());
        req = add_date_filter(req, "createdDateTime", Some(DateFilter::since(since)));
        let found: Vec<Customer> = self.list_all(entity, req).await?;
        Ok(pick_by_ref(
            found,
            reference,
            |c| c.account_reference.as_deref(),
            |c| c.number.clone(),
        ))
    }

    /// `PUT /v1/customer/{customerCd}` with `If-Match` when `etag` is given. Returns the
    /// customer as stored afterwards. On 412 the customer is re-read and
    /// [`VismaError::Conflict`] carries its current ETag.
    pub async fn update_customer(
        &self,
        entity: &LegalEntityId,
        number: &VismaCustomerNo,
        customer: &CustomerUpdate,
        etag: Option<&str>,
    ) -> Result<Versioned<Customer>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/customer/{}", seg(number.as_str())));
        let mut body = customer.clone();
        // The number is the key in the path; sending it again would try to renumber.
        body.number = None;
        self.update_with_etag(entity, Method::PUT, url, to_json(&body)?, etag, || {
            self.get_customer_versioned(entity, number)
        })
        .await
    }

    /// Sends an update and reads the document back; on 412 re-reads it to report the
    /// current ETag.
    pub(crate) async fn update_with_etag<T, Get, GetFut>(
        &self,
        entity: &LegalEntityId,
        method: Method,
        url: String,
        body: bytes::Bytes,
        etag: Option<&str>,
        get: Get,
    ) -> Result<Versioned<T>, VismaError>
    where
        Get: Fn() -> GetFut,
        GetFut: Future<Output = Result<Versioned<T>, VismaError>>,
    {
        let ent = self.entity(entity)?;
        let req = Req {
            method,
            url,
            query: Vec::new(),
            body: Some(body),
            if_match: etag.map(str::to_owned),
            kind: Kind::Update,
        };
        match self.execute(ent, &req).await {
            Ok(_) => get().await,
            Err(e) => self.with_current_etag(Err(e), get).await,
        }
    }

    /// Fills in the current ETag of a 412 conflict by re-reading the document.
    pub(crate) async fn with_current_etag<R, T, Get, GetFut>(
        &self,
        result: Result<R, VismaError>,
        get: Get,
    ) -> Result<R, VismaError>
    where
        Get: Fn() -> GetFut,
        GetFut: Future<Output = Result<Versioned<T>, VismaError>>,
    {
        match result {
            Err(VismaError::Conflict {
                path,
                sent_etag,
                current_etag: None,
            }) => Err(VismaError::Conflict {
                path,
                sent_etag,
                current_etag: get().await.ok().and_then(|v| v.etag),
            }),
            other => other,
        }
    }
}
