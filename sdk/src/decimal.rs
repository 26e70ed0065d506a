//! The WIT `decimal` (`digits × 10^-scale`) and `rust_decimal::Decimal`.
//!
//! Quantities, rates and unit prices cross the WIT boundary as `decimal`; do arithmetic on
//! [`Decimal`] and convert at the edges. Both directions are exact or an error, never rounded.

use crate::types;
use rust_decimal::Decimal;
use std::fmt;

/// A value that does not fit the other representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    /// `rust_decimal` allows at most 28 digits after the point.
    ScaleTooLarge(u8),
    /// The digits do not fit in the WIT `s64`.
    TooManyDigits(String),
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ScaleTooLarge(s) => write!(f, "decimal scale {s} is larger than 28"),
            Self::TooManyDigits(v) => write!(f, "decimal {v} has more digits than fit in 64 bits"),
        }
    }
}

impl std::error::Error for DecimalError {}

/// A WIT decimal from its parts: `wit(1250, 2)` is 12.50.
pub fn wit(digits: i64, scale: u8) -> types::Decimal {
    types::Decimal { digits, scale }
}

/// A whole number as a WIT decimal.
pub fn integer(n: i64) -> types::Decimal {
    wit(n, 0)
}

/// The exact `Decimal` of a WIT decimal.
pub fn to_decimal(d: &types::Decimal) -> Result<Decimal, DecimalError> {
    if d.scale > 28 {
        return Err(DecimalError::ScaleTooLarge(d.scale));
    }
    Ok(Decimal::new(d.digits, u32::from(d.scale)))
}

/// The WIT decimal of `d`, with trailing zeros removed (`12.50` → `{1250→125, 1}`).
pub fn from_decimal(d: Decimal) -> Result<types::Decimal, DecimalError> {
    let n = d.normalize();
    let digits =
        i64::try_from(n.mantissa()).map_err(|_| DecimalError::TooManyDigits(n.to_string()))?;
    // A normalized rust_decimal has scale ≤ 28, which fits in a u8.
    Ok(wit(digits, n.scale() as u8))
}

/// `to_decimal` for values the host built itself (scale ≤ 28 always holds there); a scale the
/// SDK cannot represent reads as zero rather than aborting the guest.
pub fn value(d: &types::Decimal) -> Decimal {
    to_decimal(d).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn round_trips_exactly_and_normalizes() {
        let d = Decimal::from_str("1.0825").unwrap();
        let w = from_decimal(d).unwrap();
        assert_eq!((w.digits, w.scale), (10825, 4));
        assert_eq!(to_decimal(&w).unwrap(), d);
        let w = from_decimal(Decimal::from_str("12.500").unwrap()).unwrap();
        assert_eq!((w.digits, w.scale), (125, 1));
        assert_eq!(to_decimal(&wit(-5, 0)).unwrap(), Decimal::from(-5));
    }

    #[test]
    fn refuses_what_does_not_fit() {
        assert_eq!(
            to_decimal(&wit(1, 29)),
            Err(DecimalError::ScaleTooLarge(29))
        );
        let big = Decimal::from_str("79228162514264337593543950335").unwrap();
        assert!(matches!(
            from_decimal(big),
            Err(DecimalError::TooManyDigits(_))
        ));
    }
}
