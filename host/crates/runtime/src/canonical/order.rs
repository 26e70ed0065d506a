//! Orders v2 (order, products, shipping addresses, coupons, taxes?details=true, shipments) →
//! `types::Order` / `types::Shipment`.

use super::CanonicalError;
use super::json::{Obj, field_path, minor, parse_decimal, time, to_wit, to_wit_at};
use crate::bindings::types::*;
use ledgerlink_core::money::CurrencyCode;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An order as the flows fetch it from Orders v2: each field is the JSON body of one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBundle {
    /// `GET /v2/orders/{id}`.
    pub order: Value,
    /// `GET /v2/orders/{id}/products` (all pages).
    #[serde(default)]
    pub products: Vec<Value>,
    /// `GET /v2/orders/{id}/shipping_addresses`.
    #[serde(default)]
    pub shipping_addresses: Vec<Value>,
    /// `GET /v2/orders/{id}/coupons` (204 → empty).
    #[serde(default)]
    pub coupons: Vec<Value>,
    /// `GET /v2/orders/{id}/taxes?details=true`.
    #[serde(default)]
    pub taxes: Vec<Value>,
}

/// What the host knows beyond the order payloads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderExtras {
    /// From the identity map, when the buyer already has a Visma customer.
    pub visma_customer_number: Option<String>,
    /// `GET /v3/customers?id:in=…` entry of the buyer (company, phone, group, tax exemption).
    pub customer: Option<Value>,
    /// Name of the buyer's customer group (`GET /v2/customer_groups/{id}`).
    pub customer_group_name: Option<String>,
    /// B2B Edition `poNumber` of the order.
    pub po_number: Option<String>,
    /// Pass the order JSON to the plugin as `raw-json`.
    pub include_raw: bool,
}

fn currency_digits(code: &str, field: &str) -> Result<u32, CanonicalError> {
    code.parse::<CurrencyCode>()
        .map(|c| c.minor_digits())
        .map_err(|_| {
            CanonicalError::invalid(
                field,
                &Value::String(code.to_owned()),
                "not an ISO 4217 currency code",
            )
        })
}

fn address(o: &Obj) -> Address {
    Address {
        first_name: o.str("first_name"),
        last_name: o.str("last_name"),
        company: o.str("company"),
        street_1: o.str("street_1"),
        street_2: o.str("street_2"),
        city: o.str("city"),
        state: o.str("state"),
        zip: o.str("zip"),
        country: o.str("country"),
        country_iso2: o.str("country_iso2"),
        phone: o.str("phone"),
        email: o.str("email"),
    }
}

fn cost(o: &Obj, prefix: &str, digits: u32) -> Result<Cost, CanonicalError> {
    Ok(Cost {
        ex_tax: o.money(&format!("{prefix}_ex_tax"), digits)?,
        inc_tax: o.money(&format!("{prefix}_inc_tax"), digits)?,
        tax: o.money(&format!("{prefix}_tax"), digits)?,
        tax_class_id: o.opt_u64(&format!("{prefix}_tax_class_id"))?,
    })
}

/// BigCommerce coupon type codes (`orderCoupons_Base.type`).
fn coupon_type(v: &Obj) -> String {
    match v.str("type").trim() {
        "0" => "per-item".into(),
        "1" => "percentage".into(),
        "2" => "per-total".into(),
        "3" => "shipping".into(),
        "4" => "free-shipping".into(),
        "5" => "promotion".into(),
        other => other.to_owned(),
    }
}

fn line_type(raw: &str) -> String {
    match raw.trim() {
        "" => "item".into(),
        "gift_wrapping" | "wrapping" => "gift-wrapping".into(),
        other => other.replace('_', "-"),
    }
}

/// An order's payloads borrowed from wherever they are held (an [`OrderBundle`], or a job
/// snapshot already serialised as `{order, products, shipping_addresses, coupons, taxes}`), so
/// nothing is copied to convert them.
#[derive(Debug, Clone, Copy)]
pub struct OrderSource<'a> {
    pub order: &'a Value,
    pub products: &'a [Value],
    pub shipping_addresses: &'a [Value],
    pub coupons: &'a [Value],
    pub taxes: &'a [Value],
}

impl OrderBundle {
    pub fn source(&self) -> OrderSource<'_> {
        OrderSource {
            order: &self.order,
            products: &self.products,
            shipping_addresses: &self.shipping_addresses,
            coupons: &self.coupons,
            taxes: &self.taxes,
        }
    }
}

impl<'a> OrderSource<'a> {
    /// The parts of an object holding them under their bundle names (a job snapshot).
    pub fn of(v: &'a Value) -> Result<Self, CanonicalError> {
        let list = |key: &str| -> Result<&'a [Value], CanonicalError> {
            match v.get(key) {
                None | Some(Value::Null) => Ok(&[]),
                Some(Value::Array(a)) => Ok(a),
                Some(other) => Err(CanonicalError::invalid(key, other, "expected an array")),
            }
        };
        Ok(OrderSource {
            order: v.get("order").ok_or_else(|| CanonicalError::Missing {
                field: "order".into(),
            })?,
            products: list("products")?,
            shipping_addresses: list("shipping_addresses")?,
            coupons: list("coupons")?,
            taxes: list("taxes")?,
        })
    }
}

/// The order with its lines, addresses, taxes and totals in minor units of its transactional
/// currency.
pub fn build_order(bundle: &OrderBundle, extras: &OrderExtras) -> Result<Order, CanonicalError> {
    build_order_from(bundle.source(), extras)
}

/// [`build_order`] from borrowed payloads.
pub fn build_order_from(
    bundle: OrderSource<'_>,
    extras: &OrderExtras,
) -> Result<Order, CanonicalError> {
    let o = Obj::new(bundle.order, "order");
    let currency = o
        .opt_str("default_currency_code")
        .or_else(|| o.opt_str("currency_code"))
        .ok_or_else(|| CanonicalError::Missing {
            field: "order.default_currency_code".into(),
        })?
        .trim()
        .to_ascii_uppercase();
    let digits = currency_digits(&currency, "order.default_currency_code")?;
    let default_currency = o
        .opt_str("store_default_currency_code")
        .map(|c| c.trim().to_ascii_uppercase())
        .unwrap_or_else(|| currency.clone());
    let exchange_rate = match o.opt_decimal("store_default_to_transactional_exchange_rate")? {
        Some(r) if !r.is_zero() => r,
        _ => Decimal::ONE,
    };
    let order_id = o.required_u64("id")?;

    let mut taxes = Vec::new();
    for (i, t) in bundle.taxes.iter().enumerate() {
        let path = format!("taxes[{i}]");
        let t = Obj::new(t, &path);
        let amount = match t.opt_money("line_amount", digits)? {
            Some(a) => a,
            None => t.money("priority_amount", digits)?,
        };
        taxes.push(TaxLine {
            order_line_id: t.opt_id("order_product_id")?,
            line_type: line_type(&t.str("line_item_type")),
            tax_class_id: t.opt_u64("tax_class_id")?,
            name: t.str("name"),
            rate: t.wit_decimal("rate")?,
            amount,
        });
    }

    let mut lines = Vec::new();
    for (i, p) in bundle.products.iter().enumerate() {
        let path = format!("products[{i}]");
        let p = Obj::new(p, &path);
        let id = p.required_u64("id")?;
        let item_taxes: Vec<&TaxLine> = taxes
            .iter()
            .filter(|t| t.order_line_id == Some(id) && t.line_type == "item")
            .collect();
        let tax_rate = if item_taxes.is_empty() {
            None
        } else {
            let sum: Decimal = item_taxes
                .iter()
                .map(|t| Decimal::new(t.rate.digits, t.rate.scale.into()))
                .sum();
            Some(to_wit_at(sum, || format!("{path}.tax_rate"))?)
        };
        let mut discounts = Vec::new();
        for (k, d) in p.array("applied_discounts")?.iter().enumerate() {
            let dp = format!("{path}.applied_discounts[{k}]");
            let d = Obj::new(d, &dp);
            discounts.push(LineDiscount {
                name: d.str("name"),
                code: d.opt_str("code"),
                amount: d.money("amount", digits)?,
            });
        }
        let mut options = Vec::new();
        for opt in p.array("product_options")? {
            let opt = Obj::new(opt, "");
            let name = opt
                .opt_str("display_name")
                .unwrap_or_else(|| opt.str("name"));
            let value = opt
                .opt_str("display_value")
                .unwrap_or_else(|| opt.str("value"));
            options.push((name, value));
        }
        lines.push(OrderLine {
            id,
            product_id: p.u64_or_zero("product_id")?,
            variant_id: p.opt_id("variant_id")?,
            sku: p.str("sku"),
            name: p.opt_str("name_merchant").unwrap_or_else(|| p.str("name")),
            quantity: p.wit_decimal("quantity")?,
            quantity_shipped: p.wit_decimal("quantity_shipped")?,
            quantity_refunded: p.wit_decimal("quantity_refunded")?,
            unit_price_ex_tax: p.money("price_ex_tax", digits)?,
            unit_price_inc_tax: p.money("price_inc_tax", digits)?,
            total_ex_tax: p.money("total_ex_tax", digits)?,
            total_inc_tax: p.money("total_inc_tax", digits)?,
            total_tax: p.money("total_tax", digits)?,
            tax_class_id: item_taxes.iter().find_map(|t| t.tax_class_id),
            tax_rate,
            discounts,
            parent_line_id: p.opt_id("parent_order_product_id")?,
            options,
            weight: p
                .opt_decimal("weight")?
                .map(|w| to_wit(w, &field_path(&path, "weight")))
                .transpose()?,
        });
    }

    let mut shipping_addresses = Vec::new();
    for (i, a) in bundle.shipping_addresses.iter().enumerate() {
        let path = format!("shipping_addresses[{i}]");
        let a = Obj::new(a, &path);
        shipping_addresses.push(ShippingAddress {
            id: a.required_u64("id")?,
            address: address(&a),
            shipping_method: a.str("shipping_method"),
            shipping_zone_name: a.str("shipping_zone_name"),
            cost_ex_tax: a.money("cost_ex_tax", digits)?,
            cost_inc_tax: a.money("cost_inc_tax", digits)?,
            cost_tax: a.money("cost_tax", digits)?,
            items_total: a.u64_or_zero("items_total")? as u32,
            items_shipped: a.u64_or_zero("items_shipped")? as u32,
        });
    }

    let mut fees = Vec::new();
    for (i, f) in o.array("fees")?.iter().enumerate() {
        let path = format!("order.fees[{i}]");
        let f = Obj::new(f, &path);
        // The spec's own example spells it `cost_exc_tax` once; accept both.
        let ex_key = if f.has("cost_ex_tax") {
            "cost_ex_tax"
        } else {
            "cost_exc_tax"
        };
        fees.push(Fee {
            id: f.required_u64("id")?,
            name: f
                .opt_str("display_name_merchant")
                .unwrap_or_else(|| f.str("display_name_customer")),
            ex_tax: f.money(ex_key, digits)?,
            inc_tax: f.money("cost_inc_tax", digits)?,
            tax: f.money("cost_tax", digits)?,
            tax_class_id: f.opt_u64("tax_class_id")?,
        });
    }

    let mut coupons = Vec::new();
    for (i, c) in bundle.coupons.iter().enumerate() {
        let path = format!("coupons[{i}]");
        let c = Obj::new(c, &path);
        // `discount` is what the coupon took off; `amount` its configured value (5 = $5 or 5 %).
        let taken = if c.has("discount") {
            c.money("discount", digits)?
        } else {
            c.money("amount", digits)?
        };
        coupons.push(Coupon {
            code: c.str("code"),
            coupon_type: coupon_type(&c),
            amount: taken,
        });
    }

    let billing_value = o.get("billing_address").cloned().unwrap_or(Value::Null);
    let billing = address(&Obj::new(&billing_value, "order.billing_address"));
    let customer_value = extras.customer.clone().unwrap_or(Value::Null);
    let c = Obj::new(&customer_value, "customer");
    let customer = Customer {
        bc_customer_id: o.u64_or_zero("customer_id")?,
        email: c.opt_str("email").unwrap_or_else(|| billing.email.clone()),
        first_name: c
            .opt_str("first_name")
            .unwrap_or_else(|| billing.first_name.clone()),
        last_name: c
            .opt_str("last_name")
            .unwrap_or_else(|| billing.last_name.clone()),
        company: c
            .opt_str("company")
            .unwrap_or_else(|| billing.company.clone()),
        phone: c.opt_str("phone").unwrap_or_else(|| billing.phone.clone()),
        customer_group_id: c.opt_id("customer_group_id")?,
        customer_group_name: extras.customer_group_name.clone(),
        tax_exempt_category: c.opt_str("tax_exempt_category"),
        visma_customer_number: extras
            .visma_customer_number
            .clone()
            .filter(|n| !n.trim().is_empty()),
    };

    let rate_field = "order.store_default_to_transactional_exchange_rate";
    Ok(Order {
        id: order_id,
        channel_id: o.opt_u64("channel_id")?.unwrap_or(1),
        status_id: o.u64_or_zero("status_id")? as u32,
        status: o.str("status"),
        created_at: time(&o, "date_created")?,
        modified_at: time(&o, "date_modified")?,
        currency,
        default_currency,
        exchange_rate: to_wit(exchange_rate, rate_field)?,
        prices_include_tax: o.bool("is_tax_inclusive_pricing"),
        customer,
        billing_address: billing,
        shipping_addresses,
        lines,
        taxes,
        shipping: cost(&o, "shipping_cost", digits)?,
        handling: cost(&o, "handling_cost", digits)?,
        wrapping: cost(&o, "wrapping_cost", digits)?,
        fees,
        coupons,
        discount_amount: o.money("discount_amount", digits)?,
        coupon_discount: o.money("coupon_discount", digits)?,
        subtotal_ex_tax: o.money("subtotal_ex_tax", digits)?,
        subtotal_inc_tax: o.money("subtotal_inc_tax", digits)?,
        total_ex_tax: o.money("total_ex_tax", digits)?,
        total_inc_tax: o.money("total_inc_tax", digits)?,
        total_tax: o.money("total_tax", digits)?,
        store_credit_amount: o.money("store_credit_amount", digits)?,
        gift_certificate_amount: o.money("gift_certificate_amount", digits)?,
        payment_method: o.str("payment_method"),
        payment_provider_id: o.str("payment_provider_id"),
        payment_status: o.str("payment_status"),
        customer_message: o.str("customer_message"),
        staff_notes: o.str("staff_notes"),
        po_number: extras
            .po_number
            .clone()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| po_number_on_order(&o)),
        external_id: o.opt_str("external_id"),
        raw_json: extras.include_raw.then(|| bundle.order.to_string()),
    })
}

/// A PO number carried on the order itself. B2B Edition keeps it in its own API (the host
/// passes that as `extras.po_number`), but stores fed by other B2B tools or imports put it on
/// the order under one of these keys.
fn po_number_on_order(o: &Obj) -> Option<String> {
    ["po_number", "purchase_order_number", "poNumber"]
        .iter()
        .find_map(|k| o.opt_str(k))
}

/// `GET /v2/orders/{id}/shipments/{shipment_id}` → `types::Shipment`.
pub fn build_shipment(shipment: &Value) -> Result<Shipment, CanonicalError> {
    let s = Obj::new(shipment, "shipment");
    let mut items = Vec::new();
    for (i, it) in s.array("items")?.iter().enumerate() {
        let path = format!("shipment.items[{i}]");
        let it = Obj::new(it, &path);
        let quantity = it
            .opt_decimal("quantity")?
            .ok_or_else(|| CanonicalError::Missing {
                field: field_path(&path, "quantity"),
            })?;
        if quantity <= Decimal::ZERO {
            return Err(CanonicalError::invalid(
                &field_path(&path, "quantity"),
                it.get("quantity").unwrap_or(&Value::Null),
                "must be positive",
            ));
        }
        items.push(ShipmentItem {
            order_line_id: it.required_u64("order_product_id")?,
            quantity: to_wit(quantity, &field_path(&path, "quantity"))?,
        });
    }
    Ok(Shipment {
        id: s.required_u64("id")?,
        created_at: time(&s, "date_created")?,
        tracking_number: s.str("tracking_number"),
        shipping_method: s
            .opt_str("shipping_method")
            .unwrap_or_else(|| s.str("shipping_provider")),
        items,
    })
}

/// An amount in major units (a v3 JSON number) as minor units of `currency`.
pub(crate) fn money_in(v: &Value, currency: &str, field: &str) -> Result<i64, CanonicalError> {
    if v.is_null() {
        return Ok(0);
    }
    let digits = currency_digits(currency, field)?;
    minor(parse_decimal(v, field)?, digits, field, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example(name: &str) -> Value {
        let path = format!(
            "{}/../../../../shared/specs/bigcommerce/examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).unwrap()
    }

    #[test]
    fn spec_example_order_converts_exactly() {
        let products: Vec<Value> =
            serde_json::from_value(example("order_v2_products.json")).unwrap();
        let shipping: Vec<Value> =
            serde_json::from_value(example("order_v2_shipping_addresses.json")).unwrap();
        let bundle = OrderBundle {
            order: example("order_v2_get.json"),
            products,
            shipping_addresses: shipping,
            ..Default::default()
        };
        let o = build_order(&bundle, &OrderExtras::default()).unwrap();
        assert_eq!(o.currency, "USD");
        assert_eq!(
            o.subtotal_ex_tax, 6268,
            "62.6793 rounds half away from zero"
        );
        assert_eq!((o.total_inc_tax, o.total_tax), (6984, 531));
        assert_eq!(o.created_at, "2019-03-05T21:40:11Z");
        assert_eq!(o.fees.len(), 2);
        assert_eq!(o.fees[0].ex_tax, 1230, "cost_exc_tax is read too");
        assert_eq!(o.fees[1].tax_class_id, None);
        assert_eq!(o.lines[0].discounts[0].amount, 159);
        assert_eq!(o.lines[0].options[0], ("Size".to_string(), "S".to_string()));
        assert_eq!(o.lines[1].parent_line_id, Some(65));
        assert_eq!(o.shipping_addresses[1].cost_inc_tax, 1299);
        assert_eq!(o.customer.bc_customer_id, 11);
    }

    #[test]
    fn a_bad_amount_names_its_field() {
        let bundle = OrderBundle {
            order: json!({"id": 1, "default_currency_code": "EUR"}),
            products: vec![json!({"id": 5, "price_ex_tax": "12.x"})],
            ..Default::default()
        };
        let err = build_order(&bundle, &OrderExtras::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("products[0].price_ex_tax") && err.contains("12.x"),
            "{err}"
        );
        let bundle = OrderBundle {
            order: json!({"id": 1, "default_currency_code": "EURO"}),
            ..Default::default()
        };
        assert!(
            build_order(&bundle, &OrderExtras::default())
                .unwrap_err()
                .to_string()
                .contains("ISO 4217")
        );
    }

    #[test]
    fn zero_decimal_currencies_and_tax_details() {
        let bundle = OrderBundle {
            order: json!({"id": 2, "default_currency_code": "JPY", "total_inc_tax": "1100.0000"}),
            products: vec![json!({"id": 7, "quantity": 1, "total_ex_tax": "1000.0000"})],
            taxes: vec![
                json!({"order_product_id": "7", "line_item_type": "item", "tax_class_id": 3, "rate": "10.0000", "line_amount": "100.0000"}),
            ],
            ..Default::default()
        };
        let o = build_order(&bundle, &OrderExtras::default()).unwrap();
        assert_eq!(o.total_inc_tax, 1100);
        assert_eq!(o.lines[0].tax_class_id, Some(3));
        assert_eq!(
            o.lines[0].tax_rate,
            Some(crate::bindings::types::Decimal {
                digits: 10,
                scale: 0
            })
        );
    }
}
