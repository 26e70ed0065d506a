//! Customer payments (read): `GET /v1/customerPayment[/{n}]`.

use super::common::{DocumentStatus, IdDescription, Metadata, NumberName};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `PaymentLineDto`: how much of the payment went to which document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PaymentLine {
    pub document_type: Option<String>,
    pub ref_nbr: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount_paid: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub balance: Option<Decimal>,
    pub currency: Option<String>,
}

/// `PaymentDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomerPayment {
    #[serde(rename = "type")]
    pub payment_type: Option<String>,
    pub ref_nbr: String,
    pub status: Option<DocumentStatus>,
    pub hold: Option<bool>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub application_date: Option<DateTime<Utc>>,
    pub payment_ref: Option<String>,
    pub customer: Option<NumberName>,
    pub payment_method: Option<IdDescription>,
    pub currency: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub payment_amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub applied_to_documents: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub available_balance: Option<Decimal>,
    pub branch: Option<String>,
    pub payment_lines: Vec<PaymentLine>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    pub metadata: Option<Metadata>,
}

/// Filters of `GET /v1/customerPayment`.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub customer: Option<String>,
    /// Payments applied to this invoice.
    pub invoice_ref_nbr: Option<String>,
    pub status: Option<DocumentStatus>,
    pub last_modified: Option<super::DateFilter>,
}
