//! The ERP's `{"value": …}` wrapping of writable fields in v1/v2 update bodies, and decimals
//! as JSON numbers. This is the one place that knows the wrapping: DTOs mark a field with
//! `#[serde(default, skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]`
//! (or `wrap::dec_value` for money) and hold plain Rust values.
//!
//! `None` means "leave the field alone" and is not sent at all; the ERP treats a missing
//! field as untouched, which is what an update almost always wants.

/// `Option<T>` ⇄ `{"value": T}`.
pub mod value {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct Out<'a, T> {
        value: &'a T,
    }

    #[derive(Deserialize)]
    struct In<T> {
        value: Option<T>,
    }

    pub fn serialize<T: Serialize, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(value) => Out { value }.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Option::<In<T>>::deserialize(d)?.and_then(|w| w.value))
    }
}

/// `Option<Decimal>` ⇄ `{"value": <number>}`.
pub mod dec_value {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct Out {
        #[serde(with = "super::dec")]
        value: Decimal,
    }

    #[derive(Deserialize)]
    struct In {
        #[serde(default, with = "super::opt_dec")]
        value: Option<Decimal>,
    }

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(value) => Out { value: *value }.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        Ok(Option::<In>::deserialize(d)?.and_then(|w| w.value))
    }
}

/// `Decimal` as a JSON number. Both APIs declare amounts as `number (double)`; without
/// serde_json's arbitrary precision the number goes through `f64`, whose shortest round-trip
/// form prints the decimals we send (≤ 6 places, < 2^53) exactly.
pub mod dec {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        if v.fract().is_zero()
            && let Some(i) = v.to_i64()
        {
            return s.serialize_i64(i);
        }
        match v.to_f64() {
            Some(f) => s.serialize_f64(f),
            None => Err(serde::ser::Error::custom(format!(
                "decimal {v} out of range"
            ))),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(super::NumberVisitor)?
            .ok_or_else(|| serde::de::Error::custom("expected a number, got null"))
    }
}

/// `Option<Decimal>` as a JSON number or absent/null.
pub mod opt_dec {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => super::dec::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(super::NumberVisitor)
    }
}

/// Reads a decimal from its JSON text so that `12.34` stays exactly 12.34 (going through the
/// printed form avoids binary-float noise such as 12.339999…), straight from the token: no
/// `Value` in between. `null` reads as `None`.
struct NumberVisitor;

impl<'de> serde::de::Visitor<'de> for NumberVisitor {
    type Value = Option<rust_decimal::Decimal>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(n.into()))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(n.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
        let text = serde_json::Number::from_f64(n)
            .ok_or_else(|| E::custom(format!("expected a number, got {n}")))?
            .to_string();
        parse_number(&text).map(Some).map_err(E::custom)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        parse_number(s).map(Some).map_err(E::custom)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn parse_number(text: &str) -> Result<rust_decimal::Decimal, String> {
    use std::str::FromStr;
    rust_decimal::Decimal::from_str(text)
        .or_else(|_| rust_decimal::Decimal::from_scientific(text))
        .map_err(|e| format!("bad decimal {text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Serialize};
    use std::str::FromStr;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Dto {
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::value"
        )]
        name: Option<String>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::dec_value"
        )]
        price: Option<Decimal>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::opt_dec"
        )]
        plain: Option<Decimal>,
    }

    #[test]
    fn wraps_set_fields_and_skips_unset_ones() {
        let dto = Dto {
            name: Some("Acme".into()),
            price: Some(Decimal::from_str("12.34").unwrap()),
            plain: None,
        };
        let json = serde_json::to_string(&dto).unwrap();
        assert_eq!(json, r#"{"name":{"value":"Acme"},"price":{"value":12.34}}"#);
        let back: Dto = serde_json::from_str(&json).unwrap();
        assert_eq!(back, dto);
    }

    #[test]
    fn decimals_round_trip_exactly() {
        for s in ["0.1", "19.99", "1234567.891", "-0.005", "100", "0.000001"] {
            let d = Dto {
                plain: Some(Decimal::from_str(s).unwrap()),
                ..Default::default()
            };
            let json = serde_json::to_string(&d).unwrap();
            let back: Dto = serde_json::from_str(&json).unwrap();
            assert_eq!(back.plain.unwrap(), Decimal::from_str(s).unwrap(), "{json}");
        }
        let v: Dto = serde_json::from_str(r#"{"plain":1e2}"#).unwrap();
        assert_eq!(v.plain, Some(Decimal::from(100)));
        let v: Dto = serde_json::from_str(r#"{"plain":null}"#).unwrap();
        assert_eq!(v.plain, None);
    }
}

/// `Option<DateTime<Utc>>` read leniently: RFC 3339 with an offset (what the spec requires),
/// or without one (seen from the ERP in the wild; taken as UTC), or a plain date.
/// Written with an explicit offset.
pub mod opt_dt {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(dt) => s.serialize_str(&crate::dto::fmt_datetime(dt)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        parse(s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a date-time: {s:?}")))
    }

    pub(crate) fn parse(s: &str) -> Option<DateTime<Utc>> {
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(dt.with_timezone(&Utc));
        }
        for fmt in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
        ] {
            if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(Utc.from_utc_datetime(&n));
            }
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| Utc.from_utc_datetime(&n))
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn accepts_offset_less_and_plain_dates() {
            assert_eq!(
                super::parse("2025-05-01T00:00:00").unwrap().to_rfc3339(),
                "2025-05-01T00:00:00+00:00"
            );
            assert_eq!(
                super::parse("2025-05-01T02:00:00+02:00")
                    .unwrap()
                    .to_rfc3339(),
                "2025-05-01T00:00:00+00:00"
            );
            assert!(super::parse("2025-05-01").is_some());
            assert!(super::parse("yesterday").is_none());
        }
    }
}
