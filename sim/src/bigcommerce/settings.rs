//! Store-level resources: store information and time (v2), tax classes (v2) and tax settings
//! (v3), currencies (v2), channels and currency assignments (v3), inventory settings (v3).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};

use super::AppState;
use super::http::*;
use super::state::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/store", get(store_info))
        .route("/v2/time", get(time))
        .route("/v2/tax_classes", get(tax_classes))
        .route("/v2/tax_classes/{id}", get(tax_class))
        .route("/v3/tax/settings", get(tax_settings).put(put_tax_settings))
        .route("/v2/currencies", get(currencies))
        .route("/v2/currencies/{id}", get(currency))
        .route("/v3/channels", get(channels))
        .route(
            "/v3/channels/currency-assignments",
            get(all_currency_assignments),
        )
        .route("/v3/channels/{id}", get(channel))
        .route(
            "/v3/channels/{id}/currency-assignments",
            get(channel_currency_assignments),
        )
        .route(
            "/v3/settings/inventory",
            get(inventory_settings).put(put_inventory_settings),
        )
}

async fn store_info(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    let i = &store.info;
    let cur = store.default_currency();
    Ok(json_response(
        StatusCode::OK,
        json!({
            "id": s.store_hash,
            "account_uuid": "5f1e9a4c-0000-4000-8000-000000000001",
            "domain": i.domain,
            "secure_url": format!("https://{}", i.domain),
            "control_panel_base_url": format!("https://store-{}.mybigcommerce.com", s.store_hash),
            "status": "live",
            "name": i.name,
            "first_name": "Sim",
            "last_name": "Merchant",
            "address": i.address,
            "country": i.country,
            "country_code": i.country_code,
            "phone": i.phone,
            "admin_email": i.email,
            "order_email": i.email,
            "favicon_url": "",
            "timezone": { "name": i.timezone, "raw_offset": 3600, "dst_offset": 7200, "date_format": {
                "display": "j M Y", "export": "M j Y", "extended_display": "M j Y @ g:i A" } },
            "language": "en",
            "currency": cur.code,
            "currency_symbol": cur.token,
            "decimal_separator": ",",
            "thousands_separator": " ",
            "decimal_places": 2,
            "currency_symbol_location": "right",
            "weight_units": "kg",
            "dimension_units": "Centimeters",
            "dimension_decimal_places": 2,
            "dimension_decimal_token": ",",
            "dimension_thousands_token": " ",
            "plan_name": "Plus",
            "plan_level": "Plus",
            "plan_is_trial": false,
            "industry": "Apparel",
            "logo": [],
            "is_price_entered_with_tax": store.prices_include_tax,
            "store_id": s.store_id,
            "default_channel_id": 1,
            "default_site_id": 1000,
            "active_comparison_modules": [],
            "features": { "stencil_enabled": true, "sitewidehttps_enabled": true, "facebook_catalog_id": "",
                          "checkout_type": "optimized", "wishlists_enabled": false, "graphql_storefront_api_enabled": true,
                          "shopper_consent_tracking_enabled": false, "multi_storefront_enabled": true,
                          "storefront_limits": { "active": 2, "total_including_inactive": 3 } },
        }),
    ))
}

async fn time() -> ApiResult {
    Ok(json_response(
        StatusCode::OK,
        json!({ "time": Utc::now().timestamp() }),
    ))
}

fn tax_class_json(c: &TaxClass) -> Value {
    // The spec's example has string ids (NOTES §13).
    json!({ "id": c.id.to_string(), "name": c.name, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z" })
}

async fn tax_classes(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    Ok(v2_list(
        store.tax_classes.iter().map(tax_class_json).collect(),
    ))
}

async fn tax_class(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let c = id
        .parse::<u64>()
        .ok()
        .and_then(|id| store.tax_classes.iter().find(|c| c.id == id))
        .ok_or_else(|| ApiError::not_found(Api::V2, "tax class"))?;
    Ok(json_response(StatusCode::OK, tax_class_json(c)))
}

fn tax_settings_json(store: &Store) -> Value {
    let strategy = if store.prices_include_tax {
        "INCLUSIVE"
    } else {
        "EXCLUSIVE"
    };
    json!({
        "tax_entered_with_prices": store.prices_include_tax,
        "shipping_tax_class_id": store.shipping_tax_class_id,
        "gift_wrapping_tax_class_id": store.wrapping_tax_class_id,
        "tax_address_type": "SHIPPING_ADDRESS",
        "price_display_settings": { "show_inclusive": store.prices_include_tax, "show_both_on_detail_view": false,
            "show_both_on_list_view": false, "control_panel_price_display_strategy": strategy, "invoice_price_display_strategy": strategy },
        "fallback_strategy": "FIXED",
        "should_subtract_store_tax": false,
        "guest_tax_zone": { "enabled": false, "zone_id": null },
    })
}

async fn tax_settings(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    Ok(json_response(
        StatusCode::OK,
        v3_one(tax_settings_json(&store)),
    ))
}

/// Only `tax_entered_with_prices` changes behaviour (it switches the store between
/// tax-inclusive and tax-exclusive prices for new orders); other fields are accepted as-is.
async fn put_tax_settings(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(Api::V3, &body)?;
    let mut store = s.data.lock();
    match body.get("tax_entered_with_prices") {
        None => {}
        Some(Value::Bool(b)) => store.prices_include_tax = *b,
        Some(_) => {
            return Err(ApiError::unprocessable(
                Api::V3,
                "tax_entered_with_prices must be a boolean.",
            )
            .field("tax_entered_with_prices", "invalid"));
        }
    }
    Ok(json_response(
        StatusCode::OK,
        v3_one(tax_settings_json(&store)),
    ))
}

fn currency_json(c: &Currency) -> Value {
    json!({
        "id": c.id, "is_default": c.is_default, "last_updated": rfc2822(&c.last_updated),
        "country_iso2": c.country_iso2, "default_for_country_codes": [c.country_iso2],
        "currency_code": c.code, "currency_exchange_rate": format!("{:.10}", c.exchange_rate),
        "name": c.name, "token": c.token, "auto_update": false, "token_location": "right",
        "decimal_token": ",", "thousands_token": " ", "decimal_places": 2,
        "enabled": c.enabled, "is_transactional": c.is_transactional,
    })
}

async fn currencies(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    Ok(v2_list(
        store.currencies.iter().map(currency_json).collect(),
    ))
}

async fn currency(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let c = id
        .parse::<u64>()
        .ok()
        .and_then(|id| store.currencies.iter().find(|c| c.id == id))
        .ok_or_else(|| ApiError::not_found(Api::V2, "currency"))?;
    Ok(json_response(StatusCode::OK, currency_json(c)))
}

fn channel_json(c: &Channel, with_currencies: bool) -> Value {
    let mut v = json!({
        "id": c.id, "name": c.name, "type": c.kind, "platform": c.platform, "status": c.status,
        "external_id": c.external_id, "is_visible": c.is_visible, "is_listable_from_ui": true,
        "is_enabled": c.status == "active", "date_created": rfc3339(&c.date_created),
        "date_modified": rfc3339(&c.date_modified), "icon_url": "", "config_meta": { "app": { "id": 0, "sections": [] } },
    });
    if with_currencies {
        v["currencies"] = assignment_json(c);
    }
    v
}

fn assignment_json(c: &Channel) -> Value {
    json!({ "channel_id": c.id, "enabled_currencies": c.enabled_currencies, "default_currency": c.default_currency })
}

async fn channels(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(Api::V3, &q);
    let (page, limit) = q.paging(50)?;
    let with_cur = q
        .str("include")
        .is_some_and(|i| i.split(',').any(|x| x == "currencies"));
    let store = s.data.lock();
    Ok(v3_paged(&store.channels, page, limit, |c| {
        channel_json(&c, with_cur)
    }))
}

fn channel_of<'a>(store: &'a Store, id: &str) -> ApiResult<&'a Channel> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| store.channels.iter().find(|c| c.id == id))
        .ok_or_else(|| ApiError::not_found(Api::V3, "channel"))
}

async fn channel(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let with_cur = Q::new(Api::V3, &q)
        .str("include")
        .is_some_and(|i| i.split(',').any(|x| x == "currencies"));
    let store = s.data.lock();
    let c = channel_of(&store, &id)?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(channel_json(c, with_cur)),
    ))
}

async fn all_currency_assignments(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    Ok(json_response(
        StatusCode::OK,
        json!({ "data": store.channels.iter().map(assignment_json).collect::<Vec<_>>(), "meta": {} }),
    ))
}

async fn channel_currency_assignments(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = s.data.lock();
    let c = channel_of(&store, &id)?;
    Ok(json_response(StatusCode::OK, v3_one(assignment_json(c))))
}

fn inventory_settings_json(i: &InventorySettings) -> Value {
    json!({
        "product_out_of_stock_behavior": "do_nothing", "option_out_of_stock_behavior": "do_nothing",
        "update_stock_behavior": i.update_stock_behavior, "edit_order_stock_adjustment": i.edit_order_stock_adjustment,
        "refund_order_stock_adjustment": i.refund_order_stock_adjustment, "stock_level_display": "show",
        "default_out_of_stock_message": "", "hide_in_product_filtering": false, "show_pre_order_stock_levels": false,
        "show_out_of_stock_message": false, "show_out_of_stock_message_in_product_listing": false,
    })
}

async fn inventory_settings(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    Ok(json_response(
        StatusCode::OK,
        v3_one(inventory_settings_json(&store.inventory_settings)),
    ))
}

async fn put_inventory_settings(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(Api::V3, &body)?;
    let mut store = s.data.lock();
    let mut next = store.inventory_settings.clone();
    if let Some(v) = body.get("update_stock_behavior") {
        match v.as_str() {
            Some(b @ ("order_placed" | "order_completed_or_shipped")) => {
                next.update_stock_behavior = b.to_string()
            }
            _ => {
                return Err(ApiError::unprocessable(
                    Api::V3,
                    "update_stock_behavior must be order_placed or order_completed_or_shipped.",
                )
                .field("update_stock_behavior", "invalid"));
            }
        }
    }
    for (k, slot) in [
        (
            "edit_order_stock_adjustment",
            &mut next.edit_order_stock_adjustment,
        ),
        (
            "refund_order_stock_adjustment",
            &mut next.refund_order_stock_adjustment,
        ),
    ] {
        match body.get(k) {
            None => {}
            Some(Value::Bool(b)) => *slot = *b,
            Some(_) => {
                return Err(
                    ApiError::unprocessable(Api::V3, format!("{k} must be a boolean."))
                        .field(k, "invalid"),
                );
            }
        }
    }
    store.inventory_settings = next;
    Ok(json_response(
        StatusCode::OK,
        v3_one(inventory_settings_json(&store.inventory_settings)),
    ))
}
