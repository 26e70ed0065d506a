//! Customers: `POST /v1/customer`, `PUT /v1/customer/{customerCd}`, `GET /v1/customer[/{cd}]`.

use super::common::{IdDescription, Metadata};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerStatus {
    Active,
    OnHold,
    CreditHold,
    Inactive,
    OneTime,
}

/// `AddressUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AddressUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub address_line1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub address_line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub address_line3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub city: Option<String>,
    /// ISO 3166 alpha-2.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub country_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub county: Option<String>,
}

/// `ContactInfoUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContactUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub attention: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub web: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub phone1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub phone2: Option<String>,
}

/// `AttributeLineUpdateDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AttributeLineUpdate {
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub attribute_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub attribute_value: Option<String>,
}

/// `CustomerUpdateDto`, the body of create and update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomerUpdate {
    /// Customer number; leave empty to let the ERP number it.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub status: Option<CustomerStatus>,
    /// Free reference; Ledgerlink writes its external reference here.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub account_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub currency_id: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::wrap::dec_value"
    )]
    pub credit_limit: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub customer_class_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub credit_terms_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub vat_registration_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub corporate_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub vat_zone_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub main_address: Option<AddressUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub main_contact: Option<ContactUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub invoice_address: Option<AddressUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub invoice_contact: Option<ContactUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub delivery_address: Option<AddressUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub delivery_contact: Option<ContactUpdate>,
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::wrap::value")]
    pub price_class_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attribute_lines: Vec<AttributeLineUpdate>,
}

/// `AddressDto` as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    pub address_id: Option<i64>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_line3: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<IdDescription>,
}

/// `ContactInfoDto` as read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Contact {
    pub contact_id: Option<i64>,
    pub name: Option<String>,
    pub attention: Option<String>,
    pub email: Option<String>,
    pub phone1: Option<String>,
}

/// `CustomerDto`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Customer {
    pub internal_id: Option<i64>,
    pub number: String,
    pub name: Option<String>,
    pub status: Option<CustomerStatus>,
    pub account_reference: Option<String>,
    pub currency_id: Option<String>,
    pub credit_terms: Option<IdDescription>,
    pub vat_registration_id: Option<String>,
    pub corporate_id: Option<String>,
    pub vat_zone: Option<IdDescription>,
    pub main_address: Option<Address>,
    pub main_contact: Option<Contact>,
    pub invoice_address: Option<Address>,
    pub invoice_contact: Option<Contact>,
    pub delivery_address: Option<Address>,
    pub delivery_contact: Option<Contact>,
    pub note: Option<String>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(with = "crate::wrap::opt_dt")]
    pub created_date_time: Option<DateTime<Utc>>,
    pub metadata: Option<Metadata>,
}

/// Filters of `GET /v1/customer`.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub name: Option<String>,
    pub email: Option<String>,
    pub corporate_id: Option<String>,
    pub vat_registration_id: Option<String>,
    pub status: Option<CustomerStatus>,
    pub last_modified: Option<super::DateFilter>,
}
