//! Reference data reads.

use crate::client::{Req, VismaClient};
use crate::dto::{
    Branch, CreditTerm, CreditTermPage, Currency, CurrencyRate, CurrencyRateFilter, PaymentMethod,
    VatCategory, VatCode, Warehouse, fmt_datetime,
};
use crate::error::VismaError;
use ledgerlink_core::LegalEntityId;

impl VismaClient {
    /// `GET /v1/branch`.
    pub async fn list_branches(&self, entity: &LegalEntityId) -> Result<Vec<Branch>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/branch");
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/warehouse`.
    pub async fn list_warehouses(
        &self,
        entity: &LegalEntityId,
    ) -> Result<Vec<Warehouse>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/warehouse");
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/vatCategory`: categories used on items and sales order lines.
    pub async fn list_vat_categories(
        &self,
        entity: &LegalEntityId,
    ) -> Result<Vec<VatCategory>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/vatCategory");
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/vat`: VAT codes used on invoice and credit note lines.
    pub async fn list_vat_codes(&self, entity: &LegalEntityId) -> Result<Vec<VatCode>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/vat");
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/paymentmethod`.
    pub async fn list_payment_methods(
        &self,
        entity: &LegalEntityId,
    ) -> Result<Vec<PaymentMethod>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/paymentmethod");
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v1/creditTerm` (a page envelope rather than a bare array), all pages.
    pub async fn list_credit_terms(
        &self,
        entity: &LegalEntityId,
    ) -> Result<Vec<CreditTerm>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/creditTerm");
        let page_size = self.settings().page_size.max(1);
        let mut out = Vec::new();
        for page_number in 1u32.. {
            let page: CreditTermPage = self
                .call_json(
                    entity,
                    Req::get(url.clone())
                        .query("pageNumber", page_number)
                        .query("pageSize", page_size),
                )
                .await?;
            let n = page.records.len();
            out.extend(page.records);
            let effective = page.page_size.unwrap_or(page_size).max(1) as usize;
            if n == 0 || n < effective || page.total_count.is_some_and(|t| out.len() as u64 >= t) {
                break;
            }
        }
        Ok(out)
    }

    /// `GET /v1/currency`.
    pub async fn list_currencies(
        &self,
        entity: &LegalEntityId,
    ) -> Result<Vec<Currency>, VismaError> {
        let url = self.connection(entity)?.erp_url("v1/currency");
        self.call_json(entity, Req::get(url)).await
    }

    /// `GET /v2/currencyrate`.
    pub async fn list_currency_rates(
        &self,
        entity: &LegalEntityId,
        f: &CurrencyRateFilter,
    ) -> Result<Vec<CurrencyRate>, VismaError> {
        let url = self.connection(entity)?.erp_url("v2/currencyrate");
        let req = Req::get(url)
            .query_opt("fromDate", f.from_date.as_ref().map(fmt_datetime))
            .query_opt("toDate", f.to_date.as_ref().map(fmt_datetime))
            .query_opt("fromCurrency", f.from_currency.as_deref())
            .query_opt("toCurrency", f.to_currency.as_deref())
            .query_opt("rateType", f.rate_type.as_deref());
        self.call_json(entity, req).await
    }
}
