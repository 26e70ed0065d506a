//! Inventory items (`/v1/inventory`) and stock (`/v1/inventorysummary/{item}`).

use super::common::{IdDescription, Metadata};
use super::customer::AttributeLineUpdate;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InventoryType {
    NonStockItem,
    LaborItem,
    ServiceItem,
    ChargeItem,
    ExpenseItem,
    FinishedGoodItem,
    ComponentPartItem,
    SubassemblyItem,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InventoryStatus {
    Active,
    NoSales,
    NoPurchases,
    NoRequest,
    Inactive,
    MarkedForDeletion,
    Unknown,
    #[serde(untagged)]
    Other(String),
}

/// `InventoryUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InventoryUpdate {
    /// Mandatory on create, not allowed on update.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub inventory_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub status: Option<InventoryStatus>,
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub item_type: Option<InventoryType>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub description: Option<String>,
    /// Mandatory on create.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub item_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub posting_class: Option<String>,
    /// The item's VAT category.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub vat_code: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub default_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub base_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub sales_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub purchase_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub default_warehouse: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attribute_lines: Vec<AttributeLineUpdate>,
}

/// `WarehouseDetailDto`: stock of an item in one warehouse.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WarehouseDetail {
    pub is_default: Option<bool>,
    pub warehouse: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub quantity_on_hand: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub available: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub available_for_shipment: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
}

/// `InventoryCrossReferenceDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CrossReference {
    pub alternate_type: Option<String>,
    #[serde(rename = "alternateID")]
    pub alternate_id: Option<String>,
    pub uom: Option<String>,
}

/// `InventoryDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InventoryItem {
    pub inventory_id: Option<i64>,
    pub inventory_number: String,
    pub status: Option<InventoryStatus>,
    #[serde(rename = "type")]
    pub item_type: Option<InventoryType>,
    pub description: Option<String>,
    pub item_class: Option<IdDescription>,
    pub vat_code: Option<IdDescription>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub default_price: Option<Decimal>,
    pub base_unit: Option<String>,
    pub sales_unit: Option<String>,
    pub stock_item: Option<bool>,
    pub default_warehouse: Option<IdDescription>,
    pub cross_references: Vec<CrossReference>,
    pub warehouse_details: Vec<WarehouseDetail>,
    pub note: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    /// The ERP's row version, equal to the ETag.
    pub timestamp: Option<String>,
    pub metadata: Option<Metadata>,
}

/// Filters of `GET /v1/inventory`.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    pub inventory_number: Option<String>,
    pub alternate_id: Option<String>,
    pub status: Option<InventoryStatus>,
    pub last_modified: Option<super::DateFilter>,
    /// Items whose stock changed (the bulk alternative to one summary call per item).
    pub availability_last_modified: Option<super::DateFilter>,
    pub expand_warehouse_detail: bool,
    pub expand_cross_reference: bool,
}

/// `InventorySummaryDto`: quantities of one item in one warehouse (and location).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InventorySummary {
    pub inventory: Option<InventoryRef>,
    pub warehouse: Option<IdDescription>,
    pub location: Option<LocationRef>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub available: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub available_for_shipment: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub not_available: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub on_hand: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub so_booked: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub so_allocated: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub so_shipped: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub so_back_ordered: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub in_transit: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub purchase_orders: Option<Decimal>,
    pub base_unit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InventoryRef {
    pub number: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationRef {
    pub id: Option<i64>,
    pub name: Option<String>,
}
