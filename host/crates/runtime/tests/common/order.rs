//! A realistic canonical order built from the WIT types directly (shared by the tests and the
//! benchmark): a Norwegian B2C order with `lines` product lines, a coupon on the first line,
//! 25 % VAT and shipping.

use ledgerlink_runtime::MappingTables;
use ledgerlink_runtime::types::*;

pub fn address() -> Address {
    Address {
        first_name: "Kari".into(),
        last_name: "Nordmann".into(),
        company: "Nordmann AS".into(),
        street_1: "Storgata 1".into(),
        street_2: String::new(),
        city: "Oslo".into(),
        state: String::new(),
        zip: "0155".into(),
        country: "Norway".into(),
        country_iso2: "NO".into(),
        phone: "+47 22 00 00 00".into(),
        email: "kari@example.com".into(),
    }
}

fn cost(ex: i64) -> Cost {
    Cost {
        ex_tax: ex,
        inc_tax: ex * 125 / 100,
        tax: ex * 25 / 100,
        tax_class_id: Some(0),
    }
}

pub fn order(id: u64, lines: usize) -> Order {
    let lines: Vec<OrderLine> = (0..lines)
        .map(|i| {
            let unit = 10_000 + 1_250 * i as i64;
            let qty = 1 + (i as i64 % 3);
            OrderLine {
                id: 100 + i as u64,
                product_id: 1_000 + i as u64,
                variant_id: Some(5_000 + i as u64),
                sku: format!("SKU-{i:04}"),
                name: format!("Product number {i} with a longer descriptive name"),
                quantity: Decimal {
                    digits: qty,
                    scale: 0,
                },
                quantity_shipped: Decimal {
                    digits: 0,
                    scale: 0,
                },
                quantity_refunded: Decimal {
                    digits: 0,
                    scale: 0,
                },
                unit_price_ex_tax: unit,
                unit_price_inc_tax: unit * 125 / 100,
                total_ex_tax: unit * qty,
                total_inc_tax: unit * qty * 125 / 100,
                total_tax: unit * qty * 25 / 100,
                tax_class_id: Some(1),
                tax_rate: Some(Decimal {
                    digits: 25,
                    scale: 0,
                }),
                discounts: if i == 0 {
                    vec![LineDiscount {
                        name: "Spring sale".into(),
                        code: Some("SPRING10".into()),
                        amount: 1_000,
                    }]
                } else {
                    Vec::new()
                },
                parent_line_id: None,
                options: vec![
                    ("Size".into(), "M".into()),
                    ("Colour".into(), "Blue".into()),
                ],
                weight: Some(Decimal {
                    digits: 15,
                    scale: 1,
                }),
            }
        })
        .collect();
    let subtotal: i64 = lines.iter().map(|l| l.total_ex_tax).sum();
    let taxes = lines
        .iter()
        .map(|l| TaxLine {
            order_line_id: Some(l.id),
            line_type: "item".into(),
            tax_class_id: Some(1),
            name: "MVA".into(),
            rate: Decimal {
                digits: 25,
                scale: 0,
            },
            amount: l.total_tax,
        })
        .collect();
    let shipping = cost(9_900);
    let total_ex = subtotal - 1_000 + shipping.ex_tax;
    Order {
        id,
        channel_id: 1,
        status_id: 11,
        status: "Awaiting Fulfillment".into(),
        created_at: "2026-11-20T10:15:00Z".into(),
        modified_at: "2026-11-20T10:16:00Z".into(),
        currency: "NOK".into(),
        default_currency: "NOK".into(),
        exchange_rate: Decimal {
            digits: 1,
            scale: 0,
        },
        prices_include_tax: false,
        customer: Customer {
            bc_customer_id: 42,
            email: "kari@example.com".into(),
            first_name: "Kari".into(),
            last_name: "Nordmann".into(),
            company: "Nordmann AS".into(),
            phone: "+47 22 00 00 00".into(),
            customer_group_id: None,
            customer_group_name: None,
            tax_exempt_category: None,
            visma_customer_number: Some("10042".into()),
        },
        billing_address: address(),
        shipping_addresses: vec![ShippingAddress {
            id: 7,
            address: address(),
            shipping_method: "Bring Pakke i postkassen".into(),
            shipping_zone_name: "Norway".into(),
            cost_ex_tax: shipping.ex_tax,
            cost_inc_tax: shipping.inc_tax,
            cost_tax: shipping.tax,
            items_total: 1,
            items_shipped: 0,
        }],
        lines,
        taxes,
        shipping,
        handling: cost(0),
        wrapping: cost(0),
        fees: Vec::new(),
        coupons: vec![Coupon {
            code: "SPRING10".into(),
            coupon_type: "per_item_discount".into(),
            amount: 1_000,
        }],
        discount_amount: 1_000,
        coupon_discount: 1_000,
        subtotal_ex_tax: subtotal,
        subtotal_inc_tax: subtotal * 125 / 100,
        total_ex_tax: total_ex,
        total_inc_tax: total_ex * 125 / 100,
        total_tax: total_ex * 25 / 100,
        store_credit_amount: 0,
        gift_certificate_amount: 0,
        payment_method: "Klarna".into(),
        payment_provider_id: "klarna-123".into(),
        payment_status: "captured".into(),
        customer_message: "Please leave at the door".into(),
        staff_notes: String::new(),
        po_number: None,
        external_id: None,
        raw_json: None,
    }
}

pub fn context(settings: &[(&str, &str)]) -> Context {
    Context {
        legal_entity: "le-1".into(),
        store_hash: "abc123".into(),
        channel_id: 1,
        currency: "NOK".into(),
        base_currency: "NOK".into(),
        branch: Some("1".into()),
        settings: settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

pub fn tables() -> MappingTables {
    MappingTables::from([
        (
            "tax-class→vat-category",
            &[("1", "3"), ("0", "3"), ("shipping", "3")][..],
        ),
        ("payment-method", &[("Klarna", "KLARNA")][..]),
        ("gl-account", &[("freight", "3020")][..]),
    ])
}
