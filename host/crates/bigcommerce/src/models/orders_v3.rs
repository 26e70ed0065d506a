//! Orders v3 (`orders.v3.yml`): refund quotes, refunds, transactions, order metafields.
//! v3 money is a JSON number on the wire and `Decimal` here.

use super::common::Extra;
use crate::de;
use chrono::{DateTime, Utc};
use ledgerlink_core::{BcOrderId, BcRefundId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a refund item refers to (`item_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundItemType {
    /// `item_id` = order product id; quantity-bound.
    Product,
    /// `item_id` = order product id; quantity-bound.
    GiftWrapping,
    /// `item_id` = order address id; amount-bound.
    Shipping,
    /// `item_id` = order address id; amount-bound.
    Handling,
    /// `item_id` = order id; a tax-exempt amount.
    Order,
    /// `item_id` = fee id; amount-bound.
    Fee,
    Tax,
}

/// One item of a refund quote or refund request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundItemRequest {
    pub item_type: RefundItemType,
    pub item_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl RefundItemRequest {
    pub fn quantity(item_type: RefundItemType, item_id: u64, quantity: u64) -> Self {
        Self {
            item_type,
            item_id,
            quantity: Some(quantity),
            amount: None,
            reason: None,
        }
    }

    pub fn amount(item_type: RefundItemType, item_id: u64, amount: Decimal) -> Self {
        Self {
            item_type,
            item_id,
            quantity: None,
            amount: Some(amount),
            reason: None,
        }
    }
}

/// `POST /v3/orders/{id}/payment_actions/refund_quotes`: items, or a tax-only adjustment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefundQuoteRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<RefundItemRequest>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub tax_adjustment_amount: Option<Decimal>,
}

/// The quote: what BigCommerce will refund and the payment options it offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundQuote {
    pub order_id: BcOrderId,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub total_refund_amount: Decimal,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub total_refund_tax_amount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub order_level_refund_amount: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub rounding: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub adjustment: Option<Decimal>,
    #[serde(default)]
    pub tax_inclusive: Option<bool>,
    /// Alternatives; each alternative is a set of payment options that together refund the
    /// total. The chosen one must be sent back exactly.
    #[serde(default)]
    pub refund_methods: Vec<Vec<PaymentOption>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentOption {
    pub provider_id: String,
    #[serde(default)]
    pub provider_description: Option<String>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub amount: Decimal,
    #[serde(default)]
    pub offline: bool,
    #[serde(default)]
    pub offline_provider: Option<bool>,
    #[serde(default)]
    pub offline_reason: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A payment in a refund request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundPaymentRequest {
    pub provider_id: String,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub amount: Decimal,
    pub offline: bool,
}

/// Skips BigCommerce's own tax calculation (amounts computed by the ERP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantOverride {
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub total_amount: Decimal,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub total_tax: Decimal,
}

/// `POST /v3/orders/{id}/payment_actions/refunds`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefundRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<RefundItemRequest>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub tax_adjustment_amount: Option<Decimal>,
    #[serde(default)]
    pub payments: Vec<RefundPaymentRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_calculated_override: Option<MerchantOverride>,
}

/// A refund (`GET /v3/orders/payment_actions/refunds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub id: BcRefundId,
    pub order_id: BcOrderId,
    #[serde(default)]
    pub user_id: Option<u64>,
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub total_amount: Decimal,
    /// May be negative (tax collected by refunding less).
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub total_tax: Option<Decimal>,
    #[serde(default)]
    pub uses_merchant_override_values: Option<bool>,
    #[serde(default)]
    pub items: Vec<RefundItem>,
    #[serde(default)]
    pub payments: Vec<RefundPayment>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundItem {
    pub item_type: RefundItemType,
    pub item_id: u64,
    #[serde(default)]
    pub quantity: Option<u64>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub requested_amount: Option<Decimal>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundPayment {
    #[serde(default)]
    pub id: Option<u64>,
    pub provider_id: String,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub amount: Decimal,
    #[serde(default)]
    pub offline: bool,
    #[serde(default)]
    pub is_declined: bool,
    #[serde(default)]
    pub declined_message: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub transaction_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters for `GET /v3/orders/payment_actions/refunds`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefundFilter {
    pub order_ids: Vec<BcOrderId>,
    pub ids: Vec<BcRefundId>,
    pub created_min: Option<DateTime<Utc>>,
    pub created_max: Option<DateTime<Utc>>,
}

impl RefundFilter {
    pub fn to_query(&self) -> crate::client::Query {
        let mut q = Vec::new();
        let join = |v: Vec<String>| v.join(",");
        if !self.order_ids.is_empty() {
            q.push((
                "order_id:in".into(),
                join(self.order_ids.iter().map(|i| i.to_string()).collect()),
            ));
        }
        if !self.ids.is_empty() {
            q.push((
                "id:in".into(),
                join(self.ids.iter().map(|i| i.to_string()).collect()),
            ));
        }
        if let Some(d) = self.created_min {
            q.push(("created:min".into(), d.to_rfc3339()));
        }
        if let Some(d) = self.created_max {
            q.push(("created:max".into(), d.to_rfc3339()));
        }
        q
    }
}

/// A payment transaction (`GET /v3/orders/{id}/transactions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub order_id: Option<String>,
    /// purchase, authorization, capture, refund, void, pending, settled.
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(
        deserialize_with = "de::decimal",
        serialize_with = "de::ser_decimal_v3"
    )]
    pub amount: Decimal,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default, deserialize_with = "de::string_or_num")]
    pub gateway_transaction_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub test: Option<bool>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An order metafield.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metafield {
    pub id: u64,
    pub namespace: String,
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub permission_set: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default, deserialize_with = "de::opt_u64_str_or_num")]
    pub resource_id: Option<u64>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date_modified: Option<DateTime<Utc>>,
    #[serde(default)]
    pub owner_client_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of `POST /v3/orders/{id}/metafields` (and `PUT`, where every field is optional
/// server-side but we always send the full value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMetafield {
    /// `app_only`, `read`, `write`, `read_and_sf_access`, `write_and_sf_access`.
    pub permission_set: String,
    pub namespace: String,
    pub key: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
