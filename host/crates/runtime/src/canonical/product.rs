//! Catalog v3 product, its variants and price-list records → one `types::Product` per SKU.

use super::CanonicalError;
use super::json::{Obj, to_wit, unwrap_data};
use super::order::money_in;
use crate::bindings::types::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductBundle {
    /// `GET /v3/catalog/products/{id}` (envelope or bare; `variants` may be embedded).
    pub product: Value,
    /// `GET /v3/catalog/products/{id}/variants` when not embedded.
    #[serde(default)]
    pub variants: Vec<Value>,
    /// Price-list records of the product's variants (`GET /v3/pricelists/{id}/records`).
    #[serde(default)]
    pub price_records: Vec<Value>,
    /// Price list id → name.
    #[serde(default)]
    pub price_lists: BTreeMap<String, String>,
    /// Tax class id → name (`GET /v2/tax_classes`).
    #[serde(default)]
    pub tax_classes: BTreeMap<String, String>,
    /// The store's default currency, the currency of catalog prices.
    pub currency: String,
    /// `GET /v3/catalog/products/{id}/custom-fields` (or embedded `custom_fields`).
    #[serde(default)]
    pub custom_fields: Vec<Value>,
}

fn tracking(raw: &str) -> InventoryTracking {
    match raw.trim() {
        "product" => InventoryTracking::Product,
        "variant" => InventoryTracking::Variant,
        _ => InventoryTracking::None,
    }
}

/// One record per sellable SKU: the product itself when it has no options, else each variant.
pub fn build_products(bundle: &ProductBundle) -> Result<Vec<Product>, CanonicalError> {
    let data = unwrap_data(&bundle.product);
    let p = Obj::new(data, "product");
    let currency = bundle.currency.trim().to_ascii_uppercase();
    let product_id = p.required_u64("id")?;
    let embedded = p.array("variants")?;
    let variants: Vec<&Value> = if bundle.variants.is_empty() {
        embedded.iter().collect()
    } else {
        bundle.variants.iter().collect()
    };
    let has_options = variants.iter().any(|v| {
        v.get("option_values")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    });
    let tax_class_id = p.u64_or_zero("tax_class_id")?;
    let mut custom_fields = Vec::new();
    let cf_source = if bundle.custom_fields.is_empty() {
        p.array("custom_fields")?.to_vec()
    } else {
        bundle.custom_fields.clone()
    };
    for f in &cf_source {
        let f = Obj::new(f, "");
        custom_fields.push((f.str("name"), f.str("value")));
    }
    let money = |o: &Obj, key: &str| -> Result<Option<i64>, CanonicalError> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(_)) => Ok(None), // the spec example has `map_price: {}`
            Some(v) => money_in(v, &currency, &format!("{}.{key}", o.path)).map(Some),
        }
    };
    let base = Product {
        product_id,
        variant_id: None,
        sku: p.str("sku"),
        name: p.str("name"),
        description: p.str("description"),
        currency: currency.clone(),
        price: money(&p, "price")?.unwrap_or(0),
        sale_price: money(&p, "sale_price")?.filter(|s| *s != 0),
        cost_price: money(&p, "cost_price")?,
        retail_price: money(&p, "retail_price")?.filter(|s| *s != 0),
        tax_class_id,
        tax_class_name: bundle
            .tax_classes
            .get(&tax_class_id.to_string())
            .cloned()
            .unwrap_or_default(),
        weight: p
            .opt_decimal("weight")?
            .map(|w| to_wit(w, "product.weight"))
            .transpose()?,
        gtin: p.str("gtin"),
        mpn: p.str("mpn"),
        is_visible: p
            .get("is_visible")
            .is_none_or(|v| v.as_bool().unwrap_or(true)),
        inventory_tracking: tracking(&p.str("inventory_tracking")),
        options: Vec::new(),
        custom_fields,
        price_records: Vec::new(),
    };
    let records_for = |variant_id: Option<u64>| -> Result<Vec<PriceRecord>, CanonicalError> {
        let mut out = Vec::new();
        for (i, r) in bundle.price_records.iter().enumerate() {
            let path = format!("price_records[{i}]");
            let r = Obj::new(r, &path);
            let rv = r.opt_id("variant_id")?;
            if variant_id.is_some() && rv != variant_id {
                continue;
            }
            let list = r.required_u64("price_list_id")?;
            let rc = r
                .opt_str("currency")
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_else(|| currency.clone());
            // A record without a price (only a sale or MAP price) sets no list price.
            let price = match r.get("price") {
                None | Some(Value::Null) => continue,
                Some(v) => money_in(v, &rc, &format!("{path}.price"))?,
            };
            let sale = match r.get("sale_price") {
                None | Some(Value::Null) => None,
                Some(v) => Some(money_in(v, &rc, &format!("{path}.sale_price"))?),
            }
            .filter(|s| *s != 0);
            out.push(PriceRecord {
                price_list_id: list,
                price_list_name: bundle
                    .price_lists
                    .get(&list.to_string())
                    .cloned()
                    .unwrap_or_default(),
                currency: rc,
                price,
                sale_price: sale,
            });
        }
        Ok(out)
    };
    if !has_options {
        let base_variant = p.opt_id("base_variant_id")?.or_else(|| {
            variants
                .first()
                .and_then(|v| v.get("id"))
                .and_then(Value::as_u64)
        });
        let mut single = base;
        single.price_records = records_for(base_variant)?;
        return Ok(vec![single]);
    }
    let mut out = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let path = format!("variants[{i}]");
        let v = Obj::new(v, &path);
        let variant_id = v.required_u64("id")?;
        let mut options = Vec::new();
        for ov in v.array("option_values")? {
            let ov = Obj::new(ov, "");
            options.push((ov.str("option_display_name"), ov.str("label")));
        }
        out.push(Product {
            variant_id: Some(variant_id),
            // No fallback to the product SKU: two variants under one SKU would overwrite each
            // other's item; an empty SKU is refused by the mapping with the variant named.
            sku: v.str("sku"),
            // A variant without its own price sells at its calculated price (the product
            // price with the option's adjustments).
            price: money(&v, "price")?
                .or(money(&v, "calculated_price")?)
                .unwrap_or(base.price),
            sale_price: money(&v, "sale_price")?
                .filter(|s| *s != 0)
                .or(base.sale_price),
            cost_price: money(&v, "cost_price")?.or(base.cost_price),
            retail_price: money(&v, "retail_price")?
                .filter(|s| *s != 0)
                .or(base.retail_price),
            weight: match v.opt_decimal("weight")? {
                Some(w) => Some(to_wit(w, &format!("{path}.weight"))?),
                None => base.weight,
            },
            gtin: v.opt_str("gtin").unwrap_or_else(|| base.gtin.clone()),
            mpn: v.opt_str("mpn").unwrap_or_else(|| base.mpn.clone()),
            options,
            price_records: records_for(Some(variant_id))?,
            ..base.clone()
        });
    }
    Ok(out)
}
