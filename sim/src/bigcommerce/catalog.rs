//! Catalog v3: products and variants (create/list/get/update/delete, batch updates,
//! `include=variants`, `sku`/`sku:in`/`id:in` filters) and price lists with records.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::http::*;
use super::orders::{Events, emit_all};
use super::state::*;
use super::{AppState, views};

const V3: Api = Api::V3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v3/catalog/products",
            get(list_products)
                .post(create_product)
                .put(update_products_batch),
        )
        .route(
            "/v3/catalog/products/channel-assignments",
            get(list_channel_assignments)
                .put(create_channel_assignments)
                .delete(delete_channel_assignments),
        )
        .route(
            "/v3/catalog/products/{id}",
            get(get_product).put(update_product).delete(delete_product),
        )
        .route(
            "/v3/catalog/products/{id}/variants",
            get(list_product_variants).post(create_variant),
        )
        .route(
            "/v3/catalog/products/{id}/variants/{vid}",
            get(get_variant).put(update_variant).delete(delete_variant),
        )
        .route(
            "/v3/catalog/variants",
            get(list_variants).put(update_variants_batch),
        )
        .route(
            "/v3/pricelists",
            get(list_price_lists).post(create_price_list),
        )
        .route(
            "/v3/pricelists/{id}",
            get(get_price_list)
                .put(update_price_list)
                .delete(delete_price_list),
        )
        .route(
            "/v3/pricelists/{id}/records",
            get(list_records).put(upsert_records),
        )
        .route(
            "/v3/pricelists/{id}/records/{vid}/{currency}",
            get(get_record).put(set_record).delete(delete_record),
        )
}

fn includes(q: &Q, what: &str) -> bool {
    q.str("include")
        .is_some_and(|i| i.split(',').any(|x| x.trim() == what))
}

async fn list_products(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let ids = q.nums("id:in")?;
    let id = q.num::<u64>("id")?;
    let skus = q.strs("sku:in");
    let sku = q.str("sku");
    let name = q.str("name");
    let name_like = q.str("name:like");
    let channels = q.nums("channel_id:in")?;
    let modified_min = q.date("date_modified:min")?;
    let visible = q.bool("is_visible")?;
    let with_variants = includes(&q, "variants");
    let store = s.data.lock();
    // `sku` matches the product (base) SKU only (NOTES §8.2).
    let hits: Vec<&Product> = store
        .products
        .values()
        .filter(|p| ids.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .filter(|p| id.is_none_or(|id| p.id == id))
        .filter(|p| skus.as_ref().is_none_or(|s| s.contains(&p.sku.as_str())))
        .filter(|p| sku.is_none_or(|s| p.sku == s))
        .filter(|p| name.is_none_or(|n| p.name == n))
        .filter(|p| name_like.is_none_or(|n| p.name.to_lowercase().contains(&n.to_lowercase())))
        .filter(|p| {
            channels
                .as_ref()
                .is_none_or(|c| p.channels.iter().any(|x| c.contains(x)))
        })
        .filter(|p| modified_min.is_none_or(|d| p.date_modified >= d))
        .filter(|p| visible.is_none_or(|v| p.is_visible == v))
        .collect();
    Ok(v3_paged(&hits, page, limit, |p| {
        views::product_v3(&store, p, with_variants)
    }))
}

/// `GET /v3/catalog/products/channel-assignments`: one `{product_id, channel_id}` per
/// assignment, in product then channel order, filtered by `product_id:in` / `channel_id:in`.
async fn list_channel_assignments(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let products = q.nums("product_id:in")?;
    let channels = q.nums("channel_id:in")?;
    let store = s.data.lock();
    let mut hits: Vec<(u64, u64)> = store
        .products
        .values()
        .filter(|p| products.as_ref().is_none_or(|ids| ids.contains(&p.id)))
        .flat_map(|p| p.channels.iter().map(move |c| (p.id, *c)))
        .filter(|(_, c)| channels.as_ref().is_none_or(|ids| ids.contains(c)))
        .collect();
    hits.sort_unstable();
    Ok(v3_paged(
        &hits,
        page,
        limit,
        |(p, c)| json!({"product_id": p, "channel_id": c}),
    ))
}

/// `PUT /v3/catalog/products/channel-assignments`: adds assignments (existing ones stay);
/// all or nothing, an unknown product or channel refuses the batch with its index.
async fn create_channel_assignments(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let list = update_batch(&body, "assignment", 1000)?;
    let mut store = s.data.lock();
    let mut pairs = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let product = a
            .get("product_id")
            .and_then(Value::as_u64)
            .filter(|p| store.products.contains_key(p));
        let channel = a
            .get("channel_id")
            .and_then(Value::as_u64)
            .filter(|c| store.channels.iter().any(|x| x.id == *c));
        match (product, channel) {
            (Some(p), Some(c)) => pairs.push((p, c)),
            (None, _) => {
                return Err(ApiError::unprocessable(V3, "Unknown product.")
                    .field(&format!("{i}.product_id"), "invalid"));
            }
            (_, None) => {
                return Err(ApiError::unprocessable(V3, "Unknown channel.")
                    .field(&format!("{i}.channel_id"), "invalid"));
            }
        }
    }
    for (p, c) in pairs {
        let product = store.products.get_mut(&p).expect("checked");
        if !product.channels.contains(&c) {
            product.channels.push(c);
            product.channels.sort_unstable();
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v3/catalog/products/channel-assignments?product_id:in=…&channel_id:in=…`: at
/// least one filter is required.
async fn delete_channel_assignments(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let products = q.nums("product_id:in")?;
    let channels = q.nums("channel_id:in")?;
    if products.is_none() && channels.is_none() {
        return Err(ApiError::unprocessable(
            V3,
            "At least one filter must be provided in order to delete channel assignments.",
        ));
    }
    let mut store = s.data.lock();
    for p in store.products.values_mut() {
        if products.as_ref().is_none_or(|ids| ids.contains(&p.id)) {
            p.channels
                .retain(|c| channels.as_ref().is_some_and(|ids| !ids.contains(c)));
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn product_id(id: &str, store: &Store) -> ApiResult<u64> {
    id.parse::<u64>()
        .ok()
        .filter(|id| store.products.contains_key(id))
        .ok_or_else(|| ApiError::not_found(V3, "product"))
}

async fn get_product(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let store = s.data.lock();
    let id = product_id(&id, &store)?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(views::product_v3(
            &store,
            &store.products[&id],
            includes(&q, "variants"),
        )),
    ))
}

fn opt_money(body: &Value, k: &str) -> ApiResult<Option<Decimal>> {
    money_field(V3, body, k)
}

fn sku_taken(store: &Store, sku: &str, except_variant: Option<u64>) -> bool {
    !sku.is_empty()
        && store
            .variants
            .values()
            .any(|v| v.sku.eq_ignore_ascii_case(sku) && Some(v.id) != except_variant)
}

/// Create a product (and its variants) from a `POST /v3/catalog/products` body. Used by the
/// route and the demo seed.
pub fn create(
    store: &mut Store,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    let name = str_field(body, "name")
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "The product name is required.").field("name", "required")
        })?;
    if store.products.values().any(|p| p.name == name) {
        return Err(
            ApiError::conflict(V3, format!("A product named {name:?} already exists."))
                .field("name", "duplicate"),
        );
    }
    let kind = str_field(body, "type").unwrap_or("physical");
    if kind != "physical" && kind != "digital" {
        return Err(
            ApiError::unprocessable(V3, "type must be physical or digital.")
                .field("type", "invalid"),
        );
    }
    let price = opt_money(body, "price")?.ok_or_else(|| {
        ApiError::unprocessable(V3, "The product price is required.").field("price", "required")
    })?;
    let weight = opt_money(body, "weight")?.ok_or_else(|| {
        ApiError::unprocessable(V3, "The product weight is required.").field("weight", "required")
    })?;
    let sku = str_field(body, "sku").unwrap_or_default().to_string();
    if sku_taken(store, &sku, None) {
        return Err(
            ApiError::conflict(V3, format!("The SKU {sku} is already in use."))
                .field("sku", "duplicate"),
        );
    }
    let tax_class_id = u64_field(V3, body, "tax_class_id")?.unwrap_or(0);
    if !store.tax_classes.iter().any(|c| c.id == tax_class_id) {
        return Err(ApiError::unprocessable(
            V3,
            format!("Tax class {tax_class_id} does not exist."),
        )
        .field("tax_class_id", "invalid"));
    }
    let variants_in = body
        .get("variants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tracking = match str_field(body, "inventory_tracking") {
        None => if variants_in.is_empty() {
            "product"
        } else {
            "variant"
        }
        .to_string(),
        Some(t @ ("none" | "product" | "variant")) => t.to_string(),
        Some(_) => {
            return Err(ApiError::unprocessable(
                V3,
                "inventory_tracking must be none, product or variant.",
            )
            .field("inventory_tracking", "invalid"));
        }
    };
    let mut seen = std::collections::HashSet::new();
    for (i, v) in variants_in.iter().enumerate() {
        let vs = str_field(v, "sku")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each variant needs a sku.")
                    .field(&format!("variants[{i}].sku"), "required")
            })?;
        if sku_taken(store, vs, None)
            || vs.eq_ignore_ascii_case(&sku)
            || !seen.insert(vs.to_ascii_lowercase())
        {
            return Err(
                ApiError::conflict(V3, format!("The SKU {vs} is already in use."))
                    .field(&format!("variants[{i}].sku"), "duplicate"),
            );
        }
        opt_money(v, "price")?;
    }
    let id = store.next_id("product", 100);
    let mut variant_ids = Vec::new();
    let has_options = !variants_in.is_empty();
    if has_options {
        for v in &variants_in {
            variant_ids.push(insert_variant(store, id, v)?);
        }
    } else {
        variant_ids.push(insert_variant(store, id, &json!({"sku": sku}))?);
    }
    let product = Product {
        id,
        name: name.to_string(),
        sku,
        kind: kind.to_string(),
        price,
        cost_price: opt_money(body, "cost_price")?.unwrap_or_default(),
        sale_price: opt_money(body, "sale_price")?.unwrap_or_default(),
        weight,
        tax_class_id,
        inventory_tracking: tracking,
        inventory_warning_level: body
            .get("inventory_warning_level")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        is_visible: body
            .get("is_visible")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        description: str_field(body, "description")
            .unwrap_or_default()
            .to_string(),
        categories: body
            .get("categories")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default(),
        channels: body
            .get("channels")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_else(|| vec![1]),
        variants: variant_ids.clone(),
        has_options,
        date_created: now,
        date_modified: now,
    };
    store.products.insert(id, product.clone());
    events.push((
        "store/product/created".into(),
        json!({"type": "product", "id": id}),
    ));
    for (i, vid) in variant_ids.iter().enumerate() {
        let sku_id = store.variants[vid].sku_id.unwrap_or(*vid);
        events.push((
            "store/sku/created".into(),
            json!({"type": "sku", "id": sku_id, "sku": {"product_id": id, "variant_id": vid}}),
        ));
        // Initial stock: `inventory_level` on the product (product tracking) or each variant.
        let level = if has_options {
            variants_in[i]
                .get("inventory_level")
                .and_then(Value::as_i64)
        } else {
            body.get("inventory_level").and_then(Value::as_i64)
        };
        if let Some(level) = level
            && product.inventory_tracking != "none"
            && (i == 0 || product.inventory_tracking == "variant")
        {
            let st = store.stock.entry((*vid, DEFAULT_LOCATION)).or_default();
            st.on_hand = level.max(0);
            st.absolute_done = true;
            st.is_in_stock = level > 0;
        }
    }
    Ok(id)
}

fn insert_variant(store: &mut Store, product_id: u64, v: &Value) -> ApiResult<u64> {
    let id = store.next_id("variant", 1000);
    let sku_id = store.next_id("sku", 5000);
    let option_values = v
        .get("option_values")
        .and_then(Value::as_array)
        .map(|ovs| {
            ovs.iter()
                .enumerate()
                .map(|(i, ov)| {
                    json!({
                        "id": ov.get("id").and_then(Value::as_u64).unwrap_or(id * 10 + i as u64),
                        "label": ov.get("label").and_then(Value::as_str).unwrap_or_default(),
                        "option_id": ov.get("option_id").and_then(Value::as_u64).unwrap_or(product_id * 10 + i as u64),
                        "option_display_name": ov.get("option_display_name").and_then(Value::as_str).unwrap_or("Option"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    store.variants.insert(
        id,
        Variant {
            id,
            product_id,
            sku: str_field(v, "sku").unwrap_or_default().to_string(),
            sku_id: Some(sku_id),
            price: opt_money(v, "price")?,
            sale_price: opt_money(v, "sale_price")?,
            cost_price: opt_money(v, "cost_price")?,
            weight: opt_money(v, "weight")?,
            upc: str_field(v, "upc").unwrap_or_default().to_string(),
            option_values,
            purchasing_disabled: v
                .get("purchasing_disabled")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
    );
    Ok(id)
}

async fn create_product(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let mut events = Events::new();
    let id = create(&mut store, &body, Utc::now(), &mut events)?;
    let v = views::product_v3(&store, &store.products[&id], true);
    emit_all(&s, events);
    Ok(json_response(StatusCode::OK, v3_one(v)))
}

/// Apply the writable fields of a product update. Validates everything before changing
/// anything.
fn apply_product_update(
    store: &mut Store,
    id: u64,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<()> {
    if !body.is_object() {
        return Err(ApiError::unprocessable(
            V3,
            "The product update must be an object.",
        ));
    }
    let p = store
        .products
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V3, "product"))?
        .clone();
    let price = opt_money(body, "price")?;
    let cost = opt_money(body, "cost_price")?;
    let sale = opt_money(body, "sale_price")?;
    let weight = opt_money(body, "weight")?;
    let name = match body.get("name") {
        None => None,
        Some(Value::String(n)) if !n.trim().is_empty() => {
            if store.products.values().any(|o| o.id != id && &o.name == n) {
                return Err(ApiError::conflict(
                    V3,
                    format!("A product named {n:?} already exists."),
                )
                .field("name", "duplicate"));
            }
            Some(n.clone())
        }
        Some(_) => {
            return Err(
                ApiError::unprocessable(V3, "name must be a non-empty string.")
                    .field("name", "invalid"),
            );
        }
    };
    let sku = str_field(body, "sku").map(str::to_string);
    if let Some(sku) = &sku
        && sku_taken(
            store,
            sku,
            if p.has_options {
                None
            } else {
                p.variants.first().copied()
            },
        )
    {
        return Err(
            ApiError::conflict(V3, format!("The SKU {sku} is already in use."))
                .field("sku", "duplicate"),
        );
    }
    let tax_class = u64_field(V3, body, "tax_class_id")?;
    if let Some(t) = tax_class
        && !store.tax_classes.iter().any(|c| c.id == t)
    {
        return Err(
            ApiError::unprocessable(V3, format!("Tax class {t} does not exist."))
                .field("tax_class_id", "invalid"),
        );
    }
    let tracking = match str_field(body, "inventory_tracking") {
        None => None,
        Some(t @ ("none" | "product" | "variant")) => Some(t.to_string()),
        Some(_) => {
            return Err(ApiError::unprocessable(
                V3,
                "inventory_tracking must be none, product or variant.",
            )
            .field("inventory_tracking", "invalid"));
        }
    };
    let level = match body.get("inventory_level") {
        None => None,
        Some(v) => Some(v.as_i64().filter(|l| *l >= 0).ok_or_else(|| {
            ApiError::unprocessable(V3, "inventory_level must be a non-negative integer.")
                .field("inventory_level", "invalid")
        })?),
    };
    let p = store.products.get_mut(&id).expect("checked");
    if let Some(v) = price {
        p.price = v;
    }
    if let Some(v) = cost {
        p.cost_price = v;
    }
    if let Some(v) = sale {
        p.sale_price = v;
    }
    if let Some(v) = weight {
        p.weight = v;
    }
    if let Some(v) = name {
        p.name = v;
    }
    if let Some(v) = tax_class {
        p.tax_class_id = v;
    }
    if let Some(v) = tracking {
        p.inventory_tracking = v;
    }
    if let Some(v) = body.get("is_visible").and_then(Value::as_bool) {
        p.is_visible = v;
    }
    if let Some(v) = str_field(body, "description") {
        p.description = v.to_string();
    }
    if let Some(v) = body.get("inventory_warning_level").and_then(Value::as_i64) {
        p.inventory_warning_level = v;
    }
    p.date_modified = now;
    let base_variant = if p.has_options {
        None
    } else {
        p.variants.first().copied()
    };
    let tracking = p.inventory_tracking.clone();
    if let (Some(sku), Some(vid)) = (&sku, base_variant) {
        p.sku = sku.clone();
        if let Some(v) = store.variants.get_mut(&vid) {
            v.sku = sku.clone();
        }
    } else if let Some(sku) = sku {
        p.sku = sku;
    }
    events.push((
        "store/product/updated".into(),
        json!({"type": "product", "id": id}),
    ));
    if let (Some(level), Some(vid)) = (level, base_variant)
        && tracking == "product"
    {
        let st = store.stock.entry((vid, DEFAULT_LOCATION)).or_default();
        st.on_hand = level;
        st.absolute_done = true;
        events.push(("store/product/inventory/updated".into(), json!({"type": "product", "id": id, "inventory": {"product_id": id, "method": "absolute", "value": level}})));
    }
    Ok(())
}

async fn update_product(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let id = product_id(&id, &store)?;
    let mut events = Events::new();
    apply_product_update(&mut store, id, &body, Utc::now(), &mut events)?;
    let v = views::product_v3(&store, &store.products[&id], false);
    emit_all(&s, events);
    Ok(json_response(StatusCode::OK, v3_one(v)))
}

/// The items of a batch-update body: an array of 1 to `max` `what`s.
fn update_batch<'a>(body: &'a Value, what: &str, max: usize) -> ApiResult<&'a Vec<Value>> {
    let items = body.as_array().ok_or_else(|| {
        ApiError::unprocessable(V3, format!("The body must be an array of {what}."))
    })?;
    if items.is_empty() || items.len() > max {
        return Err(ApiError::new(
            V3,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("A batch update takes 1 to {max} {what}."),
        ));
    }
    Ok(items)
}

/// `PUT /v3/catalog/products`: up to 10 products, each with its `id`.
async fn update_products_batch(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let items = update_batch(&body, "products", 10)?;
    let mut store = s.data.lock();
    for (i, it) in items.iter().enumerate() {
        let id = it.get("id").and_then(Value::as_u64).ok_or_else(|| {
            ApiError::unprocessable(V3, "Each product needs its id.")
                .field(&format!("{i}.id"), "required")
        })?;
        if !store.products.contains_key(&id) {
            return Err(
                ApiError::unprocessable(V3, format!("Product {id} does not exist."))
                    .field(&format!("{i}.id"), "not found"),
            );
        }
    }
    // Validate all on a copy first so a bad item changes nothing.
    let now = Utc::now();
    let mut events = Events::new();
    let snapshot = (
        store.products.clone(),
        store.variants.clone(),
        store.stock.clone(),
    );
    for it in items {
        let mut body = it.clone();
        let id = body["id"].as_u64().expect("checked");
        body.as_object_mut().expect("object").remove("id");
        if let Err(e) = apply_product_update(&mut store, id, &body, now, &mut events) {
            (store.products, store.variants, store.stock) = snapshot;
            return Err(e);
        }
    }
    let data: Vec<Value> = items
        .iter()
        .map(|it| {
            views::product_v3(
                &store,
                &store.products[&it["id"].as_u64().expect("checked")],
                false,
            )
        })
        .collect();
    emit_all(&s, events);
    Ok(json_response(
        StatusCode::OK,
        json!({"data": data, "meta": {}}),
    ))
}

async fn delete_product(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut store = s.data.lock();
    let id = product_id(&id, &store)?;
    let p = store.products.remove(&id).expect("checked");
    for v in &p.variants {
        store.variants.remove(v);
        store.stock.retain(|(vid, _), _| vid != v);
    }
    s.webhooks.emit(
        "store/product/deleted",
        json!({"type": "product", "id": id}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_product_variants(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(V3, &q).paging(50)?;
    let store = s.data.lock();
    let id = product_id(&id, &store)?;
    let vs: Vec<&Variant> = store.products[&id]
        .variants
        .iter()
        .filter_map(|v| store.variants.get(v))
        .collect();
    Ok(v3_paged(&vs, page, limit, |v| views::variant_v3(&store, v)))
}

fn variant_of(store: &Store, pid: u64, vid: &str) -> ApiResult<u64> {
    vid.parse::<u64>()
        .ok()
        .filter(|v| store.variants.get(v).is_some_and(|v| v.product_id == pid))
        .ok_or_else(|| ApiError::not_found(V3, "variant"))
}

async fn get_variant(
    State(s): State<AppState>,
    Path((id, vid)): Path<(String, String)>,
) -> ApiResult {
    let store = s.data.lock();
    let pid = product_id(&id, &store)?;
    let vid = variant_of(&store, pid, &vid)?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(views::variant_v3(&store, &store.variants[&vid])),
    ))
}

async fn create_variant(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let pid = product_id(&id, &store)?;
    let sku = str_field(&body, "sku")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "The variant sku is required.").field("sku", "required")
        })?;
    if sku_taken(&store, sku, None) {
        return Err(
            ApiError::conflict(V3, format!("The SKU {sku} is already in use."))
                .field("sku", "duplicate"),
        );
    }
    let vid = insert_variant(&mut store, pid, &body)?;
    let p = store.products.get_mut(&pid).expect("checked");
    if !p.has_options {
        // The product gains options: its base variant gives way to option variants.
        let old: Vec<u64> = std::mem::take(&mut p.variants);
        p.has_options = true;
        p.inventory_tracking = "variant".into();
        for o in old {
            store.variants.remove(&o);
            store.stock.retain(|(v, _), _| *v != o);
        }
    }
    let p = store.products.get_mut(&pid).expect("checked");
    p.variants.push(vid);
    p.date_modified = Utc::now();
    let sku_id = store.variants[&vid].sku_id.unwrap_or(vid);
    s.webhooks.emit(
        "store/sku/created",
        json!({"type": "sku", "id": sku_id, "sku": {"product_id": pid, "variant_id": vid}}),
    );
    Ok(json_response(
        StatusCode::OK,
        v3_one(views::variant_v3(&store, &store.variants[&vid])),
    ))
}

fn apply_variant_update(store: &mut Store, vid: u64, body: &Value) -> ApiResult<()> {
    let price = money_field(V3, body, "price")?;
    let sale = money_field(V3, body, "sale_price")?;
    let cost = money_field(V3, body, "cost_price")?;
    let weight = money_field(V3, body, "weight")?;
    let sku = str_field(body, "sku").map(str::to_string);
    if let Some(s) = &sku
        && (s.is_empty() || sku_taken(store, s, Some(vid)))
    {
        return Err(
            ApiError::conflict(V3, format!("The SKU {s} is already in use."))
                .field("sku", "duplicate"),
        );
    }
    let v = store
        .variants
        .get_mut(&vid)
        .ok_or_else(|| ApiError::not_found(V3, "variant"))?;
    if body.get("price").is_some() {
        v.price = price;
    }
    if body.get("sale_price").is_some() {
        v.sale_price = sale;
    }
    if body.get("cost_price").is_some() {
        v.cost_price = cost;
    }
    if body.get("weight").is_some() {
        v.weight = weight;
    }
    if let Some(s) = sku {
        v.sku = s;
    }
    if let Some(u) = str_field(body, "upc") {
        v.upc = u.to_string();
    }
    if let Some(d) = body.get("purchasing_disabled").and_then(Value::as_bool) {
        v.purchasing_disabled = d;
    }
    Ok(())
}

async fn update_variant(
    State(s): State<AppState>,
    Path((id, vid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let pid = product_id(&id, &store)?;
    let vid = variant_of(&store, pid, &vid)?;
    apply_variant_update(&mut store, vid, &body)?;
    let sku_id = store.variants[&vid].sku_id.unwrap_or(vid);
    s.webhooks.emit(
        "store/sku/updated",
        json!({"type": "sku", "id": sku_id, "sku": {"product_id": pid, "variant_id": vid}}),
    );
    Ok(json_response(
        StatusCode::OK,
        v3_one(views::variant_v3(&store, &store.variants[&vid])),
    ))
}

async fn delete_variant(
    State(s): State<AppState>,
    Path((id, vid)): Path<(String, String)>,
) -> ApiResult {
    let mut store = s.data.lock();
    let pid = product_id(&id, &store)?;
    let vid = variant_of(&store, pid, &vid)?;
    if store.products[&pid].variants.len() == 1 {
        return Err(ApiError::unprocessable(
            V3,
            "A product's last variant cannot be deleted.",
        ));
    }
    let v = store.variants.remove(&vid).expect("checked");
    store.stock.retain(|(x, _), _| *x != vid);
    store
        .products
        .get_mut(&pid)
        .expect("checked")
        .variants
        .retain(|x| *x != vid);
    s.webhooks.emit("store/sku/deleted", json!({"type": "sku", "id": v.sku_id.unwrap_or(vid), "sku": {"product_id": pid, "variant_id": vid}}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_variants(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let ids = q.nums("id:in")?;
    let id = q.num::<u64>("id")?;
    let pids = q.nums("product_id:in")?;
    let sku = q.str("sku");
    let skus = q.strs("sku:in");
    let upc = q.str("upc");
    let store = s.data.lock();
    let hits: Vec<&Variant> = store
        .variants
        .values()
        .filter(|v| ids.as_ref().is_none_or(|i| i.contains(&v.id)))
        .filter(|v| id.is_none_or(|i| v.id == i))
        .filter(|v| pids.as_ref().is_none_or(|p| p.contains(&v.product_id)))
        .filter(|v| sku.is_none_or(|s| v.sku == s))
        .filter(|v| skus.as_ref().is_none_or(|s| s.contains(&v.sku.as_str())))
        .filter(|v| upc.is_none_or(|u| v.upc == u))
        .collect();
    Ok(v3_paged(&hits, page, limit, |v| {
        views::variant_v3(&store, v)
    }))
}

/// `PUT /v3/catalog/variants`: up to 50 variants, each with its `id`; all or nothing.
async fn update_variants_batch(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let items = update_batch(&body, "variants", 50)?;
    let mut store = s.data.lock();
    let snapshot = store.variants.clone();
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let vid = it
            .get("id")
            .and_then(Value::as_u64)
            .filter(|v| store.variants.contains_key(v));
        let Some(vid) = vid else {
            store.variants = snapshot;
            return Err(ApiError::unprocessable(
                V3,
                "Each variant needs the id of an existing variant.",
            )
            .field(&format!("{i}.id"), "invalid"));
        };
        if let Err(e) = apply_variant_update(&mut store, vid, it) {
            store.variants = snapshot;
            return Err(e);
        }
        out.push(vid);
    }
    for vid in &out {
        let v = &store.variants[vid];
        s.webhooks.emit("store/sku/updated", json!({"type": "sku", "id": v.sku_id.unwrap_or(*vid), "sku": {"product_id": v.product_id, "variant_id": vid}}));
    }
    let data: Vec<Value> = out
        .iter()
        .map(|v| views::variant_v3(&store, &store.variants[v]))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"data": data, "meta": {}}),
    ))
}

fn price_list_json(p: &PriceList) -> Value {
    json!({"id": p.id, "name": p.name, "active": p.active, "date_created": rfc3339(&p.date_created), "date_modified": rfc3339(&p.date_modified)})
}

fn record_json(store: &Store, list: u64, (vid, cur): &(u64, String), r: &PriceRecord) -> Value {
    let v = store.variants.get(vid);
    let mut out = json!({
        "price_list_id": list, "variant_id": vid, "product_id": v.map(|v| v.product_id),
        "sku": v.map(|v| v.sku.clone()), "currency": cur.to_lowercase(),
        "price": num3(r.price), "calculated_price": num3(r.sale_price.unwrap_or(r.price)),
        "date_created": rfc3339(&r.date_created), "date_modified": rfc3339(&r.date_modified), "bulk_pricing_tiers": [],
    });
    // Unset optional prices are left out (the spec types them as plain numbers).
    for (k, p) in [
        ("sale_price", r.sale_price),
        ("retail_price", r.retail_price),
        ("map_price", r.map_price),
    ] {
        if let Some(p) = p {
            out[k] = num3(p);
        }
    }
    out
}

async fn list_price_lists(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(V3, &q).paging(50)?;
    let store = s.data.lock();
    let all: Vec<&PriceList> = store.price_lists.values().collect();
    Ok(v3_paged(&all, page, limit, price_list_json))
}

async fn create_price_list(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let name = str_field(&body, "name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "The price list name is required.")
                .field("name", "required")
        })?;
    let mut store = s.data.lock();
    if store.price_lists.values().any(|p| p.name == name) {
        return Err(
            ApiError::conflict(V3, "A price list with this name exists.")
                .field("name", "duplicate"),
        );
    }
    let id = store.next_id("price_list", 1);
    let now = Utc::now();
    let p = PriceList {
        id,
        name: name.into(),
        active: body.get("active").and_then(Value::as_bool).unwrap_or(true),
        date_created: now,
        date_modified: now,
        records: Default::default(),
    };
    let v = price_list_json(&p);
    store.price_lists.insert(id, p);
    s.webhooks
        .emit("store/priceList/created", json!({"price_list_id": id}));
    Ok(json_response(StatusCode::OK, v3_one(v)))
}

fn list_id(store: &Store, id: &str) -> ApiResult<u64> {
    id.parse::<u64>()
        .ok()
        .filter(|id| store.price_lists.contains_key(id))
        .ok_or_else(|| ApiError::not_found(V3, "price list"))
}

async fn get_price_list(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let id = list_id(&store, &id)?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(price_list_json(&store.price_lists[&id])),
    ))
}

async fn update_price_list(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let id = list_id(&store, &id)?;
    let p = store.price_lists.get_mut(&id).expect("checked");
    if let Some(n) = str_field(&body, "name") {
        p.name = n.into();
    }
    if let Some(a) = body.get("active").and_then(Value::as_bool) {
        p.active = a;
    }
    p.date_modified = Utc::now();
    Ok(json_response(StatusCode::OK, v3_one(price_list_json(p))))
}

async fn delete_price_list(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let mut store = s.data.lock();
    let id = list_id(&store, &id)?;
    store.price_lists.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_records(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let vids = q.nums("variant_id:in")?;
    let skus = q.strs("sku:in");
    let currency = q.str("currency").map(str::to_uppercase);
    let store = s.data.lock();
    let id = list_id(&store, &id)?;
    let recs: Vec<_> = store.price_lists[&id]
        .records
        .iter()
        .filter(|((v, _), _)| vids.as_ref().is_none_or(|x| x.contains(v)))
        .filter(|((v, _), _)| {
            skus.as_ref().is_none_or(|x| {
                store
                    .variants
                    .get(v)
                    .is_some_and(|v| x.contains(&v.sku.as_str()))
            })
        })
        .filter(|((_, c), _)| currency.as_ref().is_none_or(|x| x == c))
        .collect();
    Ok(v3_paged(&recs, page, limit, |(k, r)| {
        record_json(&store, id, k, r)
    }))
}

/// (variant id, currency) and the record's price, sale, retail and MAP prices.
type ParsedRecord = (
    (u64, String),
    Decimal,
    Option<Decimal>,
    Option<Decimal>,
    Option<Decimal>,
);

fn parse_record(
    store: &Store,
    v: &Value,
    vid: Option<u64>,
    cur: Option<&str>,
) -> ApiResult<ParsedRecord> {
    let vid = match vid {
        Some(v) => v,
        None => v
            .get("variant_id")
            .and_then(Value::as_u64)
            .or_else(|| {
                let sku = str_field(v, "sku")?;
                store.variants.values().find(|x| x.sku == sku).map(|x| x.id)
            })
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each record needs variant_id or sku.")
                    .field("variant_id", "required")
            })?,
    };
    if !store.variants.contains_key(&vid) {
        return Err(
            ApiError::unprocessable(V3, format!("Variant {vid} does not exist."))
                .field("variant_id", "invalid"),
        );
    }
    let cur = cur
        .map(str::to_string)
        .or_else(|| str_field(v, "currency").map(str::to_string))
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "Each record needs a currency.")
                .field("currency", "required")
        })?
        .to_uppercase();
    if !store.currencies.iter().any(|c| c.code == cur) {
        return Err(ApiError::unprocessable(
            V3,
            format!("Currency {cur} is not set up in the store."),
        )
        .field("currency", "invalid"));
    }
    let price = money_field(V3, v, "price")?.ok_or_else(|| {
        ApiError::unprocessable(V3, "Each record needs a price.").field("price", "required")
    })?;
    Ok((
        (vid, cur),
        price,
        money_field(V3, v, "sale_price")?,
        money_field(V3, v, "retail_price")?,
        money_field(V3, v, "map_price")?,
    ))
}

/// Batch upsert (`PUT /v3/pricelists/{id}/records`), all or nothing; fires only
/// `store/priceList/*` events (NOTES §15).
async fn upsert_records(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let items = body
        .as_array()
        .ok_or_else(|| ApiError::unprocessable(V3, "The body must be an array of records."))?;
    if items.len() > 1000 {
        return Err(ApiError::new(
            V3,
            StatusCode::PAYLOAD_TOO_LARGE,
            "At most 1000 records per request.",
        ));
    }
    let mut store = s.data.lock();
    let id = list_id(&store, &id)?;
    let parsed = items
        .iter()
        .map(|it| parse_record(&store, it, None, None))
        .collect::<ApiResult<Vec<_>>>()?;
    let now = Utc::now();
    let list = store.price_lists.get_mut(&id).expect("checked");
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for (key, price, sale, retail, map) in parsed {
        let event = json!({"price_list_id": id, "variant_id": key.0, "currency_code": key.1.to_lowercase()});
        if list.records.contains_key(&key) {
            changed.push(event);
        } else {
            added.push(event);
        }
        let created = list
            .records
            .get(&key)
            .map(|r| r.date_created)
            .unwrap_or(now);
        list.records.insert(
            key,
            PriceRecord {
                price,
                sale_price: sale,
                retail_price: retail,
                map_price: map,
                date_created: created,
                date_modified: now,
            },
        );
    }
    // One event per batch and kind, its data an array of the records (NOTES §5.3).
    for (scope, records) in [
        ("store/priceList/records/created", added),
        ("store/priceList/records/updated", changed),
    ] {
        if !records.is_empty() {
            s.webhooks.emit(scope, Value::Array(records));
        }
    }
    Ok(json_response(
        StatusCode::OK,
        json!({"data": {}, "meta": {}}),
    ))
}

async fn get_record(
    State(s): State<AppState>,
    Path((id, vid, cur)): Path<(String, String, String)>,
) -> ApiResult {
    let store = s.data.lock();
    let id = list_id(&store, &id)?;
    let key = (vid.parse::<u64>().unwrap_or(0), cur.to_uppercase());
    let r = store.price_lists[&id]
        .records
        .get(&key)
        .ok_or_else(|| ApiError::not_found(V3, "price record"))?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(record_json(&store, id, &key, r)),
    ))
}

async fn set_record(
    State(s): State<AppState>,
    Path((id, vid, cur)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let id = list_id(&store, &id)?;
    let vid = vid
        .parse::<u64>()
        .map_err(|_| ApiError::not_found(V3, "variant"))?;
    let (key, price, sale, retail, map) = parse_record(&store, &body, Some(vid), Some(&cur))?;
    let now = Utc::now();
    let list = store.price_lists.get_mut(&id).expect("checked");
    let created = list
        .records
        .get(&key)
        .map(|r| r.date_created)
        .unwrap_or(now);
    let rec = PriceRecord {
        price,
        sale_price: sale,
        retail_price: retail,
        map_price: map,
        date_created: created,
        date_modified: now,
    };
    let scope = if list.records.contains_key(&key) {
        "store/priceList/record/updated"
    } else {
        "store/priceList/record/created"
    };
    list.records.insert(key.clone(), rec.clone());
    s.webhooks.emit(
        scope,
        json!({"price_list_id": id, "variant_id": vid, "currency_code": key.1.to_lowercase()}),
    );
    Ok(json_response(
        StatusCode::OK,
        v3_one(record_json(&store, id, &key, &rec)),
    ))
}

async fn delete_record(
    State(s): State<AppState>,
    Path((id, vid, cur)): Path<(String, String, String)>,
) -> ApiResult {
    let mut store = s.data.lock();
    let id = list_id(&store, &id)?;
    let key = (vid.parse::<u64>().unwrap_or(0), cur.to_uppercase());
    store
        .price_lists
        .get_mut(&id)
        .expect("checked")
        .records
        .remove(&key)
        .ok_or_else(|| ApiError::not_found(V3, "price record"))?;
    s.webhooks.emit(
        "store/priceList/record/deleted",
        json!({"price_list_id": id, "variant_id": key.0, "currency_code": key.1.to_lowercase()}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
