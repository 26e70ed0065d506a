use ledgerlink_core::ErrorClass;
use ledgerlink_store::{ErrorRecord, StoreError};
use serde_json::{Map, Value};
use std::time::Duration;

/// Why an attempt failed. The class decides what happens next: transient and unknown errors
/// are retried with backoff, permanent ones go to the error queue at once.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JobError {
    pub class: ErrorClass,
    /// Machine-readable, e.g. `mapping_error`, `visma_validation`, `missing_mapping`.
    pub code: String,
    /// For people: what went wrong and, ideally, what to do about it.
    pub message: String,
    /// Where the problem is, e.g. `lines[2].sku` or `customer.vatNumber`.
    pub field_path: Option<String>,
    /// Named payloads kept in the error queue (the order as fetched, the plugin output,
    /// Visma's response). Secret-named keys are redacted when stored.
    pub payloads: Map<String, Value>,
}

impl JobError {
    pub fn new(class: ErrorClass, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            class,
            code: code.into(),
            message: message.into(),
            field_path: None,
            payloads: Map::new(),
        }
    }

    pub fn permanent(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, code, message)
    }

    pub fn transient(
        code: impl Into<String>,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        Self::new(ErrorClass::Transient { retry_after }, code, message)
    }

    /// The outcome of a write is not known (e.g. the response was lost): retried, and the
    /// open write intent tells the next attempt to look the document up first.
    pub fn unknown(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Unknown, code, message)
    }

    pub fn at(mut self, field_path: impl Into<String>) -> Self {
        self.field_path = Some(field_path.into());
        self
    }

    pub fn with_payload(mut self, name: impl Into<String>, value: Value) -> Self {
        self.payloads.insert(name.into(), value);
        self
    }

    pub(crate) fn class_name(&self) -> &'static str {
        match self.class {
            ErrorClass::Transient { .. } => "transient",
            ErrorClass::Permanent => "permanent",
            ErrorClass::Unknown => "unknown",
        }
    }

    pub(crate) fn to_record(&self, exhausted: bool) -> ErrorRecord {
        ErrorRecord {
            class: self.class_name().to_owned(),
            code: self.code.clone(),
            message: self.message.clone(),
            field_path: self.field_path.clone(),
            payloads: Value::Object(self.payloads.clone()),
            exhausted,
        }
    }
}

/// Database trouble inside a handler is worth retrying; a mapping conflict is not.
impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::IdentityConflict(msg) => JobError::permanent("identity_conflict", msg),
            e @ StoreError::WriteInFlight { .. } => JobError::transient(
                "write_in_flight",
                e.to_string(),
                Some(std::time::Duration::from_secs(1)),
            ),
            other => JobError::transient("store_error", other.to_string(), None),
        }
    }
}
