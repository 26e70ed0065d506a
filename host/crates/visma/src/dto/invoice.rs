//! Customer invoices: create `POST /v2/customerinvoice`, read `GET /v1/customerinvoice[/{n}]`,
//! release `POST /v1/customerinvoice/{n}/action/release`.

use super::common::{DocumentStatus, IdDescription, LineOperation, Metadata, NumberName};
use super::customer::{AddressUpdate, ContactUpdate};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `CustomerInvoiceLinesUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InvoiceLineUpdate {
    pub operation: LineOperation,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub line_number: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub inventory_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub description: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub quantity: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub unit_price_in_currency: Option<Decimal>,
    /// A fixed line amount instead of quantity × price (e.g. shipping).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub manual_amount_in_currency: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub account_number: Option<String>,
    /// VAT code (`GET /v1/vat`), not VAT category.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub vat_code_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub uom: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub discount_percent: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub discount_amount_in_currency: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub manual_discount: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub discount_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub branch_number: Option<String>,
}

/// `TaxDetailUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TaxDetailUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub tax_id: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub taxable_amount: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub vat_amount: Option<Decimal>,
}

/// `CustomerInvoiceUpdateDto`. `external_reference` is set by `create_invoice_once` from the
/// `ExternalRef` it is given; a different value here is overwritten.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InvoiceUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub document_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub document_due_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub currency_id: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub exchange_rate: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub credit_terms_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub payment_method_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub external_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_ref_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub payment_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub invoice_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub branch_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub location_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_vat_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub billing_address: Option<AddressUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub invoice_contact: Option<ContactUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub hold: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub send_to_auto_invoice: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tax_detail_lines: Vec<TaxDetailUpdate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invoice_lines: Vec<InvoiceLineUpdate>,
}

/// `CustomerInvoiceLineDto` as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InvoiceLine {
    pub line_number: Option<i32>,
    pub inventory_number: Option<String>,
    pub description: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub quantity: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub unit_price_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_percent: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_amount_in_currency: Option<Decimal>,
    pub vat_code: Option<IdDescription>,
    pub uom: Option<String>,
    pub note: Option<String>,
    /// The sales order the line was invoiced from (invoices Visma made from an order).
    pub so_order_type: Option<String>,
    pub so_order_nbr: Option<String>,
}

/// `ArAdjustDto`: one application of a payment or credit note to a document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Application {
    pub doc_type: Option<String>,
    pub ref_nbr: Option<String>,
    #[serde(rename = "customerCD")]
    pub customer_cd: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount_paid: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub balance: Option<Decimal>,
    pub released: Option<bool>,
    pub status: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub application_date: Option<DateTime<Utc>>,
}

/// `TaxDetailDto` as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TaxDetail {
    pub tax_id: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub vat_rate: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub taxable_amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub vat_amount: Option<Decimal>,
}

/// `CustomerInvoiceDto`. Amounts are computed by the ERP from the lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Invoice {
    pub reference_number: String,
    pub document_type: Option<String>,
    pub status: Option<DocumentStatus>,
    pub hold: Option<bool>,
    pub customer: Option<NumberName>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub document_date: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub document_due_date: Option<DateTime<Utc>>,
    pub currency_id: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub exchange_rate: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub balance: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub balance_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub vat_total: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub vat_total_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub detail_total_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_total_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub rounding_diff: Option<Decimal>,
    pub external_reference: Option<String>,
    pub customer_ref_number: Option<String>,
    pub payment_reference: Option<String>,
    pub invoice_text: Option<String>,
    pub payment_method: Option<IdDescription>,
    pub credit_terms: Option<IdDescription>,
    pub branch_number: Option<NumberName>,
    pub invoice_lines: Vec<InvoiceLine>,
    pub tax_details: Vec<TaxDetail>,
    pub applications: Vec<Application>,
    pub note: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub created_date_time: Option<DateTime<Utc>>,
    pub error_info: Option<String>,
    pub metadata: Option<Metadata>,
}

impl Invoice {
    /// The sales order (`type`, `number`) this invoice was made from, when Visma made it from
    /// one: its lines carry the order.
    pub fn sales_order(&self) -> Option<(&str, &str)> {
        self.invoice_lines
            .iter()
            .find_map(|l| Some((l.so_order_type.as_deref()?, l.so_order_nbr.as_deref()?)))
    }

    /// Paid in full: released and nothing left to pay.
    pub fn is_paid(&self) -> bool {
        self.status == Some(DocumentStatus::Closed)
            || (self
                .status
                .as_ref()
                .is_some_and(DocumentStatus::is_released)
                && self.balance_in_currency.or(self.balance) == Some(Decimal::ZERO))
    }
}

/// Filters of `GET /v1/customerinvoice`.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub external_reference: Option<String>,
    pub customer_ref_number: Option<String>,
    pub payment_reference: Option<String>,
    pub customer: Option<String>,
    pub branch: Option<String>,
    pub status: Option<DocumentStatus>,
    pub released: Option<bool>,
    pub document_date: Option<super::DateFilter>,
    pub last_modified: Option<super::DateFilter>,
    pub expand_applications: bool,
}

/// `ReleaseInvoiceActionResultDto` (also returned by the credit note release).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ActionResult {
    pub action_id: Option<String>,
    /// `Queued | InProcess | Failed | Done`.
    pub action_result: Option<String>,
    pub error_info: Option<String>,
}
