//! Small shapes shared by many ERP DTOs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `{"id": …, "description": …}` references (payment method, VAT code, warehouse, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdDescription {
    pub id: Option<String>,
    pub description: Option<String>,
}

/// `{"number": …, "name": …}` references (customer, branch).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NumberName {
    pub number: Option<String>,
    pub name: Option<String>,
}

/// `metadata` on list items: the whole result's size and the server's page cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Metadata {
    pub total_count: Option<u64>,
    pub max_page_size: Option<u64>,
}

/// Line operation in update bodies (a plain enum, not wrapped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineOperation {
    #[default]
    Insert,
    Update,
    Delete,
}

/// AR document status (`CustomerInvoiceDto.status`, credit notes, payments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentStatus {
    Hold,
    Balanced,
    Voided,
    Scheduled,
    Open,
    Closed,
    PendingPrint,
    PendingEmail,
    CreditHold,
    CcHold,
    Reserved,
    /// A value this client does not know yet; kept rather than failing the whole read.
    #[serde(untagged)]
    Other(String),
}

impl DocumentStatus {
    /// Released to the ledger (open for payment, or already settled).
    pub fn is_released(&self) -> bool {
        matches!(self, Self::Open | Self::Closed)
    }
}

/// Comparison for `…Condition` query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
        }
    }
}

/// A date filter: the ERP's `<param>` + `<param>Condition` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateFilter {
    pub at: DateTime<Utc>,
    pub condition: Condition,
}

impl DateFilter {
    pub fn after(at: DateTime<Utc>) -> Self {
        Self {
            at,
            condition: Condition::Gt,
        }
    }
    pub fn since(at: DateTime<Utc>) -> Self {
        Self {
            at,
            condition: Condition::Ge,
        }
    }
}

/// Date-times are always sent with an explicit offset (NOTES §5).
pub fn fmt_datetime(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A document read together with its ETag, for a later update with If-Match.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub doc: T,
    pub etag: Option<String>,
}
