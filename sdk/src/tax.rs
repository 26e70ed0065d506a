//! VAT and rounding that keep a Visma document equal, to the cent, to its BigCommerce source.
//!
//! BigCommerce rounds tax per line; Visma computes VAT per VAT category on the document. The two
//! can differ by a cent or two. Visma documents are always net (ex VAT): a VAT-inclusive
//! document is posted with each line's gross amount turned into a net amount (gross minus the
//! VAT it contains, rounded per line), and Visma then computes VAT on the net sum of each
//! category. The recipe a plugin follows:
//!
//! 1. spread order-level amounts (discounts, a partial refund) over lines with [`allocate`], so
//!    the parts add up exactly to the whole;
//! 2. add every line to a [`VatSummary`] under its VAT category and rate;
//! 3. [`VatSummary::totals`] gives what Visma will compute, and
//!    [`rounding_difference`] what a rounding line (VAT-free, booked to a rounding account) must
//!    add so the document total equals the source total.
//!
//! ```
//! use ledgerlink_sdk::tax::{allocate, rounding_difference, VatSummary};
//! use ledgerlink_sdk::Decimal;
//!
//! // A 10.00 discount over lines of 33.33, 33.33 and 33.34: the parts sum to the whole.
//! assert_eq!(allocate(1000, &[3333, 3333, 3334]), vec![333, 333, 334]);
//!
//! let mut vat = VatSummary::new(false);
//! vat.add("25", Decimal::from(25), 1999);
//! vat.add("25", Decimal::from(25), 1999);
//! let t = vat.totals();
//! assert_eq!((t.lines, t.vat, t.total), (3998, 1000, 4998));
//! // BigCommerce rounded per line: 2 × (19.99 + 5.00) = 49.98 → no rounding line needed here,
//! assert_eq!(rounding_difference(4998, &t), 0);
//! // but a source total of 49.97 needs a -0.01 rounding line.
//! assert_eq!(rounding_difference(4997, &t), -1);
//!
//! // VAT-inclusive: 5.90 at 14 % and 9.90 at 24 % (15.80 in the shop) are posted as nets
//! // 5.18 and 7.98; Visma adds 0.73 and 1.92 VAT: 15.81, so a -0.01 rounding line is due.
//! let mut inc = VatSummary::new(true);
//! inc.add("14", Decimal::from(14), 590);
//! inc.add("24", Decimal::from(24), 990);
//! assert_eq!(rounding_difference(1580, &inc.totals()), -1);
//! ```

use crate::money;
use crate::types::Minor;
use rust_decimal::Decimal;

/// Splits `total` over parts in proportion to `weights` by the largest-remainder method: every
/// part is the floor of its exact share, and the leftover units go to the largest remainders
/// (earlier parts first on ties). The parts always sum to `total` exactly.
///
/// Weights are used by magnitude. When all weights are zero the total is split evenly. An
/// empty `weights` gives an empty vector (and nothing of `total` is placed; check for that).
pub fn allocate(total: Minor, weights: &[Minor]) -> Vec<Minor> {
    if weights.is_empty() {
        return Vec::new();
    }
    // Nothing to spread (most orders have no order-level discount left over).
    if total == 0 {
        return vec![0; weights.len()];
    }
    let mut w: Vec<i128> = weights.iter().map(|x| i128::from(*x).abs()).collect();
    if w.iter().all(|x| *x == 0) {
        w.iter_mut().for_each(|x| *x = 1);
    }
    let sum: i128 = w.iter().sum();
    let t = i128::from(total).abs();
    let mut parts: Vec<i128> = w.iter().map(|x| t * x / sum).collect();
    let mut rest = t - parts.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..w.len()).collect();
    // Stable sort keeps earlier parts first among equal remainders.
    order.sort_by_key(|&i| std::cmp::Reverse(t * w[i] % sum));
    for &i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        parts[i] += 1;
        rest -= 1;
    }
    let sign = if total < 0 { -1 } else { 1 };
    // Each part is at most |total|, which came from an i64.
    parts.into_iter().map(|p| (p * sign) as Minor).collect()
}

/// VAT on a net amount at `rate_percent` (25 for 25 %), rounded half away from zero.
pub fn vat_on_net(net: Minor, rate_percent: Decimal) -> Minor {
    money::mul_round(net, rate_percent / Decimal::ONE_HUNDRED)
}

/// The VAT contained in a gross amount at `rate_percent`, rounded half away from zero.
pub fn vat_in_gross(gross: Minor, rate_percent: Decimal) -> Minor {
    money::mul_round(gross, rate_percent / (Decimal::ONE_HUNDRED + rate_percent))
}

/// Net amount → gross amount at `rate_percent` (net + [`vat_on_net`]).
pub fn gross_of(net: Minor, rate_percent: Decimal) -> Minor {
    net + vat_on_net(net, rate_percent)
}

/// Gross amount → net amount at `rate_percent` (gross − [`vat_in_gross`]).
pub fn net_of(gross: Minor, rate_percent: Decimal) -> Minor {
    gross - vat_in_gross(gross, rate_percent)
}

/// One VAT category of a document: its rate and the sum of its line amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatGroup {
    pub category: String,
    pub rate: Decimal,
    /// Sum of the line amounts (net, or gross for a VAT-inclusive document).
    pub amount: Minor,
    /// Sum of the lines' net amounts as Visma receives them: for a VAT-inclusive document
    /// each line's [`net_of`] its gross amount (rounded per line), else `amount`.
    pub net: Minor,
}

impl VatGroup {
    /// The VAT Visma computes for this category: on the sum of its net line amounts.
    pub fn vat(&self) -> Minor {
        vat_on_net(self.net, self.rate)
    }
}

/// What a document's lines come to, the way Visma computes it: net lines (a VAT-inclusive
/// line is turned into its net amount on its own), VAT per category on the sum of its net
/// lines, rounded once.
#[derive(Debug, Clone, Default)]
pub struct VatSummary {
    inclusive: bool,
    groups: Vec<VatGroup>,
}

/// Lines, VAT and grand total of a document, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Sum of line amounts (gross for a VAT-inclusive document).
    pub lines: Minor,
    pub vat: Minor,
    /// What the Visma document totals: net lines plus VAT. For a VAT-inclusive document this
    /// can differ from `lines` by the per-line rounding of the nets.
    pub total: Minor,
}

impl VatSummary {
    /// `inclusive`: line amounts include VAT (a VAT-inclusive document).
    pub fn new(inclusive: bool) -> Self {
        Self {
            inclusive,
            groups: Vec::new(),
        }
    }

    /// Adds a line amount under its VAT category. The first rate seen for a category is kept.
    pub fn add(&mut self, category: &str, rate: Decimal, amount: Minor) {
        let inclusive = self.inclusive;
        let net_at = |rate: Decimal| {
            if inclusive {
                net_of(amount, rate)
            } else {
                amount
            }
        };
        match self.groups.iter_mut().find(|g| g.category == category) {
            Some(g) => {
                g.amount += amount;
                g.net += net_at(g.rate);
            }
            None => self.groups.push(VatGroup {
                category: category.to_owned(),
                rate,
                amount,
                net: net_at(rate),
            }),
        }
    }

    /// The rate a category has on this document, if any line used it.
    pub fn rate_of(&self, category: &str) -> Option<Decimal> {
        self.groups
            .iter()
            .find(|g| g.category == category)
            .map(|g| g.rate)
    }

    /// The categories in the order they were first added.
    pub fn groups(&self) -> &[VatGroup] {
        &self.groups
    }

    /// Whether line amounts include VAT.
    pub fn inclusive(&self) -> bool {
        self.inclusive
    }

    pub fn totals(&self) -> Totals {
        let lines: Minor = self.groups.iter().map(|g| g.amount).sum();
        let net: Minor = self.groups.iter().map(|g| g.net).sum();
        let vat: Minor = self.groups.iter().map(|g| g.vat()).sum();
        Totals {
            lines,
            vat,
            total: net + vat,
        }
    }
}

/// The amount of a VAT-free rounding line that makes the document total equal `target_total`.
pub fn rounding_difference(target_total: Minor, totals: &Totals) -> Minor {
    target_total - totals.total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn allocation_sums_to_the_total_and_follows_weights() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        assert_eq!(allocate(500, &[6000, 2000, 0]), vec![375, 125, 0]);
        assert_eq!(allocate(7, &[0, 0]), vec![4, 3]);
        assert_eq!(allocate(0, &[5, 5]), vec![0, 0]);
        assert!(allocate(10, &[]).is_empty());
        let parts = allocate(999_999, &[13, 17, 19, 23, 29]);
        assert_eq!(parts.iter().sum::<i64>(), 999_999);
    }

    #[test]
    fn vat_is_computed_per_category_on_the_sum() {
        let rate = Decimal::from_str("12.5").unwrap();
        // Three lines of 0.13 at 12.5 %: per line 0.02 VAT each (0.06), on the sum 0.05.
        let mut s = VatSummary::new(false);
        for _ in 0..3 {
            s.add("12", rate, 13);
        }
        assert_eq!(
            s.totals(),
            Totals {
                lines: 39,
                vat: 5,
                total: 44
            }
        );
        // BigCommerce charged per line: 3 × 0.15 = 0.45, one cent more.
        assert_eq!(rounding_difference(45, &s.totals()), 1);
    }

    #[test]
    fn inclusive_documents_extract_vat_from_gross() {
        let mut s = VatSummary::new(true);
        s.add("25", Decimal::from(25), 12500);
        s.add("0", Decimal::ZERO, 1000);
        assert_eq!(
            s.totals(),
            Totals {
                lines: 13500,
                vat: 2500,
                total: 13500
            }
        );
        // Two lines of 0.99 at 25 %: nets 0.79 + 0.79 (per line), VAT 0.40 on 1.58: 1.98.
        let mut two = VatSummary::new(true);
        two.add("25", Decimal::from(25), 99);
        two.add("25", Decimal::from(25), 99);
        assert_eq!(two.totals().total, 198);
        // 3 × 0.13 gross at 24 %: nets 0.10 each (0.30), VAT 0.07: 0.37, one cent short.
        let mut three = VatSummary::new(true);
        for _ in 0..3 {
            three.add("24", Decimal::from(24), 13);
        }
        assert_eq!(
            three.totals(),
            Totals {
                lines: 39,
                vat: 7,
                total: 37
            }
        );
        assert_eq!(rounding_difference(39, &three.totals()), 2);
        assert_eq!(gross_of(10000, Decimal::from(25)), 12500);
        assert_eq!(net_of(12500, Decimal::from(25)), 10000);
    }
}
