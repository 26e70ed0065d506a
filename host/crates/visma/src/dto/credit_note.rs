//! Customer credit notes: create `POST /v2/customerCreditNote` with application lines that
//! link the original invoice, read `GET /v1/customerCreditNote[/{n}]`, release
//! `POST /v1/customerCreditNote/{n}/action/release`.

use super::common::{DocumentStatus, IdDescription, LineOperation, Metadata, NumberName};
use super::invoice::{Application, TaxDetail, TaxDetailUpdate};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `CustomerCreditNoteLineUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreditNoteLineUpdate {
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
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub manual_amount_in_currency: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub account_number: Option<String>,
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
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub branch_number: Option<String>,
}

/// `CustomerDocumentTypes` as used in application lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerDocumentType {
    #[default]
    Invoice,
    DebitNote,
    CreditNote,
    Payment,
    Prepayment,
    Refund,
}

/// `PaymentLineBaseUpdateDto`: applies the credit note to a document (the original invoice).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApplicationLineUpdate {
    pub operation: LineOperation,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub document_type: Option<CustomerDocumentType>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub ref_nbr: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub amount_paid: Option<Decimal>,
}

impl ApplicationLineUpdate {
    /// Applies `amount` of the credit note to invoice `invoice_number`.
    pub fn to_invoice(invoice_number: impl Into<String>, amount: Decimal) -> Self {
        Self {
            operation: LineOperation::Insert,
            document_type: Some(CustomerDocumentType::Invoice),
            ref_nbr: Some(invoice_number.into()),
            amount_paid: Some(amount),
        }
    }
}

/// `CustomerCreditNoteUpdateDto`. `external_reference` is set by `create_credit_note_once`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreditNoteUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub document_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub orig_invoice_date: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub currency_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub external_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_ref_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub invoice_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub branch_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_vat_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub hold: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<CreditNoteLineUpdate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tax_details: Vec<TaxDetailUpdate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub application_lines: Vec<ApplicationLineUpdate>,
}

/// `CustomerCreditNoteLineDto` as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreditNoteLine {
    pub line_number: Option<i32>,
    pub inventory_number: Option<String>,
    pub description: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub quantity: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub unit_price_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount_in_currency: Option<Decimal>,
    pub vat_code: Option<IdDescription>,
    pub uom: Option<String>,
}

/// `CustomerCreditNoteDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreditNote {
    pub reference_number: String,
    pub document_type: Option<String>,
    pub status: Option<DocumentStatus>,
    pub hold: Option<bool>,
    pub customer: Option<NumberName>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub document_date: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub orig_invoice_date: Option<DateTime<Utc>>,
    pub currency_id: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount_in_currency: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub balance: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub balance_in_currency: Option<Decimal>,
    /// Cash rounding of the total (e.g. to whole kronor) the company applied.
    #[serde(with = "crate::wrap::opt_dec")]
    pub rounding_diff: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub vat_total_in_currency: Option<Decimal>,
    pub external_reference: Option<String>,
    pub customer_ref_number: Option<String>,
    pub invoice_text: Option<String>,
    pub branch_number: Option<NumberName>,
    pub lines: Vec<CreditNoteLine>,
    pub tax_details: Vec<TaxDetail>,
    /// The documents this credit note is applied to (the original invoice).
    pub applications: Vec<Application>,
    pub note: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub created_date_time: Option<DateTime<Utc>>,
    pub error_info: Option<String>,
    pub metadata: Option<Metadata>,
}

impl CreditNote {
    /// Invoice numbers this credit note is applied to.
    pub fn applied_invoices(&self) -> impl Iterator<Item = &str> {
        self.applications
            .iter()
            .filter(|a| a.doc_type.as_deref().is_none_or(|t| t == "Invoice"))
            .filter_map(|a| a.ref_nbr.as_deref())
    }
}

/// Filters of `GET /v1/customerCreditNote`.
#[derive(Debug, Clone, Default)]
pub struct CreditNoteFilter {
    pub external_reference: Option<String>,
    pub customer: Option<String>,
    pub status: Option<DocumentStatus>,
    pub last_modified: Option<super::DateFilter>,
    pub expand_applications: bool,
}
