//! Customer payments (read only): what was paid against which invoice.

use super::invoices::status_str;
use super::{add_date_filter, seg};
use crate::client::{Req, VismaClient};
use crate::dto::{CustomerPayment, PaymentFilter};
use crate::error::VismaError;
use ledgerlink_core::LegalEntityId;

impl VismaClient {
    /// `GET /v1/customerPayment/{paymentNumber}`.
    pub async fn get_customer_payment(
        &self,
        entity: &LegalEntityId,
        number: &str,
    ) -> Result<CustomerPayment, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/customerPayment/{}", seg(number)));
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/customerPayment` with filters, all pages.
    pub async fn list_customer_payments(
        &self,
        entity: &LegalEntityId,
        f: &PaymentFilter,
    ) -> Result<Vec<CustomerPayment>, VismaError> {
        let conn = self.connection(entity)?;
        let mut req = Req::get(conn.erp_url("v1/customerPayment"))
            .query_opt("customer", f.customer.as_deref())
            .query_opt("invoiceRefNbr", f.invoice_ref_nbr.as_deref())
            .query_opt("status", f.status.as_ref().map(status_str));
        req = add_date_filter(req, "lastModifiedDateTime", f.last_modified);
        self.list_all(entity, req).await
    }
}
