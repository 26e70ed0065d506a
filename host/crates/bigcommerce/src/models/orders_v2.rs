//! Orders v2 (`orders.v2.oas2.yml`): orders and their sub-resources. Money is `Decimal`
//! (sent as strings, accepted as strings or numbers), dates are RFC-2822.

use super::common::{Extra, ResourceLink};
use crate::de;
use chrono::{DateTime, Utc};
use ledgerlink_core::{BcCustomerId, BcOrderId, BcProductId, BcVariantId, ChannelId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Fixed order status ids (labels can be customised per store, ids cannot).
pub mod status {
    pub const INCOMPLETE: u32 = 0;
    pub const PENDING: u32 = 1;
    pub const SHIPPED: u32 = 2;
    pub const PARTIALLY_SHIPPED: u32 = 3;
    pub const REFUNDED: u32 = 4;
    pub const CANCELLED: u32 = 5;
    pub const DECLINED: u32 = 6;
    pub const AWAITING_PAYMENT: u32 = 7;
    pub const AWAITING_PICKUP: u32 = 8;
    pub const AWAITING_SHIPMENT: u32 = 9;
    pub const COMPLETED: u32 = 10;
    pub const AWAITING_FULFILLMENT: u32 = 11;
    pub const MANUAL_VERIFICATION_REQUIRED: u32 = 12;
    pub const DISPUTED: u32 = 13;
    pub const PARTIALLY_REFUNDED: u32 = 14;
}

/// `GET /v2/orders/{id}` and list items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: BcOrderId,
    /// 0 for guest orders.
    pub customer_id: BcCustomerId,
    #[serde(with = "de::rfc2822")]
    pub date_created: DateTime<Utc>,
    #[serde(with = "de::rfc2822")]
    pub date_modified: DateTime<Utc>,
    #[serde(default, with = "de::rfc2822_opt")]
    pub date_shipped: Option<DateTime<Utc>>,
    pub status_id: u32,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub custom_status: Option<String>,

    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub subtotal_ex_tax: Decimal,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub subtotal_inc_tax: Decimal,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub subtotal_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_shipping_cost: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub shipping_cost_ex_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub shipping_cost_inc_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub shipping_cost_tax: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub shipping_cost_tax_class_id: Option<u64>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_handling_cost: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub handling_cost_ex_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub handling_cost_inc_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub handling_cost_tax: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub handling_cost_tax_class_id: Option<u64>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_wrapping_cost: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub wrapping_cost_ex_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub wrapping_cost_inc_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub wrapping_cost_tax: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub wrapping_cost_tax_class_id: Option<u64>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub total_ex_tax: Decimal,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub total_inc_tax: Decimal,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub total_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub discount_amount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub coupon_discount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub store_credit_amount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub gift_certificate_amount: Option<Decimal>,
    /// The spec says this always returns 0; use v3 refunds instead.
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub refunded_amount: Option<Decimal>,
    /// `true`: the `*_inc_tax` values are exact; `false`: the `*_ex_tax` values are.
    #[serde(default)]
    pub is_tax_inclusive_pricing: Option<bool>,
    #[serde(default)]
    pub tax_provider_id: Option<String>,
    #[serde(default)]
    pub items_total: Option<u64>,
    #[serde(default)]
    pub items_shipped: Option<u64>,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub payment_provider_id: Option<serde_json::Value>,
    #[serde(default)]
    pub payment_status: Option<String>,
    #[serde(default)]
    pub order_is_digital: Option<bool>,

    /// Display (presentment) currency.
    #[serde(default)]
    pub currency_id: Option<u64>,
    #[serde(default, deserialize_with = "de::empty_as_none")]
    pub currency_code: Option<String>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_exact"
    )]
    pub currency_exchange_rate: Option<Decimal>,
    /// Transactional currency: every amount on the order is in this currency.
    #[serde(default)]
    pub default_currency_id: Option<u64>,
    #[serde(default, deserialize_with = "de::empty_as_none")]
    pub default_currency_code: Option<String>,
    #[serde(default, deserialize_with = "de::empty_as_none")]
    pub store_default_currency_code: Option<String>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_exact"
    )]
    pub store_default_to_transactional_exchange_rate: Option<Decimal>,

    #[serde(default)]
    pub staff_notes: Option<String>,
    #[serde(default)]
    pub customer_message: Option<String>,
    #[serde(default)]
    pub shipping_address_count: Option<u32>,
    #[serde(default)]
    pub billing_address: Option<BillingAddress>,
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
    #[serde(default)]
    pub order_source: Option<String>,
    #[serde(default)]
    pub external_source: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub external_id: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub external_order_id: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub external_merchant_id: Option<String>,
    #[serde(default)]
    pub customer_locale: Option<String>,
    #[serde(default)]
    pub cart_id: Option<String>,
    #[serde(default)]
    pub products: Option<ResourceLink>,
    #[serde(default)]
    pub shipping_addresses: Option<ResourceLink>,
    #[serde(default)]
    pub coupons: Option<ResourceLink>,
    #[serde(default)]
    pub fees: Option<Vec<OrderFee>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Billing address on an order (also the shape of POST bodies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BillingAddress {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub street_1: String,
    #[serde(default)]
    pub street_2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub zip: Option<String>,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub country_iso2: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The fields of an order that tell one of its states from another, and its staff notes:
/// all an echo check or a write-back reads. Decoding only these skips the rest of the body,
/// most of what an [`Order`] costs to decode (dozens of amounts, the unknown fields it keeps).
/// Each field reads exactly as the same field of [`Order`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderState {
    pub id: BcOrderId,
    #[serde(deserialize_with = "de::rfc2822::deserialize")]
    pub date_modified: DateTime<Utc>,
    pub status_id: u32,
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub refunded_amount: Option<Decimal>,
    #[serde(default)]
    pub items_shipped: Option<u64>,
    #[serde(deserialize_with = "de::decimal")]
    pub total_inc_tax: Decimal,
    #[serde(default)]
    pub staff_notes: Option<String>,
}

impl Order {
    /// This order's [`OrderState`].
    pub fn state(&self) -> OrderState {
        OrderState {
            id: self.id,
            date_modified: self.date_modified,
            status_id: self.status_id,
            status: self.status.clone(),
            refunded_amount: self.refunded_amount,
            items_shipped: self.items_shipped,
            total_inc_tax: self.total_inc_tax,
            staff_notes: self.staff_notes.clone(),
        }
    }
}

/// An order fee (`fees[]`, `GET /v2/orders/{id}/fees`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderFee {
    pub id: u64,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub display_name_customer: Option<String>,
    #[serde(default)]
    pub display_name_merchant: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_cost: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub cost_ex_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub cost_inc_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub cost_tax: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub tax_class_id: Option<u64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /v2/orders/{id}/products`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderProduct {
    /// The order-product id used by shipments and refunds.
    pub id: u64,
    pub order_id: BcOrderId,
    pub product_id: BcProductId,
    #[serde(default)]
    pub variant_id: Option<BcVariantId>,
    #[serde(default)]
    pub order_address_id: Option<u64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub name_customer: Option<String>,
    #[serde(default)]
    pub name_merchant: Option<String>,
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub upc: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    pub quantity: u64,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_price: Option<Decimal>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub price_ex_tax: Decimal,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub price_inc_tax: Decimal,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub price_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_total: Option<Decimal>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub total_ex_tax: Decimal,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub total_inc_tax: Decimal,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub total_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_cost_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub discounted_total_inc_tax: Option<Decimal>,
    #[serde(default)]
    pub is_refunded: Option<bool>,
    #[serde(default)]
    pub quantity_refunded: Option<u64>,
    #[serde(default)]
    pub quantity_shipped: Option<u64>,
    #[serde(default)]
    pub return_id: Option<u64>,
    #[serde(default)]
    pub parent_order_product_id: Option<u64>,
    #[serde(default)]
    pub is_bundled_product: Option<bool>,
    #[serde(default)]
    pub applied_discounts: Vec<AppliedDiscount>,
    #[serde(default)]
    pub product_options: Vec<serde_json::Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub id: Option<String>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub amount: Decimal,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    /// `order` or `product`.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /v2/orders/{id}/shipping_addresses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingAddress {
    pub id: u64,
    #[serde(default)]
    pub order_id: Option<BcOrderId>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub street_1: String,
    #[serde(default)]
    pub street_2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub zip: Option<String>,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub country_iso2: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub items_total: Option<u64>,
    #[serde(default)]
    pub items_shipped: Option<u64>,
    #[serde(default)]
    pub shipping_method: Option<String>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_cost: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub cost_ex_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub cost_inc_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub cost_tax: Option<Decimal>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub cost_tax_class_id: Option<u64>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub handling_cost_ex_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub handling_cost_inc_tax: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub handling_cost_tax: Option<Decimal>,
    #[serde(default)]
    pub shipping_zone_id: Option<u64>,
    #[serde(default)]
    pub shipping_zone_name: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /v2/orders/{id}/coupons`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderCoupon {
    pub id: u64,
    #[serde(default)]
    pub coupon_id: Option<u64>,
    #[serde(default)]
    pub order_id: Option<BcOrderId>,
    #[serde(default)]
    pub code: String,
    /// The configured value (5 = $5 or 5 % depending on `type`).
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub amount: Option<Decimal>,
    /// 0 per-item, 1 percentage, 2 per-total, 3 shipping, 4 free shipping, 5 promotion.
    #[serde(default, rename = "type")]
    pub kind: Option<u32>,
    /// The money actually taken off.
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub discount: Option<Decimal>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /v2/orders/{id}/taxes?details=true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTax {
    pub id: u64,
    #[serde(default)]
    pub order_id: Option<BcOrderId>,
    #[serde(default)]
    pub order_address_id: Option<u64>,
    /// The tax rate's id as a string (automatic-tax providers use non-numeric ids).
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub sales_tax_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub tax_rate_id: Option<u64>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub tax_class_id: Option<u64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub rate: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub priority: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub priority_amount: Option<Decimal>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v2"
    )]
    pub line_amount: Decimal,
    /// Only with `details=true` (a string in the spec).
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub order_product_id: Option<u64>,
    /// `item`, `shipping`, `handling` or `gift-wrapping` (with `details=true`).
    #[serde(default)]
    pub line_item_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A shipment (`GET /v2/orders/{id}/shipments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: u64,
    pub order_id: BcOrderId,
    #[serde(default)]
    pub customer_id: Option<BcCustomerId>,
    #[serde(default)]
    pub order_address_id: Option<u64>,
    #[serde(default, with = "de::rfc2822_opt")]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub shipping_method: Option<String>,
    #[serde(default)]
    pub shipping_provider: Option<String>,
    #[serde(default)]
    pub tracking_carrier: Option<String>,
    #[serde(default)]
    pub tracking_link: Option<String>,
    #[serde(default)]
    pub comments: Option<String>,
    #[serde(default)]
    pub items: Vec<ShipmentItem>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentItem {
    pub order_product_id: u64,
    #[serde(default)]
    pub product_id: Option<BcProductId>,
    pub quantity: u64,
}

/// `POST /v2/orders/{id}/shipments`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewShipment {
    pub order_address_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    pub items: Vec<NewShipmentItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewShipmentItem {
    pub order_product_id: u64,
    pub quantity: u64,
}

/// `GET /v2/order_statuses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderStatus {
    pub id: u32,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub system_label: Option<String>,
    #[serde(default)]
    pub custom_label: Option<String>,
    #[serde(default)]
    pub system_description: Option<String>,
    #[serde(default)]
    pub order: Option<u32>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `GET /v2/orders/count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrdersCount {
    pub count: u64,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `POST /v2/orders`. Only what is set is sent; `extra` carries anything else the
/// API accepts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    pub billing_address: BillingAddress,
    pub products: Vec<NewOrderProduct>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_addresses: Option<Vec<serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<BcCustomerId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_currency_code: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub base_shipping_cost: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub shipping_cost_ex_tax: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub shipping_cost_inc_tax: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub discount_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_message: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A line in `POST /v2/orders`: a catalog product (`product_id`, optional `variant_id`) or
/// a custom line (`name`, prices).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewOrderProduct {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<BcProductId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<BcVariantId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub price_ex_tax: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "de::ser_opt_decimal_v2"
    )]
    pub price_inc_tax: Option<Decimal>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `PUT /v2/orders/{id}`: send only what changes (every PUT fires
/// `store/order/updated`, and line edits clear discounts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_message: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters for `GET /v2/orders`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderFilter {
    pub min_date_modified: Option<DateTime<Utc>>,
    pub max_date_modified: Option<DateTime<Utc>>,
    pub min_date_created: Option<DateTime<Utc>>,
    pub max_date_created: Option<DateTime<Utc>>,
    pub status_id: Option<u32>,
    pub min_id: Option<u64>,
    pub max_id: Option<u64>,
    pub channel_id: Option<ChannelId>,
    pub customer_id: Option<BcCustomerId>,
    pub external_order_id: Option<String>,
    /// e.g. `date_modified:asc`.
    pub sort: Option<String>,
}

impl OrderFilter {
    pub fn to_query(&self) -> crate::client::Query {
        let mut q = Vec::new();
        // RFC-2822 is what v2 itself writes; the API also accepts ISO-8601.
        let mut date = |k: &str, v: &Option<DateTime<Utc>>| {
            if let Some(d) = v {
                q.push((k.to_owned(), de::format_v2_date(d)));
            }
        };
        date("min_date_modified", &self.min_date_modified);
        date("max_date_modified", &self.max_date_modified);
        date("min_date_created", &self.min_date_created);
        date("max_date_created", &self.max_date_created);
        if let Some(v) = self.status_id {
            q.push(("status_id".into(), v.to_string()));
        }
        if let Some(v) = self.min_id {
            q.push(("min_id".into(), v.to_string()));
        }
        if let Some(v) = self.max_id {
            q.push(("max_id".into(), v.to_string()));
        }
        if let Some(v) = self.channel_id {
            q.push(("channel_id".into(), v.to_string()));
        }
        if let Some(v) = self.customer_id {
            q.push(("customer_id".into(), v.to_string()));
        }
        if let Some(v) = &self.external_order_id {
            q.push(("external_order_id".into(), v.clone()));
        }
        if let Some(v) = &self.sort {
            q.push(("sort".into(), v.clone()));
        }
        q
    }
}
