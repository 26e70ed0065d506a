//! JSON responses written straight from a typed value: the hot views are typed structs, so
//! no `serde_json::Value` tree is built (and dropped) per request.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `body` as a JSON response with `status`; an encoding error is the caller's to shape in
/// its API's error format.
pub fn response<T: Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
) -> Result<Response, serde_json::Error> {
    // Most bodies (an order is ~2.5 kB) fit without the buffer growing.
    let mut bytes = Vec::with_capacity(4096);
    serde_json::to_writer(&mut bytes, body)?;
    Ok((
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}
