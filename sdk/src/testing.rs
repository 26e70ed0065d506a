//! Test mappings natively with `cargo test`: a [`FakeHost`] with in-memory mapping tables that
//! records log lines, and builders for a context and a small, consistent order.
//!
//! ```
//! use ledgerlink_sdk::testing::{context, FakeHost};
//! use ledgerlink_sdk::{Host, LogLevel};
//!
//! let host = FakeHost::new().with("vat-category", "1", "25");
//! assert_eq!(host.lookup("vat-category", "1").as_deref(), Some("25"));
//! assert_eq!(host.lookup("vat-category", "2"), None);
//! host.log(LogLevel::Warn, "careful");
//! assert_eq!(host.logs(), vec![(LogLevel::Warn, "careful".to_string())]);
//! let ctx = context(&[("document-type", "invoice")]);
//! assert_eq!(ctx.currency, "EUR");
//! ```

use crate::types::*;
use crate::{Host, LogLevel, decimal};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// An in-memory [`Host`]: tables of key → value, and every log line kept for assertions.
#[derive(Debug, Default)]
pub struct FakeHost {
    tables: BTreeMap<String, BTreeMap<String, String>>,
    logs: RefCell<Vec<(LogLevel, String)>>,
    lookups: RefCell<Vec<(String, String)>>,
}

impl FakeHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key → value` to `table` (builder style).
    pub fn with(mut self, table: &str, key: &str, value: &str) -> Self {
        self.insert(table, key, value);
        self
    }

    pub fn insert(&mut self, table: &str, key: &str, value: &str) {
        self.tables
            .entry(table.to_owned())
            .or_default()
            .insert(key.to_owned(), value.to_owned());
    }

    pub fn remove(&mut self, table: &str, key: &str) {
        if let Some(t) = self.tables.get_mut(table) {
            t.remove(key);
        }
    }

    /// Every log line so far, in order.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.logs.borrow().clone()
    }

    /// Every `(table, key)` looked up so far, in order.
    pub fn lookups(&self) -> Vec<(String, String)> {
        self.lookups.borrow().clone()
    }
}

impl Host for FakeHost {
    fn lookup(&self, table: &str, key: &str) -> Option<String> {
        self.lookups
            .borrow_mut()
            .push((table.to_owned(), key.to_owned()));
        self.tables.get(table).and_then(|t| t.get(key)).cloned()
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.borrow_mut().push((level, message.to_owned()));
    }
}

/// A context for legal entity `test-entity`, store `teststore`, channel 1, EUR in EUR, with
/// the given settings.
pub fn context(settings: &[(&str, &str)]) -> Context {
    Context {
        legal_entity: "test-entity".into(),
        store_hash: "teststore".into(),
        channel_id: 1,
        currency: "EUR".into(),
        base_currency: "EUR".into(),
        branch: None,
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// An address in Stockholm for `first last`.
pub fn address(first: &str, last: &str, email: &str) -> Address {
    Address {
        first_name: first.into(),
        last_name: last.into(),
        company: String::new(),
        street_1: "Drottninggatan 1".into(),
        street_2: String::new(),
        city: "Stockholm".into(),
        state: String::new(),
        zip: "111 51".into(),
        country: "Sweden".into(),
        country_iso2: "SE".into(),
        phone: "+46 8 123 456".into(),
        email: email.into(),
    }
}

/// An order line of `quantity` × `unit_ex_tax` minor units at `rate_percent` VAT, priced
/// tax-exclusive, tax rounded per line as BigCommerce does.
pub fn line(
    id: u64,
    sku: &str,
    quantity: i64,
    unit_ex_tax: Minor,
    rate_percent: i64,
    tax_class_id: u64,
) -> OrderLine {
    let total_ex = unit_ex_tax * quantity;
    let tax = crate::tax::vat_on_net(total_ex, rust_decimal::Decimal::from(rate_percent));
    let unit_tax = crate::tax::vat_on_net(unit_ex_tax, rust_decimal::Decimal::from(rate_percent));
    OrderLine {
        id,
        product_id: 100 + id,
        variant_id: None,
        sku: sku.into(),
        name: format!("Product {sku}"),
        quantity: decimal::integer(quantity),
        quantity_shipped: decimal::integer(0),
        quantity_refunded: decimal::integer(0),
        unit_price_ex_tax: unit_ex_tax,
        unit_price_inc_tax: unit_ex_tax + unit_tax,
        total_ex_tax: total_ex,
        total_inc_tax: total_ex + tax,
        total_tax: tax,
        tax_class_id: Some(tax_class_id),
        tax_rate: Some(decimal::integer(rate_percent)),
        discounts: Vec::new(),
        parent_line_id: None,
        options: Vec::new(),
        weight: None,
    }
}

/// A consistent tax-exclusive EUR order: the given lines, no shipping, no discount; totals are
/// the sums of the lines. Change fields and call [`recompute_totals`] to keep it consistent.
pub fn order(id: u64, lines: Vec<OrderLine>) -> Order {
    let zero_cost = Cost {
        ex_tax: 0,
        inc_tax: 0,
        tax: 0,
        tax_class_id: None,
    };
    let mut o = Order {
        id,
        channel_id: 1,
        status_id: 11,
        status: "Awaiting Fulfillment".into(),
        created_at: "2026-11-02T10:00:00Z".into(),
        modified_at: "2026-11-02T10:00:00Z".into(),
        currency: "EUR".into(),
        default_currency: "EUR".into(),
        exchange_rate: decimal::integer(1),
        prices_include_tax: false,
        customer: Customer {
            bc_customer_id: 7,
            email: "anna@example.com".into(),
            first_name: "Anna".into(),
            last_name: "Berg".into(),
            company: String::new(),
            phone: "+46 8 123 456".into(),
            customer_group_id: None,
            customer_group_name: None,
            tax_exempt_category: None,
            visma_customer_number: Some("10001".into()),
        },
        billing_address: address("Anna", "Berg", "anna@example.com"),
        shipping_addresses: Vec::new(),
        lines,
        taxes: Vec::new(),
        shipping: zero_cost,
        handling: zero_cost,
        wrapping: zero_cost,
        fees: Vec::new(),
        coupons: Vec::new(),
        discount_amount: 0,
        coupon_discount: 0,
        subtotal_ex_tax: 0,
        subtotal_inc_tax: 0,
        total_ex_tax: 0,
        total_inc_tax: 0,
        total_tax: 0,
        store_credit_amount: 0,
        gift_certificate_amount: 0,
        payment_method: "Credit Card".into(),
        payment_provider_id: String::new(),
        payment_status: "captured".into(),
        customer_message: String::new(),
        staff_notes: String::new(),
        po_number: None,
        external_id: None,
        raw_json: None,
    };
    recompute_totals(&mut o);
    o
}

/// Sets subtotals and totals from lines, costs and fees (discounts taken off the ex-tax side,
/// tax as the sum of the line and cost taxes).
pub fn recompute_totals(o: &mut Order) {
    o.subtotal_ex_tax = o.lines.iter().map(|l| l.total_ex_tax).sum();
    o.subtotal_inc_tax = o.lines.iter().map(|l| l.total_inc_tax).sum();
    let costs = [&o.shipping, &o.handling, &o.wrapping];
    let fees_ex: Minor = o.fees.iter().map(|f| f.ex_tax).sum();
    let fees_tax: Minor = o.fees.iter().map(|f| f.tax).sum();
    o.total_ex_tax = o.subtotal_ex_tax + costs.iter().map(|c| c.ex_tax).sum::<Minor>() + fees_ex
        - o.discount_amount;
    o.total_tax = o.lines.iter().map(|l| l.total_tax).sum::<Minor>()
        + costs.iter().map(|c| c.tax).sum::<Minor>()
        + fees_tax;
    o.total_inc_tax = o.total_ex_tax + o.total_tax;
}
