//! The client's error type. Every error says whether retrying can help (`class()`), and API
//! errors carry what BigCommerce said (title, per-field errors) so a human can act on them.

use ledgerlink_core::ErrorClass;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A non-2xx answer from BigCommerce, in either API version's error shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// v3 `title`, or the first v2 `message`.
    pub title: String,
    /// v3 `errors` map (field → message), or v2 messages keyed by their index.
    pub errors: BTreeMap<String, String>,
    /// The raw body, truncated, for the audit log.
    pub body: String,
    /// The server's wait hint (429 reset or `X-Retry-After`).
    pub retry_after: Option<Duration>,
    /// Whether the request was safe to repeat (GET/PUT/DELETE or explicitly marked).
    pub idempotent: bool,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} answered {}: {}",
            self.method, self.path, self.status, self.title
        )?;
        for (k, v) in &self.errors {
            write!(f, "; {k}: {v}")?;
        }
        Ok(())
    }
}

const MAX_BODY_KEPT: usize = 4096;

impl ApiError {
    pub(crate) fn from_response(
        method: &str,
        path: &str,
        status: u16,
        body: &[u8],
        retry_after: Option<Duration>,
        idempotent: bool,
    ) -> Self {
        let text = String::from_utf8_lossy(body);
        let (title, errors) = parse_error_body(&text);
        let title = title.unwrap_or_else(|| {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_owned()
        });
        let mut body: String = text.into_owned();
        if body.len() > MAX_BODY_KEPT {
            let mut cut = MAX_BODY_KEPT;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            title,
            errors,
            body,
            retry_after,
            idempotent,
        }
    }
}

/// v3: `{status, title, type, errors: {field: msg}}`; v2: `[{status, message, details?}]`.
fn parse_error_body(text: &str) -> (Option<String>, BTreeMap<String, String>) {
    let mut errors = BTreeMap::new();
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return (None, errors);
    };
    match v {
        Value::Object(o) => {
            let title = o
                .get("title")
                .or_else(|| o.get("message"))
                .or_else(|| o.get("error"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(Value::Object(errs)) = o.get("errors") {
                for (k, v) in errs {
                    errors.insert(k.clone(), value_text(v));
                }
            } else if let Some(Value::Array(errs)) = o.get("errors") {
                for (i, v) in errs.iter().enumerate() {
                    errors.insert(i.to_string(), value_text(v));
                }
            }
            (title, errors)
        }
        Value::Array(items) => {
            let mut title = None;
            for (i, item) in items.iter().enumerate() {
                let msg = item
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| item.to_string());
                if title.is_none() {
                    title = Some(msg.clone());
                }
                errors.insert(i.to_string(), msg);
            }
            (title, errors)
        }
        _ => (None, errors),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Api(Box<ApiError>),
    #[error("{method} {path} timed out after {after:?}")]
    Timeout {
        method: String,
        path: String,
        after: Duration,
        idempotent: bool,
    },
    /// The connection failed. `sent` is false when it failed before the request went out
    /// (connect refused, DNS), so even a create can safely be repeated.
    #[error("{method} {path}: connection failed: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
        sent: bool,
        idempotent: bool,
    },
    /// A 2xx body we could not read as the expected type.
    #[error("{method} {path}: unexpected response body: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },
    /// The caller asked for something the API cannot express (e.g. a bad base URL).
    #[error("invalid request: {0}")]
    Invalid(String),
}

impl Error {
    /// Whether retrying can help; the engine schedules or dead-letters from this.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api(e) => match e.status {
                429 => ErrorClass::Transient {
                    retry_after: e.retry_after,
                },
                408 | 500..=599 if e.status != 501 && e.status != 507 => {
                    if e.idempotent || e.status == 503 && e.retry_after.is_some() {
                        ErrorClass::Transient {
                            retry_after: e.retry_after,
                        }
                    } else {
                        // A write that failed on the server side may still have taken effect.
                        ErrorClass::Unknown
                    }
                }
                _ => ErrorClass::Permanent,
            },
            Error::Timeout { idempotent, .. } => {
                if *idempotent {
                    ErrorClass::Transient { retry_after: None }
                } else {
                    ErrorClass::Unknown
                }
            }
            Error::Transport {
                sent, idempotent, ..
            } => {
                if *idempotent || !*sent {
                    ErrorClass::Transient { retry_after: None }
                } else {
                    ErrorClass::Unknown
                }
            }
            Error::Decode { .. } | Error::Invalid(_) => ErrorClass::Permanent,
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v3_and_v2_error_bodies() {
        let e = ApiError::from_response(
            "POST",
            "/v3/x",
            422,
            br#"{"status":422,"title":"Input is invalid","type":"t","errors":{"items.0.quantity":"must be positive"}}"#,
            None,
            false,
        );
        assert_eq!(e.title, "Input is invalid");
        assert_eq!(e.errors["items.0.quantity"], "must be positive");
        let e = ApiError::from_response(
            "POST",
            "/v2/orders",
            400,
            br#"[{"status":400,"message":"The field 'billing_address' is invalid."}]"#,
            None,
            false,
        );
        assert_eq!(e.title, "The field 'billing_address' is invalid.");
        let e = ApiError::from_response("GET", "/v2/x", 502, b"<html>", None, true);
        assert_eq!(e.title, "Bad Gateway");
        assert!(matches!(
            Error::Api(Box::new(e)).class(),
            ErrorClass::Transient { .. }
        ));
    }

    #[test]
    fn classes() {
        let mk = |status, idem| {
            Error::Api(Box::new(ApiError::from_response(
                "X", "/p", status, b"", None, idem,
            )))
            .class()
        };
        assert_eq!(mk(422, true), ErrorClass::Permanent);
        assert_eq!(mk(404, true), ErrorClass::Permanent);
        assert_eq!(mk(500, false), ErrorClass::Unknown);
        assert!(matches!(mk(429, false), ErrorClass::Transient { .. }));
        assert!(matches!(mk(503, true), ErrorClass::Transient { .. }));
    }
}
