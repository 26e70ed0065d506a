//! The simulator's in-memory ERP: one [`Company`] per tenant, each with its own master data,
//! documents and number series. Nothing is shared between companies.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use parking_lot::Mutex;
use rust_decimal::Decimal;

/// A monotonic, millisecond-precise clock: no two changes share a timestamp, so delta sync
/// with `lastModifiedDateTime` + `>` never loses or repeats a record.
#[derive(Debug, Default)]
pub struct Clock {
    last: Mutex<Option<DateTime<Utc>>>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let mut last = self.last.lock();
        let wall = Utc::now();
        let wall = DateTime::from_timestamp_millis(wall.timestamp_millis()).unwrap_or(wall);
        let next = match *last {
            Some(prev) if wall <= prev => prev + chrono::Duration::milliseconds(1),
            _ => wall,
        };
        *last = Some(next);
        next
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Branch {
    pub number: String,
    pub name: String,
    pub is_main: bool,
    pub currency: String,
    pub vat_zone: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Warehouse {
    pub id: String,
    pub description: String,
    pub branch: String,
    pub locations: Vec<String>,
}

/// A VAT code (`/v1/vat`), used on invoice and credit-note lines (`vatCodeId`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Vat {
    pub id: String,
    pub description: String,
    pub rate: Decimal,
}

/// A VAT category (`/v1/vatCategory`), set on items and sales-order lines; maps to one VAT code.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VatCategory {
    pub id: String,
    pub description: String,
    pub vat_id: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct VatZone {
    pub id: String,
    pub description: String,
    pub default_vat_category: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub description: String,
    /// `CreditCard | CashOrCheck | DirectDeposit`.
    pub means: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CreditTerm {
    pub id: String,
    pub description: String,
    pub due_days: i64,
    pub discount_percent: Decimal,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Currency {
    pub id: String,
    pub description: String,
    pub symbol: String,
    pub decimals: u32,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CurrencyRate {
    pub id: String,
    pub from: String,
    pub to: String,
    pub rate_type: String,
    pub effective: NaiveDate,
    pub rate: Decimal,
    /// `Multiply` or `Divide`.
    pub mult_div: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub name: Option<String>,
    pub attention: Option<String>,
    pub email: Option<String>,
    pub phone1: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Customer {
    pub internal_id: i32,
    pub number: String,
    pub name: String,
    pub status: String,
    pub currency: String,
    pub credit_terms: String,
    pub vat_zone: String,
    pub customer_class: String,
    pub address: Address,
    pub contact: Contact,
    pub corporate_id: Option<String>,
    pub vat_registration_id: Option<String>,
    pub account_reference: Option<String>,
    pub note: Option<String>,
    pub default_payment_method: Option<String>,
    pub credit_limit: Decimal,
    pub attributes: BTreeMap<String, String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CrossReference {
    pub alternate_type: String,
    pub alternate_id: String,
    pub uom: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Item {
    pub internal_id: i32,
    pub number: String,
    pub description: String,
    pub status: String,
    pub item_type: String,
    pub item_class: String,
    pub vat_category: String,
    pub default_price: Decimal,
    pub base_unit: String,
    pub default_warehouse: Option<String>,
    pub cross_references: Vec<CrossReference>,
    pub attributes: BTreeMap<String, String>,
    pub note: Option<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub availability_modified: DateTime<Utc>,
    pub version: u64,
}

impl Item {
    /// Non-stock types never hold quantities (ChargeItem for freight, services…).
    pub fn is_stock(&self) -> bool {
        matches!(
            self.item_type.as_str(),
            "FinishedGoodItem" | "ComponentPartItem" | "SubassemblyItem"
        )
    }
}

/// Quantities of one item in one warehouse.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Stock {
    pub on_hand: Decimal,
    /// Booked by open sales orders (reduces `available`).
    pub so_booked: Decimal,
    pub modified: Option<DateTime<Utc>>,
}

impl Stock {
    pub fn available(&self) -> Decimal {
        self.on_hand - self.so_booked
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ArKind {
    Invoice,
    CreditNote,
}

impl ArKind {
    pub fn document_type(self) -> &'static str {
        match self {
            ArKind::Invoice => "Invoice",
            ArKind::CreditNote => "CreditNote",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ArLine {
    pub line_number: i32,
    pub inventory_number: Option<String>,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub discount_amount: Decimal,
    pub manual_discount: bool,
    /// Net line amount in document currency (after discount).
    pub amount: Decimal,
    pub vat_id: String,
    pub uom: Option<String>,
    pub note: Option<String>,
    pub branch: String,
    /// The sales order a line was invoiced from (`soOrderType`/`soOrderNbr` on reads).
    #[serde(default)]
    pub so_order_type: Option<String>,
    #[serde(default)]
    pub so_order_nbr: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaxDetail {
    pub vat_id: String,
    pub rate: Decimal,
    pub taxable: Decimal,
    pub vat: Decimal,
}

/// An application of one AR document against another (credit note or payment → invoice).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Application {
    /// Document type of the *other* side (`Invoice`, `CreditNote`, `Payment`).
    pub doc_type: String,
    pub ref_nbr: String,
    pub amount: Decimal,
    pub date: DateTime<Utc>,
    pub released: bool,
}

/// A customer invoice or customer credit note.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ArDoc {
    pub kind: ArKind,
    pub number: String,
    pub customer: String,
    pub status: String,
    pub hold: bool,
    pub released: bool,
    pub document_date: DateTime<Utc>,
    pub due_date: DateTime<Utc>,
    pub orig_invoice_date: Option<DateTime<Utc>>,
    pub currency: String,
    pub exchange_rate: Decimal,
    pub credit_terms: String,
    pub payment_method: Option<String>,
    pub external_reference: Option<String>,
    pub customer_ref_number: Option<String>,
    pub payment_reference: Option<String>,
    pub invoice_text: Option<String>,
    pub note: Option<String>,
    pub branch: String,
    pub vat_zone: String,
    pub lines: Vec<ArLine>,
    pub tax: Vec<TaxDetail>,
    pub detail_total: Decimal,
    pub discount_total: Decimal,
    pub vat_total: Decimal,
    pub rounding_diff: Decimal,
    /// Total in document currency.
    pub amount: Decimal,
    /// Open amount in document currency.
    pub balance: Decimal,
    /// Pending (unreleased) application lines given at create time (credit notes).
    pub applications: Vec<Application>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PaymentLine {
    pub doc_type: String,
    pub ref_nbr: String,
    pub amount: Decimal,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Payment {
    pub number: String,
    pub payment_type: String,
    pub customer: String,
    pub status: String,
    pub hold: bool,
    pub released: bool,
    pub application_date: DateTime<Utc>,
    pub payment_ref: Option<String>,
    pub payment_method: Option<String>,
    pub currency: String,
    pub amount: Decimal,
    pub branch: String,
    pub lines: Vec<PaymentLine>,
    pub modified: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SoLine {
    pub line_id: i32,
    pub inventory_id: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub discount_amount: Decimal,
    pub amount: Decimal,
    pub tax_category: String,
    pub warehouse: Option<String>,
    pub uom: String,
    pub operation: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SalesOrder {
    pub order_type: String,
    pub order_id: String,
    pub customer: String,
    pub customer_order: Option<String>,
    pub customer_ref_no: Option<String>,
    pub status: String,
    pub date: NaiveDate,
    pub currency: String,
    pub description: Option<String>,
    pub note: Option<String>,
    pub branch: String,
    pub payment_method: Option<String>,
    pub payment_reference: Option<String>,
    pub lines: Vec<SoLine>,
    pub freight_cost: Decimal,
    pub freight_tax_category: Option<String>,
    pub tax: Vec<TaxDetail>,
    pub line_total: Decimal,
    pub discount_total: Decimal,
    pub tax_total: Decimal,
    pub order_total: Decimal,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub version: u64,
    /// The order's own billing and shipping address/contact (v3 `billing`, `shipping`);
    /// none: the customer's defaults apply.
    #[serde(default)]
    pub billing: Option<SoParty>,
    #[serde(default)]
    pub shipping: Option<SoParty>,
    /// The invoice Visma made from the order (v3 `financialInformation.invoiceId`).
    #[serde(default)]
    pub invoice_nbr: Option<String>,
}

/// An address of a sales order (v3 `NewSalesOrderAddressDto`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SoAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: String,
    pub state: Option<String>,
}

/// A contact of a sales order (v3 `NewSalesOrderContactDto`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SoContact {
    pub name: Option<String>,
    pub attention: Option<String>,
    pub email: Option<String>,
    pub phone1: Option<String>,
}

/// `billing` or `shipping` of a sales order: address and contact, each optional.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SoParty {
    pub address: Option<SoAddress>,
    pub contact: Option<SoContact>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum InvDocKind {
    Receipt,
    Issue,
    Adjustment,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InvDocLine {
    pub line_number: i32,
    pub item: String,
    pub warehouse: String,
    pub location: Option<String>,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
    pub uom: String,
    pub reason_code: Option<String>,
}

/// An inventory receipt, issue or adjustment. Stock moves when it is released.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InvDoc {
    pub kind: InvDocKind,
    pub number: String,
    pub status: String,
    pub hold: bool,
    pub date: DateTime<Utc>,
    pub description: Option<String>,
    pub external_reference: Option<String>,
    pub lines: Vec<InvDocLine>,
    pub modified: DateTime<Utc>,
    pub version: u64,
}

/// One row of the sales price table (AR202000): a price of an item for everyone (`Base`), a
/// customer, or a customer price class, in one currency and unit, from a quantity, over a
/// period.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SalesPrice {
    pub record_id: i32,
    /// `Base`, `Customer` or `CustomerPriceClass`.
    pub price_type: String,
    /// Customer number or price class id; empty for `Base`.
    pub price_code: String,
    pub item: String,
    pub uom: String,
    pub promotion: bool,
    pub break_qty: Decimal,
    pub price: Decimal,
    pub currency: String,
    pub warehouse: Option<String>,
    pub effective: Option<DateTime<Utc>>,
    pub expiration: Option<DateTime<Utc>>,
    pub modified: DateTime<Utc>,
    pub version: u64,
}

/// Next numbers of each number series.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Series {
    pub customer: u64,
    pub invoice: u64,
    pub credit_note: u64,
    pub payment: u64,
    pub sales_order: u64,
    pub inventory_doc: u64,
    pub internal_id: i32,
    pub currency_rate: u64,
}

impl Default for Series {
    fn default() -> Self {
        Self {
            customer: 10001,
            invoice: 100001,
            credit_note: 200001,
            payment: 300001,
            sales_order: 1,
            inventory_doc: 1,
            internal_id: 1,
            currency_rate: 1,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Company {
    pub tenant_id: String,
    pub name: String,
    pub organization: String,
    pub country: String,
    pub base_currency: String,
    pub vat_registration_id: String,
    /// Invoice total rounding step in base currency (e.g. whole kronor in Sweden).
    pub invoice_rounding: Decimal,
    pub branches: Vec<Branch>,
    pub warehouses: Vec<Warehouse>,
    pub vats: Vec<Vat>,
    pub vat_categories: Vec<VatCategory>,
    pub vat_zones: Vec<VatZone>,
    pub payment_methods: Vec<PaymentMethod>,
    pub credit_terms: Vec<CreditTerm>,
    pub currencies: Vec<Currency>,
    pub rates: Vec<CurrencyRate>,
    pub customer_classes: Vec<String>,
    pub item_classes: Vec<String>,
    pub customers: BTreeMap<String, Customer>,
    pub items: BTreeMap<String, Item>,
    #[serde(with = "crate::common::pairs")]
    pub stock: BTreeMap<(String, String), Stock>,
    #[serde(with = "crate::common::pairs")]
    pub ar_docs: BTreeMap<(ArKind, String), ArDoc>,
    pub payments: BTreeMap<String, Payment>,
    #[serde(with = "crate::common::pairs")]
    pub sales_orders: BTreeMap<(String, String), SalesOrder>,
    #[serde(with = "crate::common::pairs")]
    pub inv_docs: BTreeMap<(InvDocKind, String), InvDoc>,
    /// Customer price classes (`priceCode` of `CustomerPriceClass` sales prices).
    pub price_classes: Vec<String>,
    /// Sales prices (`/v1/customerSalesPrice`) by record id.
    pub sales_prices: BTreeMap<i32, SalesPrice>,
    pub series: Series,
}

impl Company {
    pub fn next_internal_id(&mut self) -> i32 {
        let id = self.series.internal_id;
        self.series.internal_id += 1;
        id
    }

    pub fn main_branch(&self) -> &Branch {
        self.branches
            .iter()
            .find(|b| b.is_main)
            .unwrap_or(&self.branches[0])
    }

    pub fn vat(&self, id: &str) -> Option<&Vat> {
        self.vats.iter().find(|v| v.id == id)
    }

    pub fn vat_category(&self, id: &str) -> Option<&VatCategory> {
        self.vat_categories.iter().find(|v| v.id == id)
    }

    pub fn vat_zone(&self, id: &str) -> Option<&VatZone> {
        self.vat_zones.iter().find(|v| v.id == id)
    }

    pub fn branch(&self, number: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.number == number)
    }

    pub fn warehouse(&self, id: &str) -> Option<&Warehouse> {
        self.warehouses.iter().find(|w| w.id == id)
    }

    pub fn currency(&self, id: &str) -> Option<&Currency> {
        self.currencies.iter().find(|c| c.id == id)
    }

    pub fn credit_term(&self, id: &str) -> Option<&CreditTerm> {
        self.credit_terms.iter().find(|c| c.id == id)
    }

    pub fn payment_method(&self, id: &str) -> Option<&PaymentMethod> {
        self.payment_methods.iter().find(|c| c.id == id)
    }

    /// Rate to convert `currency` into the base currency on `date`: the latest effective
    /// rate of type SPOT on or before that date (direct, or the inverse of the reverse pair).
    pub fn rate_to_base(&self, currency: &str, date: NaiveDate) -> Option<Decimal> {
        if currency == self.base_currency {
            return Some(Decimal::ONE);
        }
        let pick = |from: &str, to: &str| {
            self.rates
                .iter()
                .filter(|r| r.from == from && r.to == to && r.effective <= date)
                .max_by_key(|r| r.effective)
                .map(|r| {
                    if r.mult_div == "Divide" && !r.rate.is_zero() {
                        Decimal::ONE / r.rate
                    } else {
                        r.rate
                    }
                })
        };
        pick(currency, &self.base_currency).or_else(|| {
            pick(&self.base_currency, currency)
                .filter(|r| !r.is_zero())
                .map(|r| (Decimal::ONE / r).round_dp(8))
        })
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub struct State {
    pub companies: Vec<Company>,
}
