//! Deterministic seed data. Two companies (two legal entities): a Swedish company in SEK with
//! a Nordic VAT set-up (25/12/6/0 %) and two branches and three warehouses, and a Finnish
//! company in EUR with an EU VAT set-up (24/14/10/0 %). `Seed::Empty` keeps the companies'
//! configuration (branches, warehouses, VAT, currencies, terms, payment methods — what a
//! freshly set-up company has) but no customers, items, stock or documents.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::state::*;

pub const SE_TENANT: &str = "0d5e9a3c-1f2b-4c6d-8e7f-5a6b7c8d9e01";
pub const FI_TENANT: &str = "0d5e9a3c-1f2b-4c6d-8e7f-5a6b7c8d9e02";

/// The guest customer every web-shop order without an ERP customer is booked on.
pub const GUEST_CUSTOMER: &str = "10000";

/// One demo item: number (equal to the BigCommerce demo SKU), description, net price in SEK
/// and EUR, VAT category and whether it is stocked.
#[derive(Debug, Clone)]
pub struct DemoSku {
    pub sku: &'static str,
    pub description: String,
    pub price_sek: Decimal,
    pub price_eur: Decimal,
    pub vat_category: &'static str,
    pub stocked: bool,
}

/// BigCommerce tax class → ERP VAT category (the BigCommerce demo store's classes: 0 default
/// 25 %, 1 non-taxable, 4 food 12 %, 5 books 6 %).
fn category_of(tax_class: u64) -> (&'static str, Decimal) {
    match tax_class {
        1 => ("ZERO", Decimal::ZERO),
        4 => ("MEDIUM", Decimal::new(12, 0)),
        5 => ("LOW", Decimal::new(6, 0)),
        _ => ("HIGH", Decimal::new(25, 0)),
    }
}

/// The ERP items matching the BigCommerce demo catalogue
/// ([`crate::bigcommerce::seed::demo_skus`]): same SKUs, same order. BigCommerce prices include
/// Swedish VAT; the ERP keeps net prices, so VAT is taken out, and EUR prices use the Finnish
/// company's SEK→EUR rate and its own VAT rates.
pub fn demo_skus() -> Vec<DemoSku> {
    use crate::bigcommerce::seed::{SIMPLE_PRODUCTS, VARIANT_PRODUCTS};
    let eur_rate = Decimal::new(893, 4);
    let fi_rate = |category: &str| match category {
        "ZERO" => Decimal::ZERO,
        "MEDIUM" => Decimal::new(14, 0),
        "LOW" => Decimal::new(10, 0),
        _ => Decimal::new(24, 0),
    };
    let net = |gross: Decimal, pct: Decimal| {
        super::wire::round2(gross / (Decimal::ONE + pct / Decimal::ONE_HUNDRED))
    };
    let make = |sku: &'static str, description: String, price: i64, class: u64| {
        let (vat_category, se_pct) = category_of(class);
        let gross = Decimal::from(price);
        DemoSku {
            sku,
            description,
            price_sek: net(gross, se_pct),
            price_eur: net(gross * eur_rate, fi_rate(vat_category)),
            vat_category,
            stocked: class != 1,
        }
    };
    let mut out: Vec<DemoSku> = SIMPLE_PRODUCTS
        .iter()
        .map(|(sku, name, price, class, _)| make(sku, name.to_string(), *price, *class))
        .collect();
    for (_, name, price, option, variants) in VARIANT_PRODUCTS.iter() {
        for (sku, label) in variants {
            out.push(make(sku, format!("{name} {option} {label}"), *price, 0));
        }
    }
    out
}

fn dec(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

fn seed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn companies(demo: bool) -> Vec<Company> {
    let mut se = sweden();
    let mut fi = finland();
    if demo {
        demo_data(&mut se, |s| s.price_sek);
        demo_data(&mut fi, |s| s.price_eur);
    }
    vec![se, fi]
}

fn vat(id: &str, description: &str, rate: i64) -> Vat {
    Vat {
        id: id.into(),
        description: description.into(),
        rate: Decimal::from(rate),
    }
}

fn category(id: &str, description: &str, vat_id: &str) -> VatCategory {
    VatCategory {
        id: id.into(),
        description: description.into(),
        vat_id: vat_id.into(),
    }
}

fn currency(id: &str, description: &str, symbol: &str) -> Currency {
    Currency {
        id: id.into(),
        description: description.into(),
        symbol: symbol.into(),
        decimals: 2,
    }
}

fn rate(id: u64, from: &str, to: &str, effective: NaiveDate, rate: Decimal) -> CurrencyRate {
    CurrencyRate {
        id: id.to_string(),
        from: from.into(),
        to: to.into(),
        rate_type: "SPOT".into(),
        effective,
        rate,
        mult_div: "Multiply".into(),
    }
}

fn common_terms() -> Vec<CreditTerm> {
    let t = |id: &str, description: &str, due_days, discount| CreditTerm {
        id: id.into(),
        description: description.into(),
        due_days,
        discount_percent: discount,
    };
    vec![
        t("0D", "Paid in advance", 0, Decimal::ZERO),
        t("14D", "14 days net", 14, Decimal::ZERO),
        t("30D", "30 days net", 30, Decimal::ZERO),
        t("10D2", "2 % 10 days, 30 days net", 30, dec(2, 0)),
    ]
}

fn common_payment_methods() -> Vec<PaymentMethod> {
    let p = |id: &str, description: &str, means: &str| PaymentMethod {
        id: id.into(),
        description: description.into(),
        means: means.into(),
    };
    vec![
        p("CARD", "Card payment (web shop)", "CreditCard"),
        p("INVOICE", "Invoice / bank transfer", "DirectDeposit"),
        p("KLARNA", "Klarna", "DirectDeposit"),
        p("CASH", "Cash", "CashOrCheck"),
    ]
}

fn sweden() -> Company {
    let rates = vec![
        rate(1, "EUR", "SEK", date(2025, 1, 1), dec(1150, 2)),
        rate(2, "EUR", "SEK", date(2026, 1, 1), dec(1120, 2)),
        rate(3, "USD", "SEK", date(2026, 1, 1), dec(1050, 2)),
        rate(4, "NOK", "SEK", date(2026, 1, 1), dec(98, 2)),
        rate(5, "DKK", "SEK", date(2026, 1, 1), dec(150, 2)),
    ];
    let mut c = Company {
        tenant_id: SE_TENANT.into(),
        name: "Nordlys Handel AB".into(),
        organization: "1".into(),
        country: "SE".into(),
        base_currency: "SEK".into(),
        vat_registration_id: "SE556677889901".into(),
        invoice_rounding: Decimal::ONE,
        branches: vec![
            Branch {
                number: "1".into(),
                name: "Nordlys Stockholm".into(),
                is_main: true,
                currency: "SEK".into(),
                vat_zone: "SE".into(),
            },
            Branch {
                number: "2".into(),
                name: "Nordlys Göteborg".into(),
                is_main: false,
                currency: "SEK".into(),
                vat_zone: "SE".into(),
            },
        ],
        warehouses: vec![
            Warehouse {
                id: "MAIN".into(),
                description: "Central warehouse Stockholm".into(),
                branch: "1".into(),
                locations: vec!["R1".into(), "R2".into()],
            },
            Warehouse {
                id: "GBG".into(),
                description: "Göteborg store".into(),
                branch: "2".into(),
                locations: vec!["R1".into()],
            },
            Warehouse {
                id: "RETURNS".into(),
                description: "Returns (not for sale)".into(),
                branch: "1".into(),
                locations: vec!["R1".into()],
            },
        ],
        vats: vec![
            vat("SE25", "Utgående moms 25 %", 25),
            vat("SE12", "Utgående moms 12 %", 12),
            vat("SE06", "Utgående moms 6 %", 6),
            vat("SE00", "Momsfri försäljning 0 %", 0),
        ],
        vat_categories: vec![
            category("HIGH", "Standard rate 25 %", "SE25"),
            category("MEDIUM", "Reduced rate 12 %", "SE12"),
            category("LOW", "Reduced rate 6 %", "SE06"),
            category("ZERO", "Exempt 0 %", "SE00"),
        ],
        vat_zones: vec![
            VatZone {
                id: "SE".into(),
                description: "Domestic Sweden".into(),
                default_vat_category: "HIGH".into(),
            },
            VatZone {
                id: "EXPORT".into(),
                description: "Export outside the EU".into(),
                default_vat_category: "ZERO".into(),
            },
        ],
        payment_methods: common_payment_methods(),
        credit_terms: common_terms(),
        currencies: vec![
            currency("SEK", "Svensk krona", "kr"),
            currency("EUR", "Euro", "€"),
            currency("USD", "US dollar", "$"),
            currency("NOK", "Norsk krone", "kr"),
            currency("DKK", "Dansk krone", "kr"),
        ],
        rates,
        customer_classes: vec!["B2C".into(), "B2B".into()],
        item_classes: vec!["GOODS".into(), "SERVICE".into()],
        price_classes: vec!["RETAIL".into(), "B2B".into(), "VIP".into()],
        sales_prices: BTreeMap::new(),
        customers: BTreeMap::new(),
        items: BTreeMap::new(),
        stock: BTreeMap::new(),
        ar_docs: BTreeMap::new(),
        payments: BTreeMap::new(),
        sales_orders: BTreeMap::new(),
        inv_docs: BTreeMap::new(),
        series: Series::default(),
    };
    c.series.currency_rate = c.rates.len() as u64 + 1;
    c
}

fn finland() -> Company {
    let rates = vec![
        rate(1, "SEK", "EUR", date(2026, 1, 1), dec(893, 4)),
        rate(2, "USD", "EUR", date(2026, 1, 1), dec(92, 2)),
    ];
    let mut c = Company {
        tenant_id: FI_TENANT.into(),
        name: "Revontuli Oy".into(),
        organization: "1".into(),
        country: "FI".into(),
        base_currency: "EUR".into(),
        vat_registration_id: "FI12345678".into(),
        invoice_rounding: dec(1, 2),
        branches: vec![Branch {
            number: "1".into(),
            name: "Revontuli Helsinki".into(),
            is_main: true,
            currency: "EUR".into(),
            vat_zone: "FI".into(),
        }],
        warehouses: vec![
            Warehouse {
                id: "HEL".into(),
                description: "Helsinki warehouse".into(),
                branch: "1".into(),
                locations: vec!["A1".into()],
            },
            Warehouse {
                id: "TKU".into(),
                description: "Turku store".into(),
                branch: "1".into(),
                locations: vec!["A1".into()],
            },
        ],
        vats: vec![
            vat("FI24", "ALV 24 %", 24),
            vat("FI14", "ALV 14 %", 14),
            vat("FI10", "ALV 10 %", 10),
            vat("FI00", "ALV 0 %", 0),
        ],
        vat_categories: vec![
            category("HIGH", "General rate 24 %", "FI24"),
            category("MEDIUM", "Reduced rate 14 %", "FI14"),
            category("LOW", "Reduced rate 10 %", "FI10"),
            category("ZERO", "Zero rate 0 %", "FI00"),
        ],
        vat_zones: vec![
            VatZone {
                id: "FI".into(),
                description: "Domestic Finland".into(),
                default_vat_category: "HIGH".into(),
            },
            VatZone {
                id: "EU".into(),
                description: "Intra-EU B2B (reverse charge)".into(),
                default_vat_category: "ZERO".into(),
            },
        ],
        payment_methods: common_payment_methods(),
        credit_terms: common_terms(),
        currencies: vec![
            currency("EUR", "Euro", "€"),
            currency("SEK", "Swedish krona", "kr"),
            currency("USD", "US dollar", "$"),
        ],
        rates,
        customer_classes: vec!["B2C".into(), "B2B".into()],
        item_classes: vec!["GOODS".into(), "SERVICE".into()],
        price_classes: vec!["RETAIL".into(), "B2B".into(), "VIP".into()],
        sales_prices: BTreeMap::new(),
        customers: BTreeMap::new(),
        items: BTreeMap::new(),
        stock: BTreeMap::new(),
        ar_docs: BTreeMap::new(),
        payments: BTreeMap::new(),
        sales_orders: BTreeMap::new(),
        inv_docs: BTreeMap::new(),
        series: Series::default(),
    };
    c.series.currency_rate = c.rates.len() as u64 + 1;
    c
}

fn customer(c: &mut Company, number: &str, name: &str, class: &str, email: &str) {
    let internal_id = c.next_internal_id();
    let t = seed_time();
    let customer = Customer {
        internal_id,
        number: number.into(),
        name: name.into(),
        status: "Active".into(),
        currency: c.base_currency.clone(),
        credit_terms: if class == "B2B" { "30D" } else { "0D" }.into(),
        vat_zone: c.main_branch().vat_zone.clone(),
        customer_class: class.into(),
        address: Address {
            country: Some(c.country.clone()),
            ..Address::default()
        },
        contact: Contact {
            name: Some(name.into()),
            email: Some(email.into()),
            ..Contact::default()
        },
        corporate_id: None,
        vat_registration_id: None,
        account_reference: None,
        note: None,
        default_payment_method: None,
        credit_limit: Decimal::ZERO,
        attributes: BTreeMap::new(),
        created: t,
        modified: t,
        version: 1,
    };
    c.customers.insert(number.into(), customer);
}

fn demo_data(c: &mut Company, price: impl Fn(&DemoSku) -> Decimal) {
    let domain = if c.country == "SE" { "se" } else { "fi" };
    customer(
        c,
        GUEST_CUSTOMER,
        "Web shop guest",
        "B2C",
        &format!("guest@shop.example.{domain}"),
    );
    customer(
        c,
        "10001",
        "Fjällräven Outfitters",
        "B2B",
        &format!("orders@outfitters.example.{domain}"),
    );
    c.series.customer = 10002;

    let t = seed_time();
    let warehouses: Vec<String> = c
        .warehouses
        .iter()
        .filter(|w| w.id != "RETURNS")
        .map(|w| w.id.clone())
        .collect();
    for (i, sku) in demo_skus().iter().enumerate() {
        let internal_id = c.next_internal_id();
        let item = Item {
            internal_id,
            number: sku.sku.into(),
            description: sku.description.clone(),
            status: "Active".into(),
            item_type: if sku.stocked {
                "FinishedGoodItem"
            } else {
                "NonStockItem"
            }
            .into(),
            item_class: if sku.stocked { "GOODS" } else { "SERVICE" }.into(),
            vat_category: sku.vat_category.into(),
            default_price: price(sku),
            base_unit: "PCS".into(),
            default_warehouse: sku.stocked.then(|| warehouses[0].clone()),
            cross_references: Vec::new(),
            attributes: BTreeMap::new(),
            note: None,
            created: t,
            modified: t,
            availability_modified: t,
            version: 1,
        };
        for (w, warehouse) in warehouses.iter().enumerate().filter(|_| sku.stocked) {
            // Deterministic, varied levels; every item has some stock in the first warehouse.
            let qty = ((i as i64 * 7 + w as i64 * 13) % 40) + if w == 0 { 5 } else { 0 };
            c.stock.insert(
                (sku.sku.to_string(), warehouse.clone()),
                Stock {
                    on_hand: Decimal::from(qty),
                    so_booked: Decimal::ZERO,
                    modified: Some(t),
                },
            );
        }
        c.items.insert(sku.sku.into(), item);
    }
    let internal_id = c.next_internal_id();
    c.items.insert(
        "FREIGHT".into(),
        Item {
            internal_id,
            number: "FREIGHT".into(),
            description: "Freight".into(),
            status: "Active".into(),
            item_type: "ChargeItem".into(),
            item_class: "SERVICE".into(),
            vat_category: "HIGH".into(),
            default_price: Decimal::ZERO,
            base_unit: "PCS".into(),
            default_warehouse: None,
            cross_references: Vec::new(),
            attributes: BTreeMap::new(),
            note: None,
            created: t,
            modified: t,
            availability_modified: t,
            version: 1,
        },
    );
}
