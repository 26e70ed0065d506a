//! Lenient, field-naming readers over `serde_json::Value`.

use super::CanonicalError;
use crate::bindings::types;
use ledgerlink_core::money::decimal_to_minor;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;

/// A JSON object and the path it sits at (for error messages such as `products[2].price_ex_tax`).
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub v: &'a Value,
    pub path: &'a str,
}

pub(crate) fn field_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Unwraps a v3 `{data: …, meta: …}` envelope; other values are returned as they are.
pub(crate) fn unwrap_data(v: &Value) -> &Value {
    match v.get("data") {
        Some(d)
            if v.as_object()
                .is_some_and(|o| o.keys().all(|k| k == "data" || k == "meta")) =>
        {
            d
        }
        _ => v,
    }
}

fn absent(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// A decimal from a JSON string or number.
pub(crate) fn parse_decimal(v: &Value, field: &str) -> Result<Decimal, CanonicalError> {
    let text: std::borrow::Cow<str> = match v {
        Value::String(s) => s.trim().into(),
        Value::Number(n) => n.to_string().into(),
        _ => {
            return Err(CanonicalError::invalid(
                field,
                v,
                "expected a number or a decimal string",
            ));
        }
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|_| CanonicalError::invalid(field, v, "not a decimal number"))
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, path: &'a str) -> Self {
        Obj { v, path }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.v.get(key)
    }

    pub fn has(&self, key: &str) -> bool {
        !absent(self.v.get(key))
    }

    fn field(&self, key: &str) -> String {
        field_path(self.path, key)
    }

    /// A decimal; `null`/`""`/absent reads as `None`.
    pub fn opt_decimal(&self, key: &str) -> Result<Option<Decimal>, CanonicalError> {
        let v = self.v.get(key);
        if absent(v) {
            return Ok(None);
        }
        let v = v.expect("present");
        // The field path is only built for an error message: this runs for every amount.
        parse_decimal(v, "").map(Some).map_err(|e| match e {
            CanonicalError::Invalid { value, reason, .. } => CanonicalError::Invalid {
                field: self.field(key),
                value,
                reason,
            },
            other => other,
        })
    }

    pub fn decimal_or_zero(&self, key: &str) -> Result<Decimal, CanonicalError> {
        Ok(self.opt_decimal(key)?.unwrap_or_default())
    }

    pub fn wit_decimal(&self, key: &str) -> Result<types::Decimal, CanonicalError> {
        let d = self.decimal_or_zero(key)?;
        to_wit_at(d, || self.field(key))
    }

    /// Money in minor units of a currency with `digits` decimals; absent reads as zero.
    pub fn money(&self, key: &str, digits: u32) -> Result<i64, CanonicalError> {
        Ok(self.opt_money(key, digits)?.unwrap_or(0))
    }

    pub fn opt_money(&self, key: &str, digits: u32) -> Result<Option<i64>, CanonicalError> {
        match self.opt_decimal(key)? {
            None => Ok(None),
            Some(d) => match decimal_to_minor(d, digits) {
                Some(m) => Ok(Some(m)),
                None => minor(
                    d,
                    digits,
                    &self.field(key),
                    self.v.get(key).expect("present"),
                )
                .map(Some),
            },
        }
    }

    /// An unsigned id or count from a number or a numeric string; absent, `null`, `""` and 0
    /// read as `None` (BigCommerce uses 0 for "none" in ids).
    pub fn opt_id(&self, key: &str) -> Result<Option<u64>, CanonicalError> {
        Ok(self.opt_u64(key)?.filter(|n| *n != 0))
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, CanonicalError> {
        let v = self.v.get(key);
        if absent(v) {
            return Ok(None);
        }
        let v = v.expect("present");
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        n.map(Some).ok_or_else(|| {
            CanonicalError::invalid(&self.field(key), v, "expected a whole non-negative number")
        })
    }

    pub fn u64_or_zero(&self, key: &str) -> Result<u64, CanonicalError> {
        Ok(self.opt_u64(key)?.unwrap_or(0))
    }

    pub fn required_u64(&self, key: &str) -> Result<u64, CanonicalError> {
        self.opt_u64(key)?.ok_or_else(|| CanonicalError::Missing {
            field: self.field(key),
        })
    }

    /// A string; numbers and booleans are rendered, absent and `null` read as "".
    pub fn str(&self, key: &str) -> String {
        match self.v.get(key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }

    pub fn opt_str(&self, key: &str) -> Option<String> {
        Some(self.str(key)).filter(|s| !s.trim().is_empty())
    }

    pub fn bool(&self, key: &str) -> bool {
        match self.v.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
            Some(Value::String(s)) => matches!(s.trim(), "true" | "1"),
            _ => false,
        }
    }

    /// The elements of an array field (absent or `null` is empty).
    pub fn array(&self, key: &str) -> Result<&'a [Value], CanonicalError> {
        match self.v.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(CanonicalError::invalid(
                &self.field(key),
                other,
                "expected an array",
            )),
        }
    }
}

pub(crate) fn minor(
    d: Decimal,
    digits: u32,
    field: &str,
    raw: &Value,
) -> Result<i64, CanonicalError> {
    decimal_to_minor(d, digits)
        .ok_or_else(|| CanonicalError::invalid(field, raw, "amount too large"))
}

pub(crate) fn to_wit(d: Decimal, field: &str) -> Result<types::Decimal, CanonicalError> {
    to_wit_at(d, || field.to_owned())
}

/// [`to_wit`] naming the field only when it fails (it runs for every quantity and rate).
pub(crate) fn to_wit_at(
    d: Decimal,
    field: impl FnOnce() -> String,
) -> Result<types::Decimal, CanonicalError> {
    let n = d.normalize();
    let digits = i64::try_from(n.mantissa()).map_err(|_| CanonicalError::Invalid {
        field: field(),
        value: n.to_string(),
        reason: "too many digits".into(),
    })?;
    Ok(types::Decimal {
        digits,
        scale: n.scale() as u8,
    })
}

/// A BigCommerce time (RFC 2822 in v2, RFC 3339 in v3) as RFC 3339 UTC; "" stays "".
pub(crate) fn time(obj: &Obj, key: &str) -> Result<String, CanonicalError> {
    let raw = obj.str(key);
    let s = raw.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    let parsed = chrono::DateTime::parse_from_rfc2822(s)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s));
    match parsed {
        Ok(t) => Ok(t
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        Err(_) => Err(CanonicalError::Invalid {
            field: field_path(obj.path, key),
            value: raw.clone(),
            reason: "not an RFC 2822 or RFC 3339 time".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_exact_and_lenient_about_form() {
        let v = json!({"a": "62.6793", "b": 12.3, "c": "", "d": null, "e": "12,30", "f": 7, "g": "-0.005"});
        let o = Obj::new(&v, "order");
        assert_eq!(o.money("a", 2).unwrap(), 6268);
        assert_eq!(o.money("b", 2).unwrap(), 1230);
        assert_eq!(o.money("c", 2).unwrap(), 0);
        assert_eq!(o.money("d", 2).unwrap(), 0);
        assert_eq!(o.money("missing", 2).unwrap(), 0);
        assert_eq!(o.money("f", 0).unwrap(), 7);
        assert_eq!(o.money("g", 2).unwrap(), -1);
        let err = o.money("e", 2).unwrap_err().to_string();
        assert!(err.contains("order.e") && err.contains("12,30"), "{err}");
    }

    #[test]
    fn ids_and_times() {
        let v = json!({"id": "42", "zero": 0, "bad": -1, "t2822": "Tue, 05 Mar 2019 21:40:11 +0000", "t3339": "2022-06-16T16:44:15+02:00", "tbad": "yesterday"});
        let o = Obj::new(&v, "");
        assert_eq!(o.opt_u64("id").unwrap(), Some(42));
        assert_eq!(o.opt_id("zero").unwrap(), None);
        assert!(o.opt_u64("bad").is_err());
        assert_eq!(time(&o, "t2822").unwrap(), "2019-03-05T21:40:11Z");
        assert_eq!(time(&o, "t3339").unwrap(), "2022-06-16T14:44:15Z");
        assert!(time(&o, "tbad").unwrap_err().to_string().contains("tbad"));
    }
}
