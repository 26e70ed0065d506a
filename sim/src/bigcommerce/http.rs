//! Wire helpers shared by every route: BigCommerce's error shapes, v2 money/date formats, v3
//! envelopes and query parsing.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

/// Which API generation a route belongs to; decides the error body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V2,
    V3,
}

/// An error answered in BigCommerce's shape: v2 `[{status, message}]`, v3
/// `{status, title, type, errors}`.
#[derive(Debug)]
pub struct ApiError {
    pub api: Api,
    pub status: StatusCode,
    pub title: String,
    pub errors: Map<String, Value>,
}

impl ApiError {
    pub fn new(api: Api, status: StatusCode, title: impl Into<String>) -> Self {
        Self {
            api,
            status,
            title: title.into(),
            errors: Map::new(),
        }
    }
    pub fn field(mut self, field: &str, msg: impl Into<String>) -> Self {
        self.errors
            .insert(field.to_string(), Value::String(msg.into()));
        self
    }
    pub fn not_found(api: Api, what: &str) -> Self {
        Self::new(
            api,
            StatusCode::NOT_FOUND,
            format!("The requested {what} was not found."),
        )
    }
    pub fn bad_request(api: Api, msg: impl Into<String>) -> Self {
        Self::new(api, StatusCode::BAD_REQUEST, msg)
    }
    pub fn unprocessable(api: Api, msg: impl Into<String>) -> Self {
        Self::new(api, StatusCode::UNPROCESSABLE_ENTITY, msg)
    }
    pub fn conflict(api: Api, msg: impl Into<String>) -> Self {
        Self::new(api, StatusCode::CONFLICT, msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.api {
            Api::V2 => {
                let mut details = String::new();
                for (k, v) in &self.errors {
                    details.push_str(&format!(" {k}: {}", v.as_str().unwrap_or_default()));
                }
                json!([{ "status": self.status.as_u16(), "message": format!("{}{}", self.title, details) }])
            }
            Api::V3 => json!({
                "status": self.status.as_u16(),
                "title": self.title,
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                "errors": self.errors,
            }),
        };
        (self.status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

pub fn json_response(status: StatusCode, body: Value) -> Response {
    json_body(status, &body)
}

/// A JSON response written straight from `body` (see [`crate::common::json`]).
pub fn json_body<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    crate::common::json::response(status, body).unwrap_or_else(|e| {
        ApiError::new(
            Api::V3,
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("The response could not be encoded: {e}"),
        )
        .into_response()
    })
}

/// Empty v2 collections answer 204 with no body (NOTES §3).
pub fn v2_list<V: Serialize>(items: Vec<V>) -> Response {
    if items.is_empty() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json_body(StatusCode::OK, &items)
    }
}

/// A v2 list response: the page of `items` asked for, each shown by `view` (204 when empty).
pub fn v2_paged<'a, T, V: Serialize>(
    items: &'a [T],
    page: usize,
    limit: usize,
    view: impl FnMut(&'a T) -> V,
) -> Response {
    v2_list(
        items
            .iter()
            .skip((page - 1) * limit)
            .take(limit)
            .map(view)
            .collect(),
    )
}

/// Parse a JSON request body, answering a BigCommerce-shaped 400 on malformed input.
pub fn parse_body(api: Api, body: &[u8]) -> ApiResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(api, "The request body is empty."));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(api, format!("The request body is not valid JSON: {e}")))
}

/// v2 money: a decimal string with four places.
pub fn money2(d: Decimal) -> Value {
    Value::String(format!("{:.4}", d.round_dp(4)))
}

/// [`money2`] for typed views: written straight into the response.
#[derive(Debug, Clone, Copy)]
pub struct Money2(pub Decimal);

impl Serialize for Money2 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0.round_dp(4);
        s.collect_str(&format_args!("{d:.4}"))
    }
}

/// [`num3`] for typed views.
#[derive(Debug, Clone, Copy)]
pub struct Num3(pub Decimal);

impl Serialize for Num3 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.round_dp(4).to_f64().unwrap_or(0.0) {
            f if f.is_finite() => s.serialize_f64(f),
            _ => s.serialize_unit(),
        }
    }
}

/// Any `Display` value written as a JSON string, without an intermediate `String`.
pub struct Shown<T>(pub T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// v3 money is a JSON number. Decimal → f64 happens only here, at the wire, because JSON
/// numbers are what the v3 schemas declare.
pub fn num3(d: Decimal) -> Value {
    serde_json::Number::from_f64(d.round_dp(4).to_f64().unwrap_or(0.0))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Read a money value sent as a JSON number or a decimal string.
pub fn parse_money(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .ok()
            .or_else(|| n.as_f64().and_then(Decimal::from_f64_retain)),
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

/// A required-or-absent money field: `Ok(None)` when absent, 400/422 when present but bad.
pub fn money_field(api: Api, body: &Value, field: &str) -> ApiResult<Option<Decimal>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match parse_money(v) {
            Some(d) if d >= Decimal::ZERO => Ok(Some(d)),
            Some(_) => Err(
                ApiError::unprocessable(api, "The field may not be negative.")
                    .field(field, "must be >= 0"),
            ),
            None => Err(
                ApiError::bad_request(api, "The field is not a valid amount.")
                    .field(field, "expected a number or decimal string"),
            ),
        },
    }
}

pub fn rfc2822(dt: &DateTime<Utc>) -> String {
    Rfc2822(dt).to_string()
}

/// A v2 date, `Tue, 05 Mar 2019 14:01:02 +0000`: what `%a, %d %b %Y %H:%M:%S +0000` gives,
/// written field by field (chrono parses its format string on every call; v2 orders carry
/// three dates and are the most requested resource).
#[derive(Debug, Clone, Copy)]
pub struct Rfc2822<'a>(pub &'a DateTime<Utc>);

impl fmt::Display for Rfc2822<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let d = self.0;
        let year = d.year();
        if !(0..=9999).contains(&year) {
            // Outside what four digits hold: chrono's own rendering (signed year).
            return write!(f, "{}", d.format("%a, %d %b %Y %H:%M:%S +0000"));
        }
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
            DAYS[d.weekday().num_days_from_monday() as usize],
            d.day(),
            MONTHS[d.month0() as usize],
            year,
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

impl Serialize for Rfc2822<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

pub fn rfc3339(dt: &DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Date filters accept RFC-2822, ISO-8601/RFC-3339, a plain date, or unix seconds.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    // An unencoded `+0000` in a query string arrives as ` 0000`.
    if let Some(head) = s.strip_suffix(" 0000")
        && let Ok(d) = DateTime::parse_from_rfc2822(&format!("{head} +0000"))
    {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(d.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    }
    s.parse::<i64>()
        .ok()
        .and_then(|n| DateTime::from_timestamp(n, 0))
}

/// Query string access with typed, BigCommerce-shaped errors.
pub struct Q<'a> {
    pub api: Api,
    pub map: &'a HashMap<String, String>,
}

impl<'a> Q<'a> {
    pub fn new(api: Api, map: &'a HashMap<String, String>) -> Self {
        Self { api, map }
    }
    pub fn str(&self, k: &str) -> Option<&'a str> {
        self.map
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
    pub fn num<T: FromStr>(&self, k: &str) -> ApiResult<Option<T>> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                ApiError::bad_request(self.api, format!("The filter {k} has an invalid value."))
                    .field(k, format!("{v:?} is not a valid number"))
            }),
        }
    }
    pub fn date(&self, k: &str) -> ApiResult<Option<DateTime<Utc>>> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => parse_date(v).map(Some).ok_or_else(|| {
                ApiError::bad_request(self.api, format!("The filter {k} has an invalid date."))
                    .field(
                        k,
                        format!("{v:?} is not RFC-2822, ISO-8601 or unix seconds"),
                    )
            }),
        }
    }
    pub fn bool(&self, k: &str) -> ApiResult<Option<bool>> {
        match self.str(k) {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(
                self.api,
                format!("The filter {k} must be true or false."),
            )
            .field(k, format!("{v:?} is not a boolean"))),
        }
    }
    /// Comma-separated list of numbers (`id:in=1,2,3`).
    pub fn nums(&self, k: &str) -> ApiResult<Option<Vec<u64>>> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse::<u64>())
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(|_| {
                    ApiError::bad_request(self.api, format!("The filter {k} has an invalid value."))
                        .field(k, format!("{v:?} is not a list of ids"))
                }),
        }
    }
    pub fn strs(&self, k: &str) -> Option<Vec<&'a str>> {
        self.str(k).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
    }
    /// `page` (default 1) and `limit` (default `default`, max 250; larger → 413 like BigCommerce).
    pub fn paging(&self, default: usize) -> ApiResult<(usize, usize)> {
        let page = self.num::<usize>("page")?.unwrap_or(1).max(1);
        let limit = self.num::<usize>("limit")?.unwrap_or(default);
        if limit > 250 {
            return Err(ApiError::new(
                self.api,
                StatusCode::PAYLOAD_TOO_LARGE,
                "The limit may be at most 250.",
            )
            .field("limit", "must be <= 250"));
        }
        Ok((page, limit.max(1)))
    }
}

/// Slice one page out of `items`.
pub fn page_of<T: Clone>(items: &[T], page: usize, limit: usize) -> Vec<T> {
    items
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .cloned()
        .collect()
}

/// v3 `{data, meta: {pagination}}` envelope for an offset-paginated collection.
pub fn v3_page(data: Vec<Value>, total: usize, page: usize, limit: usize) -> Value {
    let total_pages = total.div_ceil(limit);
    let mut links = json!({ "current": format!("?page={page}&limit={limit}") });
    if page > 1 {
        links["previous"] = json!(format!("?page={}&limit={limit}", page - 1));
    }
    if page < total_pages {
        links["next"] = json!(format!("?page={}&limit={limit}", page + 1));
    }
    json!({
        "data": data.clone(),
        "meta": { "pagination": {
            "total": total, "count": data.len(), "per_page": limit,
            "current_page": page, "total_pages": total_pages, "links": links,
        }}
    })
}

/// A v3 list response: the page of `items` asked for, each shown by `view`, in the paginated
/// envelope whose totals count all of `items`.
pub fn v3_paged<T: Clone>(
    items: &[T],
    page: usize,
    limit: usize,
    view: impl FnMut(T) -> Value,
) -> Response {
    let data = page_of(items, page, limit).into_iter().map(view).collect();
    json_response(StatusCode::OK, v3_page(data, items.len(), page, limit))
}

/// v3 single-resource envelope.
pub fn v3_one(data: Value) -> Value {
    json!({ "data": data, "meta": {} })
}

pub fn str_field<'a>(body: &'a Value, k: &str) -> Option<&'a str> {
    body.get(k).and_then(Value::as_str)
}

pub fn u64_field(api: Api, body: &Value, k: &str) -> ApiResult<Option<u64>> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad_request(
                api,
                format!("The field {k} must be a non-negative integer."),
            )
            .field(k, "expected an integer")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2822_matches_chrono_format() {
        // Every weekday and month, single- and double-digit days, midnight and end of day.
        let mut t = DateTime::parse_from_rfc3339("1999-12-27T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for _ in 0..500 {
            let want = t.format("%a, %d %b %Y %H:%M:%S +0000").to_string();
            assert_eq!(rfc2822(&t), want);
            t += chrono::Duration::seconds(86_400 * 3 + 3_599 * 7 + 13);
        }
    }

    #[test]
    fn typed_money_matches_the_value_helpers() {
        for s in [
            "0",
            "1",
            "-2.5",
            "119.2",
            "0.00005",
            "12345.67891",
            "99.99995",
        ] {
            let d = Decimal::from_str(s).unwrap();
            assert_eq!(serde_json::to_value(Money2(d)).unwrap(), money2(d), "{s}");
            assert_eq!(serde_json::to_value(Num3(d)).unwrap(), num3(d), "{s}");
        }
    }
}
