//! BigCommerce API records → the WIT input records a plugin maps (`order`, `refund`).
//!
//! Amounts arrive as decimals in the order's transactional currency and leave as integer
//! minor units of that currency; a value that does not fit is refused rather than rounded
//! silently.

use ledgerlink_bigcommerce::models::{
    Order, OrderCoupon, OrderProduct, OrderTax, Refund as BcRefund, RefundItemType as BcItemType,
    Shipment as BcShipment, ShippingAddress,
};
use ledgerlink_core::CurrencyCode;
use ledgerlink_core::money::decimal_to_minor;
use ledgerlink_runtime::types as wit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

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
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CanonicalError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> CanonicalError {
    CanonicalError {
        path: path.into(),
        message: message.into(),
    }
}

pub fn currency_of(order: &Order) -> String {
    order
        .currency_code
        .clone()
        .or_else(|| order.default_currency_code.clone())
        .unwrap_or_else(|| "USD".to_owned())
}

pub fn digits_of(currency: &str) -> u32 {
    currency
        .parse::<CurrencyCode>()
        .map(|c| c.minor_digits())
        .unwrap_or(2)
}

struct Minor {
    digits: u32,
}

impl Minor {
    fn of(&self, path: &str, d: Decimal) -> Result<i64, CanonicalError> {
        decimal_to_minor(d, self.digits)
            .ok_or_else(|| err(path, format!("amount {d} does not fit in minor units")))
    }

    fn opt(&self, path: &str, d: Option<Decimal>) -> Result<i64, CanonicalError> {
        self.of(path, d.unwrap_or_default())
    }
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

fn qty(n: u64) -> wit::Decimal {
    wit::Decimal {
        digits: n as i64,
        scale: 0,
    }
}

fn address_from_billing(b: &ledgerlink_bigcommerce::models::BillingAddress) -> wit::Address {
    wit::Address {
        first_name: b.first_name.clone(),
        last_name: b.last_name.clone(),
        company: b.company.clone(),
        street_1: b.street_1.clone(),
        street_2: b.street_2.clone(),
        city: b.city.clone(),
        state: b.state.clone(),
        zip: b.zip.clone().unwrap_or_default(),
        country: b.country.clone(),
        country_iso2: b.country_iso2.clone(),
        phone: b.phone.clone(),
        email: b.email.clone(),
    }
}

fn empty_address() -> wit::Address {
    wit::Address {
        first_name: String::new(),
        last_name: String::new(),
        company: String::new(),
        street_1: String::new(),
        street_2: String::new(),
        city: String::new(),
        state: String::new(),
        zip: String::new(),
        country: String::new(),
        country_iso2: String::new(),
        phone: String::new(),
        email: String::new(),
    }
}

fn po_number(order: &Order) -> Option<String> {
    // BigCommerce has no first-class PO field: B2B Edition writes it to the order's extra
    // fields; a store without B2B Edition may keep it in `external_order_id`.
    for key in ["po_number", "purchase_order_number", "poNumber"] {
        if let Some(v) = order.extra.get(key).and_then(|v| v.as_str())
            && !v.trim().is_empty()
        {
            return Some(v.to_owned());
        }
    }
    None
}

/// The WIT order for a fetched bundle. `visma_customer` is the customer number the host
/// already knows (identity map), if any.
pub fn order(
    bundle: &OrderBundle,
    visma_customer: Option<String>,
) -> Result<wit::Order, CanonicalError> {
    let o = &bundle.order;
    let currency = currency_of(o);
    let m = Minor {
        digits: digits_of(&currency),
    };
    let billing = o
        .billing_address
        .as_ref()
        .map(address_from_billing)
        .unwrap_or_else(empty_address);

    let mut lines = Vec::with_capacity(bundle.products.len());
    for (i, p) in bundle.products.iter().enumerate() {
        let path = format!("lines[{i}]");
        let tax_rate = bundle
            .taxes
            .iter()
            .find(|t| t.order_product_id == Some(p.id))
            .and_then(|t| t.rate)
            .map(to_wit_decimal);
        let tax_class_id = bundle
            .taxes
            .iter()
            .find(|t| t.order_product_id == Some(p.id))
            .and_then(|t| t.tax_class_id);
        let mut discounts = Vec::new();
        for (j, d) in p.applied_discounts.iter().enumerate() {
            discounts.push(wit::LineDiscount {
                name: d.name.clone().unwrap_or_default(),
                code: d.code.clone().filter(|c| !c.is_empty()),
                amount: m.of(&format!("{path}.discounts[{j}].amount"), d.amount)?,
            });
        }
        let options = p
            .product_options
            .iter()
            .filter_map(|v| {
                let name = v
                    .get("display_name")
                    .or_else(|| v.get("name"))?
                    .as_str()?
                    .to_owned();
                let value = v
                    .get("display_value")
                    .or_else(|| v.get("value"))
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_owned();
                Some((name, value))
            })
            .collect();
        lines.push(wit::OrderLine {
            id: p.id,
            product_id: p.product_id.0,
            variant_id: p.variant_id.map(|v| v.0),
            sku: p.sku.clone(),
            name: p.name.clone(),
            quantity: qty(p.quantity),
            quantity_shipped: qty(p.quantity_shipped.unwrap_or(0)),
            quantity_refunded: qty(p.quantity_refunded.unwrap_or(0)),
            unit_price_ex_tax: m.of(&format!("{path}.price_ex_tax"), p.price_ex_tax)?,
            unit_price_inc_tax: m.of(&format!("{path}.price_inc_tax"), p.price_inc_tax)?,
            total_ex_tax: m.of(&format!("{path}.total_ex_tax"), p.total_ex_tax)?,
            total_inc_tax: m.of(&format!("{path}.total_inc_tax"), p.total_inc_tax)?,
            total_tax: m.opt(&format!("{path}.total_tax"), p.total_tax)?,
            tax_class_id,
            tax_rate,
            discounts,
            parent_line_id: p.parent_order_product_id.filter(|id| *id != 0),
            options,
            weight: p
                .extra
                .get("weight")
                .and_then(|w| {
                    w.as_str()
                        .map(str::to_owned)
                        .or_else(|| w.as_f64().map(|f| f.to_string()))
                })
                .and_then(|s| s.parse::<Decimal>().ok())
                .map(to_wit_decimal),
        });
    }

    let mut taxes = Vec::with_capacity(bundle.taxes.len());
    for (i, t) in bundle.taxes.iter().enumerate() {
        let line_type = match t.line_item_type.as_deref().unwrap_or("item") {
            "shipping" => "shipping",
            "handling" => "handling",
            "gift_wrapping" | "gift-wrapping" | "giftwrapping" => "gift-wrapping",
            "fee" => "fee",
            _ => "item",
        };
        taxes.push(wit::TaxLine {
            order_line_id: t.order_product_id.filter(|id| *id != 0),
            line_type: line_type.to_owned(),
            tax_class_id: t.tax_class_id,
            name: t.name.clone(),
            rate: to_wit_decimal(t.rate.unwrap_or_default()),
            amount: m.of(&format!("taxes[{i}].line_amount"), t.line_amount)?,
        });
    }

    let mut shipping_addresses = Vec::new();
    for (i, s) in bundle.shipping_addresses.iter().enumerate() {
        let path = format!("shipping_addresses[{i}]");
        shipping_addresses.push(wit::ShippingAddress {
            id: s.id,
            address: wit::Address {
                first_name: s.first_name.clone(),
                last_name: s.last_name.clone(),
                company: s.company.clone(),
                street_1: s.street_1.clone(),
                street_2: s.street_2.clone(),
                city: s.city.clone(),
                state: s.state.clone(),
                zip: s.zip.clone().unwrap_or_default(),
                country: s.country.clone(),
                country_iso2: s.country_iso2.clone(),
                phone: s.phone.clone(),
                email: s.email.clone(),
            },
            shipping_method: s.shipping_method.clone().unwrap_or_default(),
            shipping_zone_name: s.shipping_zone_name.clone().unwrap_or_default(),
            cost_ex_tax: m.opt(&format!("{path}.cost_ex_tax"), s.cost_ex_tax)?,
            cost_inc_tax: m.opt(&format!("{path}.cost_inc_tax"), s.cost_inc_tax)?,
            cost_tax: m.opt(&format!("{path}.cost_tax"), s.cost_tax)?,
            items_total: s.items_total.unwrap_or(0) as u32,
            items_shipped: s.items_shipped.unwrap_or(0) as u32,
        });
    }

    let mut fees = Vec::new();
    for (i, f) in o.fees.iter().flatten().enumerate() {
        let path = format!("fees[{i}]");
        fees.push(wit::Fee {
            id: f.id,
            name: f
                .display_name_merchant
                .clone()
                .or_else(|| f.display_name_customer.clone())
                .unwrap_or_default(),
            ex_tax: m.opt(&format!("{path}.cost_ex_tax"), f.cost_ex_tax)?,
            inc_tax: m.opt(&format!("{path}.cost_inc_tax"), f.cost_inc_tax)?,
            tax: m.opt(&format!("{path}.cost_tax"), f.cost_tax)?,
            tax_class_id: f.tax_class_id,
        });
    }

    let mut coupons = Vec::new();
    for (i, c) in bundle.coupons.iter().enumerate() {
        coupons.push(wit::Coupon {
            code: c.code.clone(),
            coupon_type: c.kind.map(|k| k.to_string()).unwrap_or_default(),
            amount: m.opt(&format!("coupons[{i}].discount"), c.discount.or(c.amount))?,
        });
    }

    let customer = wit::Customer {
        bc_customer_id: o.customer_id.0,
        email: billing.email.clone(),
        first_name: billing.first_name.clone(),
        last_name: billing.last_name.clone(),
        company: billing.company.clone(),
        phone: billing.phone.clone(),
        customer_group_id: None,
        customer_group_name: None,
        tax_exempt_category: None,
        visma_customer_number: visma_customer,
    };

    let exchange_rate = o
        .store_default_to_transactional_exchange_rate
        .or(o.currency_exchange_rate)
        .unwrap_or(Decimal::ONE);

    Ok(wit::Order {
        id: o.id.0,
        channel_id: o.channel_id.map(|c| c.0).unwrap_or(1),
        status_id: o.status_id,
        status: o.status.clone(),
        created_at: o.date_created.to_rfc3339(),
        modified_at: o.date_modified.to_rfc3339(),
        currency: currency.clone(),
        default_currency: o
            .store_default_currency_code
            .clone()
            .or_else(|| o.default_currency_code.clone())
            .unwrap_or_else(|| currency.clone()),
        exchange_rate: to_wit_decimal(exchange_rate),
        prices_include_tax: o.is_tax_inclusive_pricing.unwrap_or(false),
        customer,
        billing_address: billing,
        shipping_addresses,
        lines,
        taxes,
        shipping: wit::Cost {
            ex_tax: m.opt("shipping_cost_ex_tax", o.shipping_cost_ex_tax)?,
            inc_tax: m.opt("shipping_cost_inc_tax", o.shipping_cost_inc_tax)?,
            tax: m.opt("shipping_cost_tax", o.shipping_cost_tax)?,
            tax_class_id: o.shipping_cost_tax_class_id,
        },
        handling: wit::Cost {
            ex_tax: m.opt("handling_cost_ex_tax", o.handling_cost_ex_tax)?,
            inc_tax: m.opt("handling_cost_inc_tax", o.handling_cost_inc_tax)?,
            tax: m.opt("handling_cost_tax", o.handling_cost_tax)?,
            tax_class_id: o.handling_cost_tax_class_id,
        },
        wrapping: wit::Cost {
            ex_tax: m.opt("wrapping_cost_ex_tax", o.wrapping_cost_ex_tax)?,
            inc_tax: m.opt("wrapping_cost_inc_tax", o.wrapping_cost_inc_tax)?,
            tax: m.opt("wrapping_cost_tax", o.wrapping_cost_tax)?,
            tax_class_id: o.wrapping_cost_tax_class_id,
        },
        fees,
        coupons,
        discount_amount: m.opt("discount_amount", o.discount_amount)?,
        coupon_discount: m.opt("coupon_discount", o.coupon_discount)?,
        subtotal_ex_tax: m.of("subtotal_ex_tax", o.subtotal_ex_tax)?,
        subtotal_inc_tax: m.of("subtotal_inc_tax", o.subtotal_inc_tax)?,
        total_ex_tax: m.of("total_ex_tax", o.total_ex_tax)?,
        total_inc_tax: m.of("total_inc_tax", o.total_inc_tax)?,
        total_tax: m.opt("total_tax", o.total_tax)?,
        store_credit_amount: m.opt("store_credit_amount", o.store_credit_amount)?,
        gift_certificate_amount: m.opt("gift_certificate_amount", o.gift_certificate_amount)?,
        payment_method: o.payment_method.clone().unwrap_or_default(),
        payment_provider_id: o
            .payment_provider_id
            .as_ref()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            })
            .unwrap_or_default(),
        payment_status: o.payment_status.clone().unwrap_or_default(),
        customer_message: o.customer_message.clone().unwrap_or_default(),
        staff_notes: o.staff_notes.clone().unwrap_or_default(),
        po_number: po_number(o),
        external_id: o.external_id.clone().filter(|s| !s.is_empty()),
        raw_json: serde_json::to_string(o).ok(),
    })
}

pub fn shipment(s: &BcShipment) -> wit::Shipment {
    wit::Shipment {
        id: s.id,
        created_at: s.date_created.map(|d| d.to_rfc3339()).unwrap_or_default(),
        tracking_number: s.tracking_number.clone().unwrap_or_default(),
        shipping_method: s.shipping_method.clone().unwrap_or_default(),
        items: s
            .items
            .iter()
            .map(|i| wit::ShipmentItem {
                order_line_id: i.order_product_id,
                quantity: qty(i.quantity),
            })
            .collect(),
    }
}

/// The WIT refund for a BigCommerce refund of `order`.
pub fn refund(
    r: &BcRefund,
    order: wit::Order,
    original: Option<wit::DocumentRef>,
    already_credited: Vec<(u64, wit::Decimal)>,
) -> Result<wit::Refund, CanonicalError> {
    let m = Minor {
        digits: digits_of(&order.currency),
    };
    let mut items = Vec::new();
    for (i, it) in r.items.iter().enumerate() {
        let item_type = match it.item_type {
            BcItemType::Product => wit::RefundItemType::Product,
            BcItemType::GiftWrapping => wit::RefundItemType::GiftWrapping,
            BcItemType::Shipping => wit::RefundItemType::Shipping,
            BcItemType::Handling => wit::RefundItemType::Handling,
            BcItemType::Order => wit::RefundItemType::Order,
            BcItemType::Fee => wit::RefundItemType::Fee,
            #[allow(unreachable_patterns)]
            _ => {
                return Err(err(
                    format!("items[{i}].item_type"),
                    "unknown refund item type",
                ));
            }
        };
        // Quantity-bound items without an explicit amount refund quantity × unit price.
        let amount = match it.requested_amount {
            Some(a) => m.of(&format!("items[{i}].requested_amount"), a)?,
            None => {
                let unit = order
                    .lines
                    .iter()
                    .find(|l| l.id == it.item_id)
                    .map(|l| l.unit_price_inc_tax)
                    .unwrap_or(0);
                unit * it.quantity.unwrap_or(0) as i64
            }
        };
        items.push(wit::RefundItem {
            item_type,
            item_id: it.item_id,
            quantity: it.quantity.map(qty),
            amount,
            restock: false,
            reason: it.reason.clone().unwrap_or_default(),
        });
    }
    Ok(wit::Refund {
        id: r.id.0,
        kind: wit::RefundKind::Refund,
        created_at: r.created.map(|d| d.to_rfc3339()).unwrap_or_default(),
        currency: order.currency.clone(),
        total: m.of("total_amount", r.total_amount)?,
        reason: r.reason.clone().unwrap_or_default(),
        items,
        order,
        original_document: original,
        already_credited,
    })
}

/// A cancellation after invoicing: credit everything not yet credited.
pub fn cancellation(
    order: wit::Order,
    original: wit::DocumentRef,
    already_credited: Vec<(u64, wit::Decimal)>,
    already_credited_total: i64,
) -> wit::Refund {
    let mut items = Vec::new();
    for l in &order.lines {
        if l.parent_line_id.is_some() {
            continue;
        }
        let credited = already_credited
            .iter()
            .filter(|(id, _)| *id == l.id)
            .map(|(_, q)| from_wit_decimal(q))
            .sum::<Decimal>();
        let left = from_wit_decimal(&l.quantity) - credited;
        if left > Decimal::ZERO {
            let left_units = i64::try_from(left.trunc().mantissa()).unwrap_or(0);
            items.push(wit::RefundItem {
                item_type: wit::RefundItemType::Product,
                item_id: l.id,
                quantity: Some(to_wit_decimal(left)),
                amount: l.unit_price_inc_tax * left_units,
                restock: true,
                reason: "order cancelled".into(),
            });
        }
    }
    for s in &order.shipping_addresses {
        if s.cost_inc_tax != 0 && already_credited_total == 0 {
            items.push(wit::RefundItem {
                item_type: wit::RefundItemType::Shipping,
                item_id: s.id,
                quantity: None,
                amount: s.cost_inc_tax,
                restock: false,
                reason: "order cancelled".into(),
            });
        }
    }
    let total = (order.total_inc_tax - already_credited_total).max(0);
    wit::Refund {
        id: 0,
        kind: wit::RefundKind::Cancellation,
        created_at: order.modified_at.clone(),
        currency: order.currency.clone(),
        total,
        reason: "order cancelled".into(),
        items,
        order,
        original_document: Some(original),
        already_credited,
    }
}
