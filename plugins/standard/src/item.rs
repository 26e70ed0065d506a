//! `map-item`: a BigCommerce SKU (product or variant) → a Visma inventory item.

use crate::common::*;
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Errors, Host, Settings, money};

pub fn map_item(
    host: &impl Host,
    ctx: &Context,
    product: &Product,
) -> Result<InventoryItem, Vec<MappingError>> {
    let settings = Settings::of(ctx);
    let mut errors = Errors::new();
    let number = item_number(host, &product.sku, "sku", &mut errors).unwrap_or_default();
    let category = match host.lookup("vat-category", &product.tax_class_id.to_string()) {
        Some(c) => c,
        None => {
            errors.push(
                "tax-class-id",
                "missing-vat-mapping",
                format!(
                    "no VAT category for tax class {} ({}): add key \"{}\" to mapping table vat-category",
                    product.tax_class_id,
                    if product.tax_class_name.is_empty() { "unnamed" } else { &product.tax_class_name },
                    product.tax_class_id
                ),
            );
            String::new()
        }
    };
    let uom = host
        .lookup("uom", &number)
        .or_else(|| settings.get("default-uom").map(str::to_owned))
        .unwrap_or_else(|| {
            errors.push("sku", "missing-uom", format!("no unit of measure for {number}: add it to mapping table uom or set default-uom"));
            String::new()
        });
    let item_type = match product.inventory_tracking {
        InventoryTracking::None => settings.get_or("untracked-item-type", "non-stock"),
        _ => "stock",
    };
    let unmapped_lists = settings.choice(
        "unmapped-price-lists",
        &["error", "skip"],
        "error",
        &mut errors,
    );
    let mut prices = Vec::new();
    for (i, r) in product.price_records.iter().enumerate() {
        match host.lookup("price-class", &r.price_list_id.to_string()) {
            Some(class) => prices.push(PriceClassPrice {
                price_class_id: class,
                currency_id: r.currency.clone(),
                price: money::to_wit(r.sale_price.unwrap_or(r.price), &r.currency),
            }),
            // A list with no Visma counterpart (e.g. a storefront's own currency list).
            None if unmapped_lists == "skip" => {}
            None => errors.push(
                format!("price-records[{i}].price-list-id"),
                "missing-price-class-mapping",
                format!(
                    "no Visma price class for price list {} ({}): add key \"{}\" to mapping table price-class",
                    r.price_list_id, r.price_list_name, r.price_list_id
                ),
            ),
        }
    }
    let options: Vec<String> = product
        .options
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let description = if options.is_empty() {
        product.name.clone()
    } else {
        format!("{} ({})", product.name, options.join(", "))
    };
    let external_reference = match product.variant_id {
        Some(v) => format!(
            "bc:{}:product:{}:variant:{}",
            ctx.store_hash, product.product_id, v
        ),
        None => format!("bc:{}:product:{}", ctx.store_hash, product.product_id),
    };
    let item = InventoryItem {
        number,
        description,
        status: if product.is_visible {
            "Active".into()
        } else {
            settings.get_or("hidden-item-status", "Active").to_owned()
        },
        item_type: item_type.to_owned(),
        item_class_id: settings.get("item-class").map(str::to_owned),
        base_uom: uom.clone(),
        sales_uom: uom.clone(),
        purchase_uom: uom,
        vat_category_id: category,
        default_price: money::to_wit(product.price, &product.currency),
        currency_id: product.currency.clone(),
        cost_price: product
            .cost_price
            .filter(|c| *c != 0)
            .map(|c| money::to_wit(c, &product.currency)),
        price_class_prices: prices,
        weight: product.weight,
        gtin: product.gtin.clone(),
        external_reference,
        note: if product.mpn.is_empty() {
            String::new()
        } else {
            format!("MPN {}", product.mpn)
        },
    };
    errors.finish(item)
}
