//! Inventory v3: absolute and relative adjustments (≤2000 items), items across locations,
//! items at one location (read and settings), and locations.
//!
//! Adjustments apply synchronously in the simulator (the real API is asynchronous: a read
//! straight after may show the old value, NOTES §9.2); they validate every item first and
//! change nothing when one is bad.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use chrono::Utc;
use serde_json::{Value, json};

use super::AppState;
use super::http::*;
use super::orders::{Events, emit_all};
use super::state::*;

const V3: Api = Api::V3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/inventory/adjustments/absolute", put(absolute))
        .route("/v3/inventory/adjustments/relative", post(relative))
        .route("/v3/inventory/items", get(items))
        .route(
            "/v3/inventory/locations",
            get(locations).post(create_locations),
        )
        .route(
            "/v3/inventory/locations/{id}/items",
            get(location_items).put(location_settings),
        )
}

/// Resolve an adjustment item to (product id, stock-holding variant id).
fn resolve(store: &Store, it: &Value, i: usize) -> ApiResult<(u64, u64)> {
    let keys = ["variant_id", "sku", "product_id"]
        .iter()
        .filter(|k| it.get(**k).is_some_and(|v| !v.is_null()))
        .count();
    if keys != 1 {
        return Err(ApiError::unprocessable(
            V3,
            "Each item needs exactly one of variant_id, sku or product_id.",
        )
        .field(&format!("items.{i}"), "identify the item by one key"));
    }
    let not_found = |what: String| {
        ApiError::unprocessable(V3, format!("{what} was not found."))
            .field(&format!("items.{i}"), "unknown item")
    };
    let variant = if let Some(v) = it.get("variant_id") {
        let vid = v.as_u64().ok_or_else(|| not_found("variant".into()))?;
        Some(
            store
                .variants
                .get(&vid)
                .ok_or_else(|| not_found(format!("Variant {vid}")))?,
        )
    } else if let Some(s) = it.get("sku") {
        let sku = s.as_str().unwrap_or_default();
        Some(
            store
                .variants
                .values()
                .find(|v| v.sku == sku)
                .ok_or_else(|| not_found(format!("SKU {sku}")))?,
        )
    } else {
        None
    };
    match variant {
        Some(v) => {
            let p = &store.products[&v.product_id];
            match p.inventory_tracking.as_str() {
                "variant" => Ok((p.id, v.id)),
                "product" if !p.has_options => Ok((p.id, v.id)),
                "product" => Err(ApiError::unprocessable(V3, format!("Item with variant_id {} is tracked by product, please update stock by product id", v.id)).field(&format!("items.{i}"), "tracked by product")),
                _ => Err(ApiError::unprocessable(V3, format!("Product {} does not track inventory.", p.id)).field(&format!("items.{i}"), "not tracked")),
            }
        }
        None => {
            let pid = it["product_id"]
                .as_u64()
                .ok_or_else(|| not_found("product".into()))?;
            let p = store
                .products
                .get(&pid)
                .ok_or_else(|| not_found(format!("Product {pid}")))?;
            match p.inventory_tracking.as_str() {
                "product" => Ok((pid, p.variants[0])),
                "variant" => Err(ApiError::unprocessable(V3, format!("Product {pid} is tracked by variant, please update stock by variant id or sku")).field(&format!("items.{i}"), "tracked by variant")),
                _ => Err(ApiError::unprocessable(V3, format!("Product {pid} does not track inventory.")).field(&format!("items.{i}"), "not tracked")),
            }
        }
    }
}

struct Adj {
    product: u64,
    variant: u64,
    location: u64,
    quantity: i64,
}

fn parse_items(store: &Store, body: &Value) -> ApiResult<Vec<Adj>> {
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "items is required and must be a non-empty array.")
                .field("items", "required")
        })?;
    if items.len() > 2000 {
        return Err(ApiError::new(
            V3,
            StatusCode::PAYLOAD_TOO_LARGE,
            "At most 2000 items per adjustment.",
        )
        .field("items", "too many"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let location = it
                .get("location_id")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    ApiError::unprocessable(V3, "Each item needs location_id.")
                        .field(&format!("items.{i}.location_id"), "required")
                })?;
            if !store
                .locations
                .iter()
                .any(|l| l.id == location && l.enabled)
            {
                return Err(ApiError::unprocessable(
                    V3,
                    format!("Location {location} does not exist or is disabled."),
                )
                .field(&format!("items.{i}.location_id"), "invalid"));
            }
            let quantity = it.get("quantity").and_then(Value::as_i64).ok_or_else(|| {
                ApiError::unprocessable(V3, "Each item needs an integer quantity.")
                    .field(&format!("items.{i}.quantity"), "required")
            })?;
            let (product, variant) = resolve(store, it, i)?;
            Ok(Adj {
                product,
                variant,
                location,
                quantity,
            })
        })
        .collect()
}

fn inventory_event(store: &Store, a: &Adj, method: &str, value: i64, events: &mut Events) {
    let p = &store.products[&a.product];
    if p.inventory_tracking == "variant" {
        let sku_id = store
            .variants
            .get(&a.variant)
            .and_then(|v| v.sku_id)
            .unwrap_or(a.variant);
        events.push(("store/sku/inventory/updated".into(), json!({"type": "sku", "id": sku_id, "inventory": {"product_id": a.product, "variant_id": a.variant, "method": method, "value": value}})));
    } else {
        events.push(("store/product/inventory/updated".into(), json!({"type": "product", "id": a.product, "inventory": {"product_id": a.product, "method": method, "value": value}})));
    }
}

fn transaction_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn absolute(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let adjs = parse_items(&store, &body)?;
    if let Some((i, _)) = adjs.iter().enumerate().find(|(_, a)| a.quantity < 0) {
        return Err(
            ApiError::unprocessable(V3, "An absolute quantity cannot be negative.")
                .field(&format!("items.{i}.quantity"), "must be >= 0"),
        );
    }
    let mut events = Events::new();
    for a in &adjs {
        let st = store.stock.entry((a.variant, a.location)).or_default();
        let changed = st.on_hand != a.quantity;
        st.on_hand = a.quantity;
        st.absolute_done = true;
        st.is_in_stock = a.quantity > st.safety_stock;
        if changed {
            inventory_event(&store, a, "absolute", a.quantity, &mut events);
        }
        if let Some(p) = store.products.get_mut(&a.product) {
            p.date_modified = Utc::now();
        }
    }
    emit_all(&s, events);
    Ok(json_response(
        StatusCode::OK,
        json!({"transaction_id": transaction_id()}),
    ))
}

/// Relative adjustments need an earlier absolute one at that location and may not take the
/// level below safety stock (422, NOTES §9.2).
async fn relative(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let adjs = parse_items(&store, &body)?;
    let mut after: HashMap<(u64, u64), i64> = HashMap::new();
    for (i, a) in adjs.iter().enumerate() {
        let st = store.stock.get(&(a.variant, a.location));
        if !st.is_some_and(|s| s.absolute_done) {
            return Err(ApiError::unprocessable(
                V3,
                "Inventory for this item requires absolute adjustment before relative.",
            )
            .field(
                &format!("items.{i}"),
                "requires absolute adjustment before relative",
            ));
        }
        let st = st.expect("checked");
        let cur = after.entry((a.variant, a.location)).or_insert(st.on_hand);
        *cur += a.quantity;
        if *cur < st.safety_stock.max(0) {
            return Err(ApiError::unprocessable(
                V3,
                format!(
                    "The adjustment would take the stock to {} (below safety stock {}).",
                    cur, st.safety_stock
                ),
            )
            .field(&format!("items.{i}.quantity"), "below safety stock"));
        }
    }
    let mut events = Events::new();
    for a in &adjs {
        let st = store
            .stock
            .get_mut(&(a.variant, a.location))
            .expect("checked");
        st.on_hand += a.quantity;
        st.is_in_stock = st.on_hand > st.safety_stock;
        if a.quantity != 0 {
            inventory_event(&store, a, "relative", a.quantity, &mut events);
        }
    }
    emit_all(&s, events);
    Ok(json_response(
        StatusCode::OK,
        json!({"transaction_id": transaction_id()}),
    ))
}

/// Every stock-holding (variant, product) pair of the catalog.
fn stock_items(store: &Store) -> Vec<(u64, u64)> {
    store
        .products
        .values()
        .flat_map(|p| match p.inventory_tracking.as_str() {
            "none" => vec![],
            "product" => vec![(p.id, p.variants[0])],
            _ => p.variants.iter().map(|v| (p.id, *v)).collect(),
        })
        .collect()
}

fn settings_json(st: &StockLevel) -> Value {
    json!({"safety_stock": st.safety_stock, "is_in_stock": st.is_in_stock, "warning_level": st.warning_level, "bin_picking_number": st.bin_picking_number})
}

struct ItemFilter {
    skus: Option<Vec<String>>,
    vids: Option<Vec<u64>>,
    pids: Option<Vec<u64>>,
}

impl ItemFilter {
    fn from(q: &Q) -> ApiResult<Self> {
        Ok(Self {
            skus: q
                .strs("sku:in")
                .map(|v| v.into_iter().map(str::to_string).collect()),
            vids: q.nums("variant_id:in")?,
            pids: q.nums("product_id:in")?,
        })
    }
    fn keep(&self, store: &Store, pid: u64, vid: u64) -> bool {
        let sku = store
            .variants
            .get(&vid)
            .map(|v| v.sku.as_str())
            .unwrap_or_default();
        self.skus
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == sku))
            && self.vids.as_ref().is_none_or(|v| v.contains(&vid))
            && self.pids.as_ref().is_none_or(|p| p.contains(&pid))
    }
}

async fn items(State(s): State<AppState>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let filter = ItemFilter::from(&q)?;
    let locs = q.nums("location_id:in")?;
    let codes = q.strs("location_code:in");
    let store = s.data.lock();
    let hits: Vec<(u64, u64)> = stock_items(&store)
        .into_iter()
        .filter(|(p, v)| filter.keep(&store, *p, *v))
        .collect();
    Ok(v3_paged(&hits, page, limit, |(pid, vid)| {
        let v = &store.variants[&vid];
        let locations: Vec<Value> = store
                .locations
                .iter()
                .filter(|l| locs.as_ref().is_none_or(|x| x.contains(&l.id)))
                .filter(|l| codes.as_ref().is_none_or(|x| x.contains(&l.code.as_str())))
                .map(|l| {
                    let st = store.stock.get(&(vid, l.id)).cloned().unwrap_or_default();
                    json!({"location_id": l.id, "location_code": l.code, "location_name": l.label,
                           "available_to_sell": available_to_sell(&st), "total_inventory_onhand": st.on_hand,
                           "location_enabled": l.enabled, "settings": settings_json(&st)})
                })
                .collect();
        json!({"identity": identity_json(v, vid, pid), "locations": locations})
    }))
}

/// The `identity` of an inventory item in the v3 inventory views.
fn identity_json(v: &Variant, vid: u64, pid: u64) -> Value {
    json!({"sku": v.sku, "variant_id": vid, "product_id": pid, "sku_id": v.sku_id})
}

/// What can be sold at a location: on hand less the safety stock, never negative.
fn available_to_sell(st: &StockLevel) -> i64 {
    (st.on_hand - st.safety_stock).max(0)
}

fn location_id(store: &Store, id: &str) -> ApiResult<u64> {
    id.parse::<u64>()
        .ok()
        .filter(|id| store.locations.iter().any(|l| l.id == *id))
        .ok_or_else(|| ApiError::not_found(V3, "location"))
}

async fn location_items(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let filter = ItemFilter::from(&q)?;
    let store = s.data.lock();
    let loc = location_id(&store, &id)?;
    let hits: Vec<(u64, u64)> = stock_items(&store)
        .into_iter()
        .filter(|(p, v)| filter.keep(&store, *p, *v))
        .collect();
    Ok(v3_paged(&hits, page, limit, |(pid, vid)| {
        let v = &store.variants[&vid];
        let st = store.stock.get(&(vid, loc)).cloned().unwrap_or_default();
        json!({"identity": identity_json(v, vid, pid),
                   "available_to_sell": available_to_sell(&st), "total_inventory_onhand": st.on_hand,
                   "settings": settings_json(&st)})
    }))
}

/// `PUT /v3/inventory/locations/{id}/items`: `{settings: [{identity: {...}, safety_stock?,
/// is_in_stock?, warning_level?, bin_picking_number?}]}`.
async fn location_settings(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let loc = location_id(&store, &id)?;
    let list = body
        .get("settings")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "settings is required.").field("settings", "required")
        })?;
    if list.len() > 2000 {
        return Err(ApiError::new(
            V3,
            StatusCode::PAYLOAD_TOO_LARGE,
            "At most 2000 items per request.",
        ));
    }
    let mut updates = Vec::new();
    for (i, it) in list.iter().enumerate() {
        let ident = it.get("identity").cloned().unwrap_or_else(|| it.clone());
        let (_, vid) = resolve(&store, &ident, i)?;
        let has_any = [
            "safety_stock",
            "is_in_stock",
            "warning_level",
            "bin_picking_number",
        ]
        .iter()
        .any(|k| it.get(*k).is_some());
        if !has_any {
            return Err(ApiError::unprocessable(V3, "Payload contains invalid fields").field(&format!("setting.{i}.settings"), "At least one setting must be specified: warning_level, is_in_stock or safety_stock"));
        }
        updates.push((vid, it.clone()));
    }
    for (vid, it) in updates {
        let st = store.stock.entry((vid, loc)).or_default();
        if let Some(v) = it.get("safety_stock").and_then(Value::as_i64) {
            st.safety_stock = v;
        }
        if let Some(v) = it.get("is_in_stock").and_then(Value::as_bool) {
            st.is_in_stock = v;
        }
        if let Some(v) = it.get("warning_level").and_then(Value::as_i64) {
            st.warning_level = v;
        }
        if let Some(v) = it.get("bin_picking_number").and_then(Value::as_str) {
            st.bin_picking_number = v.to_string();
        }
    }
    Ok(json_response(
        StatusCode::OK,
        json!({"transaction_id": transaction_id()}),
    ))
}

fn location_json(l: &Location) -> Value {
    json!({
        "id": l.id, "code": l.code, "label": l.label, "description": "", "managed_by_external_source": false,
        "type_id": "PHYSICAL", "enabled": l.enabled, "storefront_visibility": true,
        "operating_hours": {}, "time_zone": "Europe/Stockholm", "special_hours": [],
        "created_at": rfc3339(&l.created_at), "updated_at": rfc3339(&l.updated_at),
        "address": {"address1": "Lagervägen 2", "address2": "", "city": "Stockholm", "state": "Stockholm", "zip": "11151",
                    "email": "", "phone": "", "geo_coordinates": {"latitude": 59.33, "longitude": 18.06}, "country_code": "SE"},
    })
}

async fn locations(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let ids = q.nums("location_id:in")?;
    let store = s.data.lock();
    let hits: Vec<&Location> = store
        .locations
        .iter()
        .filter(|l| ids.as_ref().is_none_or(|i| i.contains(&l.id)))
        .collect();
    Ok(v3_paged(&hits, page, limit, location_json))
}

/// `POST /v3/inventory/locations`: batch of `{code, label, enabled?}`.
async fn create_locations(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let list = body.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
        ApiError::unprocessable(V3, "The body must be a non-empty array of locations.")
    })?;
    let mut store = s.data.lock();
    if store.locations.len() + list.len() > 5 {
        return Err(ApiError::unprocessable(
            V3,
            "The store plan allows at most 5 locations.",
        ));
    }
    for (i, l) in list.iter().enumerate() {
        let code = str_field(l, "code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each location needs a code.")
                    .field(&format!("{i}.code"), "required")
            })?;
        if store.locations.iter().any(|x| x.code == code) {
            return Err(
                ApiError::unprocessable(V3, format!("Location code {code} exists."))
                    .field(&format!("{i}.code"), "duplicate"),
            );
        }
        str_field(l, "label").ok_or_else(|| {
            ApiError::unprocessable(V3, "Each location needs a label.")
                .field(&format!("{i}.label"), "required")
        })?;
    }
    let now = Utc::now();
    let mut out = Vec::new();
    for l in list {
        let id = store.next_id("location", 2);
        let loc = Location {
            id,
            code: str_field(l, "code").expect("checked").into(),
            label: str_field(l, "label").expect("checked").into(),
            enabled: l.get("enabled").and_then(Value::as_bool).unwrap_or(true),
            created_at: now,
            updated_at: now,
        };
        out.push(location_json(&loc));
        store.locations.push(loc);
        s.webhooks.emit(
            "store/inventory/location/created",
            json!({"location_id": id}),
        );
    }
    Ok(json_response(
        StatusCode::OK,
        json!({"transaction_id": transaction_id(), "data": out}),
    ))
}
