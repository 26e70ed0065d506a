//! Serde helpers for BigCommerce's wire quirks: v2 money as decimal strings (sometimes
//! numbers), RFC-2822 dates with `""` for "not set", ids that are sometimes strings, and v3
//! money written as JSON numbers.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::{Deserialize, Serializer};
use serde_json::Value;

/// `null`, `""` and a missing field all mean "not set"; anything else must parse as `T`.
pub fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        Value::String(ref s) if s.trim().is_empty() => Ok(None),
        other => T::deserialize(other).map(Some).map_err(de::Error::custom),
    }
}

/// A decimal given as a string (`"62.6793"`) or a JSON number; `""`/`null` → `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_decimal(&v).map_err(de::Error::custom)
}

/// A decimal given as a string or a number; must be present and non-empty.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_decimal(&v)
        .map_err(de::Error::custom)?
        .ok_or_else(|| de::Error::custom("expected a decimal, found null or an empty string"))
}

fn value_to_decimal(v: &Value) -> Result<Option<Decimal>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_decimal(s.trim()).map(Some),
        // serde_json keeps the shortest round-trip text of a float, so parsing the text
        // (not the f64) keeps "19.99" exactly 19.99.
        Value::Number(n) => parse_decimal(&n.to_string()).map(Some),
        other => Err(format!("expected a decimal, found {other}")),
    }
}

fn parse_decimal(s: &str) -> Result<Decimal, String> {
    s.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(s))
        .map_err(|e| format!("invalid decimal {s:?}: {e}"))
}

/// Serializes a decimal as a v2 decimal string with 4 places, BigCommerce's own format.
pub fn ser_decimal_v2<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{:.4}", v))
}

pub fn ser_opt_decimal_v2<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => ser_decimal_v2(d, s),
        None => s.serialize_none(),
    }
}

/// Exchange rates come with 10 places (`"0.0870000000"`): written back exactly as read, never
/// cut to money's 4.
pub fn ser_opt_decimal_exact<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// v3 money goes on the wire as a JSON number. Amounts have at most 4 decimals, which an f64
/// carries exactly in its shortest representation, so this conversion happens only here at
/// the boundary.
pub fn ser_decimal_v3<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    match v.to_f64() {
        Some(f) => s.serialize_f64(f),
        None => Err(serde::ser::Error::custom(format!(
            "decimal {v} out of range"
        ))),
    }
}

pub fn ser_opt_decimal_v3<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => ser_decimal_v3(d, s),
        None => s.serialize_none(),
    }
}

/// Parses an RFC-2822 date (`Tue, 05 Mar 2019 21:40:11 +0000`); ISO-8601 is accepted too
/// because v2 date filters and some fields use it.
pub fn parse_v2_date(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    DateTime::parse_from_rfc2822(s)
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| format!("invalid date {s:?}: {e}"))
}

/// Formats a date the way v2 writes it.
pub fn format_v2_date(d: &DateTime<Utc>) -> String {
    d.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

pub mod rfc2822 {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse_v2_date(&s).map_err(de::Error::custom)
    }

    pub fn serialize<S: Serializer>(v: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_v2_date(v))
    }
}

/// Optional RFC-2822 date; `""` (e.g. `date_shipped` before shipping) means not set.
pub mod rfc2822_opt {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => parse_v2_date(&s).map(Some).map_err(de::Error::custom),
        }
    }

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_str(&format_v2_date(d)),
            None => s.serialize_str(""),
        }
    }
}

/// An integer id that some endpoints send as a string (`"1"`), e.g. v2 tax class ids and
/// the webhook `store_id`.
pub fn u64_str_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| de::Error::custom(format!("expected an unsigned id, found {n}"))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| de::Error::custom(format!("expected a numeric id, found {s:?}"))),
        other => Err(de::Error::custom(format!("expected an id, found {other}"))),
    }
}

pub fn opt_u64_str_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        v => u64_str_or_num(v).map(Some).map_err(de::Error::custom),
    }
}

/// A value that is usually a string but sometimes a number (e.g. `ebay_order_id`).
pub fn string_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(de::Error::custom(format!(
            "expected a string, found {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct M {
        #[serde(deserialize_with = "decimal")]
        a: Decimal,
        #[serde(default, deserialize_with = "opt_decimal")]
        b: Option<Decimal>,
        #[serde(default, with = "rfc2822_opt")]
        d: Option<DateTime<Utc>>,
    }

    #[test]
    fn money_from_strings_and_numbers() {
        let m: M = serde_json::from_str(r#"{"a":"62.6793","b":19.99,"d":""}"#).unwrap();
        assert_eq!(m.a.to_string(), "62.6793");
        assert_eq!(m.b.unwrap().to_string(), "19.99");
        assert!(m.d.is_none());
        let m: M = serde_json::from_str(r#"{"a":5,"b":"","d":"Tue, 05 Mar 2019 21:40:11 +0000"}"#)
            .unwrap();
        assert_eq!(m.a, Decimal::from(5));
        assert!(m.b.is_none());
        assert_eq!(
            format_v2_date(&m.d.unwrap()),
            "Tue, 05 Mar 2019 21:40:11 +0000"
        );
        assert!(serde_json::from_str::<M>(r#"{"a":"abc"}"#).is_err());
        assert!(serde_json::from_str::<M>(r#"{"a":""}"#).is_err());
    }
}
