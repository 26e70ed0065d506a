//! The standard mapping run natively against the SDK's fake host.

use ledgerlink_sdk::testing::{FakeHost, context, line, order, recompute_totals};
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Decimal, decimal};
use ledgerlink_standard::{credit, customer, item, order as order_map, stock};

fn host() -> FakeHost {
    FakeHost::new()
        .with("vat-category", "1", "SE25")
        .with("vat-category", "2", "SE12")
        .with("vat-category", "rate:0", "SE0")
        .with("payment-method", "Credit Card", "CARD")
}

const SETTINGS: &[(&str, &str)] = &[
    ("rounding-account", "3740"),
    ("freight-account", "3520"),
    ("fee-account", "3590"),
    ("discount-account", "3731"),
];

fn invoice(doc: SalesDocument) -> CustomerInvoice {
    match doc {
        SalesDocument::Invoice(i) => i,
        SalesDocument::SalesOrder(_) => panic!("expected an invoice"),
    }
}

/// Net lines + VAT = total. VAT-inclusive lines are turned net one by one (Visma adds VAT on
/// the net sums), so their gross sum may be off the total by a minor unit per line.
fn amounts_add_up(lines: &[DocumentLine], vat: Minor, total: Minor, inclusive: bool) {
    let sum: Minor = lines.iter().map(|l| l.line_amount).sum();
    if inclusive {
        assert!(
            (sum - total).abs() <= lines.len() as Minor,
            "gross lines {sum} are more than rounding off the total {total}"
        );
    } else {
        assert_eq!(sum + vat, total, "lines {sum} + vat {vat} != total {total}");
    }
}

#[test]
fn per_line_rounding_gets_a_rounding_line_to_the_cent() {
    // Three lines of 0.13 at 12 %: BigCommerce rounds tax per line (3 × 0.02), Visma per
    // category on 0.39 (0.05): one cent apart.
    let o = order(
        1,
        vec![
            line(1, "A", 1, 13, 12, 2),
            line(2, "B", 1, 13, 12, 2),
            line(3, "C", 1, 13, 12, 2),
        ],
    );
    assert_eq!(o.total_inc_tax, 45);
    let inv = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, None).unwrap());
    let rounding: Vec<_> = inv
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Rounding)
        .collect();
    assert_eq!(rounding.len(), 1);
    assert_eq!(rounding[0].line_amount, 1);
    assert_eq!(rounding[0].account.as_deref(), Some("3740"));
    assert_eq!(rounding[0].vat_category_id, "SE0");
    assert_eq!((inv.expected_total, inv.expected_vat), (45, 5));
    amounts_add_up(&inv.lines, inv.expected_vat, inv.expected_total, false);
}

#[test]
fn order_with_discount_shipping_and_fee_balances() {
    let mut o = order(
        2,
        vec![
            line(1, "SKU-1", 2, 10000, 25, 1),
            line(2, "SKU-2", 1, 4990, 12, 2),
        ],
    );
    o.lines[0].discounts.push(LineDiscount {
        name: "Coupon".into(),
        code: Some("SAVE10".into()),
        amount: 2000,
    });
    o.discount_amount = 2000;
    o.shipping = Cost {
        ex_tax: 4900,
        inc_tax: 6125,
        tax: 1225,
        tax_class_id: Some(1),
    };
    o.fees.push(Fee {
        id: 9,
        name: "Small order fee".into(),
        ex_tax: 500,
        inc_tax: 625,
        tax: 125,
        tax_class_id: Some(1),
    });
    // Tax on the discounted line: 18000 × 25 %.
    o.lines[0].total_tax = 4500;
    recompute_totals(&mut o);
    let inv = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, None).unwrap());
    assert_eq!(inv.lines.len(), 4);
    assert_eq!(inv.lines[0].discount_amount, 2000);
    assert_eq!(inv.lines[0].line_amount, 18000);
    assert_eq!(inv.lines[2].kind, LineKind::Freight);
    assert_eq!(inv.lines[3].kind, LineKind::Fee);
    assert_eq!(inv.payment_method_id.as_deref(), Some("CARD"));
    assert_eq!(inv.expected_total, o.total_inc_tax);
    amounts_add_up(&inv.lines, inv.expected_vat, inv.expected_total, false);
}

#[test]
fn order_level_discount_is_spread_over_lines_or_posted_separately() {
    let mut o = order(
        3,
        vec![
            line(1, "A", 1, 6000, 25, 1),
            line(2, "B", 1, 3000, 25, 1),
            line(3, "C", 1, 1000, 25, 1),
        ],
    );
    o.discount_amount = 1000;
    for l in &mut o.lines {
        l.total_tax = l.total_ex_tax * 9 / 10 / 4;
    }
    recompute_totals(&mut o);
    let inv = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, None).unwrap());
    let discounts: Vec<Minor> = inv.lines.iter().map(|l| l.discount_amount).collect();
    assert_eq!(discounts, vec![600, 300, 100]);
    amounts_add_up(&inv.lines, inv.expected_vat, inv.expected_total, false);

    let mut settings = SETTINGS.to_vec();
    settings.push(("discount-mode", "separate-line"));
    let inv = invoice(order_map::map_order(&host(), &context(&settings), &o, None).unwrap());
    let d: Vec<_> = inv
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Discount)
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].line_amount, d[0].account.as_deref()),
        (-1000, Some("3731"))
    );
    assert!(inv.lines.iter().all(|l| l.discount_amount == 0));
    assert_eq!(inv.expected_total, o.total_inc_tax);
}

#[test]
fn missing_vat_mapping_is_a_precise_error() {
    let o = order(
        4,
        vec![line(1, "A", 1, 1000, 25, 1), line(2, "B", 1, 1000, 6, 7)],
    );
    let errs = order_map::map_order(&host(), &context(SETTINGS), &o, None).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "lines[1].tax-class-id");
    assert_eq!(errs[0].code, "missing-vat-mapping");
    assert!(
        errs[0].message.contains("\"7\"") && errs[0].message.contains("rate:6"),
        "{}",
        errs[0].message
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut o = order(5, vec![line(1, "", 1, 1000, 25, 1)]);
    o.customer.visma_customer_number = None;
    o.payment_method = "Bitcoin".into();
    o.shipping = Cost {
        ex_tax: 100,
        inc_tax: 125,
        tax: 25,
        tax_class_id: Some(1),
    };
    recompute_totals(&mut o);
    let errs = order_map::map_order(&host(), &context(&[]), &o, None).unwrap_err();
    let codes: Vec<&str> = errs.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        vec![
            "missing-customer-number",
            "missing-payment-method-mapping",
            "missing-sku",
            "missing-setting"
        ]
    );
    assert_eq!(errs[3].path, "settings.freight-account");
}

#[test]
fn shipment_invoice_takes_only_shipped_quantities() {
    let mut o = order(
        6,
        vec![line(1, "A", 4, 2500, 25, 1), line(2, "B", 1, 1000, 25, 1)],
    );
    o.shipping = Cost {
        ex_tax: 400,
        inc_tax: 500,
        tax: 100,
        tax_class_id: Some(1),
    };
    recompute_totals(&mut o);
    o.lines[0].quantity_shipped = decimal::integer(3);
    let s = Shipment {
        id: 77,
        created_at: "2026-11-03T08:00:00Z".into(),
        tracking_number: "T1".into(),
        shipping_method: "Post".into(),
        items: vec![ShipmentItem {
            order_line_id: 1,
            quantity: decimal::integer(3),
        }],
    };
    let inv = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, Some(&s)).unwrap());
    assert_eq!(inv.external_reference, "bc:teststore:order:6:shipment:77");
    assert_eq!(inv.document_date, "2026-11-03");
    assert_eq!(
        inv.lines.len(),
        2,
        "item line and freight on the first shipment"
    );
    assert_eq!(
        decimal::to_decimal(&inv.lines[0].quantity).unwrap(),
        Decimal::from(3)
    );
    assert_eq!(inv.lines[0].line_amount, 7500);
    amounts_add_up(&inv.lines, inv.expected_vat, inv.expected_total, false);

    // The second shipment: line 1 had 3 shipped before, now 4 of 4; line 2 too.
    o.lines[0].quantity_shipped = decimal::integer(4);
    o.lines[1].quantity_shipped = decimal::integer(1);
    let s2 = Shipment {
        id: 78,
        items: vec![
            ShipmentItem {
                order_line_id: 1,
                quantity: decimal::integer(1),
            },
            ShipmentItem {
                order_line_id: 2,
                quantity: decimal::integer(1),
            },
        ],
        ..s.clone()
    };
    let inv2 = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, Some(&s2)).unwrap());
    assert!(inv2.lines.iter().all(|l| l.kind == LineKind::Item));
    assert_eq!(inv.expected_total + inv2.expected_total, o.total_inc_tax);

    let bad = Shipment {
        items: vec![ShipmentItem {
            order_line_id: 99,
            quantity: decimal::integer(1),
        }],
        ..s
    };
    let errs = order_map::map_order(&host(), &context(SETTINGS), &o, Some(&bad)).unwrap_err();
    assert_eq!(
        (errs[0].path.as_str(), errs[0].code.as_str()),
        ("shipment.items[0].order-line-id", "unknown-order-line")
    );
}

#[test]
fn tax_inclusive_store_posts_a_vat_inclusive_document() {
    let mut o = order(7, vec![line(1, "A", 3, 799, 25, 1)]);
    o.prices_include_tax = true;
    let l = &mut o.lines[0];
    l.unit_price_inc_tax = 999;
    l.total_inc_tax = 2997;
    l.total_tax = 599;
    l.total_ex_tax = 2398;
    recompute_totals(&mut o);
    let inv = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, None).unwrap());
    assert!(inv.vat_inclusive);
    assert_eq!(inv.lines[0].line_amount, 2997);
    // Visma posts the line net: 29.97 − 5.99 (VAT in it) = 23.98, and adds 25 % on that:
    // 6.00 (5.995 rounded). 29.98 is a cent over the shop's 29.97: a VAT-free −0.01 line.
    assert_eq!(inv.expected_total, 2997);
    assert_eq!(inv.expected_vat, 600);
    assert_eq!(inv.lines.len(), 2);
    assert_eq!(inv.lines[1].kind, LineKind::Rounding);
    assert_eq!(inv.lines[1].line_amount, -1);
    assert_eq!(decimal::value(&inv.lines[1].quantity), (-1).into());
    assert_eq!(decimal::value(&inv.lines[1].unit_price).to_string(), "0.01");
    amounts_add_up(&inv.lines, inv.expected_vat, inv.expected_total, true);
}

#[test]
fn sales_order_and_guest_customer() {
    let mut o = order(8, vec![line(1, "A", 1, 1000, 25, 1)]);
    o.customer.bc_customer_id = 0;
    o.customer.visma_customer_number = None;
    o.po_number = Some("PO-123".into());
    let mut settings = SETTINGS.to_vec();
    settings.extend([
        ("document-type", "sales-order"),
        ("guest-customer-number", "GUEST"),
        ("order-type", "WO"),
    ]);
    match order_map::map_order(&host(), &context(&settings), &o, None).unwrap() {
        SalesDocument::SalesOrder(so) => {
            assert_eq!(so.order_type, "WO");
            assert_eq!(so.customer_number, "GUEST");
            assert_eq!(so.customer_order, "PO-123");
        }
        other => panic!("{other:?}"),
    }
    let c = customer::map_customer(&host(), &context(&settings), &o).unwrap();
    assert_eq!(c.number.as_deref(), Some("GUEST"));
    assert_eq!(c.external_reference, "bc:teststore:guest:anna@example.com");
}

fn refund(o: &Order, kind: RefundKind, total: Minor, items: Vec<RefundItem>) -> Refund {
    Refund {
        id: 31,
        kind,
        created_at: "2026-11-10T09:00:00Z".into(),
        currency: o.currency.clone(),
        total,
        reason: "Damaged".into(),
        items,
        order: o.clone(),
        original_document: Some(DocumentRef {
            document_type: "invoice".into(),
            number: "100042".into(),
        }),
        already_credited: Vec::new(),
    }
}

fn product_item(id: u64, qty: i64, amount: Minor) -> RefundItem {
    RefundItem {
        item_type: RefundItemType::Product,
        item_id: id,
        quantity: Some(decimal::integer(qty)),
        amount,
        restock: true,
        reason: String::new(),
    }
}

#[test]
fn partial_refund_credits_units_at_their_invoiced_price() {
    let o = order(9, vec![line(1, "A", 3, 1000, 25, 1)]);
    let r = refund(&o, RefundKind::Refund, 1250, vec![product_item(1, 1, 1250)]);
    let cn = credit::map_credit_note(&host(), &context(SETTINGS), &r).unwrap();
    assert_eq!(cn.original_invoice_number, "100042");
    assert_eq!(cn.external_reference, "bc:teststore:refund:31");
    assert_eq!(cn.lines[0].line_amount, 1000);
    assert_eq!((cn.expected_total, cn.expected_vat), (1250, 250));

    let mut twice = r.clone();
    twice.already_credited = vec![(1, decimal::integer(3))];
    let errs = credit::map_credit_note(&host(), &context(SETTINGS), &twice).unwrap_err();
    assert_eq!(
        (errs[0].path.as_str(), errs[0].code.as_str()),
        ("items[0].quantity", "over-credit")
    );

    let mut unlinked = r;
    unlinked.original_document = None;
    let errs = credit::map_credit_note(&host(), &context(SETTINGS), &unlinked).unwrap_err();
    assert_eq!(errs[0].code, "missing-original-document");
}

#[test]
fn cancellation_credits_what_was_not_credited_yet() {
    let mut o = order(
        10,
        vec![line(1, "A", 3, 1000, 25, 1), line(2, "B", 1, 500, 25, 1)],
    );
    o.shipping = Cost {
        ex_tax: 400,
        inc_tax: 500,
        tax: 100,
        tax_class_id: Some(1),
    };
    recompute_totals(&mut o);
    let mut r = refund(&o, RefundKind::Cancellation, 0, Vec::new());
    r.id = 0;
    let full = credit::map_credit_note(&host(), &context(SETTINGS), &r).unwrap();
    assert_eq!(full.expected_total, o.total_inc_tax);
    assert_eq!(
        full.external_reference,
        "bc:teststore:order:10:cancellation"
    );

    r.already_credited = vec![(1, decimal::integer(2))];
    let rest = credit::map_credit_note(&host(), &context(SETTINGS), &r).unwrap();
    assert_eq!(
        decimal::to_decimal(&rest.lines[0].quantity).unwrap(),
        Decimal::ONE
    );
    assert_eq!(rest.lines[0].line_amount, 1000);
    amounts_add_up(&rest.lines, rest.expected_vat, rest.expected_total, false);
}

#[test]
fn shipping_only_and_order_amount_refunds() {
    let mut o = order(11, vec![line(1, "A", 1, 1000, 25, 1)]);
    o.shipping = Cost {
        ex_tax: 400,
        inc_tax: 500,
        tax: 100,
        tax_class_id: Some(1),
    };
    recompute_totals(&mut o);
    let items = vec![
        RefundItem {
            item_type: RefundItemType::Shipping,
            item_id: 5,
            quantity: None,
            amount: 500,
            restock: false,
            reason: String::new(),
        },
        RefundItem {
            item_type: RefundItemType::Order,
            item_id: 11,
            quantity: None,
            amount: 300,
            restock: false,
            reason: "Goodwill".into(),
        },
    ];
    let r = refund(&o, RefundKind::Refund, 800, items);
    let mut settings = SETTINGS.to_vec();
    settings.push(("refund-account", "3790"));
    let cn = credit::map_credit_note(&host(), &context(&settings), &r).unwrap();
    assert_eq!(cn.lines[0].kind, LineKind::Freight);
    assert_eq!(cn.lines[0].line_amount, 400);
    assert_eq!(
        (
            cn.lines[1].line_amount,
            cn.lines[1].vat_category_id.as_str()
        ),
        (300, "SE0")
    );
    assert_eq!((cn.expected_total, cn.expected_vat), (800, 100));
}

fn product() -> Product {
    Product {
        product_id: 192,
        variant_id: Some(383),
        sku: "SMIT-1".into(),
        name: "Smith Journal".into(),
        description: String::new(),
        currency: "EUR".into(),
        price: 2500,
        sale_price: Some(2000),
        cost_price: Some(1200),
        retail_price: None,
        tax_class_id: 1,
        tax_class_name: "Standard".into(),
        weight: Some(decimal::integer(2)),
        gtin: String::new(),
        mpn: String::new(),
        is_visible: true,
        inventory_tracking: InventoryTracking::Variant,
        options: vec![("Color".into(), "Grey".into())],
        custom_fields: Vec::new(),
        price_records: vec![PriceRecord {
            price_list_id: 2,
            price_list_name: "Wholesale".into(),
            currency: "EUR".into(),
            price: 1800,
            sale_price: None,
        }],
    }
}

#[test]
fn items_carry_vat_category_uom_and_price_classes() {
    let h = host()
        .with("uom", "SMIT-1", "PCS")
        .with("price-class", "2", "WHOLESALE");
    let it = item::map_item(&h, &context(SETTINGS), &product()).unwrap();
    assert_eq!(it.number, "SMIT-1");
    assert_eq!(it.description, "Smith Journal (Color: Grey)");
    assert_eq!(
        (
            it.vat_category_id.as_str(),
            it.base_uom.as_str(),
            it.item_type.as_str()
        ),
        ("SE25", "PCS", "stock")
    );
    assert_eq!(it.price_class_prices[0].price_class_id, "WHOLESALE");
    assert_eq!(
        decimal::to_decimal(&it.default_price).unwrap(),
        Decimal::from(25)
    );
    assert_eq!(
        it.external_reference,
        "bc:teststore:product:192:variant:383"
    );

    let errs = item::map_item(&host(), &context(SETTINGS), &product()).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, vec!["sku", "price-records[0].price-list-id"]);
}

fn level(item: &str, wh: &str, avail: i64, tracking: InventoryTracking) -> StockLevel {
    StockLevel {
        item_number: item.into(),
        warehouse: wh.into(),
        available: decimal::wit(avail * 10 + 5, 1),
        on_hand: decimal::integer(avail + 2),
        modified_at: "2026-11-01T00:00:00Z".into(),
        bc_product_id: Some(192),
        bc_variant_id: Some(383),
        tracking,
    }
}

#[test]
fn stock_goes_to_mapped_locations_by_tracking() {
    let h = host()
        .with("warehouse", "MAIN", "1")
        .with("warehouse", "STORE", "1")
        .with("warehouse", "EU", "2");
    let levels = vec![
        level("SMIT-1", "MAIN", 4, InventoryTracking::Variant),
        level("SMIT-1", "STORE", 3, InventoryTracking::Variant),
        level("SMIT-1", "EU", -2, InventoryTracking::Variant),
        level("JAR", "MAIN", 9, InventoryTracking::None),
        level("BOX", "MAIN", 5, InventoryTracking::Product),
    ];
    let adj = stock::map_stock(&h, &context(&[]), &levels).unwrap();
    let got: Vec<(u64, Option<u64>, Option<u64>, i64)> = adj
        .iter()
        .map(|a| (a.location_id, a.product_id, a.variant_id, a.quantity))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, None, Some(383), 7),
            (2, None, Some(383), 0),
            (1, Some(192), None, 5)
        ]
    );

    let levels = vec![level("SMIT-1", "FAR", 1, InventoryTracking::Variant)];
    let errs = stock::map_stock(&h, &context(&[]), &levels).unwrap_err();
    assert_eq!(
        (errs[0].path.as_str(), errs[0].code.as_str()),
        ("levels[0].warehouse", "missing-warehouse-mapping")
    );
    assert!(
        stock::map_stock(&h, &context(&[("unmapped-warehouses", "skip")]), &levels)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_taxed_rounding_category_still_hits_the_total() {
    // As order-rounding-line: BigCommerce 0.01 above Visma; the entity books rounding to the
    // 12 % category the lines use, so the rounding line carries VAT too.
    let o = order(
        12,
        vec![
            line(1, "A", 1, 13, 12, 2),
            line(2, "B", 1, 13, 12, 2),
            line(3, "C", 1, 13, 12, 2),
        ],
    );
    let mut settings = SETTINGS.to_vec();
    settings.push(("rounding-vat-category", "SE12"));
    let inv = invoice(order_map::map_order(&host(), &context(&settings), &o, None).unwrap());
    let r = inv
        .lines
        .iter()
        .find(|l| l.kind == LineKind::Rounding)
        .expect("rounding line");
    assert_eq!(r.vat_category_id, "SE12");
    assert_eq!(inv.expected_total, o.total_inc_tax);
    // Visma: VAT on 0.39 + rounding, per category.
    let net: Minor = inv.lines.iter().map(|l| l.line_amount).sum();
    assert_eq!(
        inv.expected_vat,
        ledgerlink_sdk::tax::vat_on_net(net, Decimal::from(12))
    );
    amounts_add_up(&inv.lines, inv.expected_vat, inv.expected_total, false);
}

#[test]
fn partial_documents_add_up_to_the_line_exactly() {
    // 3 units of 10.00 with a 1.00 discount: thirds of 100 would round to 33 + 33 + 33.
    let mut o = order(13, vec![line(1, "A", 3, 1000, 25, 1)]);
    o.lines[0].discounts.push(LineDiscount {
        name: "Coupon".into(),
        code: None,
        amount: 100,
    });
    o.discount_amount = 100;
    recompute_totals(&mut o);
    let mut discounts = 0;
    for n in 1..=3 {
        o.lines[0].quantity_shipped = decimal::integer(n);
        let s = Shipment {
            id: 100 + n as u64,
            created_at: "2026-11-03T08:00:00Z".into(),
            tracking_number: String::new(),
            shipping_method: String::new(),
            items: vec![ShipmentItem {
                order_line_id: 1,
                quantity: decimal::integer(1),
            }],
        };
        let inv = invoice(order_map::map_order(&host(), &context(SETTINGS), &o, Some(&s)).unwrap());
        discounts += inv.lines[0].discount_amount;
    }
    assert_eq!(discounts, 100);

    let mut credited = 0;
    let mut r = refund(&o, RefundKind::Refund, 0, vec![product_item(1, 1, 0)]);
    for n in 0..3 {
        r.already_credited = vec![(1, decimal::integer(n))];
        r.total = 0;
        let mut settings = SETTINGS.to_vec();
        settings.push(("rounding-tolerance", "100000"));
        let cn = credit::map_credit_note(&host(), &context(&settings), &r).unwrap();
        credited += cn.lines[0].line_amount;
    }
    assert_eq!(credited, 3000 - 100);
}
