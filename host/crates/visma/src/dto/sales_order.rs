//! SalesOrders v3 (`{salesorder_base}/api/v3/SalesOrders`): plain JSON bodies (no value
//! wrapping), zero-based `pageIndex` paging, ETag/If-Match on modifications.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `NewSalesOrderCommand.customer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderCustomer {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// The customer's order number (≤ 40).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Reference in a third-party system (≤ 40); `create_sales_order_once` writes the
    /// external reference here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_id: Option<String>,
    /// Present on reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `NewSalesOrderLineDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewOrderLine {
    pub inventory_id: String,
    #[serde(with = "crate::wrap::dec")]
    pub quantity: Decimal,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::opt_dec")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_manual_price: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::opt_dec")]
    pub discount_percent: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::opt_dec")]
    pub discount_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_manual_discount: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_category_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warehouse_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `Issue` (sale) or `Receipt` (return).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<String>,
}

/// `freight`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Freight {
    #[serde(with = "crate::wrap::dec")]
    pub cost: Decimal,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::opt_dec")]
    pub premium_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_category_id: Option<String>,
}

/// `paymentSettings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PaymentSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cash_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_reference: Option<String>,
}

/// `NewSalesOrderCommand`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewSalesOrder {
    /// Order type, e.g. `SO`.
    #[serde(rename = "type")]
    pub order_type: String,
    /// Only with manual numbering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub customer: OrderCustomer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_on: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `Open` or `Hold`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freight: Option<Freight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_settings: Option<PaymentSettings>,
    /// The order's own billing address/contact (else the customer's apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<NewOrderParty>,
    /// The delivery address/contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<NewOrderParty>,
    pub order_lines: Vec<NewOrderLine>,
}

/// `NewSalesOrderBillingDto` / `NewSalesOrderShippingDto` (address and contact only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewOrderParty {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<NewOrderAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<OrderContact>,
}

/// `NewSalesOrderAddressDto`: a complete address (the service fills no gaps from the
/// customer); `countryId` is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NewOrderAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    pub country_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_id: Option<String>,
}

/// `NewSalesOrderContactDto` (and the read `ContactDto`'s fields we use).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderContact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone1: Option<String>,
}

/// `SalesOrderBillingDto` / `SalesOrderShippingDto` as read (address and contact).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderParty {
    pub address: Option<OrderAddress>,
    pub contact: Option<OrderContact>,
}

/// `AddressDto` as read: the country is a code/name pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub line3: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<CodeName>,
    pub county: Option<CodeName>,
}

/// `CdNamePairDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CodeName {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// `SalesOrderFinancialInfoDto`: `invoiceId` is the invoice Visma issued for the order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderFinancialInfo {
    pub invoice_id: Option<String>,
}

/// An order line as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderLine {
    #[serde(alias = "lineNbr", alias = "id")]
    pub line_id: Option<i64>,
    pub inventory_id: Option<String>,
    pub description: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub quantity: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub unit_price: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_percent: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub amount: Option<Decimal>,
    pub tax_category_id: Option<String>,
    pub warehouse_id: Option<String>,
    pub unit_of_measure: Option<String>,
    pub operation: Option<String>,
}

/// A SalesOrders v3 order as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SalesOrder {
    #[serde(rename = "type")]
    pub order_type: String,
    #[serde(alias = "id")]
    pub order_id: String,
    #[serde(deserialize_with = "status_text")]
    pub status: Option<String>,
    pub customer: Option<OrderCustomer>,
    pub date: Option<NaiveDate>,
    pub currency_id: Option<String>,
    pub description: Option<String>,
    pub note: Option<String>,
    pub branch_id: Option<String>,
    pub freight: Option<Freight>,
    pub payment_settings: Option<PaymentSettings>,
    pub billing: Option<OrderParty>,
    pub shipping: Option<OrderParty>,
    pub financial_information: Option<OrderFinancialInfo>,
    #[serde(alias = "lines")]
    pub order_lines: Vec<OrderLine>,
    pub taxes: Vec<OrderTax>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub line_total: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_total: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub freight_total: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub tax_total: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub order_total: Option<Decimal>,
    #[serde(alias = "createdDateTime")]
    #[serde(with = "crate::wrap::opt_dt")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(alias = "lastModifiedDateTime", alias = "modifiedAt")]
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified: Option<DateTime<Utc>>,
}

/// Filters of `GET /api/v3/SalesOrders`.
#[derive(Debug, Clone, Default)]
pub struct SalesOrderFilter {
    pub order_type: Option<String>,
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub modified_since: Option<DateTime<Utc>>,
}

/// A tax line of an order as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderTax {
    pub tax_id: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub tax_rate: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub taxable_amount: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub tax_amount: Option<Decimal>,
}

/// `PatchSalesOrderCommand`: the header fields that may change after creation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SalesOrderPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `Open` or `Hold`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<OrderCustomerPatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderCustomerPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_no: Option<String>,
}

impl SalesOrder {
    /// The invoice Visma issued for the order, once it has invoiced it.
    pub fn invoice_id(&self) -> Option<&str> {
        self.financial_information
            .as_ref()
            .and_then(|f| f.invoice_id.as_deref())
            .filter(|s| !s.trim().is_empty())
    }
}

/// The order's status as one word (`Open`, `Hold`, `Cancelled`, …). The SalesOrders v3 swagger
/// found outside our spec copy reads it as an object `{cancelled, hold, description}`, the
/// simulator (like v2) as a string: both decode, so a read never fails on the shape alone.
fn status_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Status {
        Text(String),
        Flags {
            #[serde(default)]
            cancelled: bool,
            #[serde(default)]
            hold: bool,
            #[serde(default)]
            description: Option<String>,
        },
    }
    Ok(match Option::<Status>::deserialize(d)? {
        None => None,
        Some(Status::Text(t)) => Some(t),
        Some(Status::Flags {
            cancelled: true, ..
        }) => Some("Cancelled".into()),
        Some(Status::Flags { hold: true, .. }) => Some("Hold".into()),
        Some(Status::Flags { description, .. }) => description,
    })
}

#[cfg(test)]
mod status_tests {
    use super::SalesOrder;

    fn status(v: serde_json::Value) -> Option<String> {
        serde_json::from_value::<SalesOrder>(
            serde_json::json!({"type": "SO", "orderId": "1", "status": v}),
        )
        .unwrap()
        .status
    }

    #[test]
    fn status_reads_as_a_word_or_as_the_v3_object() {
        assert_eq!(status(serde_json::json!("Open")).as_deref(), Some("Open"));
        assert_eq!(status(serde_json::Value::Null), None);
        let flags = |c: bool, h: bool| serde_json::json!({"cancelled": c, "hold": h, "description": "Open"});
        assert_eq!(status(flags(true, false)).as_deref(), Some("Cancelled"));
        assert_eq!(status(flags(false, true)).as_deref(), Some("Hold"));
        assert_eq!(status(flags(false, false)).as_deref(), Some("Open"));
    }
}
