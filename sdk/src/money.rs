//! Money as integer minor units (`types::Minor`, e.g. cents) and as `Decimal` major units.
//!
//! Every `minor` in a WIT record is in the currency of the record it belongs to. Rounding is
//! always half away from zero, the rule both BigCommerce and Visma document.

use crate::decimal;
use crate::types;
use rust_decimal::{Decimal, RoundingStrategy};

/// Digits after the decimal point of a currency's minor unit (ISO 4217). The zero- and
/// three-decimal currencies an ERP meets are listed; everything else has two.
pub fn minor_digits(currency: &str) -> u32 {
    // Called for every amount of a document: compared in place, no uppercased copy.
    let code = currency.trim();
    let is = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(code));
    if is(&["JPY", "KRW", "ISK", "CLP", "VND", "XOF", "XAF"]) {
        0
    } else if is(&["KWD", "BHD", "OMR", "JOD", "TND"]) {
        3
    } else {
        2
    }
}

/// Minor units as a `Decimal` amount in major units: `to_major(6268, "EUR")` is 62.68.
pub fn to_major(minor: types::Minor, currency: &str) -> Decimal {
    Decimal::new(minor, minor_digits(currency))
}

/// Minor units as a WIT decimal in major units (exact): for `unit-price` and similar fields.
pub fn to_wit(minor: types::Minor, currency: &str) -> types::Decimal {
    // minor_digits is at most 3, so the scale always fits.
    decimal::wit(minor, minor_digits(currency) as u8)
}

/// A major-unit amount in minor units, rounded half away from zero; `None` if it overflows.
pub fn to_minor(amount: Decimal, currency: &str) -> Option<types::Minor> {
    let digits = minor_digits(currency);
    let rounded = amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    let scaled = rounded.checked_mul(Decimal::from(10i64.pow(digits)))?;
    i64::try_from(scaled).ok()
}

/// `amount × factor`, rounded half away from zero to whole minor units (saturating).
pub fn mul_round(amount: types::Minor, factor: Decimal) -> types::Minor {
    round(Decimal::from(amount).saturating_mul(factor))
}

/// A `Decimal` number of minor units rounded half away from zero to an integer (saturating).
pub fn round(minor: Decimal) -> types::Minor {
    let r = minor.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(r).unwrap_or(if r.is_sign_negative() {
        i64::MIN
    } else {
        i64::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn converts_by_currency_digits() {
        assert_eq!(to_major(6268, "eur"), Decimal::from_str("62.68").unwrap());
        assert_eq!(to_major(1500, "JPY"), Decimal::from(1500));
        assert_eq!(
            to_minor(Decimal::from_str("62.6750").unwrap(), "EUR"),
            Some(6268)
        );
        assert_eq!(
            to_minor(Decimal::from_str("-0.005").unwrap(), "EUR"),
            Some(-1)
        );
        assert_eq!(
            to_minor(Decimal::from_str("1.2345").unwrap(), "KWD"),
            Some(1235)
        );
        let w = to_wit(1999, "SEK");
        assert_eq!((w.digits, w.scale), (1999, 2));
    }

    #[test]
    fn multiplies_with_half_away_from_zero() {
        assert_eq!(mul_round(1000, Decimal::from_str("0.125").unwrap()), 125);
        assert_eq!(mul_round(5, Decimal::from_str("0.5").unwrap()), 3);
        assert_eq!(mul_round(-5, Decimal::from_str("0.5").unwrap()), -3);
    }
}
