//! The verbatim examples from the official specs (`../shared/specs/bigcommerce/examples/`)
//! decode into the typed models with the values they carry.

use ledgerlink_bigcommerce::models::*;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

fn example(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared/specs/bigcommerce/examples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn order_example_decodes_with_exact_money_and_dates() {
    let o: Order = serde_json::from_str(&example("order_v2_get.json")).unwrap();
    assert_eq!(o.id.0, 218);
    assert_eq!(o.subtotal_ex_tax, dec("62.6793"));
    assert_eq!(o.total_inc_tax, dec("69.8400"));
    assert_eq!(o.date_created.to_rfc3339(), "2019-03-05T21:40:11+00:00");
    assert!(o.date_shipped.is_none(), "empty string is not set");
    assert_eq!(o.is_tax_inclusive_pricing, Some(false));
    assert_eq!(o.store_default_currency_code, None);
    assert_eq!(o.external_order_id.as_deref(), Some("external-order-id"));
    let fees = o.fees.as_ref().unwrap();
    assert_eq!(fees[1].cost_inc_tax, Some(dec("12.0000")));
    // Unknown fields are kept for later mappings.
    assert_eq!(o.extra["ebay_order_id"], "0");
    // A round trip keeps the money exact.
    let back: Order = serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
    assert_eq!(back, o);
}

/// The light `OrderState` reads each of its fields exactly as `Order` does (the echo check
/// and the write-back compare hashes made from either).
#[test]
fn order_state_reads_its_fields_as_the_whole_order_does() {
    let text = example("order_v2_get.json");
    let o: Order = serde_json::from_str(&text).unwrap();
    let s: OrderState = serde_json::from_str(&text).unwrap();
    assert_eq!(s, o.state());
    assert_eq!(s.total_inc_tax, dec("69.8400"));
    // Refunded amount and notes as BigCommerce leaves them on a fresh order, and as a string
    // amount with trailing zeros (kept as written: the hash text depends on it).
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["refunded_amount"] = "5.5000".into();
    v["staff_notes"] = "by hand".into();
    let o: Order = serde_json::from_value(v.clone()).unwrap();
    let s: OrderState = serde_json::from_value(v).unwrap();
    assert_eq!(s, o.state());
    assert_eq!(s.refunded_amount.unwrap().to_string(), "5.5000");
    assert_eq!(s.staff_notes.as_deref(), Some("by hand"));
}

#[test]
fn order_lines_and_addresses_decode() {
    let lines: Vec<OrderProduct> =
        serde_json::from_str(&example("order_v2_products.json")).unwrap();
    assert!(!lines.is_empty());
    assert_eq!(lines[0].id, 65);
    assert_eq!(lines[0].price_inc_tax, dec("65.2300"));
    assert_eq!(lines[0].applied_discounts[0].amount, dec("1.5900"));
    assert_eq!(
        lines[0].applied_discounts[0].id.as_deref(),
        Some("manual-discount")
    );
    let addrs: Vec<ShippingAddress> =
        serde_json::from_str(&example("order_v2_shipping_addresses.json")).unwrap();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[0].cost_inc_tax, Some(dec("12.9900")));
}

#[test]
fn refund_and_variants_examples_decode() {
    let r: V3Response<Refund> = serde_json::from_str(&example("refund_v3_get.json")).unwrap();
    assert_eq!(r.data.total_amount, Decimal::from(50));
    assert_eq!(r.data.items[0].item_type, RefundItemType::Product);
    assert!(r.data.payments[0].offline);
    let v: V3Response<Vec<Variant>> =
        serde_json::from_str(&example("catalog_v3_product_variants_get.json")).unwrap();
    assert_eq!(v.data.len(), 3);
    assert_eq!(v.data[1].sku, "SMIT-1");
    assert_eq!(v.data[0].sale_price, Some(Decimal::from(8)));
    assert_eq!(v.meta.pagination.unwrap().total_pages, 1);
    let p: V3Response<Product> =
        serde_json::from_str(&example("catalog_v3_product_get.json")).unwrap();
    assert_eq!(p.data.id.0, 174);
}

#[test]
fn refund_request_examples_round_trip_as_numbers() {
    let req: RefundRequest =
        serde_json::from_str(&example("refund_v3_create_request.json")).unwrap();
    assert_eq!(req.payments[0].amount, dec("232.75"));
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(v["payments"][0]["amount"], serde_json::json!(232.75));
    assert_eq!(v["items"][1]["amount"], serde_json::json!(10.0));
    let q: RefundQuoteRequest =
        serde_json::from_str(&example("refund_v3_quote_request.json")).unwrap();
    assert_eq!(q.items[0].quantity, Some(1));
}

#[test]
fn webhook_examples_decode_with_subjects() {
    let w: WebhookPayload =
        serde_json::from_str(&example("webhook_store_order_created.json")).unwrap();
    assert_eq!(w.store_id, 1025646);
    assert_eq!(w.subject(), "order:250");
    let w: WebhookPayload =
        serde_json::from_str(&example("webhook_store_sku_inventory_updated.json")).unwrap();
    assert!(w.subject().starts_with("sku:"), "{}", w.subject());
}
