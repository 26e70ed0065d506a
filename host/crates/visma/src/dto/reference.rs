//! Reference data: branches, warehouses, VAT categories and codes, payment methods, credit
//! terms, currencies and exchange rates.

use super::common::{IdDescription, NumberName};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `BranchDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Branch {
    pub branch_id: Option<i64>,
    pub number: String,
    pub name: Option<String>,
    pub organization_id: Option<i64>,
    pub is_main_branch: Option<bool>,
    pub is_active: Option<bool>,
    pub currency: Option<IdDescription>,
    pub vat_zone: Option<IdDescription>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
}

/// `WarehouseDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Warehouse {
    #[serde(rename = "warehouseID")]
    pub warehouse_id: String,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub branch: Option<NumberName>,
}

/// `VatRateLineDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VatRate {
    #[serde(with = "crate::wrap::opt_dec")]
    pub vat_rate: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub start_date: Option<DateTime<Utc>>,
}

/// `VatCategoryLineDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VatCategoryLine {
    pub vat_id: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub vat_type: Option<String>,
    pub vat_rates: Vec<VatRate>,
}

/// `VatCategoryDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VatCategory {
    pub vat_category_id: String,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub vat_category_lines: Vec<VatCategoryLine>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
}

/// `VatInformationDto` (`GET /v1/vat`): VAT codes used on invoice lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VatCode {
    pub vat_id: String,
    pub vat_category_id: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub vat_type: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
}

/// `PaymentMethodDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PaymentMethod {
    #[serde(rename = "paymentMethodID")]
    pub payment_method_id: String,
    pub active: Option<bool>,
    /// `CreditCard | CashOrCheck | DirectDeposit`.
    pub means_of_payment: Option<String>,
    pub description: Option<String>,
}

/// `CreditTermDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreditTerm {
    pub terms_id: String,
    pub description: Option<String>,
    pub due_date_type: Option<String>,
    pub due_day1: Option<i32>,
    pub discount_type: Option<String>,
    pub discount_day: Option<i32>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub discount_percent: Option<Decimal>,
}

/// `BasePaginationDtoOfCreditTermDto`: credit terms come in a page envelope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct CreditTermPage {
    pub page_number: Option<u32>,
    pub page_size: Option<u32>,
    pub total_count: Option<u64>,
    pub records: Vec<CreditTerm>,
}

/// `CurrencyDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Currency {
    pub id: String,
    pub description: Option<String>,
    pub symbol: Option<String>,
    pub is_base_currency: Option<bool>,
    pub decimal_precision: Option<u32>,
}

/// `CurrencyRateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CurrencyRate {
    pub id: Option<i64>,
    pub from_currency_id: String,
    pub to_currency_id: String,
    pub rate_type: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub rate: Option<Decimal>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub effective_date: Option<DateTime<Utc>>,
    /// `Multiply | Divide`.
    pub mult_div: Option<String>,
    #[serde(with = "crate::wrap::opt_dec")]
    pub rate_reciprocal: Option<Decimal>,
}

/// Filters of `GET /v2/currencyrate`.
#[derive(Debug, Clone, Default)]
pub struct CurrencyRateFilter {
    pub from_date: Option<DateTime<Utc>>,
    pub to_date: Option<DateTime<Utc>>,
    pub from_currency: Option<String>,
    pub to_currency: Option<String>,
    pub rate_type: Option<String>,
}
