//! Orders v2: list/count/get/create/update/archive, products, shipping addresses, coupons,
//! taxes, shipments and order statuses. Totals, taxes and stock moves are computed here.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::http::*;
use super::state::*;
use super::views;
use super::{AppState, Shared};

const V2: Api = Api::V2;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v2/orders",
            get(list_orders).post(create_order).delete(archive_all),
        )
        .route("/v2/orders/count", get(count_orders))
        .route(
            "/v2/orders/{id}",
            get(get_order).put(update_order).delete(archive_order),
        )
        .route("/v2/orders/{id}/products", get(list_products))
        .route("/v2/orders/{id}/products/{pid}", get(get_product))
        .route("/v2/orders/{id}/shipping_addresses", get(list_addresses))
        .route("/v2/orders/{id}/shipping_addresses/{aid}", get(get_address))
        .route("/v2/orders/{id}/coupons", get(list_coupons))
        .route("/v2/orders/{id}/taxes", get(list_taxes))
        .route("/v2/orders/{id}/fees", get(list_fees))
        .route("/v2/orders/{id}/messages", get(list_fees))
        .route(
            "/v2/orders/{id}/shipments",
            get(list_shipments)
                .post(create_shipment)
                .delete(delete_shipments),
        )
        .route("/v2/orders/{id}/shipments/count", get(count_shipments))
        .route(
            "/v2/orders/{id}/shipments/{sid}",
            get(get_shipment).delete(delete_shipment),
        )
        .route("/v2/order_statuses", get(list_statuses))
        .route("/v2/order_statuses/{id}", get(get_status))
}

/// Webhook events produced by a write, emitted after the write succeeded.
pub type Events = Vec<(String, Value)>;

fn parse_id(api: Api, s: &str, what: &str) -> ApiResult<u64> {
    s.parse().map_err(|_| ApiError::not_found(api, what))
}

fn order_ref<'a>(store: &'a Store, id: &str) -> ApiResult<&'a Order> {
    let id = parse_id(V2, id, "order")?;
    store
        .orders
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V2, "order"))
}

async fn list_orders(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V2, &q);
    let (page, limit) = q.paging(50)?;
    let min_mod = q.date("min_date_modified")?;
    let max_mod = q.date("max_date_modified")?;
    let min_cr = q.date("min_date_created")?;
    let max_cr = q.date("max_date_created")?;
    let status = q.num::<u8>("status_id")?;
    let min_id = q.num::<u64>("min_id")?;
    let max_id = q.num::<u64>("max_id")?;
    let channel = q.num::<u64>("channel_id")?;
    let customer = q.num::<u64>("customer_id")?;
    let deleted = q.bool("is_deleted")?.unwrap_or(false);
    let email = q.str("email");
    let ext = q.str("external_order_id");
    let cart = q.str("cart_id");
    let pm = q.str("payment_method");
    let (sort_field, desc) = match q.str("sort") {
        None => ("id", false),
        Some(s) => {
            let (f, dir) = s.split_once(':').unwrap_or((s, "asc"));
            let desc = match dir {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(
                        ApiError::bad_request(V2, "sort direction must be asc or desc")
                            .field("sort", s),
                    );
                }
            };
            let f = match f {
                "id" | "customer_id" | "date_created" | "date_modified" | "status_id"
                | "channel_id" | "external_id" => f,
                _ => return Err(ApiError::bad_request(V2, "Invalid sort field.").field("sort", s)),
            };
            (f, desc)
        }
    };
    let store = s.data.lock();
    let mut hits: Vec<&Order> = store
        .orders
        .values()
        .filter(|o| o.is_deleted == deleted)
        .filter(|o| min_mod.is_none_or(|d| o.date_modified >= d))
        .filter(|o| max_mod.is_none_or(|d| o.date_modified <= d))
        .filter(|o| min_cr.is_none_or(|d| o.date_created >= d))
        .filter(|o| max_cr.is_none_or(|d| o.date_created <= d))
        .filter(|o| status.is_none_or(|st| o.status_id == st))
        .filter(|o| min_id.is_none_or(|m| o.id >= m))
        .filter(|o| max_id.is_none_or(|m| o.id <= m))
        .filter(|o| channel.is_none_or(|c| o.channel_id == c))
        .filter(|o| customer.is_none_or(|c| o.customer_id == c))
        .filter(|o| email.is_none_or(|e| o.billing_address.email.eq_ignore_ascii_case(e)))
        .filter(|o| ext.is_none_or(|e| o.external_order_id == e))
        .filter(|o| cart.is_none_or(|c| o.cart_id == c))
        .filter(|o| pm.is_none_or(|p| o.payment_method == p))
        .collect();
    hits.sort_by(|a, b| {
        let ord = match sort_field {
            "customer_id" => a.customer_id.cmp(&b.customer_id),
            "date_created" => a.date_created.cmp(&b.date_created),
            "date_modified" => a.date_modified.cmp(&b.date_modified),
            "status_id" => a.status_id.cmp(&b.status_id),
            "channel_id" => a.channel_id.cmp(&b.channel_id),
            _ => std::cmp::Ordering::Equal,
        }
        .then(a.id.cmp(&b.id));
        if desc { ord.reverse() } else { ord }
    });
    Ok(v2_paged(&hits, page, limit, |o| {
        views::order_v2(o, &s.base_url)
    }))
}

async fn count_orders(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    let live: Vec<&Order> = store.orders.values().filter(|o| !o.is_deleted).collect();
    let statuses: Vec<Value> = STATUSES
        .iter()
        .map(|(id, name, _)| {
            json!({"id": id, "name": name, "system_label": name, "custom_label": name,
                   "system_description": name, "count": live.iter().filter(|o| o.status_id == *id).count(),
                   "sort_order": id})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"count": live.len(), "statuses": statuses}),
    ))
}

async fn get_order(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(json_body(StatusCode::OK, &views::order_v2(o, &s.base_url)))
}

async fn create_order(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V2, &body)?;
    let mut store = s.data.lock();
    let mut events = Events::new();
    let id = create(&mut store, &body, Utc::now(), &mut events)?;
    // The spec documents 200 for POST /v2/orders (NOTES §17.10).
    let resp = json_body(
        StatusCode::OK,
        &views::order_v2(&store.orders[&id], &s.base_url),
    );
    emit_all(&s, events);
    Ok(resp)
}

async fn update_order(State(s): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = parse_body(V2, &body)?;
    let id = parse_id(V2, &id, "order")?;
    let mut store = s.data.lock();
    let mut events = Events::new();
    update(&mut store, id, &body, Utc::now(), &mut events)?;
    let resp = json_body(
        StatusCode::OK,
        &views::order_v2(&store.orders[&id], &s.base_url),
    );
    emit_all(&s, events);
    Ok(resp)
}

async fn archive_order(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let id = parse_id(V2, &id, "order")?;
    let mut store = s.data.lock();
    let o = store
        .orders
        .get_mut(&id)
        .filter(|o| !o.is_deleted)
        .ok_or_else(|| ApiError::not_found(V2, "order"))?;
    o.is_deleted = true;
    o.date_modified = Utc::now();
    s.webhooks
        .emit("store/order/archived", json!({"type": "order", "id": id}));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn archive_all(State(s): State<AppState>) -> ApiResult {
    let mut store = s.data.lock();
    let now = Utc::now();
    for o in store.orders.values_mut().filter(|o| !o.is_deleted) {
        o.is_deleted = true;
        o.date_modified = now;
        s.webhooks
            .emit("store/order/archived", json!({"type": "order", "id": o.id}));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_products(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(V2, &q).paging(50)?;
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(v2_paged(&o.lines, page, limit, |l| {
        views::order_line_v2(o, l)
    }))
}

async fn get_product(
    State(s): State<AppState>,
    Path((id, pid)): Path<(String, String)>,
) -> ApiResult {
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    let pid = parse_id(V2, &pid, "order product")?;
    let l = o
        .lines
        .iter()
        .find(|l| l.id == pid)
        .ok_or_else(|| ApiError::not_found(V2, "order product"))?;
    Ok(json_body(StatusCode::OK, &views::order_line_v2(o, l)))
}

async fn list_addresses(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(V2, &q).paging(50)?;
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(v2_paged(&o.shipping_addresses, page, limit, |a| {
        views::shipping_address_v2(o, a)
    }))
}

async fn get_address(
    State(s): State<AppState>,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult {
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    let aid = parse_id(V2, &aid, "shipping address")?;
    let a = o
        .shipping_addresses
        .iter()
        .find(|a| a.id == aid)
        .ok_or_else(|| ApiError::not_found(V2, "shipping address"))?;
    Ok(json_body(StatusCode::OK, &views::shipping_address_v2(o, a)))
}

async fn list_coupons(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(v2_list(
        o.coupons.iter().map(|c| views::coupon_v2(o, c)).collect(),
    ))
}

async fn list_taxes(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let details = Q::new(V2, &q).bool("details")?.unwrap_or(false);
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(v2_list(views::taxes_v2(o, &store, details)))
}

/// The simulator records no fees or order messages; both lists are empty (204).
async fn list_fees(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    order_ref(&store, &id)?;
    Ok(v2_list(Vec::<Value>::new()))
}

async fn list_shipments(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(V2, &q).paging(50)?;
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(v2_paged(&o.shipments, page, limit, |sh| {
        views::shipment_v2(o, sh)
    }))
}

async fn count_shipments(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    Ok(json_response(
        StatusCode::OK,
        json!({"count": o.shipments.len()}),
    ))
}

async fn get_shipment(
    State(s): State<AppState>,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult {
    let store = s.data.lock();
    let o = order_ref(&store, &id)?;
    let sid = parse_id(V2, &sid, "shipment")?;
    let sh = o
        .shipments
        .iter()
        .find(|x| x.id == sid)
        .ok_or_else(|| ApiError::not_found(V2, "shipment"))?;
    Ok(json_response(StatusCode::OK, views::shipment_v2(o, sh)))
}

async fn create_shipment(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V2, &body)?;
    let id = parse_id(V2, &id, "order")?;
    let mut store = s.data.lock();
    let mut events = Events::new();
    let sid = ship(&mut store, id, &body, Utc::now(), &mut events)?;
    let o = &store.orders[&id];
    let v = views::shipment_v2(
        o,
        o.shipments
            .iter()
            .find(|x| x.id == sid)
            .expect("just created"),
    );
    emit_all(&s, events);
    Ok(json_response(StatusCode::CREATED, v))
}

/// Deleting shipments does not move the order out of Shipped (NOTES §6.5), but the shipped
/// quantities are given back.
async fn delete_shipment(
    State(s): State<AppState>,
    Path((id, sid)): Path<(String, String)>,
) -> ApiResult {
    let id = parse_id(V2, &id, "order")?;
    let sid = parse_id(V2, &sid, "shipment")?;
    let mut store = s.data.lock();
    let o = store
        .orders
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found(V2, "order"))?;
    let pos = o
        .shipments
        .iter()
        .position(|x| x.id == sid)
        .ok_or_else(|| ApiError::not_found(V2, "shipment"))?;
    let sh = o.shipments.remove(pos);
    unship(o, &sh);
    o.date_modified = Utc::now();
    s.webhooks.emit(
        "store/shipment/deleted",
        json!({"type": "shipment", "id": sid, "orderId": id}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_shipments(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let id = parse_id(V2, &id, "order")?;
    let mut store = s.data.lock();
    let o = store
        .orders
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found(V2, "order"))?;
    for sh in std::mem::take(&mut o.shipments) {
        unship(o, &sh);
        s.webhooks.emit(
            "store/shipment/deleted",
            json!({"type": "shipment", "id": sh.id, "orderId": id}),
        );
    }
    o.date_modified = Utc::now();
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn unship(o: &mut Order, sh: &Shipment) {
    for (pid, q) in &sh.items {
        if let Some(l) = o.lines.iter_mut().find(|l| l.id == *pid) {
            l.quantity_shipped = l.quantity_shipped.saturating_sub(*q);
        }
    }
}

async fn list_statuses() -> Response {
    json_response(
        StatusCode::OK,
        Value::Array(STATUSES.iter().map(|s| status_json(*s)).collect()),
    )
}

async fn get_status(Path(id): Path<String>) -> ApiResult {
    let st = id
        .parse::<u8>()
        .ok()
        .and_then(|id| STATUSES.iter().find(|s| s.0 == id))
        .ok_or_else(|| ApiError::not_found(V2, "order status"))?;
    Ok(json_response(StatusCode::OK, status_json(*st)))
}

fn status_json((id, name, desc): (u8, &str, &str)) -> Value {
    json!({"id": id, "name": name, "system_label": name, "custom_label": name, "system_description": desc, "order": id})
}

pub(crate) fn emit_all(s: &Shared, events: Events) {
    for (scope, data) in events {
        s.webhooks.emit(&scope, data);
    }
}

fn address_from(api: Api, v: &Value, what: &str) -> ApiResult<Address> {
    if !v.is_object() {
        return Err(
            ApiError::bad_request(api, format!("{what} must be an object."))
                .field(what, "expected an object"),
        );
    }
    let f = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let a = Address {
        first_name: f("first_name"),
        last_name: f("last_name"),
        company: f("company"),
        street_1: f("street_1"),
        street_2: f("street_2"),
        city: f("city"),
        state: f("state"),
        zip: f("zip"),
        country: f("country"),
        country_iso2: f("country_iso2"),
        phone: f("phone"),
        email: f("email"),
    };
    if a.country.is_empty() && a.country_iso2.is_empty() {
        return Err(
            ApiError::bad_request(api, format!("{what} needs a country or country_iso2."))
                .field(&format!("{what}.country"), "required"),
        );
    }
    Ok(a)
}

/// Price split for a line, a shipping or handling charge: both sides overridden, one side
/// given (the other derived at `rate`), or the store-basis catalog price.
fn split(
    ex: Option<Decimal>,
    inc: Option<Decimal>,
    fallback: Decimal,
    rate: Decimal,
    inclusive: bool,
) -> Amount {
    match (ex, inc) {
        (Some(ex), Some(inc)) => Amount {
            ex_tax: ex,
            inc_tax: inc,
            tax: inc - ex,
        },
        (Some(ex), None) => Amount::from_entered(ex, rate, false),
        (None, Some(inc)) => Amount::from_entered(inc, rate, true),
        (None, None) => Amount::from_entered(fallback, rate, inclusive),
    }
}

fn scale(a: Amount, qty: u32) -> Amount {
    let q = Decimal::from(qty);
    Amount {
        ex_tax: a.ex_tax * q,
        inc_tax: a.inc_tax * q,
        tax: a.tax * q,
    }
}

/// Create an order from a `POST /v2/orders` body. Used by the route and by the demo seed.
pub fn create(
    store: &mut Store,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    place(store, body, Placed::Api, now, events)
}

/// Place an order as the storefront checkout does: a `POST /v2/orders` body, redeeming the
/// coupon `coupon_code` (the v2 API cannot redeem coupons, NOTES §6.4) and recorded as a
/// storefront order (`order_source` `www`). A checkout has no manual discount. Used by the
/// admin checkout endpoint and the demo seed.
pub fn checkout(
    store: &mut Store,
    body: &Value,
    coupon_code: Option<&str>,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    if body.get("discount_amount").is_some() {
        return Err(ApiError::bad_request(
            V2,
            "A storefront checkout has no manual discount; set discount_amount with PUT /v2/orders/{id} afterwards, as a merchant would.",
        )
        .field("discount_amount", "not at checkout"));
    }
    let coupon = match coupon_code {
        None => None,
        Some(code) => {
            let c = store
                .coupons
                .iter()
                .find(|c| c.enabled && c.code.eq_ignore_ascii_case(code.trim()))
                .cloned()
                .ok_or_else(|| {
                    ApiError::bad_request(V2, format!("The coupon code {code:?} is not valid."))
                        .field("coupon_code", "unknown or disabled")
                })?;
            if !matches!(c.kind, 1 | 2) {
                return Err(ApiError::bad_request(
                    V2,
                    format!(
                        "Coupon {} is of type {}; the simulator redeems percentage (1) and per-total (2) coupons only.",
                        c.code, c.kind
                    ),
                )
                .field("coupon_code", "type not simulated"));
            }
            Some(c)
        }
    };
    place(store, body, Placed::Checkout(coupon), now, events)
}

/// Where an order comes from.
enum Placed {
    /// `POST /v2/orders`.
    Api,
    /// The storefront checkout, with the coupon it redeems.
    Checkout(Option<Coupon>),
}

fn place(
    store: &mut Store,
    body: &Value,
    placed: Placed,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            V2,
            "The request body must be a JSON object.",
        ));
    }
    let billing = address_from(
        V2,
        body.get("billing_address").unwrap_or(&Value::Null),
        "billing_address",
    )?;
    let products = body
        .get("products")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                V2,
                "The field 'products' is required and must be a non-empty array.",
            )
            .field("products", "required")
        })?;
    let status_id = match u64_field(V2, body, "status_id")? {
        None => 1,
        Some(s) if s <= 14 => s as u8,
        Some(s) => {
            return Err(ApiError::bad_request(V2, format!("Invalid status_id {s}."))
                .field("status_id", "must be 0..=14"));
        }
    };
    let channel_id = u64_field(V2, body, "channel_id")?.unwrap_or(1);
    let channel = store
        .channels
        .iter()
        .find(|c| c.id == channel_id && c.status != "deleted" && c.status != "archived")
        .cloned()
        .ok_or_else(|| {
            ApiError::bad_request(
                V2,
                format!("The channel {channel_id} does not exist or is not enabled."),
            )
            .field("channel_id", "invalid")
        })?;
    let customer_id = u64_field(V2, body, "customer_id")?.unwrap_or(0);
    if customer_id != 0 && !store.customers.contains_key(&customer_id) {
        return Err(
            ApiError::bad_request(V2, format!("Customer {customer_id} does not exist."))
                .field("customer_id", "invalid"),
        );
    }
    let default_currency = store.default_currency().code.clone();
    let currency_code = match str_field(body, "default_currency_code") {
        None => channel
            .default_currency
            .clone()
            .unwrap_or(default_currency.clone()),
        Some(c) => {
            let c = c.to_ascii_uppercase();
            if !store
                .currencies
                .iter()
                .any(|x| x.code == c && x.is_transactional)
            {
                return Err(ApiError::bad_request(
                    V2,
                    format!("Currency {c} is not a transactional currency of the store."),
                )
                .field("default_currency_code", "invalid"));
            }
            c
        }
    };
    let currency = store
        .currencies
        .iter()
        .find(|c| c.code == currency_code)
        .cloned();
    let redeemed = match &placed {
        Placed::Checkout(Some(c)) => Some(c.clone()),
        _ => None,
    };
    if redeemed.is_some() && currency_code != default_currency {
        return Err(ApiError::bad_request(
            V2,
            format!(
                "Coupons only work in the store's default currency ({default_currency}), not {currency_code}."
            ),
        )
        .field("coupon_code", "default currency only"));
    }
    let inclusive = store.prices_include_tax;
    let order_id = store.next_id("order", 100);

    // Shipping addresses (at least one for physical goods; an empty list is allowed and the
    // lines then have no address).
    let mut shipping = Vec::new();
    let ship_ex = money_field(V2, body, "shipping_cost_ex_tax")?;
    let ship_inc = money_field(V2, body, "shipping_cost_inc_tax")?;
    let hand_ex = money_field(V2, body, "handling_cost_ex_tax")?;
    let hand_inc = money_field(V2, body, "handling_cost_inc_tax")?;
    // Tax follows the destination: the first shipping address, else the billing address.
    let tax_country = body
        .get("shipping_addresses")
        .and_then(|l| l.get(0))
        .and_then(|a| a.get("country_iso2"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| billing.country_iso2.clone());
    let ship_rate = store.tax_rate_in(store.shipping_tax_class_id, &tax_country);
    let hand_rate = store.tax_rate_in(store.handling_tax_class_id, &tax_country);
    if let Some(list) = body.get("shipping_addresses") {
        let list = list.as_array().ok_or_else(|| {
            ApiError::bad_request(V2, "shipping_addresses must be an array.")
                .field("shipping_addresses", "expected an array")
        })?;
        for (i, a) in list.iter().enumerate() {
            let addr = address_from(V2, a, "shipping_addresses")?;
            // Order-level shipping cost goes on the first address.
            let (cost, handling) = if i == 0 {
                (
                    split(ship_ex, ship_inc, Decimal::ZERO, ship_rate, inclusive),
                    split(hand_ex, hand_inc, Decimal::ZERO, hand_rate, inclusive),
                )
            } else {
                (Amount::ZERO, Amount::ZERO)
            };
            let id = store.next_id("order_address", 1);
            shipping.push(ShippingAddress {
                id,
                address: addr,
                shipping_method: str_field(a, "shipping_method")
                    .unwrap_or("Flat Rate")
                    .to_string(),
                cost,
                handling,
                shipping_zone_id: 1,
                shipping_zone_name: "Nordics".into(),
            });
        }
    }
    if shipping.is_empty() && (ship_ex.is_some() || ship_inc.is_some()) {
        return Err(
            ApiError::bad_request(V2, "A shipping cost needs a shipping address.")
                .field("shipping_addresses", "required with shipping_cost_*"),
        );
    }

    let mut lines = Vec::new();
    let mut wants: Vec<(u64, u64, u32)> = Vec::new(); // (product, stock variant, qty) for stock moves
    for (i, p) in products.iter().enumerate() {
        let field = |k: &str| format!("products[{i}].{k}");
        let qty = p
            .get("quantity")
            .and_then(Value::as_u64)
            .filter(|q| *q > 0 && *q <= 100_000)
            .ok_or_else(|| {
                ApiError::bad_request(V2, "Each product needs a positive integer quantity.")
                    .field(&field("quantity"), "required, > 0")
            })? as u32;
        let price_ex = money_field(V2, p, "price_ex_tax")
            .map_err(|e| e.field(&field("price_ex_tax"), "invalid"))?;
        let price_inc = money_field(V2, p, "price_inc_tax")
            .map_err(|e| e.field(&field("price_inc_tax"), "invalid"))?;
        let address_id = shipping.first().map(|a| a.id).unwrap_or(0);
        let line_id = store.next_id("order_product", 1);
        let line = match p.get("product_id") {
            Some(pid) => {
                let pid = pid.as_u64().ok_or_else(|| {
                    ApiError::bad_request(V2, "product_id must be an integer.")
                        .field(&field("product_id"), "invalid")
                })?;
                let product = store.products.get(&pid).cloned().ok_or_else(|| {
                    ApiError::bad_request(V2, format!("Product {pid} does not exist."))
                        .field(&field("product_id"), "not found")
                })?;
                let variant_id = match u64_field(V2, p, "variant_id")? {
                    Some(v) => {
                        if !product.variants.contains(&v) {
                            return Err(ApiError::bad_request(
                                V2,
                                format!("Variant {v} does not belong to product {pid}."),
                            )
                            .field(&field("variant_id"), "invalid"));
                        }
                        v
                    }
                    None if product.has_options => {
                        return Err(ApiError::bad_request(
                            V2,
                            format!(
                                "Product {pid} has options; send variant_id (or product_options)."
                            ),
                        )
                        .field(&field("variant_id"), "required"));
                    }
                    None => product.variants[0],
                };
                let variant = store.variants[&variant_id].clone();
                if variant.purchasing_disabled {
                    return Err(ApiError::bad_request(
                        V2,
                        format!("Variant {variant_id} cannot be purchased."),
                    )
                    .field(&field("variant_id"), "purchasing disabled"));
                }
                let rate = store.tax_rate_in(product.tax_class_id, &tax_country);
                let unit = split(
                    price_ex,
                    price_inc,
                    store.variant_price(&variant),
                    rate,
                    inclusive,
                );
                if let Some(holder) = store.stock_holder(&product, variant_id) {
                    wants.push((pid, holder, qty));
                }
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&product.name)
                    .to_string();
                OrderLine {
                    id: line_id,
                    product_id: pid,
                    variant_id,
                    sku: variant.sku.clone(),
                    name,
                    kind: product.kind.clone(),
                    quantity: qty,
                    order_address_id: address_id,
                    tax_class_id: product.tax_class_id,
                    tax_rate: rate,
                    unit,
                    total: Amount::ZERO,
                    discount: Decimal::ZERO,
                    applied: Vec::new(),
                    discounted: Amount::ZERO,
                    quantity_shipped: 0,
                    quantity_refunded: 0,
                    refund_amount: Decimal::ZERO,
                    wrapping: Amount::ZERO,
                    product_options: variant
                        .option_values
                        .iter()
                        .map(|ov| json!({"id": ov["id"], "option_id": ov["option_id"], "order_product_id": line_id, "product_option_id": ov["option_id"],
                                           "display_name": ov["option_display_name"], "display_value": ov["label"], "value": ov["id"].to_string(),
                                           "type": "Multiple choice", "name": ov["option_display_name"], "display_style": "Rectangle"}))
                        .collect(),
                    upc: variant.upc.clone(),
                    base_cost_price: variant.cost_price.unwrap_or(product.cost_price),
                    weight: variant.weight.unwrap_or(product.weight),
                }
            }
            None => {
                // Custom product: name and a price are required.
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            V2,
                            "A custom product needs a name (or send product_id).",
                        )
                        .field(&field("name"), "required")
                    })?;
                if price_ex.is_none() && price_inc.is_none() {
                    return Err(ApiError::bad_request(
                        V2,
                        "A custom product needs price_ex_tax or price_inc_tax.",
                    )
                    .field(&field("price_ex_tax"), "required"));
                }
                let rate = store.tax_rate_in(0, &tax_country);
                OrderLine {
                    id: line_id,
                    product_id: 0,
                    variant_id: 0,
                    sku: p
                        .get("sku")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    name: name.to_string(),
                    kind: "physical".into(),
                    quantity: qty,
                    order_address_id: address_id,
                    tax_class_id: 0,
                    tax_rate: rate,
                    unit: split(price_ex, price_inc, Decimal::ZERO, rate, inclusive),
                    total: Amount::ZERO,
                    discount: Decimal::ZERO,
                    applied: Vec::new(),
                    discounted: Amount::ZERO,
                    quantity_shipped: 0,
                    quantity_refunded: 0,
                    refund_amount: Decimal::ZERO,
                    wrapping: Amount::ZERO,
                    product_options: vec![],
                    upc: p
                        .get("upc")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    base_cost_price: Decimal::ZERO,
                    weight: Decimal::ZERO,
                }
            }
        };
        let mut line = line;
        // Line totals: exact on the entered side, tax rounded once per line.
        let entered_total = line.unit.entered(inclusive) * Decimal::from(qty);
        line.total = if price_ex.is_some() && price_inc.is_some() {
            scale(line.unit, qty)
        } else {
            Amount::from_entered(entered_total, line.tax_rate, inclusive)
        };
        let wrap_ex = money_field(V2, p, "wrapping_cost_ex_tax")?;
        let wrap_inc = money_field(V2, p, "wrapping_cost_inc_tax")?;
        if wrap_ex.is_some() || wrap_inc.is_some() {
            line.wrapping = split(
                wrap_ex,
                wrap_inc,
                Decimal::ZERO,
                store.tax_rate_in(store.wrapping_tax_class_id, &tax_country),
                inclusive,
            );
        }
        lines.push(line);
    }
    // Stock must cover the order when it moves stock now.
    let places = status_id != 0
        && store.inventory_settings.update_stock_behavior == "order_placed"
        && status_id != 5;
    if places {
        check_stock(store, &wants)?;
    }
    let discount_amount = money_field(V2, body, "discount_amount")?.unwrap_or_default();
    let mut order = Order {
        id: order_id,
        customer_id,
        channel_id,
        status_id,
        date_created: match str_field(body, "date_created") {
            Some(d) => parse_date(d).ok_or_else(|| {
                ApiError::bad_request(V2, "date_created is not RFC-2822.")
                    .field("date_created", "invalid date")
            })?,
            None => now,
        },
        date_modified: now,
        date_shipped: None,
        is_tax_inclusive: inclusive,
        currency_code: currency_code.clone(),
        currency_id: currency.as_ref().map(|c| c.id).unwrap_or(1),
        store_default_currency_code: default_currency.clone(),
        store_default_to_transactional_exchange_rate: currency
            .map(|c| c.exchange_rate)
            .unwrap_or(Decimal::ONE),
        billing_address: billing,
        lines,
        shipping_addresses: shipping,
        coupons: vec![],
        shipments: vec![],
        discount_amount,
        wrapping: Amount::ZERO,
        staff_notes: str_field(body, "staff_notes").unwrap_or_default().into(),
        customer_message: str_field(body, "customer_message")
            .unwrap_or_default()
            .into(),
        external_order_id: str_field(body, "external_order_id")
            .unwrap_or_default()
            .into(),
        external_source: str_field(body, "external_source").map(str::to_string),
        external_merchant_id: str_field(body, "external_merchant_id").map(str::to_string),
        payment_method: str_field(body, "payment_method").unwrap_or("Manual").into(),
        payment_provider_id: String::new(),
        payment_status: match status_id {
            0 | 1 | 7 => "pending",
            5 | 6 => "void",
            _ => "captured",
        }
        .into(),
        refunded_amount: Decimal::ZERO,
        order_source: match placed {
            Placed::Api => "external",
            Placed::Checkout(_) => "www",
        }
        .into(),
        cart_id: String::new(),
        ip_address: str_field(body, "ip_address").unwrap_or_default().into(),
        customer_locale: str_field(body, "customer_locale").unwrap_or("en").into(),
        is_deleted: false,
        stock_deducted: false,
    };
    let base: Decimal = order.lines.iter().map(|l| l.total.entered(inclusive)).sum();
    if discount_amount > base {
        return Err(
            ApiError::bad_request(V2, "discount_amount exceeds the order subtotal.")
                .field("discount_amount", "too large"),
        );
    }
    if let Some(c) = redeemed {
        // What the coupon takes off the subtotal, on the store's entry basis.
        let discount = match c.kind {
            1 => (base * c.amount / Decimal::ONE_HUNDRED).round_dp(2),
            _ => c.amount.min(base),
        };
        order.coupons.push(OrderCoupon {
            id: store.next_id("order_coupon", 1),
            coupon_id: c.id,
            code: c.code,
            name: c.name,
            amount: c.amount,
            kind: c.kind,
            discount,
        });
    }
    order.apply_discounts();
    if places {
        move_stock(store, &wants, -1, events);
        order.stock_deducted = true;
    }
    if order.payment_status == "captured" {
        let tid = store.next_id("transaction", 1);
        store.transactions.insert(
            tid,
            Transaction {
                id: tid,
                order_id,
                event: "purchase".into(),
                method: "custom".into(),
                amount: order.total().inc_tax,
                currency: order.currency_code.clone(),
                gateway: "custom".into(),
                gateway_transaction_id: String::new(),
                status: "ok".into(),
                date_created: now,
            },
        );
    }
    store.orders.insert(order_id, order);
    events.push((
        "store/order/created".into(),
        json!({"type": "order", "id": order_id}),
    ));
    Ok(order_id)
}

fn check_stock(store: &Store, wants: &[(u64, u64, u32)]) -> ApiResult<()> {
    let mut need: HashMap<u64, i64> = HashMap::new();
    for (_, holder, q) in wants {
        *need.entry(*holder).or_default() += i64::from(*q);
    }
    for (holder, q) in need {
        let have = store.on_hand(holder, DEFAULT_LOCATION);
        if have < q {
            let sku = store
                .variants
                .get(&holder)
                .map(|v| v.sku.clone())
                .unwrap_or_default();
            return Err(ApiError::bad_request(
                V2,
                format!("Insufficient stock for SKU {sku}: {have} available, {q} ordered."),
            )
            .field("products", "out of stock"));
        }
    }
    Ok(())
}

/// Move stock at the default location by `sign * qty` and queue the order-driven inventory
/// webhooks (`store/sku/inventory/order/updated` for variant-tracked products,
/// `store/product/inventory/order/updated` for product-tracked ones).
pub fn move_stock(store: &mut Store, wants: &[(u64, u64, u32)], sign: i64, events: &mut Events) {
    for (pid, holder, q) in wants {
        let delta = sign * i64::from(*q);
        let level = store.stock.entry((*holder, DEFAULT_LOCATION)).or_default();
        level.on_hand += delta;
        let tracking = store
            .products
            .get(pid)
            .map(|p| p.inventory_tracking.clone())
            .unwrap_or_default();
        if tracking == "variant" {
            let sku_id = store
                .variants
                .get(holder)
                .and_then(|v| v.sku_id)
                .unwrap_or(*holder);
            events.push((
                "store/sku/inventory/order/updated".into(),
                json!({"type": "sku", "id": sku_id, "inventory": {"product_id": pid, "variant_id": holder, "method": "relative", "value": delta}}),
            ));
        } else {
            events.push((
                "store/product/inventory/order/updated".into(),
                json!({"type": "product", "id": pid, "inventory": {"product_id": pid, "method": "relative", "value": delta}}),
            ));
        }
    }
}

fn order_wants(store: &Store, o: &Order) -> Vec<(u64, u64, u32)> {
    o.lines
        .iter()
        .filter_map(|l| {
            let p = store.products.get(&l.product_id)?;
            store
                .stock_holder(p, l.variant_id)
                .map(|h| (l.product_id, h, l.quantity))
        })
        .collect()
}

/// Apply a status change with its stock effects (NOTES §9.4) and events.
pub fn set_status(
    store: &mut Store,
    id: u64,
    new: u8,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<()> {
    let o = store
        .orders
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V2, "order"))?;
    let old = o.status_id;
    if old == new {
        return Ok(());
    }
    let wants = order_wants(store, o);
    let deducted = o.stock_deducted;
    let behavior = store.inventory_settings.update_stock_behavior.clone();
    let restock = store.inventory_settings.refund_order_stock_adjustment;
    let deduct_now = !deducted
        && new != 0
        && new != 5
        && new != 4
        && (behavior == "order_placed" || new == 2 || new == 10);
    if deduct_now {
        check_stock(store, &wants)?;
        move_stock(store, &wants, -1, events);
    }
    let restock_now = deducted && restock && (new == 5 || new == 4);
    if restock_now {
        move_stock(store, &wants, 1, events);
    }
    let o = store.orders.get_mut(&id).expect("checked");
    if deduct_now {
        o.stock_deducted = true;
    }
    if restock_now {
        o.stock_deducted = false;
    }
    o.status_id = new;
    o.date_modified = now;
    if new == 2 && o.date_shipped.is_none() {
        o.date_shipped = Some(now);
    }
    if new == 5 {
        o.payment_status = "void".into();
    }
    events.push(("store/order/statusUpdated".into(), json!({"type": "order", "id": id, "status": {"previous_status_id": old, "new_status_id": new}})));
    Ok(())
}

/// `PUT /v2/orders/{id}`: the writable order fields. Line edits are not simulated and are
/// refused with a clear 400 rather than silently ignored.
pub fn update(
    store: &mut Store,
    id: u64,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<()> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request(V2, "The request body must be a JSON object."))?;
    let o = store
        .orders
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V2, "order"))?;
    for k in obj.keys() {
        match k.as_str() {
            "status_id" | "staff_notes" | "customer_message" | "external_order_id"
            | "external_source" | "billing_address" | "customer_id" | "payment_method"
            | "discount_amount" | "customer_locale" | "ip_address" => {}
            "external_merchant_id" => {
                return Err(ApiError::bad_request(
                    V2,
                    "external_merchant_id can only be set when the order is created.",
                )
                .field(k, "write-once"));
            }
            "products" | "shipping_addresses" | "consignments" | "fees" => {
                return Err(ApiError::bad_request(
                    V2,
                    format!("Editing {k} of an existing order is not supported by the simulator."),
                )
                .field(k, "unsupported"));
            }
            "id" | "date_created" | "date_modified" | "status" | "is_deleted" => {
                return Err(
                    ApiError::bad_request(V2, format!("The field {k} is read-only."))
                        .field(k, "read-only"),
                );
            }
            other => {
                return Err(ApiError::bad_request(
                    V2,
                    format!("Unknown or read-only field {other}."),
                )
                .field(other, "not writable"));
            }
        }
    }
    let billing = match obj.get("billing_address") {
        Some(b) => Some(address_from(V2, b, "billing_address")?),
        None => None,
    };
    let customer_id = u64_field(V2, body, "customer_id")?;
    if let Some(c) = customer_id
        && c != 0
        && !store.customers.contains_key(&c)
    {
        return Err(
            ApiError::bad_request(V2, format!("Customer {c} does not exist."))
                .field("customer_id", "invalid"),
        );
    }
    let discount = money_field(V2, body, "discount_amount")?;
    if let Some(d) = discount {
        let base: Decimal = o
            .lines
            .iter()
            .map(|l| l.total.entered(o.is_tax_inclusive))
            .sum();
        if d + o.coupon_discount() > base {
            return Err(
                ApiError::bad_request(V2, "discount_amount exceeds the order subtotal.")
                    .field("discount_amount", "too large"),
            );
        }
    }
    let status = match u64_field(V2, body, "status_id")? {
        Some(s) if s <= 14 => Some(s as u8),
        Some(s) => {
            return Err(ApiError::bad_request(V2, format!("Invalid status_id {s}."))
                .field("status_id", "must be 0..=14"));
        }
        None => None,
    };
    let mut strings = Vec::new();
    for k in [
        "staff_notes",
        "customer_message",
        "external_order_id",
        "external_source",
        "payment_method",
        "customer_locale",
        "ip_address",
    ] {
        match obj.get(k) {
            None => {}
            Some(Value::String(s)) => strings.push((k, s.clone())),
            Some(Value::Null) if k == "external_source" => strings.push((k, String::new())),
            Some(_) => {
                return Err(
                    ApiError::bad_request(V2, format!("The field {k} must be a string."))
                        .field(k, "expected a string"),
                );
            }
        }
    }
    if let Some(st) = status {
        set_status(store, id, st, now, events)?;
    }
    let o = store.orders.get_mut(&id).expect("checked");
    for (k, v) in strings {
        match k {
            "staff_notes" => o.staff_notes = v,
            "customer_message" => o.customer_message = v,
            "external_order_id" => o.external_order_id = v,
            "external_source" => o.external_source = Some(v).filter(|s| !s.is_empty()),
            "payment_method" => o.payment_method = v,
            "customer_locale" => o.customer_locale = v,
            _ => o.ip_address = v,
        }
    }
    if let Some(b) = billing {
        o.billing_address = b;
    }
    if let Some(c) = customer_id {
        o.customer_id = c;
    }
    if let Some(d) = discount {
        o.discount_amount = d;
        o.apply_discounts();
    }
    o.date_modified = now;
    events.push((
        "store/order/updated".into(),
        json!({"type": "order", "id": id}),
    ));
    Ok(())
}

/// `POST /v2/orders/{id}/shipments`: ship some quantities; the order moves to Partially
/// Shipped (3) or Shipped (2).
pub fn ship(
    store: &mut Store,
    id: u64,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    let o = store
        .orders
        .get(&id)
        .ok_or_else(|| ApiError::not_found(V2, "order"))?;
    if matches!(o.status_id, 0 | 4 | 5 | 6) {
        return Err(ApiError::bad_request(
            V2,
            format!(
                "An order in status {} cannot be shipped.",
                status_name(o.status_id)
            ),
        )
        .field("status_id", "not shippable"));
    }
    let address_id = u64_field(V2, body, "order_address_id")?.ok_or_else(|| {
        ApiError::bad_request(V2, "order_address_id is required.")
            .field("order_address_id", "required")
    })?;
    if !o.shipping_addresses.iter().any(|a| a.id == address_id) {
        return Err(ApiError::bad_request(
            V2,
            format!("Shipping address {address_id} does not belong to order {id}."),
        )
        .field("order_address_id", "invalid"));
    }
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(V2, "items is required and must be a non-empty array.")
                .field("items", "required")
        })?;
    let mut parsed: Vec<(u64, u32)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let pid = it
            .get("order_product_id")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                ApiError::bad_request(V2, "Each item needs order_product_id.")
                    .field(&format!("items[{i}].order_product_id"), "required")
            })?;
        let q = it
            .get("quantity")
            .and_then(Value::as_u64)
            .filter(|q| *q > 0)
            .ok_or_else(|| {
                ApiError::bad_request(V2, "Each item needs a positive quantity.")
                    .field(&format!("items[{i}].quantity"), "required, > 0")
            })? as u32;
        let line = o.lines.iter().find(|l| l.id == pid).ok_or_else(|| {
            ApiError::bad_request(V2, format!("Order product {pid} is not on order {id}."))
                .field(&format!("items[{i}].order_product_id"), "invalid")
        })?;
        let already: u32 = parsed
            .iter()
            .filter(|(p, _)| *p == pid)
            .map(|(_, q)| q)
            .sum();
        let open = line.quantity
            - line.quantity_shipped
            - line
                .quantity_refunded
                .min(line.quantity - line.quantity_shipped);
        if q + already > open {
            return Err(ApiError::bad_request(
                V2,
                format!("Cannot ship {q} of order product {pid}: only {open} left to ship."),
            )
            .field(
                &format!("items[{i}].quantity"),
                "exceeds unshipped quantity",
            ));
        }
        parsed.push((pid, q));
    }
    let sid = store.next_id("shipment", 1);
    let o = store.orders.get_mut(&id).expect("checked");
    for (pid, q) in &parsed {
        if let Some(l) = o.lines.iter_mut().find(|l| l.id == *pid) {
            l.quantity_shipped += q;
        }
    }
    o.shipments.push(Shipment {
        id: sid,
        order_address_id: address_id,
        tracking_number: str_field(body, "tracking_number")
            .unwrap_or_default()
            .into(),
        shipping_method: str_field(body, "shipping_method")
            .unwrap_or_default()
            .into(),
        shipping_provider: str_field(body, "shipping_provider")
            .unwrap_or_default()
            .into(),
        tracking_carrier: str_field(body, "tracking_carrier")
            .unwrap_or_default()
            .into(),
        comments: str_field(body, "comments").unwrap_or_default().into(),
        items: parsed,
        date_created: now,
    });
    let all = o
        .lines
        .iter()
        .all(|l| l.quantity_shipped + l.quantity_refunded >= l.quantity);
    o.date_modified = now;
    events.push((
        "store/shipment/created".into(),
        json!({"type": "shipment", "id": sid, "orderId": id}),
    ));
    set_status(store, id, if all { 2 } else { 3 }, now, events)?;
    events.push((
        "store/order/updated".into(),
        json!({"type": "order", "id": id}),
    ));
    Ok(sid)
}
