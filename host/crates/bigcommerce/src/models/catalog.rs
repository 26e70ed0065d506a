//! Catalog v3 products and variants (`products_catalog.v3.yml`,
//! `product-variants_catalog.v3.yml`).

use super::common::Extra;
use crate::de;
use chrono::{DateTime, Utc};
use ledgerlink_core::{BcProductId, BcVariantId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: BcProductId,
    pub name: String,
    /// `physical` or `digital`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub sku: String,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub cost_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub retail_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub sale_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub calculated_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub weight: Option<Decimal>,
    #[serde(default)]
    pub tax_class_id: Option<u64>,
    #[serde(default)]
    pub product_tax_code: Option<String>,
    /// `none`, `product` or `variant`.
    #[serde(default)]
    pub inventory_tracking: Option<String>,
    /// Default location only.
    #[serde(default)]
    pub inventory_level: Option<i64>,
    #[serde(default)]
    pub inventory_warning_level: Option<i64>,
    #[serde(default)]
    pub is_visible: Option<bool>,
    #[serde(default)]
    pub upc: Option<String>,
    #[serde(default)]
    pub mpn: Option<String>,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub categories: Vec<u64>,
    #[serde(default)]
    pub brand_id: Option<u64>,
    /// Set for simple products; `None` for products with option variants.
    #[serde(default)]
    pub base_variant_id: Option<BcVariantId>,
    #[serde(default)]
    pub date_created: Option<DateTime<Utc>>,
    #[serde(default)]
    pub date_modified: Option<DateTime<Utc>>,
    /// Present with `include=variants`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<Variant>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub id: BcVariantId,
    pub product_id: BcProductId,
    #[serde(default)]
    pub sku: String,
    /// The legacy v2 SKU id that `store/sku/*` webhooks report; `None` for base variants.
    #[serde(default)]
    pub sku_id: Option<u64>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub calculated_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub sale_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub retail_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub cost_price: Option<Decimal>,
    #[serde(
        default,
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub weight: Option<Decimal>,
    #[serde(default)]
    pub inventory_level: Option<i64>,
    #[serde(default)]
    pub inventory_warning_level: Option<i64>,
    #[serde(default)]
    pub purchasing_disabled: Option<bool>,
    #[serde(default)]
    pub upc: Option<String>,
    #[serde(default)]
    pub mpn: Option<String>,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub option_values: Vec<VariantOptionValue>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantOptionValue {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub option_id: Option<u64>,
    #[serde(default)]
    pub option_display_name: Option<String>,
}

/// Body of `POST /v3/catalog/products` and `PUT /v3/catalog/products/{id}` (send only what
/// is set; `extra` carries any other field the API accepts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductWrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub cost_price: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub weight: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_tracking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_visible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantWrite>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Body of variant create/update (also embedded in a product create).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantWrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub price: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::opt_decimal",
        serialize_with = "de::ser_opt_decimal_v3"
    )]
    pub cost_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option_values: Option<Vec<serde_json::Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Filters for `GET /v3/catalog/products`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductFilter {
    pub ids: Vec<BcProductId>,
    /// Matches the product/base SKU only; use `variants_by_sku` for variant SKUs.
    pub sku: Option<String>,
    pub skus: Vec<String>,
    pub date_modified_min: Option<DateTime<Utc>>,
    pub include_variants: bool,
}

impl ProductFilter {
    pub fn to_query(&self) -> crate::client::Query {
        let mut q = Vec::new();
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(|i| i.to_string()).collect();
            q.push(("id:in".into(), ids.join(",")));
        }
        if let Some(s) = &self.sku {
            q.push(("sku".into(), s.clone()));
        }
        if !self.skus.is_empty() {
            q.push(("sku:in".into(), self.skus.join(",")));
        }
        if let Some(d) = self.date_modified_min {
            q.push(("date_modified:min".into(), d.to_rfc3339()));
        }
        if self.include_variants {
            q.push(("include".into(), "variants".into()));
        }
        q
    }
}
