//! The flows' side of the one BigCommerce → WIT converter, `ledgerlink_runtime::canonical`.
//!
//! The BigCommerce client reads API JSON into typed models; here they are written back to the
//! API JSON they came from and handed to the runtime's builder, the same code that the
//! fixtures, `ledgerlink plugin test` and the golden tests run. So what a plugin sees in
//! production is what the golden files show; a change to the WIT input is made there, once.
//! (The tests below check that the typed models carry every fixture through unchanged.)

use ledgerlink_bigcommerce::models::{
    Order, OrderCoupon, OrderProduct, OrderTax, PriceRecord, Product, Refund as BcRefund,
    Shipment as BcShipment, ShippingAddress,
};
use ledgerlink_core::CurrencyCode;
use ledgerlink_core::money::minor_to_decimal;
use ledgerlink_runtime::canonical as source;
use ledgerlink_runtime::types as wit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything fetched from BigCommerce for one order: what a job snapshots and replays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderBundle {
    pub order: Order,
    pub products: Vec<OrderProduct>,
    pub shipping_addresses: Vec<ShippingAddress>,
    pub coupons: Vec<OrderCoupon>,
    pub taxes: Vec<OrderTax>,
    pub shipments: Vec<BcShipment>,
    #[serde(default)]
    pub refunds: Vec<BcRefund>,
    /// The PO number from the order metafield the posting rule names (fetched only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
}

/// A source payload that cannot become a WIT record: the field at fault and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CanonicalError {
    pub path: String,
    pub message: String,
}

impl From<source::CanonicalError> for CanonicalError {
    fn from(e: source::CanonicalError) -> Self {
        CanonicalError {
            path: e.field().unwrap_or_default().to_owned(),
            message: e.to_string(),
        }
    }
}

/// The order's transactional currency (`default_currency_code`), in which all its amounts
/// are; `currency_code` is only the currency it was displayed in.
pub fn currency_of(order: &Order) -> String {
    order
        .default_currency_code
        .clone()
        .or_else(|| order.currency_code.clone())
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase()
}

pub fn digits_of(currency: &str) -> u32 {
    currency
        .parse::<CurrencyCode>()
        .map(|c| c.minor_digits())
        .unwrap_or(2)
}

pub fn to_wit_decimal(d: Decimal) -> wit::Decimal {
    let d = d.normalize();
    // WIT decimals carry at most 18 significant digits; rescale anything longer.
    let mut d = d;
    if d.scale() > 12 {
        d = d.round_dp(12);
    }
    wit::Decimal {
        digits: i64::try_from(d.mantissa()).unwrap_or(i64::MAX),
        scale: d.scale() as u8,
    }
}

pub fn from_wit_decimal(d: &wit::Decimal) -> Decimal {
    Decimal::new(d.digits, u32::from(d.scale))
}

fn json<T: Serialize>(what: &str, v: &T) -> Result<Value, CanonicalError> {
    serde_json::to_value(v).map_err(|e| CanonicalError {
        path: what.to_owned(),
        message: format!("cannot be written as JSON: {e}"),
    })
}

fn json_list<T: Serialize>(what: &str, items: &[T]) -> Result<Vec<Value>, CanonicalError> {
    items.iter().map(|i| json(what, i)).collect()
}

/// The bundle as the API JSON the runtime's builder reads.
pub fn order_source(bundle: &OrderBundle) -> Result<source::OrderBundle, CanonicalError> {
    Ok(source::OrderBundle {
        order: json("order", &bundle.order)?,
        products: json_list("products", &bundle.products)?,
        shipping_addresses: json_list("shipping_addresses", &bundle.shipping_addresses)?,
        coupons: json_list("coupons", &bundle.coupons)?,
        taxes: json_list("taxes", &bundle.taxes)?,
    })
}

/// The WIT order for a fetched bundle. `visma_customer` is the customer number the host
/// already knows (identity map), if any. The order JSON goes along as `raw-json`, the escape
/// hatch for fields the typed record lacks.
pub fn order(
    bundle: &OrderBundle,
    visma_customer: Option<String>,
) -> Result<wit::Order, CanonicalError> {
    let extras = source::OrderExtras {
        visma_customer_number: visma_customer,
        po_number: bundle.po_number.clone(),
        include_raw: true,
        ..Default::default()
    };
    order_with(bundle, &extras)
}

/// [`order`] from the bundle's job snapshot (`serde_json::to_value(bundle)`, which
/// [`order_source`] would produce again part by part): the order is not serialised twice.
pub fn order_from_snapshot(
    snapshot: &Value,
    bundle: &OrderBundle,
    visma_customer: Option<String>,
) -> Result<wit::Order, CanonicalError> {
    let extras = source::OrderExtras {
        visma_customer_number: visma_customer,
        po_number: bundle.po_number.clone(),
        include_raw: true,
        ..Default::default()
    };
    Ok(source::build_order_from(
        source::OrderSource::of(snapshot)?,
        &extras,
    )?)
}

/// [`order`] with everything the host may add (v3 customer, group name, B2B PO number).
pub fn order_with(
    bundle: &OrderBundle,
    extras: &source::OrderExtras,
) -> Result<wit::Order, CanonicalError> {
    Ok(source::build_order(&order_source(bundle)?, extras)?)
}

pub fn shipment(s: &BcShipment) -> Result<wit::Shipment, CanonicalError> {
    Ok(source::build_shipment(&json("shipment", s)?)?)
}

fn credited_quantities(already_credited: &[(u64, wit::Decimal)]) -> Vec<(u64, String)> {
    already_credited
        .iter()
        .map(|(id, q)| (*id, from_wit_decimal(q).to_string()))
        .collect()
}

/// The WIT refund for a BigCommerce refund of `order`.
pub fn refund(
    r: &BcRefund,
    order: wit::Order,
    original: Option<wit::DocumentRef>,
    already_credited: Vec<(u64, wit::Decimal)>,
) -> Result<wit::Refund, CanonicalError> {
    let extras = source::RefundExtras {
        original_document: original,
        already_credited: credited_quantities(&already_credited),
        ..Default::default()
    };
    refund_with(r, order, &extras)
}

/// [`refund`] with the kind (refund or return) and restock the host decided.
pub fn refund_with(
    r: &BcRefund,
    order: wit::Order,
    extras: &source::RefundExtras,
) -> Result<wit::Refund, CanonicalError> {
    Ok(source::refund_for(order, &json("refund", r)?, extras)?)
}

/// A cancellation after invoicing: credit everything not yet credited.
/// `already_credited_total` is in minor units of the order currency.
pub fn cancellation(
    order: wit::Order,
    original: wit::DocumentRef,
    already_credited: Vec<(u64, wit::Decimal)>,
    already_credited_total: i64,
) -> Result<wit::Refund, CanonicalError> {
    let digits = digits_of(&order.currency);
    let extras = source::RefundExtras {
        kind: source::CreditKind::Cancellation,
        original_document: Some(original),
        already_credited: credited_quantities(&already_credited),
        already_credited_total: Some(minor_to_decimal(already_credited_total, digits).to_string()),
        ..Default::default()
    };
    Ok(source::refund_for(order, &Value::Null, &extras)?)
}

/// One WIT product per sellable SKU of a catalog product (its variants embedded): catalog
/// prices in `currency` (the store's default), the name of the product's tax class, and the
/// price-list records of its variants, each with its list's name. A product or variant
/// without a SKU cannot become a Visma item and is left out (the flow reports a product
/// with none as skipped).
pub fn products(
    p: &Product,
    currency: &str,
    tax_class_name: &str,
    records: &[(PriceRecord, String)],
) -> Result<Vec<wit::Product>, CanonicalError> {
    let mut more = source::ProductBundle {
        currency: currency.to_owned(),
        ..Default::default()
    };
    if let Some(class) = p.tax_class_id
        && !tax_class_name.is_empty()
    {
        more.tax_classes
            .insert(class.to_string(), tax_class_name.to_owned());
    }
    for (r, list_name) in records {
        more.price_records.push(json("price_records", r)?);
        if let Some(list) = r.price_list_id {
            more.price_lists.insert(list.to_string(), list_name.clone());
        }
    }
    let mut skus = products_with(p, more)?;
    skus.retain(|s| !s.sku.trim().is_empty());
    Ok(skus)
}

/// [`products`] from a bundle the caller filled (`more.product` is replaced by `p`).
pub fn products_with(
    p: &Product,
    more: source::ProductBundle,
) -> Result<Vec<wit::Product>, CanonicalError> {
    let bundle = source::ProductBundle {
        product: json("product", p)?,
        ..more
    };
    Ok(source::build_products(&bundle)?)
}

#[cfg(test)]
mod tests {
    //! Every repository fixture read into the client's typed models and converted here must
    //! give exactly what the fixture gives through the JSON path: then the golden files cover
    //! what production runs, and a field the typed models drop shows up as a failure here.

    use super::*;
    use ledgerlink_bigcommerce::models::Variant;
    use ledgerlink_runtime::canonical::{Fixture, FixtureCall};
    use serde::de::DeserializeOwned;
    use std::path::{Path, PathBuf};

    fn fixtures() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/fixtures")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 10, "fixtures in {}", dir.display());
        paths
    }

    fn typed<T: DeserializeOwned>(name: &str, what: &str, v: &Value) -> T {
        serde_json::from_value(v.clone())
            .unwrap_or_else(|e| panic!("{name}: the client model cannot read {what}: {e}"))
    }

    fn list<T: DeserializeOwned>(name: &str, what: &str, v: &Value) -> Vec<T> {
        if v.is_null() {
            return Vec::new();
        }
        typed(name, what, v)
    }

    fn bundle(name: &str, input: &Value) -> OrderBundle {
        OrderBundle {
            order: typed(name, "order", &input["order"]),
            products: list(name, "products", &input["products"]),
            shipping_addresses: list(name, "shipping_addresses", &input["shipping_addresses"]),
            coupons: list(name, "coupons", &input["coupons"]),
            taxes: list(name, "taxes", &input["taxes"]),
            shipments: Vec::new(),
            refunds: Vec::new(),
            po_number: None,
        }
    }

    fn extras(input: &Value) -> source::OrderExtras {
        serde_json::from_value(input["extras"].clone()).unwrap_or_default()
    }

    fn data(v: &Value) -> &Value {
        v.get("data").unwrap_or(v)
    }

    #[test]
    fn exchange_rates_keep_all_ten_places() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../tests/fixtures/order-foreign-currency.json");
        let mut file: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        file["input"]["order"]["store_default_to_transactional_exchange_rate"] =
            Value::String("0.8612345678".into());
        let input = &file["input"];
        let o = order(&bundle("fx", input), None).unwrap();
        assert_eq!(
            from_wit_decimal(&o.exchange_rate),
            "0.8612345678".parse::<Decimal>().unwrap()
        );
        // Production passes the order JSON as the escape hatch and the known customer.
        assert!(o.raw_json.as_deref().is_some_and(|r| r.contains("\"id\"")));
        let o = order(&bundle("fx", input), Some("10042".into())).unwrap();
        assert_eq!(o.customer.visma_customer_number.as_deref(), Some("10042"));
    }

    #[test]
    fn the_job_snapshot_converts_exactly_as_the_bundle() {
        let mut checked = 0;
        for path in fixtures() {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let file: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let input = &file["input"];
            if input["order"].get("id").is_none() {
                continue;
            }
            let mut b = bundle(&name, input);
            b.po_number = Some("PO-7".into());
            let snapshot = serde_json::to_value(&b).unwrap();
            for customer in [None, Some("10042".to_owned())] {
                let want = order(&b, customer.clone()).unwrap();
                let got = order_from_snapshot(&snapshot, &b, customer).unwrap();
                assert_eq!(got, want, "{name}");
            }
            checked += 1;
        }
        assert!(checked >= 5, "only {checked} order fixtures checked");
    }

    #[test]
    fn typed_models_convert_every_fixture_exactly_as_its_json() {
        let mut checked = 0;
        for path in fixtures() {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let file: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let input = &file["input"];
            let expected = Fixture::load(&path).unwrap().input().unwrap();
            match expected {
                FixtureCall::MapOrder {
                    order, shipment, ..
                } => {
                    let got = order_with(&bundle(&name, input), &extras(input)).unwrap();
                    assert_eq!(got, order, "{name}: order");
                    let got = input
                        .get("shipment")
                        .map(|s| super::shipment(&typed(&name, "shipment", s)).unwrap());
                    assert_eq!(got, shipment, "{name}: shipment");
                }
                FixtureCall::MapCustomer { order, .. } => {
                    let got = order_with(&bundle(&name, input), &extras(input)).unwrap();
                    assert_eq!(got, order, "{name}: order");
                }
                FixtureCall::MapCreditNote { refund, .. } => {
                    let o = &input["order"];
                    let order = order_with(&bundle(&name, o), &extras(o)).unwrap();
                    let rextras: source::RefundExtras = serde_json::from_value(serde_json::json!({
                        "kind": input.get("kind").cloned().unwrap_or(Value::Null),
                        "original_document": input["original_document"],
                        "already_credited": input.get("already_credited").cloned().unwrap_or(serde_json::json!([])),
                        "restock": input.get("restock").cloned().unwrap_or(Value::Bool(false)),
                    }))
                    .unwrap();
                    let got = if input["refund"].is_null() {
                        source::refund_for(order, &Value::Null, &rextras).unwrap()
                    } else {
                        let r: BcRefund = typed(&name, "refund", data(&input["refund"]));
                        refund_with(&r, order, &rextras).unwrap()
                    };
                    assert_eq!(got, refund, "{name}: refund");
                }
                FixtureCall::MapItem { product, .. } => {
                    let mut p: Product = typed(&name, "product", data(&input["product"]));
                    let variants: Vec<Variant> = list(&name, "variants", &input["variants"]);
                    if !variants.is_empty() {
                        p.variants = Some(variants);
                    }
                    let more: source::ProductBundle = serde_json::from_value(serde_json::json!({
                        "product": null,
                        "price_records": input.get("price_records").cloned().unwrap_or(serde_json::json!([])),
                        "price_lists": input.get("price_lists").cloned().unwrap_or(serde_json::json!({})),
                        "tax_classes": input.get("tax_classes").cloned().unwrap_or(serde_json::json!({})),
                        "custom_fields": input.get("custom_fields").cloned().unwrap_or(serde_json::json!([])),
                        "currency": input["currency"],
                    }))
                    .unwrap();
                    let got = products_with(&p, more).unwrap();
                    let got = got
                        .into_iter()
                        .find(|g| g.sku == product.sku)
                        .unwrap_or_else(|| panic!("{name}: no SKU {}", product.sku));
                    assert_eq!(got, product, "{name}: product");
                }
                // Stock levels come from Visma, not from the BigCommerce models.
                FixtureCall::MapStock { .. } => continue,
            }
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} fixtures checked");
    }
}
