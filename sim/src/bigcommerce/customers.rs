//! Customers v3 (batch create/update/delete, addresses) and customer groups v2.
//! Pagination is offset-based (`page`, `limit`); cursor parameters are not simulated.

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

use super::AppState;
use super::http::*;
use super::orders::Events;
use super::state::*;
use super::views;

const V3: Api = Api::V3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v3/customers",
            get(list)
                .post(create_batch)
                .put(update_batch)
                .delete(delete_batch),
        )
        .route(
            "/v3/customers/addresses",
            get(list_addresses).post(create_addresses),
        )
        .route("/v2/customer_groups", get(list_groups).post(create_group))
        .route("/v2/customer_groups/count", get(count_groups))
        .route("/v2/customer_groups/{id}", get(get_group))
}

async fn list(State(s): State<AppState>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let ids = q.nums("id:in")?;
    let emails = q.strs("email:in");
    let groups = q.nums("customer_group_id:in")?;
    let min_mod = q.date("date_modified:min")?;
    let max_mod = q.date("date_modified:max")?;
    let with_addresses = q
        .str("include")
        .is_some_and(|i| i.split(',').any(|x| x == "addresses"));
    let store = s.data.lock();
    let hits: Vec<&Customer> = store
        .customers
        .values()
        .filter(|c| ids.as_ref().is_none_or(|i| i.contains(&c.id)))
        .filter(|c| {
            emails
                .as_ref()
                .is_none_or(|e| e.iter().any(|x| x.eq_ignore_ascii_case(&c.email)))
        })
        .filter(|c| {
            groups
                .as_ref()
                .is_none_or(|g| g.contains(&c.customer_group_id))
        })
        .filter(|c| min_mod.is_none_or(|d| c.date_modified >= d))
        .filter(|c| max_mod.is_none_or(|d| c.date_modified <= d))
        .collect();
    Ok(v3_paged(&hits, page, limit, |c| {
        views::customer_v3(&store, c, with_addresses)
    }))
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Create one customer (with optional `addresses`) from a v3 body; used by the route and seed.
pub fn create(
    store: &mut Store,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    let email = str_field(body, "email")
        .filter(|e| e.contains('@'))
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "A valid email is required.").field("email", "required")
        })?;
    if store
        .customers
        .values()
        .any(|c| c.email.eq_ignore_ascii_case(email))
    {
        return Err(
            ApiError::conflict(V3, format!("The email {email} is already in use."))
                .field("email", "duplicate"),
        );
    }
    let first = str_field(body, "first_name")
        .filter(|x| !x.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "first_name is required.").field("first_name", "required")
        })?;
    let last = str_field(body, "last_name")
        .filter(|x| !x.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "last_name is required.").field("last_name", "required")
        })?;
    let group = u64_field(V3, body, "customer_group_id")?.unwrap_or(0);
    if group != 0 && !store.customer_groups.contains_key(&group) {
        return Err(
            ApiError::unprocessable(V3, format!("Customer group {group} does not exist."))
                .field("customer_group_id", "invalid"),
        );
    }
    let addresses = body
        .get("addresses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, a) in addresses.iter().enumerate() {
        check_address(a, &format!("addresses.{i}"))?;
    }
    let id = store.next_id("customer", 1);
    let origin = u64_field(V3, body, "origin_channel_id")?.unwrap_or(1);
    store.customers.insert(
        id,
        Customer {
            id,
            email: email.into(),
            first_name: first.into(),
            last_name: last.into(),
            company: s(body, "company"),
            phone: s(body, "phone"),
            notes: s(body, "notes"),
            customer_group_id: group,
            tax_exempt_category: s(body, "tax_exempt_category"),
            origin_channel_id: origin,
            channel_ids: body
                .get("channel_ids")
                .and_then(Value::as_array)
                .map(|c| c.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_else(|| vec![origin]),
            date_created: now,
            date_modified: now,
        },
    );
    events.push((
        "store/customer/created".into(),
        json!({"type": "customer", "id": id}),
    ));
    for a in addresses {
        let aid = insert_address(store, id, &a);
        events.push((
            "store/customer/address/created".into(),
            json!({"type": "customer", "id": aid, "address": {"customer_id": id}}),
        ));
    }
    Ok(id)
}

fn check_address(a: &Value, at: &str) -> ApiResult<()> {
    for k in [
        "first_name",
        "last_name",
        "address1",
        "city",
        "country_code",
    ] {
        if str_field(a, k).is_none_or(str::is_empty) {
            return Err(
                ApiError::unprocessable(V3, format!("Address field {k} is required."))
                    .field(&format!("{at}.{k}"), "required"),
            );
        }
    }
    Ok(())
}

fn insert_address(store: &mut Store, customer_id: u64, a: &Value) -> u64 {
    let id = store.next_id("customer_address", 1);
    store.addresses.insert(
        id,
        CustomerAddress {
            id,
            customer_id,
            first_name: s(a, "first_name"),
            last_name: s(a, "last_name"),
            company: s(a, "company"),
            address1: s(a, "address1"),
            address2: s(a, "address2"),
            city: s(a, "city"),
            state_or_province: s(a, "state_or_province"),
            postal_code: s(a, "postal_code"),
            country_code: s(a, "country_code"),
            country: s(a, "country"),
            phone: s(a, "phone"),
            address_type: str_field(a, "address_type").unwrap_or("residential").into(),
        },
    );
    id
}

fn batch(body: &Value, max: usize) -> ApiResult<&Vec<Value>> {
    let list = body
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| ApiError::unprocessable(V3, "The body must be a non-empty array."))?;
    if list.len() > max {
        return Err(ApiError::new(
            V3,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("At most {max} items per request."),
        ));
    }
    Ok(list)
}

/// All or nothing: the first invalid customer rejects the batch.
async fn create_batch(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let list = batch(&body, 10)?;
    let mut store = st.data.lock();
    let backup = (store.customers.clone(), store.addresses.clone());
    let mut events = Events::new();
    let mut ids = Vec::new();
    let now = Utc::now();
    for (i, c) in list.iter().enumerate() {
        match create(&mut store, c, now, &mut events) {
            Ok(id) => ids.push(id),
            Err(mut e) => {
                (store.customers, store.addresses) = backup;
                e.errors = e
                    .errors
                    .into_iter()
                    .map(|(k, v)| (format!("{i}.{k}"), v))
                    .collect();
                return Err(e);
            }
        }
    }
    let data: Vec<Value> = ids
        .iter()
        .map(|id| views::customer_v3(&store, &store.customers[id], true))
        .collect();
    super::orders::emit_all(&st, events);
    Ok(json_response(
        StatusCode::OK,
        json!({"data": data, "meta": {}}),
    ))
}

async fn update_batch(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let list = batch(&body, 10)?;
    let mut store = st.data.lock();
    for (i, c) in list.iter().enumerate() {
        let id = c
            .get("id")
            .and_then(Value::as_u64)
            .filter(|id| store.customers.contains_key(id))
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each customer needs the id of an existing customer.")
                    .field(&format!("{i}.id"), "invalid")
            })?;
        if let Some(e) = str_field(c, "email")
            && (!e.contains('@')
                || store
                    .customers
                    .values()
                    .any(|o| o.id != id && o.email.eq_ignore_ascii_case(e)))
        {
            return Err(
                ApiError::conflict(V3, format!("The email {e} is invalid or in use."))
                    .field(&format!("{i}.email"), "invalid"),
            );
        }
        if let Some(g) = u64_field(V3, c, "customer_group_id")?
            && g != 0
            && !store.customer_groups.contains_key(&g)
        {
            return Err(
                ApiError::unprocessable(V3, format!("Customer group {g} does not exist."))
                    .field(&format!("{i}.customer_group_id"), "invalid"),
            );
        }
    }
    let now = Utc::now();
    let mut ids = Vec::new();
    for c in list {
        let id = c["id"].as_u64().expect("checked");
        let cu = store.customers.get_mut(&id).expect("checked");
        for (k, slot) in [
            ("email", &mut cu.email),
            ("first_name", &mut cu.first_name),
            ("last_name", &mut cu.last_name),
            ("company", &mut cu.company),
            ("phone", &mut cu.phone),
            ("notes", &mut cu.notes),
            ("tax_exempt_category", &mut cu.tax_exempt_category),
        ] {
            if let Some(v) = str_field(c, k) {
                *slot = v.to_string();
            }
        }
        if let Some(g) = c.get("customer_group_id").and_then(Value::as_u64) {
            cu.customer_group_id = g;
        }
        cu.date_modified = now;
        ids.push(id);
        st.webhooks.emit(
            "store/customer/updated",
            json!({"type": "customer", "id": id}),
        );
    }
    let data: Vec<Value> = ids
        .iter()
        .map(|id| views::customer_v3(&store, &store.customers[id], false))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!({"data": data, "meta": {}}),
    ))
}

async fn delete_batch(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let ids = q.nums("id:in")?.filter(|i| !i.is_empty()).ok_or_else(|| {
        ApiError::unprocessable(V3, "id:in is required.").field("id:in", "required")
    })?;
    let mut store = st.data.lock();
    for id in ids {
        if store.customers.remove(&id).is_some() {
            store.addresses.retain(|_, a| a.customer_id != id);
            st.webhooks.emit(
                "store/customer/deleted",
                json!({"type": "customer", "id": id}),
            );
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_addresses(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let ids = q.nums("id:in")?;
    let cids = q.nums("customer_id:in")?;
    let store = st.data.lock();
    let hits: Vec<&CustomerAddress> = store
        .addresses
        .values()
        .filter(|a| ids.as_ref().is_none_or(|i| i.contains(&a.id)))
        .filter(|a| cids.as_ref().is_none_or(|c| c.contains(&a.customer_id)))
        .collect();
    Ok(v3_paged(&hits, page, limit, views::customer_address_v3))
}

async fn create_addresses(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let list = batch(&body, 10)?;
    let mut store = st.data.lock();
    for (i, a) in list.iter().enumerate() {
        let cid = a
            .get("customer_id")
            .and_then(Value::as_u64)
            .filter(|c| store.customers.contains_key(c))
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each address needs an existing customer_id.")
                    .field(&format!("{i}.customer_id"), "invalid")
            })?;
        let _ = cid;
        check_address(a, &i.to_string())?;
    }
    let mut data = Vec::new();
    for a in list {
        let cid = a["customer_id"].as_u64().expect("checked");
        let aid = insert_address(&mut store, cid, a);
        data.push(views::customer_address_v3(&store.addresses[&aid]));
        st.webhooks.emit(
            "store/customer/address/created",
            json!({"type": "customer", "id": aid, "address": {"customer_id": cid}}),
        );
    }
    Ok(json_response(
        StatusCode::OK,
        json!({"data": data, "meta": {}}),
    ))
}

fn group_json(g: &CustomerGroup) -> Value {
    let rules = if g.discount_percent.is_zero() {
        vec![]
    } else {
        vec![json!({"type": "all", "method": "percent", "amount": money2(g.discount_percent)})]
    };
    json!({
        "id": g.id, "name": g.name, "is_default": g.is_default, "category_access": {"type": "all"},
        "discount_rules": rules, "is_group_for_guests": false,
        "date_created": rfc2822(&g.date_created), "date_modified": rfc2822(&g.date_modified),
    })
}

async fn list_groups(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(Api::V2, &q).paging(50)?;
    let store = st.data.lock();
    let all: Vec<&CustomerGroup> = store.customer_groups.values().collect();
    Ok(v2_paged(&all, page, limit, |g| group_json(g)))
}

async fn count_groups(State(st): State<AppState>) -> ApiResult {
    let store = st.data.lock();
    Ok(json_response(
        StatusCode::OK,
        json!({"count": store.customer_groups.len()}),
    ))
}

async fn get_group(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = st.data.lock();
    let g = id
        .parse::<u64>()
        .ok()
        .and_then(|id| store.customer_groups.get(&id))
        .ok_or_else(|| ApiError::not_found(Api::V2, "customer group"))?;
    Ok(json_response(StatusCode::OK, group_json(g)))
}

async fn create_group(State(st): State<AppState>, body: Bytes) -> ApiResult {
    let body = parse_body(Api::V2, &body)?;
    let name = str_field(&body, "name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(Api::V2, "The group name is required.").field("name", "required")
        })?;
    let mut store = st.data.lock();
    if store.customer_groups.values().any(|g| g.name == name) {
        return Err(
            ApiError::conflict(Api::V2, "A customer group with this name exists.")
                .field("name", "duplicate"),
        );
    }
    let id = store.next_id("customer_group", 1);
    let now = Utc::now();
    let g = CustomerGroup {
        id,
        name: name.into(),
        is_default: false,
        discount_percent: Decimal::ZERO,
        date_created: now,
        date_modified: now,
    };
    let v = group_json(&g);
    store.customer_groups.insert(id, g);
    Ok(json_response(StatusCode::CREATED, v))
}
