//! ERP error responses. The spec declares no error schema; the body follows the shape the
//! monolith is observed to send (NOTES §1.3): `ExceptionType`, `ExceptionMessage`,
//! `ExceptionFaultCode`, `ExceptionMessageID`, `ExceptionDetails`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as the ERP reports it. The fault codes are the simulator's own (documented in
/// `sim/README.md`); only the message is meant for humans.
#[derive(Debug, Clone)]
pub struct ErpError {
    pub status: StatusCode,
    pub fault_code: &'static str,
    pub message: String,
}

impl ErpError {
    pub fn new(status: StatusCode, fault_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            fault_code,
            message: message.into(),
        }
    }

    /// Bad input: unknown references, malformed bodies, rule violations.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "10000", message)
    }

    /// A reference to a record the company does not have: "{what} '{id}' cannot be found in
    /// the system."
    pub fn unknown(what: &str, id: &str) -> Self {
        Self::validation(format!("{what} '{id}' cannot be found in the system."))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "10004", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "12027", message)
    }

    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, "10012", message)
    }

    pub fn too_many_requests(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "10029", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "10500", message)
    }

    pub fn body(&self) -> serde_json::Value {
        json!({
            "ExceptionType": "IPPException",
            "ExceptionMessage": self.message,
            "ExceptionFaultCode": self.fault_code,
            "ExceptionMessageID": format!("{}_{}", self.fault_code, uuid::Uuid::new_v4()),
            "ExceptionDetails": "",
        })
    }
}

impl std::fmt::Display for ErpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl IntoResponse for ErpError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        resp
    }
}

pub type ErpResult<T> = Result<T, ErpError>;
