use super::*;
use crate::bindings::types::{InventoryTracking, RefundItemType, RefundKind};
use serde_json::{Value, json};

fn example(name: &str) -> Value {
    let path = format!(
        "{}/../../../../shared/specs/bigcommerce/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
}

fn order_180() -> OrderBundle {
    OrderBundle {
        order: json!({"id": 180, "default_currency_code": "SEK", "total_inc_tax": "250.0000", "date_modified": "Mon, 11 Mar 2019 15:17:25 +0000"}),
        products: vec![
            json!({"id": 87, "quantity": 2, "total_inc_tax": "250.0000", "total_ex_tax": "200.0000", "total_tax": "50.0000"}),
        ],
        ..Default::default()
    }
}

#[test]
fn spec_refund_example_becomes_a_refund_with_unit_amounts() {
    let mut refund = example("refund_v3_get.json");
    refund["data"]["order_id"] = json!(180);
    let bundle = RefundBundle {
        refund,
        order: order_180(),
    };
    let extras = RefundExtras {
        already_credited: vec![(87, "0.5".into())],
        ..Default::default()
    };
    let r = build_refund(&bundle, &extras).unwrap();
    assert_eq!(
        (r.id, r.kind, r.total, r.currency.as_str()),
        (12, RefundKind::Refund, 5000, "SEK")
    );
    assert_eq!(r.created_at, "2022-06-16T16:44:15Z");
    assert_eq!(r.items[0].item_type, RefundItemType::Product);
    // A quantity refund: one of two units of a 250.00 line.
    assert_eq!(r.items[0].amount, 12500);
    assert_eq!(r.already_credited[0].1.digits, 5);
}

#[test]
fn refund_for_another_order_and_unknown_item_types_are_refused() {
    let bundle = RefundBundle {
        refund: example("refund_v3_get.json"),
        order: order_180(),
    };
    let mut wrong = bundle.clone();
    wrong.refund["data"]["order_id"] = json!(999);
    assert!(
        build_refund(&wrong, &RefundExtras::default())
            .unwrap_err()
            .to_string()
            .contains("refund.order_id")
    );
    let mut odd = bundle;
    odd.refund["data"]["items"][0]["item_type"] = json!("TAX_REBATE");
    let err = build_refund(&odd, &RefundExtras::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("refund.items[0].item_type"), "{err}");
}

#[test]
fn cancellation_needs_no_refund_payload_and_credits_what_is_left() {
    let mut order = order_180();
    order.shipping_addresses = vec![json!({"id": 5, "cost_inc_tax": "49.0000"})];
    order.products.push(
        json!({"id": 88, "quantity": 1, "total_inc_tax": "0.0000", "parent_order_product_id": 87}),
    );
    let bundle = RefundBundle {
        refund: Value::Null,
        order,
    };
    let extras = RefundExtras {
        kind: CreditKind::Cancellation,
        ..Default::default()
    };
    let r = build_refund(&bundle, &extras).unwrap();
    assert_eq!(
        (r.id, r.kind, r.total),
        (0, RefundKind::Cancellation, 25000)
    );
    // Both units of line 87 and the shipping; the bundle child goes with its parent.
    let items: Vec<_> = r
        .items
        .iter()
        .map(|i| {
            (
                i.item_type,
                i.item_id,
                i.quantity.map(|q| q.digits),
                i.amount,
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            (RefundItemType::Product, 87, Some(2), 25000),
            (RefundItemType::Shipping, 5, None, 4900),
        ]
    );
    assert_eq!(r.created_at, "2019-03-11T15:17:25Z");

    // After a refund of one unit (125.00): one unit left, no shipping, total less the credit.
    let extras = RefundExtras {
        kind: CreditKind::Cancellation,
        already_credited: vec![(87, "1".into())],
        already_credited_total: Some("125.00".into()),
        ..Default::default()
    };
    let r = build_refund(&bundle, &extras).unwrap();
    assert_eq!(r.total, 12500);
    assert_eq!(r.items.len(), 1);
    assert_eq!((r.items[0].item_id, r.items[0].amount), (87, 12500));
    assert_eq!(r.already_credited[0].1.digits, 1);
}

#[test]
fn spec_variants_become_one_product_per_sku_with_their_price_records() {
    let mut product = example("catalog_v3_product_get.json");
    product["data"]["id"] = json!(192);
    product["data"]["inventory_tracking"] = json!("variant");
    let variants: Vec<Value> =
        serde_json::from_value(example("catalog_v3_product_variants_get.json")["data"].clone())
            .unwrap();
    let bundle = ProductBundle {
        product,
        variants,
        price_records: vec![
            json!({"price_list_id": 2, "variant_id": 383, "currency": "eur", "price": 18.5, "sale_price": null}),
        ],
        price_lists: [("2".to_owned(), "Wholesale".to_owned())].into(),
        currency: "EUR".into(),
        ..Default::default()
    };
    let skus = build_products(&bundle).unwrap();
    assert_eq!(
        skus.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(),
        vec!["SMIT", "SMIT-1", "SMIT-2"]
    );
    let grey = &skus[1];
    assert_eq!(
        (grey.variant_id, grey.price, grey.sale_price),
        (Some(383), 2500, Some(2000))
    );
    assert_eq!(grey.options, vec![("Color".to_owned(), "Grey".to_owned())]);
    assert_eq!(grey.inventory_tracking, InventoryTracking::Variant);
    assert_eq!(grey.price_records.len(), 1);
    assert_eq!(
        (
            grey.price_records[0].price,
            grey.price_records[0].price_list_name.as_str()
        ),
        (1850, "Wholesale")
    );
    assert!(skus[2].price_records.is_empty());
}

#[test]
fn a_product_without_options_is_one_sku() {
    let bundle = ProductBundle {
        product: example("catalog_v3_product_get.json"),
        currency: "EUR".into(),
        ..Default::default()
    };
    let p = build_products(&bundle).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(
        (
            p[0].product_id,
            p[0].variant_id,
            p[0].price,
            p[0].sale_price
        ),
        (174, None, 795, None)
    );
    assert_eq!(p[0].inventory_tracking, InventoryTracking::None);
}

#[test]
fn stock_rows_of_one_warehouse_add_up() {
    let bundle: StockBundle = serde_json::from_value(json!({
        "item_number": "SMIT-1", "bc_product_id": 192, "bc_variant_id": 383, "tracking": "variant",
        "summary": [
            {"warehouse": {"id": "MAIN"}, "location": {"id": "L1"}, "available": 12, "onHand": 14},
            {"warehouse": {"id": "MAIN"}, "location": {"id": "L2"}, "available": "3.5", "onHand": 4},
            {"warehouse": {"id": "EU"}, "available": null, "onHand": 1}
        ]
    }))
    .unwrap();
    let levels = build_stock_levels(std::slice::from_ref(&bundle)).unwrap();
    assert_eq!(levels.len(), 2);
    assert_eq!(
        (
            levels[0].warehouse.as_str(),
            levels[0].available.digits,
            levels[0].available.scale
        ),
        ("MAIN", 155, 1)
    );
    assert_eq!(
        (levels[1].available.digits, levels[1].on_hand.digits),
        (0, 1)
    );
    let mut bad = bundle;
    bad.summary
        .push(json!({"warehouse": {"id": "X"}, "available": "lots"}));
    assert!(
        build_stock_levels(&[bad])
            .unwrap_err()
            .to_string()
            .contains("levels[0].summary[3].available")
    );
}

#[test]
fn fixture_files_are_checked_strictly() {
    let ctx = r#""context": {"legal-entity": "e", "store-hash": "s", "currency": "EUR", "base-currency": "EUR"}"#;
    let unknown_call = format!(r#"{{"call": "map-everything", {ctx}, "input": {{}}}}"#);
    assert!(
        Fixture::parse("x", &unknown_call)
            .unwrap_err()
            .to_string()
            .contains("map-everything")
    );
    let typo = format!(r#"{{"call": "map-order", {ctx}, "tabels": {{}}, "input": {{}}}}"#);
    assert!(
        Fixture::parse("x", &typo)
            .unwrap_err()
            .to_string()
            .contains("tabels")
    );
    let bad_input =
        format!(r#"{{"call": "map-order", {ctx}, "input": {{"order": {{"id": 1}}, "extra": 1}}}}"#);
    let f = Fixture::parse("x", &bad_input).unwrap();
    assert!(f.input().unwrap_err().to_string().contains("extra"));
    let ok = format!(
        r#"{{"call": "map-order", {ctx}, "tables": {{"vat-category": {{"1": "25"}}}},
            "input": {{"order": {{"id": 1, "default_currency_code": "EUR", "total_inc_tax": "1.25"}}}}}}"#
    );
    let f = Fixture::parse("x", &ok).unwrap();
    assert_eq!(f.tables.lookup("vat-category", "1"), Some("25"));
    match f.input().unwrap() {
        FixtureCall::MapOrder {
            ctx,
            order,
            shipment,
        } => {
            assert_eq!(
                (ctx.channel_id, order.total_inc_tax, shipment),
                (1, 125, None)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_repository_fixture_loads() {
    let dir = format!("{}/../../../tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let f = Fixture::load(&path).unwrap_or_else(|e| panic!("{e}"));
            f.input().unwrap_or_else(|e| panic!("{}: {e}", f.name));
            n += 1;
        }
    }
    assert!(n >= 10);
}

#[test]
fn po_number_from_the_host_else_from_the_order() {
    let mut bundle = order_180();
    bundle.order["po_number"] = json!("PO-77");
    let o = build_order(&bundle, &OrderExtras::default()).unwrap();
    assert_eq!(o.po_number.as_deref(), Some("PO-77"));
    let extras = OrderExtras {
        po_number: Some("B2B-1".into()),
        ..Default::default()
    };
    let o = build_order(&bundle, &extras).unwrap();
    assert_eq!(o.po_number.as_deref(), Some("B2B-1"));
}

#[test]
fn a_variant_without_a_price_sells_at_its_calculated_price_and_keeps_its_own_sku() {
    let bundle = ProductBundle {
        product: json!({"id": 1, "sku": "P", "price": 10, "variants": [
            {"id": 11, "sku": "P-S", "price": null, "calculated_price": 12.5,
             "option_values": [{"option_display_name": "Size", "label": "S"}]},
            {"id": 12, "sku": "", "price": 9,
             "option_values": [{"option_display_name": "Size", "label": "M"}]},
        ]}),
        price_records: vec![
            json!({"price_list_id": 3, "variant_id": 11, "currency": "jpy", "price": 1500, "sale_price": 0}),
            json!({"price_list_id": 3, "variant_id": 11, "currency": "EUR", "map_price": 14}),
        ],
        currency: "EUR".into(),
        ..Default::default()
    };
    let p = build_products(&bundle).unwrap();
    let got: Vec<_> = p.iter().map(|p| (p.sku.as_str(), p.price)).collect();
    // The SKU-less variant is not given the product's SKU (it would overwrite another item).
    assert_eq!(got, vec![("P-S", 1250), ("", 900)]);
    // Records in their own currency's minor units; a zero sale price is none; a record
    // without a price sets none.
    assert_eq!(p[0].price_records.len(), 1);
    let r = &p[0].price_records[0];
    assert_eq!(
        (r.currency.as_str(), r.price, r.sale_price),
        ("JPY", 1500, None)
    );
}

#[test]
fn a_snapshot_shaped_value_converts_like_its_bundle() {
    let bundle = order_180();
    let snapshot = serde_json::to_value(&bundle).unwrap();
    let from_snapshot =
        build_order_from(OrderSource::of(&snapshot).unwrap(), &OrderExtras::default()).unwrap();
    assert_eq!(
        from_snapshot,
        build_order(&bundle, &OrderExtras::default()).unwrap()
    );
    let err = OrderSource::of(&json!({"order": {}, "products": {}})).unwrap_err();
    assert!(err.to_string().contains("products"), "{err}");
}
