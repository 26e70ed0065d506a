//! Errors of the Visma client, each mapped to the retry class the engine acts on.

use ledgerlink_core::{ErrorClass, LegalEntityId};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum VismaError {
    #[error("no Visma connection configured for legal entity {0}")]
    UnknownEntity(LegalEntityId),

    /// The ERP rejected the request's content (400/422 and similar): retrying cannot help.
    #[error("Visma rejected the request ({status}): {message}")]
    Validation {
        status: u16,
        message: String,
        /// `ExceptionFaultCode` or ProblemDetails `type`, when the body had one.
        code: Option<String>,
    },

    #[error("not found in Visma: {what}")]
    NotFound { what: String },

    /// The token endpoint refused our credentials, or the API still said 401/403 with a
    /// fresh token (wrong tenant, app not activated for the company, missing scope).
    #[error("Visma authorisation failed ({status}): {message}")]
    Auth { status: u16, message: String },

    /// 412: the document changed since we read it. `current_etag` is the ETag read back
    /// after the conflict so the caller can decide whether to re-apply its change.
    #[error("Visma document {path} changed since it was read (sent ETag {sent_etag:?})")]
    Conflict {
        path: String,
        sent_etag: Option<String>,
        current_etag: Option<String>,
    },

    /// 429 after all retries.
    #[error("Visma rate limit still exceeded after retries")]
    RateLimited { retry_after: Option<Duration> },

    /// 5xx after all retries (or a single 5xx on a call that may not be repeated).
    #[error("Visma server error {status}: {message}")]
    Server {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },

    /// The request could not be sent or the response could not be read, after retries.
    #[error("transport error talking to Visma: {0}")]
    Transport(String),

    /// A create was sent but its outcome is not known (timeout, dropped connection, 5xx), and
    /// confirming it by external reference was not possible yet. Look the document up by
    /// `external_ref` before creating again.
    #[error("outcome of creating {kind} {external_ref} is unknown: {detail}")]
    OutcomeUnknown {
        kind: &'static str,
        external_ref: String,
        detail: String,
    },

    /// A 2xx response whose body or headers did not have the expected shape.
    #[error("unexpected Visma response: {0}")]
    Decode(String),

    /// An action (release, cancel) that the ERP reported as failed.
    #[error("Visma action {action} failed: {message}")]
    ActionFailed { action: String, message: String },
}

impl VismaError {
    /// What the engine should do with this failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::RateLimited { retry_after } => ErrorClass::Transient {
                retry_after: *retry_after,
            },
            Self::Server { retry_after, .. } => ErrorClass::Transient {
                retry_after: *retry_after,
            },
            Self::Transport(_) => ErrorClass::Transient { retry_after: None },
            // A fresh read and a re-applied change usually succeed; the caller may also
            // decide to give up, but the default is to try the job again.
            Self::Conflict { .. } => ErrorClass::Transient { retry_after: None },
            Self::OutcomeUnknown { .. } => ErrorClass::Unknown,
            Self::UnknownEntity(_)
            | Self::Validation { .. }
            | Self::NotFound { .. }
            | Self::Auth { .. }
            | Self::Decode(_)
            | Self::ActionFailed { .. } => ErrorClass::Permanent,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}

/// Visma's human-readable message and code from an error body, whichever format it uses:
/// the ERP monolith (`ExceptionMessage`/`ExceptionFaultCode`, also lower-cased `message`),
/// or RFC 7807 ProblemDetails from SalesOrders v3 (`title`, `detail`, `errors`).
pub(crate) fn parse_error_body(body: &[u8]) -> (String, Option<String>) {
    let text = String::from_utf8_lossy(body);
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        let t = text.trim();
        return (
            if t.is_empty() {
                "(empty body)".into()
            } else {
                t.chars().take(500).collect()
            },
            None,
        );
    };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let code = s("ExceptionFaultCode")
        .or_else(|| s("exceptionFaultCode"))
        .or_else(|| s("code"))
        .or_else(|| s("type"));
    let mut msg = s("ExceptionMessage")
        .or_else(|| s("exceptionMessage"))
        .or_else(|| s("message"))
        .or_else(|| s("Message"))
        .or_else(|| s("detail"))
        .or_else(|| s("title"))
        .or_else(|| s("error_description"))
        .or_else(|| s("error"))
        .unwrap_or_else(|| text.chars().take(500).collect());
    // ProblemDetails validation errors: {"errors": {"field": ["message", …]}}.
    if let Some(errors) = v.get("errors").and_then(|e| e.as_object()) {
        let details: Vec<String> = errors
            .iter()
            .map(|(field, msgs)| match msgs {
                serde_json::Value::Array(a) => format!(
                    "{field}: {}",
                    a.iter()
                        .map(|m| m
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| m.to_string()))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                other => format!("{field}: {other}"),
            })
            .collect();
        if !details.is_empty() {
            msg = format!("{msg} ({})", details.join(", "));
        }
    }
    (msg, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_erp_and_problem_details_bodies() {
        let (m, c) = parse_error_body(
            br#"{"ExceptionType":"IPPException","ExceptionMessage":"Customer 'X' not found","ExceptionFaultCode":"12027"}"#,
        );
        assert_eq!(m, "Customer 'X' not found");
        assert_eq!(c.as_deref(), Some("12027"));
        let (m, _) = parse_error_body(
            br#"{"title":"One or more validation errors occurred.","errors":{"orderLines[0].inventoryId":["Unknown item"]}}"#,
        );
        assert!(m.contains("orderLines[0].inventoryId: Unknown item"), "{m}");
        let (m, c) = parse_error_body(b"Bad gateway");
        assert_eq!((m.as_str(), c), ("Bad gateway", None));
    }

    #[test]
    fn classes() {
        assert_eq!(
            VismaError::Validation {
                status: 400,
                message: "x".into(),
                code: None
            }
            .class(),
            ErrorClass::Permanent
        );
        assert_eq!(
            VismaError::OutcomeUnknown {
                kind: "invoice",
                external_ref: "r".into(),
                detail: "timeout".into()
            }
            .class(),
            ErrorClass::Unknown
        );
        assert!(matches!(
            VismaError::Transport("reset".into()).class(),
            ErrorClass::Transient { .. }
        ));
    }
}
