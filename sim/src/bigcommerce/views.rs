//! JSON renderings of the store's entities, field for field as the spec files show them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::http::{Money2, Num3, Rfc2822, Shown, money2, num3, rfc2822, rfc3339};
use super::state::*;

/// A postal address of a v2 order (billing or shipping).
#[derive(Serialize)]
pub struct AddressV2<'a> {
    first_name: &'a str,
    last_name: &'a str,
    company: &'a str,
    street_1: &'a str,
    street_2: &'a str,
    city: &'a str,
    state: &'a str,
    zip: &'a str,
    country: &'a str,
    country_iso2: &'a str,
    phone: &'a str,
    email: &'a str,
    form_fields: [(); 0],
}

pub fn address_v2(a: &Address) -> AddressV2<'_> {
    AddressV2 {
        first_name: &a.first_name,
        last_name: &a.last_name,
        company: &a.company,
        street_1: &a.street_1,
        street_2: &a.street_2,
        city: &a.city,
        state: &a.state,
        zip: &a.zip,
        country: &a.country,
        country_iso2: &a.country_iso2,
        phone: &a.phone,
        email: &a.email,
        form_fields: [],
    }
}

/// `{url, resource}` of an order's sub-collection.
pub struct OrderLink<'a> {
    base_url: &'a str,
    order_id: u64,
    name: &'static str,
}

impl Serialize for OrderLink<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (base, id, name) = (self.base_url, self.order_id, self.name);
        let mut m = s.serialize_struct("OrderLink", 2)?;
        m.serialize_field("url", &Shown(format_args!("{base}/v2/orders/{id}/{name}")))?;
        m.serialize_field("resource", &Shown(format_args!("/orders/{id}/{name}")))?;
        m.end()
    }
}

/// `""` when there is no date (v2 shows an empty string, not `null`).
pub struct DateOrEmpty<'a>(Option<&'a DateTime<Utc>>);

impl Serialize for DateOrEmpty<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(d) => Rfc2822(d).serialize(s),
            None => s.serialize_str(""),
        }
    }
}

/// A v2 order, field for field as `GET /v2/orders/{id}` shows it. A typed view rather than a
/// `json!` tree: orders are what the host reads most, several times per order.
#[derive(Serialize)]
pub struct OrderV2<'a> {
    id: u64,
    customer_id: u64,
    date_created: Rfc2822<'a>,
    date_modified: Rfc2822<'a>,
    date_shipped: DateOrEmpty<'a>,
    status_id: u8,
    status: &'static str,
    custom_status: &'static str,
    subtotal_ex_tax: Money2,
    subtotal_inc_tax: Money2,
    subtotal_tax: Money2,
    base_shipping_cost: Money2,
    shipping_cost_ex_tax: Money2,
    shipping_cost_inc_tax: Money2,
    shipping_cost_tax: Money2,
    shipping_cost_tax_class_id: u64,
    base_handling_cost: Money2,
    handling_cost_ex_tax: Money2,
    handling_cost_inc_tax: Money2,
    handling_cost_tax: Money2,
    handling_cost_tax_class_id: u64,
    base_wrapping_cost: Money2,
    wrapping_cost_ex_tax: Money2,
    wrapping_cost_inc_tax: Money2,
    wrapping_cost_tax: Money2,
    wrapping_cost_tax_class_id: u64,
    total_ex_tax: Money2,
    total_inc_tax: Money2,
    total_tax: Money2,
    is_tax_inclusive_pricing: bool,
    items_total: u32,
    items_shipped: u32,
    payment_method: &'a str,
    payment_provider_id: &'a str,
    payment_status: &'a str,
    refunded_amount: Money2,
    order_is_digital: bool,
    store_credit_amount: Money2,
    gift_certificate_amount: Money2,
    ip_address: &'a str,
    ip_address_v6: &'static str,
    geoip_country: &'a str,
    geoip_country_iso2: &'a str,
    currency_id: u64,
    currency_code: &'a str,
    currency_exchange_rate: &'static str,
    default_currency_id: u64,
    default_currency_code: &'a str,
    store_default_currency_code: &'a str,
    store_default_to_transactional_exchange_rate: Shown<Fixed10>,
    staff_notes: &'a str,
    customer_message: &'a str,
    discount_amount: Money2,
    coupon_discount: Money2,
    shipping_address_count: usize,
    is_deleted: bool,
    ebay_order_id: &'static str,
    cart_id: &'a str,
    billing_address: AddressV2<'a>,
    is_email_opt_in: bool,
    credit_card_type: (),
    order_source: &'a str,
    channel_id: u64,
    external_source: Option<&'a str>,
    external_id: (),
    external_merchant_id: Option<&'a str>,
    external_order_id: &'a str,
    tax_provider_id: &'static str,
    customer_locale: &'a str,
    products: OrderLink<'a>,
    shipping_addresses: OrderLink<'a>,
    coupons: OrderLink<'a>,
    fees: [(); 0],
}

/// A decimal with ten places (`store_default_to_transactional_exchange_rate`).
pub struct Fixed10(Decimal);

impl std::fmt::Display for Fixed10 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.10}", self.0)
    }
}

pub fn order_v2<'a>(o: &'a Order, base_url: &'a str) -> OrderV2<'a> {
    let sub = o.subtotal();
    let ship = o.shipping();
    let hand = o.handling();
    let total = o.total();
    let wrap = o.lines.iter().fold(o.wrapping, |a, l| a.add(l.wrapping));
    let inclusive = o.is_tax_inclusive;
    let link = |name| OrderLink {
        base_url,
        order_id: o.id,
        name,
    };
    let status = status_name(o.status_id);
    OrderV2 {
        id: o.id,
        customer_id: o.customer_id,
        date_created: Rfc2822(&o.date_created),
        date_modified: Rfc2822(&o.date_modified),
        date_shipped: DateOrEmpty(o.date_shipped.as_ref()),
        status_id: o.status_id,
        status,
        custom_status: status,
        subtotal_ex_tax: Money2(sub.ex_tax),
        subtotal_inc_tax: Money2(sub.inc_tax),
        subtotal_tax: Money2(sub.tax),
        base_shipping_cost: Money2(ship.entered(inclusive)),
        shipping_cost_ex_tax: Money2(ship.ex_tax),
        shipping_cost_inc_tax: Money2(ship.inc_tax),
        shipping_cost_tax: Money2(ship.tax),
        shipping_cost_tax_class_id: if o.shipping_addresses.is_empty() {
            0
        } else {
            2
        },
        base_handling_cost: Money2(hand.entered(inclusive)),
        handling_cost_ex_tax: Money2(hand.ex_tax),
        handling_cost_inc_tax: Money2(hand.inc_tax),
        handling_cost_tax: Money2(hand.tax),
        handling_cost_tax_class_id: 2,
        base_wrapping_cost: Money2(wrap.entered(inclusive)),
        wrapping_cost_ex_tax: Money2(wrap.ex_tax),
        wrapping_cost_inc_tax: Money2(wrap.inc_tax),
        wrapping_cost_tax: Money2(wrap.tax),
        wrapping_cost_tax_class_id: 3,
        total_ex_tax: Money2(total.ex_tax),
        total_inc_tax: Money2(total.inc_tax),
        total_tax: Money2(total.tax),
        is_tax_inclusive_pricing: inclusive,
        items_total: o.items_total(),
        items_shipped: o.items_shipped(),
        payment_method: &o.payment_method,
        payment_provider_id: &o.payment_provider_id,
        payment_status: &o.payment_status,
        refunded_amount: Money2(o.refunded_amount),
        order_is_digital: o.lines.iter().all(|l| l.kind == "digital"),
        store_credit_amount: Money2(Decimal::ZERO),
        gift_certificate_amount: Money2(Decimal::ZERO),
        ip_address: &o.ip_address,
        ip_address_v6: "",
        geoip_country: &o.billing_address.country,
        geoip_country_iso2: &o.billing_address.country_iso2,
        currency_id: o.currency_id,
        currency_code: &o.currency_code,
        currency_exchange_rate: "1.0000000000",
        default_currency_id: o.currency_id,
        default_currency_code: &o.currency_code,
        store_default_currency_code: &o.store_default_currency_code,
        store_default_to_transactional_exchange_rate: Shown(Fixed10(
            o.store_default_to_transactional_exchange_rate,
        )),
        staff_notes: &o.staff_notes,
        customer_message: &o.customer_message,
        discount_amount: Money2(o.discount_amount),
        coupon_discount: Money2(o.coupon_discount()),
        shipping_address_count: o.shipping_addresses.len(),
        is_deleted: o.is_deleted,
        ebay_order_id: "0",
        cart_id: &o.cart_id,
        billing_address: address_v2(&o.billing_address),
        is_email_opt_in: false,
        credit_card_type: (),
        order_source: &o.order_source,
        channel_id: o.channel_id,
        external_source: o.external_source.as_deref(),
        external_id: (),
        external_merchant_id: o.external_merchant_id.as_deref(),
        external_order_id: &o.external_order_id,
        tax_provider_id: if o.order_source == "external" {
            ""
        } else {
            "BasicTaxProvider"
        },
        customer_locale: &o.customer_locale,
        products: link("products"),
        shipping_addresses: link("shipping_addresses"),
        coupons: link("coupons"),
        fees: [],
    }
}

/// One `applied_discounts[]` entry of an order product.
#[derive(Serialize)]
pub struct AppliedV2<'a> {
    id: &'a str,
    amount: Money2,
    name: &'a str,
    code: Option<&'a str>,
    target: &'static str,
}

/// An order product (`GET /v2/orders/{id}/products`).
#[derive(Serialize)]
pub struct OrderLineV2<'a> {
    id: u64,
    order_id: u64,
    product_id: u64,
    variant_id: u64,
    order_pickup_method_id: u64,
    order_address_id: u64,
    name: &'a str,
    name_customer: &'a str,
    name_merchant: &'a str,
    sku: &'a str,
    upc: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    base_price: Money2,
    price_ex_tax: Money2,
    price_inc_tax: Money2,
    price_tax: Money2,
    base_total: Money2,
    total_ex_tax: Money2,
    total_inc_tax: Money2,
    total_tax: Money2,
    weight: Money2,
    width: &'static str,
    height: &'static str,
    depth: &'static str,
    quantity: u32,
    base_cost_price: Money2,
    cost_price_inc_tax: Money2,
    cost_price_ex_tax: Money2,
    cost_price_tax: &'static str,
    is_refunded: bool,
    quantity_refunded: u32,
    refund_amount: Money2,
    return_id: u64,
    wrapping_id: u64,
    wrapping_name: &'static str,
    base_wrapping_cost: Money2,
    wrapping_cost_ex_tax: Money2,
    wrapping_cost_inc_tax: Money2,
    wrapping_cost_tax: Money2,
    wrapping_message: &'static str,
    quantity_shipped: u32,
    event_name: (),
    event_date: &'static str,
    fixed_shipping_cost: &'static str,
    ebay_item_id: &'static str,
    ebay_transaction_id: &'static str,
    parent_order_product_id: (),
    is_bundled_product: bool,
    bin_picking_number: &'static str,
    external_id: (),
    brand: &'static str,
    gift_certificate_id: (),
    applied_discounts: Vec<AppliedV2<'a>>,
    product_options: &'a [Value],
    configurable_fields: [(); 0],
    discounted_total_inc_tax: Money2,
}

pub fn order_line_v2<'a>(o: &Order, l: &'a OrderLine) -> OrderLineV2<'a> {
    let inclusive = o.is_tax_inclusive;
    OrderLineV2 {
        id: l.id,
        order_id: o.id,
        product_id: l.product_id,
        variant_id: l.variant_id,
        order_pickup_method_id: 0,
        order_address_id: l.order_address_id,
        name: &l.name,
        name_customer: &l.name,
        name_merchant: &l.name,
        sku: &l.sku,
        upc: &l.upc,
        kind: &l.kind,
        base_price: Money2(l.unit.entered(inclusive)),
        price_ex_tax: Money2(l.unit.ex_tax),
        price_inc_tax: Money2(l.unit.inc_tax),
        price_tax: Money2(l.unit.tax),
        base_total: Money2(l.total.entered(inclusive)),
        total_ex_tax: Money2(l.total.ex_tax),
        total_inc_tax: Money2(l.total.inc_tax),
        total_tax: Money2(l.total.tax),
        weight: Money2(l.weight),
        width: "0.0000",
        height: "0.0000",
        depth: "0.0000",
        quantity: l.quantity,
        base_cost_price: Money2(l.base_cost_price),
        cost_price_inc_tax: Money2(l.base_cost_price),
        cost_price_ex_tax: Money2(l.base_cost_price),
        cost_price_tax: "0.0000",
        is_refunded: l.quantity_refunded > 0 && l.quantity_refunded >= l.quantity,
        quantity_refunded: l.quantity_refunded,
        refund_amount: Money2(l.refund_amount),
        return_id: 0,
        wrapping_id: 0,
        wrapping_name: "",
        base_wrapping_cost: Money2(l.wrapping.entered(inclusive)),
        wrapping_cost_ex_tax: Money2(l.wrapping.ex_tax),
        wrapping_cost_inc_tax: Money2(l.wrapping.inc_tax),
        wrapping_cost_tax: Money2(l.wrapping.tax),
        wrapping_message: "",
        quantity_shipped: l.quantity_shipped,
        event_name: (),
        event_date: "",
        fixed_shipping_cost: "0.0000",
        ebay_item_id: "",
        ebay_transaction_id: "",
        parent_order_product_id: (),
        is_bundled_product: false,
        bin_picking_number: "",
        external_id: (),
        brand: "",
        gift_certificate_id: (),
        applied_discounts: l
            .applied
            .iter()
            .map(|a| AppliedV2 {
                id: &a.id,
                amount: Money2(a.amount),
                name: &a.name,
                code: a.code.as_deref(),
                target: "order",
            })
            .collect(),
        product_options: &l.product_options,
        configurable_fields: [],
        discounted_total_inc_tax: Money2(l.discounted.inc_tax),
    }
}

/// An order shipping address (`GET /v2/orders/{id}/shipping_addresses`).
#[derive(Serialize)]
pub struct ShippingAddressV2<'a> {
    #[serde(flatten)]
    address: AddressV2<'a>,
    id: u64,
    order_id: u64,
    items_total: u32,
    items_shipped: u32,
    shipping_method: &'a str,
    base_cost: Money2,
    cost_ex_tax: Money2,
    cost_inc_tax: Money2,
    cost_tax: Money2,
    cost_tax_class_id: u64,
    base_handling_cost: Money2,
    handling_cost_ex_tax: Money2,
    handling_cost_inc_tax: Money2,
    handling_cost_tax: Money2,
    handling_cost_tax_class_id: u64,
    shipping_zone_id: u64,
    shipping_zone_name: &'a str,
    shipping_quotes: EmptyLink,
}

/// `{"url": "", "resource": ""}`.
#[derive(Serialize)]
pub struct EmptyLink {
    url: &'static str,
    resource: &'static str,
}

pub fn shipping_address_v2<'a>(o: &Order, s: &'a ShippingAddress) -> ShippingAddressV2<'a> {
    let lines = o.lines.iter().filter(|l| l.order_address_id == s.id);
    let (total, shipped) = lines.fold((0u32, 0u32), |(t, sh), l| {
        (t + l.quantity, sh + l.quantity_shipped)
    });
    let inclusive = o.is_tax_inclusive;
    ShippingAddressV2 {
        address: address_v2(&s.address),
        id: s.id,
        order_id: o.id,
        items_total: total,
        items_shipped: shipped,
        shipping_method: &s.shipping_method,
        base_cost: Money2(s.cost.entered(inclusive)),
        cost_ex_tax: Money2(s.cost.ex_tax),
        cost_inc_tax: Money2(s.cost.inc_tax),
        cost_tax: Money2(s.cost.tax),
        cost_tax_class_id: 2,
        base_handling_cost: Money2(s.handling.entered(inclusive)),
        handling_cost_ex_tax: Money2(s.handling.ex_tax),
        handling_cost_inc_tax: Money2(s.handling.inc_tax),
        handling_cost_tax: Money2(s.handling.tax),
        handling_cost_tax_class_id: 2,
        shipping_zone_id: s.shipping_zone_id,
        shipping_zone_name: &s.shipping_zone_name,
        shipping_quotes: EmptyLink {
            url: "",
            resource: "",
        },
    }
}

/// An order coupon (`GET /v2/orders/{id}/coupons`).
#[derive(Serialize)]
pub struct CouponV2<'a> {
    id: u64,
    coupon_id: u64,
    order_id: u64,
    code: &'a str,
    amount: Money2,
    #[serde(rename = "type")]
    kind: u8,
    discount: Num3,
}

pub fn coupon_v2<'a>(o: &Order, c: &'a OrderCoupon) -> CouponV2<'a> {
    CouponV2 {
        id: c.id,
        coupon_id: c.coupon_id,
        order_id: o.id,
        code: &c.code,
        amount: Money2(c.amount),
        kind: c.kind,
        discount: Num3(c.discount),
    }
}

pub fn shipment_v2(o: &Order, s: &Shipment) -> Value {
    let addr = o
        .shipping_addresses
        .iter()
        .find(|a| a.id == s.order_address_id);
    json!({
        "id": s.id,
        "order_id": o.id,
        "customer_id": o.customer_id,
        "order_address_id": s.order_address_id,
        "date_created": rfc2822(&s.date_created),
        "tracking_number": s.tracking_number,
        "merchant_shipping_cost": "0.0000",
        "shipping_method": s.shipping_method,
        "comments": s.comments,
        "shipping_provider": s.shipping_provider,
        "tracking_carrier": s.tracking_carrier,
        "tracking_link": "",
        "billing_address": address_v2(&o.billing_address),
        "shipping_address": addr.map(|a| json!(address_v2(&a.address))).unwrap_or_else(|| json!({})),
        "items": s.items.iter().map(|(id, q)| {
            let pid = o.lines.iter().find(|l| l.id == *id).map(|l| l.product_id).unwrap_or(0);
            json!({"order_product_id": id, "product_id": pid, "quantity": q})
        }).collect::<Vec<_>>(),
        "shipping_provider_display_name": s.shipping_provider,
        "generated_tracking_link": "",
    })
}

/// One tax row per taxed component. With `details` the rows name the order product and the
/// line item type (NOTES §6.3); without, rows are aggregated per tax class.
pub fn taxes_v2(o: &Order, store: &Store, details: bool) -> Vec<Value> {
    struct Row {
        class_id: u64,
        rate: Decimal,
        address: u64,
        product: Option<u64>,
        kind: &'static str,
        amount: Decimal,
    }
    let mut rows: Vec<Row> = Vec::new();
    // The rates the order was taxed at: those of its destination (see `orders::create`).
    let tax_country = o
        .shipping_addresses
        .first()
        .map(|s| s.address.country_iso2.clone())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| o.billing_address.country_iso2.clone());
    for l in &o.lines {
        rows.push(Row {
            class_id: l.tax_class_id,
            rate: l.tax_rate,
            address: l.order_address_id,
            product: Some(l.id),
            kind: "item",
            amount: l.discounted.tax,
        });
        if !l.wrapping.tax.is_zero() {
            rows.push(Row {
                class_id: store.wrapping_tax_class_id,
                rate: store.tax_rate_in(store.wrapping_tax_class_id, &tax_country),
                address: l.order_address_id,
                product: Some(l.id),
                kind: "gift-wrapping",
                amount: l.wrapping.tax,
            });
        }
    }
    for s in &o.shipping_addresses {
        rows.push(Row {
            class_id: store.shipping_tax_class_id,
            rate: store.tax_rate_in(store.shipping_tax_class_id, &tax_country),
            address: s.id,
            product: None,
            kind: "shipping",
            amount: s.cost.tax,
        });
        if !s.handling.tax.is_zero() {
            rows.push(Row {
                class_id: store.handling_tax_class_id,
                rate: store.tax_rate_in(store.handling_tax_class_id, &tax_country),
                address: s.id,
                product: None,
                kind: "handling",
                amount: s.handling.tax,
            });
        }
    }
    rows.retain(|r| !r.rate.is_zero());
    let class_name = |id: u64| {
        store
            .tax_classes
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let render = |i: usize, r: &Row, amount: Decimal, details: bool| {
        let mut v = json!({
            "id": i + 1,
            "order_id": o.id,
            "order_address_id": r.address,
            "tax_rate_id": r.class_id + 1,
            "sales_tax_id": format!("sim-rate-{}", r.class_id),
            "tax_class_id": r.class_id,
            "name": format!("VAT {}%", (r.rate * Decimal::ONE_HUNDRED).normalize()),
            "class": class_name(r.class_id),
            "rate": money2(r.rate * Decimal::ONE_HUNDRED),
            "priority": 0,
            "priority_amount": money2(amount),
            "line_amount": money2(amount),
            "order_pickup_method_id": 0,
        });
        if details {
            // The spec describes `null` for shipping/handling rows but types the field as a
            // plain string; omitting it satisfies both readings.
            if let Some(p) = r.product {
                v["order_product_id"] = Value::String(p.to_string());
            }
            v["line_item_type"] = json!(r.kind);
        }
        v
    };
    if details {
        rows.iter()
            .enumerate()
            .map(|(i, r)| render(i, r, r.amount, true))
            .collect()
    } else {
        let mut agg: Vec<(Row, Decimal)> = Vec::new();
        for r in rows {
            match agg
                .iter_mut()
                .find(|(a, _)| a.class_id == r.class_id && a.address == r.address)
            {
                Some((_, amt)) => *amt += r.amount,
                None => {
                    let amt = r.amount;
                    agg.push((r, amt));
                }
            }
        }
        agg.iter()
            .enumerate()
            .map(|(i, (r, amt))| render(i, r, *amt, false))
            .collect()
    }
}

pub fn product_v3(store: &Store, p: &Product, with_variants: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "name": p.name,
        "type": p.kind,
        "sku": p.sku,
        "description": p.description,
        "weight": num3(p.weight),
        "width": 0, "depth": 0, "height": 0,
        "price": num3(p.price),
        "cost_price": num3(p.cost_price),
        "retail_price": 0,
        "sale_price": num3(p.sale_price),
        "map_price": 0,
        "tax_class_id": p.tax_class_id,
        "product_tax_code": "",
        "calculated_price": num3(if p.sale_price.is_zero() { p.price } else { p.sale_price }),
        "categories": p.categories,
        "brand_id": 0,
        "option_set_display": "right",
        "inventory_level": store.product_inventory_level(p),
        "inventory_warning_level": p.inventory_warning_level,
        "inventory_tracking": p.inventory_tracking,
        "reviews_rating_sum": 0,
        "reviews_count": 0,
        "total_sold": 0,
        "fixed_cost_shipping_price": 0,
        "is_free_shipping": false,
        "is_visible": p.is_visible,
        "is_featured": false,
        "related_products": [-1],
        "warranty": "",
        "bin_picking_number": "",
        "layout_file": "product.html",
        "upc": "",
        "mpn": "",
        "gtin": "",
        "search_keywords": "",
        "availability": "available",
        "availability_description": "",
        "gift_wrapping_options_type": "any",
        "gift_wrapping_options_list": [],
        "sort_order": 0,
        "condition": "New",
        "is_condition_shown": false,
        "order_quantity_minimum": 0,
        "order_quantity_maximum": 0,
        "page_title": "",
        "meta_keywords": [],
        "meta_description": "",
        "date_created": rfc3339(&p.date_created),
        "date_modified": rfc3339(&p.date_modified),
        "view_count": 0,
        "preorder_release_date": null,
        "preorder_message": "",
        "is_preorder_only": false,
        "is_price_hidden": false,
        "price_hidden_label": "",
        "custom_url": { "url": format!("/{}/", slug(&p.name)), "is_customized": false },
        "base_variant_id": if p.has_options { Value::Null } else { p.variants.first().map(|v| json!(v)).unwrap_or(Value::Null) },
        "open_graph_type": "product",
        "open_graph_title": "",
        "open_graph_description": "",
        "open_graph_use_meta_description": true,
        "open_graph_use_product_name": true,
        "open_graph_use_image": true,
    });
    if with_variants {
        v["variants"] = Value::Array(
            p.variants
                .iter()
                .filter_map(|id| store.variants.get(id))
                .map(|var| variant_v3(store, var))
                .collect(),
        );
    }
    v
}

pub fn variant_v3(store: &Store, v: &Variant) -> Value {
    let product = store.products.get(&v.product_id);
    let tracked_by_variant = product.is_some_and(|p| p.inventory_tracking == "variant");
    let level = if tracked_by_variant {
        store.on_hand(v.id, DEFAULT_LOCATION)
    } else {
        0
    };
    let opt = |d: Option<Decimal>| d.map(num3).unwrap_or(Value::Null);
    json!({
        "id": v.id,
        "product_id": v.product_id,
        "sku": v.sku,
        "sku_id": v.sku_id,
        "price": opt(v.price),
        "calculated_price": num3(store.variant_price(v)),
        "sale_price": opt(v.sale_price),
        "retail_price": null,
        "map_price": null,
        "weight": opt(v.weight),
        "calculated_weight": num3(v.weight.or(product.map(|p| p.weight)).unwrap_or_default()),
        "width": null, "height": null, "depth": null,
        "is_free_shipping": false,
        "fixed_cost_shipping_price": null,
        "purchasing_disabled": v.purchasing_disabled,
        "purchasing_disabled_message": "",
        "image_url": "",
        "cost_price": opt(v.cost_price),
        "upc": v.upc,
        "mpn": "",
        "gtin": "",
        "inventory_level": level,
        "inventory_warning_level": 0,
        "bin_picking_number": "",
        "option_values": v.option_values,
    })
}

pub fn customer_v3(store: &Store, c: &Customer, include_addresses: bool) -> Value {
    let mut v = json!({
        "id": c.id,
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "company": c.company,
        "phone": c.phone,
        "notes": c.notes,
        "tax_exempt_category": c.tax_exempt_category,
        "customer_group_id": c.customer_group_id,
        "registration_ip_address": "",
        "date_created": rfc3339(&c.date_created),
        "date_modified": rfc3339(&c.date_modified),
        "accepts_product_review_abandoned_cart_emails": false,
        "origin_channel_id": c.origin_channel_id,
        "channel_ids": c.channel_ids,
        "address_count": store.addresses.values().filter(|a| a.customer_id == c.id).count(),
        "attribute_count": 0,
        "authentication": { "force_password_reset": false },
        "store_credit_amounts": [{ "amount": 0 }],
    });
    if include_addresses {
        v["addresses"] = Value::Array(
            store
                .addresses
                .values()
                .filter(|a| a.customer_id == c.id)
                .map(customer_address_v3)
                .collect(),
        );
    }
    v
}

pub fn customer_address_v3(a: &CustomerAddress) -> Value {
    json!({
        "id": a.id, "customer_id": a.customer_id, "first_name": a.first_name, "last_name": a.last_name,
        "company": a.company, "address1": a.address1, "address2": a.address2, "city": a.city,
        "state_or_province": a.state_or_province, "postal_code": a.postal_code,
        "country_code": a.country_code, "country": a.country, "phone": a.phone,
        "address_type": a.address_type,
    })
}

pub fn slug(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}
