//! Pieces every mapping shares: VAT categories and rates, addresses, the document line list
//! with its VAT summary, and the rounding line.

use ledgerlink_sdk::tax::{self, VatSummary};
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Decimal, Errors, Host, LogLevel, Settings, decimal, money};

pub(crate) fn dec(d: &ledgerlink_sdk::types::Decimal) -> Decimal {
    decimal::value(d)
}

pub(crate) fn wit(d: Decimal) -> ledgerlink_sdk::types::Decimal {
    // Values here come from WIT decimals and minor units, so they always fit back.
    decimal::from_decimal(d).unwrap_or(decimal::integer(0))
}

/// The key a rate has in the `vat-category` table: `rate:25`, `rate:12.5`, `rate:0`.
pub(crate) fn rate_key(rate: Decimal) -> String {
    format!("rate:{}", rate.normalize())
}

/// The field path of an error, built only when there is an error: a `format!` per line for
/// paths that are almost never used cost more than the lookups they label. A `&str`, or a
/// closure that formats the path.
pub(crate) trait ErrorPath {
    fn into_path(self) -> String;
}

impl ErrorPath for &str {
    fn into_path(self) -> String {
        self.to_owned()
    }
}

impl<F: FnOnce() -> String> ErrorPath for F {
    fn into_path(self) -> String {
        self()
    }
}

/// `n` in decimal, written into `buf` (for lookup keys, without a `String` per key).
pub(crate) fn decimal_key(n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

/// The Visma VAT category for a BigCommerce tax class (key `<tax-class-id>`), else for the
/// rate (key `rate:<rate>`). Missing both is an error at `path`: never a guess.
pub(crate) fn vat_category(
    host: &impl Host,
    class_id: Option<u64>,
    rate: Decimal,
    path: impl ErrorPath,
    errors: &mut Errors,
) -> String {
    if let Some(id) = class_id
        && let Some(v) = host.lookup("vat-category", decimal_key(id, &mut [0; 20]))
    {
        return v;
    }
    if let Some(v) = host.lookup("vat-category", &rate_key(rate)) {
        return v;
    }
    let class = match class_id {
        Some(id) => format!("tax class {id}"),
        None => "no tax class".to_owned(),
    };
    errors.push(
        path.into_path(),
        "missing-vat-mapping",
        format!(
            "no VAT category for {class} at {}%: add key {}{} to mapping table vat-category",
            rate.normalize(),
            class_id
                .map(|id| format!("\"{id}\" or "))
                .unwrap_or_default(),
            format_args!("\"{}\"", rate_key(rate)),
        ),
    );
    String::new()
}

/// The tax rate in percent of an amount: the rate the host found in the order's tax lines,
/// else derived from the amounts (two decimals), zero when untaxed.
pub(crate) fn rate_of(
    given: Option<&ledgerlink_sdk::types::Decimal>,
    ex_tax: Minor,
    tax: Minor,
) -> Decimal {
    if let Some(r) = given {
        return dec(r);
    }
    if tax == 0 || ex_tax == 0 {
        return Decimal::ZERO;
    }
    (Decimal::from(tax) * Decimal::ONE_HUNDRED / Decimal::from(ex_tax)).round_dp(2)
}

/// The summed rate of the order's tax lines of one type (`shipping`, `handling`, …), if any.
pub(crate) fn charge_rate(order: &Order, line_type: &str) -> Option<Decimal> {
    let rows: Vec<&TaxLine> = order
        .taxes
        .iter()
        .filter(|t| t.line_type == line_type)
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(rows.iter().map(|t| dec(&t.rate)).sum())
}

/// An amount given on one VAT basis converted to the other: `from_inclusive` says whether
/// `amount` includes VAT, `to_inclusive` what the document wants.
pub(crate) fn on_basis(
    amount: Minor,
    from_inclusive: bool,
    to_inclusive: bool,
    rate: Decimal,
) -> Minor {
    match (from_inclusive, to_inclusive) {
        (true, false) => tax::net_of(amount, rate),
        (false, true) => tax::gross_of(amount, rate),
        _ => amount,
    }
}

pub(crate) fn visma_address(a: &Address) -> VismaAddress {
    VismaAddress {
        line1: a.street_1.clone(),
        line2: a.street_2.clone(),
        line3: String::new(),
        postal_code: a.zip.clone(),
        city: a.city.clone(),
        country_id: a.country_iso2.to_ascii_uppercase(),
        county_id: None,
    }
}

pub(crate) fn full_name(first: &str, last: &str) -> String {
    format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_owned()
}

pub(crate) fn visma_contact(a: &Address) -> VismaContact {
    VismaContact {
        name: full_name(&a.first_name, &a.last_name),
        attention: a.company.clone(),
        email: a.email.clone(),
        phone: a.phone.clone(),
    }
}

/// The date part of an RFC 3339 time (Visma document dates are dates).
pub(crate) fn date_of(time: &str) -> String {
    time.get(..10).unwrap_or(time).to_owned()
}

/// `amount × part / whole`, rounded: the share of a line amount for part of its quantity.
pub(crate) fn share(amount: Minor, part: Decimal, whole: Decimal) -> Minor {
    if whole.is_zero() || part == whole {
        return amount;
    }
    // No share of nothing: skips a Decimal division for every line of a whole-order document.
    if part.is_zero() {
        return 0;
    }
    money::mul_round(amount, part / whole)
}

/// The share of a line amount for units `before..before + part` of `whole`: the difference of
/// two cumulative shares, so partial documents (shipments, refunds) add up to the line amount
/// exactly instead of drifting a cent per document.
pub(crate) fn share_of_range(
    amount: Minor,
    before: Decimal,
    part: Decimal,
    whole: Decimal,
) -> Minor {
    // The whole of a line (every line of a whole-order document): the amount itself, without
    // the Decimal arithmetic below (which gives the same).
    if before.is_zero() && part == whole && whole.is_sign_positive() && !whole.is_zero() {
        return amount;
    }
    let before = before.max(Decimal::ZERO).min(whole);
    let upto = (before + part).min(whole);
    share(amount, upto, whole) - share(amount, before, whole)
}

/// The lines of a document being built, with the VAT Visma will compute for them.
pub(crate) struct DocLines {
    pub inclusive: bool,
    pub lines: Vec<DocumentLine>,
    pub vat: VatSummary,
}

impl DocLines {
    pub fn new(inclusive: bool) -> Self {
        Self {
            inclusive,
            lines: Vec::new(),
            vat: VatSummary::new(inclusive),
        }
    }

    pub fn push(&mut self, line: DocumentLine, rate: Decimal) {
        self.vat.add(&line.vat_category_id, rate, line.line_amount);
        self.lines.push(line);
    }

    /// Adds a VAT-free rounding line so the document total equals `target`, when it differs.
    /// A difference larger than `tolerance` is not rounding but a mapping gap: an error.
    /// Returns the document's (expected-total, expected-vat).
    pub fn balance(
        &mut self,
        host: &impl Host,
        settings: &Settings,
        currency: &str,
        target: Option<Minor>,
        tolerance: Minor,
        errors: &mut Errors,
    ) -> (Minor, Minor) {
        let totals = self.vat.totals();
        let Some(target) = target else {
            return (totals.total, totals.vat);
        };
        let diff = tax::rounding_difference(target, &totals);
        if diff == 0 {
            return (target, totals.vat);
        }
        if diff.abs() > tolerance {
            errors.push(
                "total-inc-tax",
                "totals-mismatch",
                format!(
                    "the mapped lines come to {} with VAT {} but the source total is {target} (minor units); \
                     a difference of {diff} is more than rounding",
                    totals.total, totals.vat
                ),
            );
            return (target, totals.vat);
        }
        let account = settings.require("rounding-account", "to book the rounding line", errors);
        let category = match settings.get("rounding-vat-category") {
            Some(c) => c.to_owned(),
            None => vat_category(
                host,
                None,
                Decimal::ZERO,
                "settings.rounding-vat-category",
                errors,
            ),
        };
        // The rounding category should be VAT-free. When the entity points it at a category
        // this document taxes, Visma taxes the rounding line too: pick the amount whose total
        // with that VAT still hits the target.
        let (amount, vat) = match self.vat.rate_of(&category).filter(|r| !r.is_zero()) {
            None => (diff, totals.vat),
            Some(rate) => {
                let x0 = if self.inclusive {
                    diff
                } else {
                    money::round(
                        Decimal::from(diff) * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + rate),
                    )
                };
                let (x, t) = (x0 - 2..=x0 + 2)
                    .map(|x| {
                        let mut s = self.vat.clone();
                        s.add(&category, rate, x);
                        (x, s.totals())
                    })
                    .min_by_key(|(x, t)| ((target - t.total).abs(), (x - x0).abs()))
                    .expect("five candidates");
                self.vat.add(&category, rate, x);
                (x, t.vat)
            }
        };
        host.log(
            LogLevel::Debug,
            &format!("rounding line of {amount} minor units"),
        );
        self.lines.push(DocumentLine {
            kind: LineKind::Rounding,
            item_number: None,
            description: "Rounding".into(),
            // Visma refuses negative unit prices: a negative rounding is one negative unit.
            quantity: decimal::integer(if amount < 0 { -1 } else { 1 }),
            uom: None,
            unit_price: money::to_wit(amount.abs(), currency),
            discount_amount: 0,
            line_amount: amount,
            vat_category_id: category,
            warehouse_id: None,
            account: account.map(str::to_owned),
            subaccount: None,
            bc_line_id: None,
            note: String::new(),
        });
        (target, vat)
    }
}

/// A non-stock line booked to a GL account (freight, handling, fees, refunds of amounts).
#[allow(clippy::too_many_arguments)]
pub(crate) fn account_line(
    kind: LineKind,
    description: String,
    amount: Minor,
    currency: &str,
    vat_category_id: String,
    account: Option<&str>,
    bc_line_id: Option<u64>,
) -> DocumentLine {
    DocumentLine {
        kind,
        item_number: None,
        description,
        // Visma refuses negative unit prices: a negative amount is one negative unit.
        quantity: decimal::integer(if amount < 0 { -1 } else { 1 }),
        uom: None,
        unit_price: money::to_wit(amount.abs(), currency),
        discount_amount: 0,
        line_amount: amount,
        vat_category_id,
        warehouse_id: None,
        account: account.map(str::to_owned),
        subaccount: None,
        bc_line_id,
        note: String::new(),
    }
}

/// The item number of a BigCommerce SKU: table `item-number` when it has the SKU, else the SKU.
pub(crate) fn item_number(
    host: &impl Host,
    sku: &str,
    path: impl ErrorPath,
    errors: &mut Errors,
) -> Option<String> {
    let sku = sku.trim();
    if sku.is_empty() {
        errors.push(
            path.into_path(),
            "missing-sku",
            "the line has no SKU, so it cannot be matched to a Visma item",
        );
        return None;
    }
    Some(
        host.lookup("item-number", sku)
            .unwrap_or_else(|| sku.to_owned()),
    )
}

/// Where the rounding tolerance comes from: at most one minor unit per line and conversion,
/// plus two, unless the entity sets `rounding-tolerance`.
pub(crate) fn tolerance(settings: &Settings, lines: usize, errors: &mut Errors) -> Minor {
    match settings.get("rounding-tolerance") {
        None => lines as Minor + 2,
        Some(v) => v.parse().unwrap_or_else(|_| {
            errors.push(
                "settings.rounding-tolerance",
                "invalid-setting",
                format!("rounding-tolerance is {v:?}; expected a whole number of minor units"),
            );
            lines as Minor + 2
        }),
    }
}
