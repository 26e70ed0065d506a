//! Reading `{"value": …}`-wrapped v1/v2 request bodies and writing ERP-shaped responses:
//! numbers, dates, paging with `metadata`, ETags and the `201 + Location` create reply.

use std::collections::HashMap;
use std::str::FromStr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::error::{ErpError, ErpResult};

pub type Query = HashMap<String, String>;

/// Parses a request body as a JSON object, with a clear message when it is not one.
pub fn parse_body(bytes: &[u8]) -> ErpResult<Map<String, Value>> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ErpError::validation("The request body is empty."));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ErpError::validation(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ErpError::validation(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// A view over a v1/v2 UpdateDto object whose writable fields are `{"value": …}` wrappers.
pub struct Dto<'a> {
    obj: &'a Map<String, Value>,
    /// Prefix for messages about nested objects, e.g. `invoiceLines[2].`.
    path: String,
}

impl<'a> Dto<'a> {
    pub fn new(obj: &'a Map<String, Value>) -> Self {
        Self {
            obj,
            path: String::new(),
        }
    }

    pub fn nested(obj: &'a Map<String, Value>, path: String) -> Self {
        Self { obj, path }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{}", self.path, field)
    }

    /// The unwrapped value of `field`; `None` when absent or `{"value": null}`. A bare value
    /// where a wrapper is expected is rejected: the real ERP does not bind it either, and a
    /// silent ignore would hide a client bug.
    pub fn raw(&self, field: &str) -> ErpResult<Option<&'a Value>> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(w)) if w.contains_key("value") => match w.get("value") {
                Some(Value::Null) | None => Ok(None),
                Some(v) => Ok(Some(v)),
            },
            Some(_) => Err(ErpError::validation(format!(
                "The field '{}' must be sent as {{\"value\": …}}.",
                self.name(field)
            ))),
        }
    }

    pub fn string(&self, field: &str) -> ErpResult<Option<String>> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ErpError::validation(format!(
                "The field '{}' must be a string, got {other}.",
                self.name(field)
            ))),
        }
    }

    /// A string that must not be blank when present.
    pub fn text(&self, field: &str) -> ErpResult<Option<String>> {
        Ok(self
            .string(field)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    pub fn decimal(&self, field: &str) -> ErpResult<Option<Decimal>> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::Number(n)) => parse_decimal(&n.to_string()).map(Some).ok_or_else(|| {
                ErpError::validation(format!(
                    "The field '{}' is not a valid decimal: {n}.",
                    self.name(field)
                ))
            }),
            Some(other) => Err(ErpError::validation(format!(
                "The field '{}' must be a number, got {other}.",
                self.name(field)
            ))),
        }
    }

    pub fn boolean(&self, field: &str) -> ErpResult<Option<bool>> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ErpError::validation(format!(
                "The field '{}' must be true or false, got {other}.",
                self.name(field)
            ))),
        }
    }

    pub fn date_time(&self, field: &str) -> ErpResult<Option<DateTime<Utc>>> {
        match self.string(field)? {
            None => Ok(None),
            Some(s) => parse_date_time(&s).map(Some).ok_or_else(|| {
                ErpError::validation(format!(
                    "The field '{}' is not a valid date: '{s}'.",
                    self.name(field)
                ))
            }),
        }
    }

    /// A wrapped object such as `mainAddress: {"value": {...}}`.
    pub fn object(&self, field: &str) -> ErpResult<Option<Dto<'a>>> {
        match self.raw(field)? {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Dto::nested(o, format!("{}.", self.name(field))))),
            Some(other) => Err(ErpError::validation(format!(
                "The field '{}' must be an object, got {other}.",
                self.name(field)
            ))),
        }
    }

    /// A plain (unwrapped) array of objects such as `invoiceLines`.
    pub fn array(&self, field: &str) -> ErpResult<Vec<Dto<'a>>> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(o) => Ok(Dto::nested(o, format!("{}[{i}].", self.name(field)))),
                    other => Err(ErpError::validation(format!(
                        "'{}[{i}]' must be an object, got {other}.",
                        self.name(field)
                    ))),
                })
                .collect(),
            Some(other) => Err(ErpError::validation(format!(
                "The field '{}' must be an array, got {other}.",
                self.name(field)
            ))),
        }
    }

    /// A plain (unwrapped) string such as a line's `operation`.
    pub fn plain_string(&self, field: &str) -> ErpResult<Option<String>> {
        match self.obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ErpError::validation(format!(
                "The field '{}' must be a string, got {other}.",
                self.name(field)
            ))),
        }
    }

    pub fn field_name(&self, field: &str) -> String {
        self.name(field)
    }
}

pub fn parse_decimal(s: &str) -> Option<Decimal> {
    Decimal::from_str(s)
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

/// Accepts RFC 3339 with an offset, an offset-less `YYYY-MM-DDTHH:MM:SS[.fff]` (taken as UTC,
/// as the ERP does for company time in this simulator) or a plain date.
pub fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|naive| Utc.from_utc_datetime(&naive))
}

/// Date-times always carry an offset: the spec's `date-time` format requires one (NOTES §5).
pub fn fmt_dt(dt: &DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Millis, false)
}

pub fn fmt_date(d: &NaiveDate) -> String {
    format!("{}T00:00:00+00:00", d.format("%Y-%m-%d"))
}

/// The wire format is a JSON number (`double` in the spec); internally money stays `Decimal`.
pub fn num(d: Decimal) -> Value {
    let d = d.normalize();
    // Whole amounts (most quantities, whole-krona totals) skip the text round trip; what
    // they give is what parsing their digits gives.
    if d.scale() == 0
        && !d.is_sign_negative()
        && let Some(n) = rust_decimal::prelude::ToPrimitive::to_u64(&d)
    {
        return Value::from(n);
    }
    serde_json::from_str::<Value>(&d.to_string()).unwrap_or(Value::Null)
}

/// Removes `null`s recursively: the spec marks nothing nullable, so a `null` in a response
/// would be a contract violation (NOTES §5).
pub fn prune(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, prune(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

/// Comparison for `…Condition` query parameters. The ERP accepts `>`, `<`, `>=`, `<=`; we
/// also accept `=` and the spelled-out forms some clients send.
#[derive(Debug, Clone, Copy)]
pub enum Cond {
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
}

impl Cond {
    pub fn parse(s: Option<&String>, param: &str) -> ErpResult<Cond> {
        match s.map(|s| s.trim()) {
            None | Some("") | Some(">=") | Some("ge") => Ok(Cond::Ge),
            Some(">") | Some("gt") => Ok(Cond::Gt),
            Some("<") | Some("lt") => Ok(Cond::Lt),
            Some("<=") | Some("le") => Ok(Cond::Le),
            Some("=") | Some("eq") => Ok(Cond::Eq),
            Some(other) => Err(ErpError::validation(format!(
                "'{other}' is not a valid {param}Condition: use >, <, >= or <=."
            ))),
        }
    }

    pub fn holds<T: PartialOrd>(self, left: &T, right: &T) -> bool {
        match self {
            Cond::Gt => left > right,
            Cond::Lt => left < right,
            Cond::Ge => left >= right,
            Cond::Le => left <= right,
            Cond::Eq => left == right,
        }
    }
}

/// A date filter from the query: `<param>` plus `<param>Condition`.
pub fn date_filter(q: &Query, param: &str) -> ErpResult<Option<(Cond, DateTime<Utc>)>> {
    let Some(raw) = q.get(param).filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let at = parse_date_time(raw).ok_or_else(|| {
        ErpError::validation(format!("'{raw}' is not a valid value for {param}."))
    })?;
    let cond = Cond::parse(q.get(&format!("{param}Condition")), param)?;
    Ok(Some((cond, at)))
}

pub fn query_bool(q: &Query, param: &str) -> ErpResult<bool> {
    match q.get(param).map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(s) if s.is_empty() || s == "false" || s == "0" => Ok(false),
        Some(s) if s == "true" || s == "1" => Ok(true),
        Some(s) => Err(ErpError::validation(format!(
            "'{s}' is not a valid value for {param}: use true or false."
        ))),
    }
}

fn query_usize(q: &Query, param: &str) -> ErpResult<Option<usize>> {
    match q.get(param).map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<usize>()
            .map(Some)
            .map_err(|_| ErpError::validation(format!("'{s}' is not a valid value for {param}."))),
    }
}

/// Page-number paging as the ERP does it: `pageNumber` is 1-based, `pageSize` is capped at
/// `max_page_size`, and every returned item carries `metadata {totalCount, maxPageSize}`.
/// Without paging parameters the first `max_page_size` items are returned.
pub fn paginate(items: Vec<Value>, q: &Query, max_page_size: usize) -> ErpResult<Vec<Value>> {
    paginate_map(items, q, max_page_size, |v| v)
}

/// [`paginate`] that renders only the records on the requested page.
pub fn paginate_map<T>(
    items: Vec<T>,
    q: &Query,
    max_page_size: usize,
    render: impl FnMut(T) -> Value,
) -> ErpResult<Vec<Value>> {
    let page_number = query_usize(q, "pageNumber")?.unwrap_or(1);
    if page_number == 0 {
        return Err(ErpError::validation("pageNumber starts at 1."));
    }
    let page_size = query_usize(q, "pageSize")?
        .unwrap_or(max_page_size)
        .clamp(1, max_page_size);
    let total = items.len();
    let metadata = serde_json::json!({"totalCount": total, "maxPageSize": max_page_size});
    Ok(items
        .into_iter()
        .skip((page_number - 1).saturating_mul(page_size))
        .take(page_size)
        .map(render)
        .map(|mut item| {
            if let Value::Object(map) = &mut item {
                map.insert("metadata".into(), metadata.clone());
            }
            item
        })
        .collect())
}

/// A `200` list response: the requested page of `items`, each rendered by `render`
/// (see [`paginate`]).
pub fn list_response<T>(
    items: Vec<T>,
    q: &Query,
    max_page_size: usize,
    render: impl FnMut(T) -> Value,
) -> ErpResult<Response> {
    let page = paginate_map(items, q, max_page_size, render)?;
    Ok(json_response(StatusCode::OK, Value::Array(page), None))
}

/// Strong ETag for an entity version.
pub fn etag(kind: &str, key: &str, version: u64) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{kind}/{key}/{version}").as_bytes());
    format!("\"{}\"", hex::encode(&digest[..12]))
}

/// Checks `If-Match` against the current ETag; absent header means "no precondition".
pub fn check_if_match(headers: &HeaderMap, current: &str) -> ErpResult<()> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let value = value.to_str().unwrap_or("").trim();
    if value == "*" {
        return Ok(());
    }
    let matches = value
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == current);
    if matches {
        Ok(())
    } else {
        Err(ErpError::precondition_failed(format!(
            "The record has been changed by someone else (If-Match {value} does not match the current ETag {current}). Read it again and retry."
        )))
    }
}

/// Serializes a `Value` as [`prune`] would leave it, without rebuilding the tree: members
/// whose value is `null` are left out, at every depth.
pub struct Pruned<'a>(pub &'a Value);

impl serde::Serialize for Pruned<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let kept = map.values().filter(|v| !v.is_null()).count();
                let mut m = s.serialize_map(Some(kept))?;
                for (k, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                    m.serialize_entry(k, &Pruned(v))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Pruned(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

pub fn json_response(status: StatusCode, body: Value, etag: Option<&str>) -> Response {
    typed_response(status, &Pruned(&body), etag)
}

/// A JSON response written straight from a typed view (which leaves out absent values
/// itself, see [`prune`]).
pub fn typed_response<T: serde::Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
    etag: Option<&str>,
) -> Response {
    let mut resp = crate::common::json::response(status, body).unwrap_or_else(|e| {
        ErpError::internal(format!("The response could not be encoded: {e}")).into_response()
    });
    if let Some(tag) = etag
        && let Ok(v) = HeaderValue::from_str(tag)
    {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// `201 Created`, an empty object body (the spec's `type: object`) and the new key in
/// `Location`.
pub fn created(location: &str, etag: Option<&str>) -> Response {
    let mut resp = json_response(StatusCode::CREATED, serde_json::json!({}), etag);
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub fn no_content(etag: Option<&str>) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(tag) = etag
        && let Ok(v) = HeaderValue::from_str(tag)
    {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// Money rounding used by the ERP: half away from zero.
pub fn round_to(amount: Decimal, step: Decimal) -> Decimal {
    if step.is_zero() {
        return amount;
    }
    (amount / step).round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        * step
}

pub fn round2(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_serializes_what_prune_leaves() {
        let v = serde_json::json!({"a": null, "b": {"c": null, "d": [null, {"e": null, "f": 1}]},
                                   "g": "x", "h": [], "i": {}});
        let direct = serde_json::to_string(&Pruned(&v)).unwrap();
        assert_eq!(direct, serde_json::to_string(&prune(v)).unwrap());
    }

    #[test]
    fn whole_numbers_take_the_short_way_to_the_same_value() {
        for s in [
            "0", "-0", "1", "-7", "100.00", "2500", "119.2", "0.001", "-3.50",
        ] {
            let d = Decimal::from_str(s).unwrap();
            let slow = serde_json::from_str::<Value>(&d.normalize().to_string()).unwrap();
            assert_eq!(num(d), slow, "{s}");
            assert_eq!(num(d).to_string(), slow.to_string(), "{s}");
        }
    }
}
