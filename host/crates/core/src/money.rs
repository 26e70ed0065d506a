//! Money. Amounts are `rust_decimal::Decimal` at API boundaries (both APIs speak decimals) and
//! integer minor units inside plugins; never `f64`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// ISO 4217 alphabetic code, upper case, validated on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CurrencyError {
    #[error("currency code {0:?} is not three ASCII letters")]
    Malformed(String),
}

impl CurrencyCode {
    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII letters.
        std::str::from_utf8(&self.0).expect("ascii")
    }

    /// Digits after the decimal point in the currency's minor unit (ISO 4217). The few
    /// zero- and three-decimal currencies an ERP meets are listed; everything else has two.
    pub fn minor_digits(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "XOF" | "XAF" => 0,
            "KWD" | "BHD" | "OMR" | "JOD" | "TND" => 3,
            _ => 2,
        }
    }
}

impl FromStr for CurrencyCode {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(CurrencyError::Malformed(s.to_owned()));
        }
        Ok(Self([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CurrencyCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CurrencyCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: CurrencyCode,
}

impl Money {
    pub fn new(amount: Decimal, currency: CurrencyCode) -> Self {
        Self { amount, currency }
    }

    /// Integer minor units, rounded half away from zero (the rounding both APIs document).
    /// `None` if the amount does not fit in an i64.
    pub fn to_minor(&self) -> Option<i64> {
        decimal_to_minor(self.amount, self.currency.minor_digits())
    }

    pub fn from_minor(minor: i64, currency: CurrencyCode) -> Self {
        Self {
            amount: minor_to_decimal(minor, currency.minor_digits()),
            currency,
        }
    }
}

/// Rounds `amount` to `digits` decimals half away from zero and returns it as minor units.
pub fn decimal_to_minor(amount: Decimal, digits: u32) -> Option<i64> {
    let rounded =
        amount.round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    (rounded * Decimal::from(10i64.pow(digits))).to_i64()
}

pub fn minor_to_decimal(minor: i64, digits: u32) -> Decimal {
    Decimal::new(minor, digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_validated_and_upper_cased() {
        assert_eq!("sek".parse::<CurrencyCode>().unwrap().as_str(), "SEK");
        assert!("SE".parse::<CurrencyCode>().is_err());
        assert!("S3K".parse::<CurrencyCode>().is_err());
    }

    #[test]
    fn minor_units_round_half_away_from_zero() {
        let eur: CurrencyCode = "EUR".parse().unwrap();
        let m = Money::new(Decimal::from_str("62.6750").unwrap(), eur);
        assert_eq!(m.to_minor(), Some(6268));
        let m = Money::new(Decimal::from_str("-0.005").unwrap(), eur);
        assert_eq!(m.to_minor(), Some(-1));
        let jpy: CurrencyCode = "JPY".parse().unwrap();
        assert_eq!(Money::new(Decimal::from(1500), jpy).to_minor(), Some(1500));
        assert_eq!(Money::from_minor(6268, eur).amount.to_string(), "62.68");
    }
}
