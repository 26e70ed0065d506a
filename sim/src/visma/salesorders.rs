//! SalesOrders v3 (`{salesorder_base_url}/api/v3/SalesOrders`): plain JSON (no `{"value"}`
//! wrapping), zero-based `pageIndex` paging, ETag with `If-Match` required on PATCH/DELETE,
//! RFC 7807 problem bodies. Described from its generated clients (NOTES §1.5); the list
//! envelope `{items, pageIndex, pageSize, totalCount}` and the cancel route
//! (`POST …/{type}/{orderId}/cancel`) are the simulator's choices where the notes are silent.
//! Open orders book stock (`soBooked`), which lowers availability until cancelled.

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::Sim;
use super::auth::Ctx;
use super::error::{ErpError, ErpResult};
use super::state::{Company, SalesOrder, SoAddress, SoContact, SoLine, SoParty, TaxDetail};
use super::wire::{self, Query, num, round2};

const ORDER_TYPES: [&str; 3] = ["SO", "CR", "QT"];

pub fn routes() -> Router<Arc<Sim>> {
    let mut r = Router::new();
    // ASP.NET routing is case-insensitive; accept both spellings clients use.
    for base in [
        "/salesorder/api/v3/SalesOrders",
        "/salesorder/api/v3/salesorders",
    ] {
        r = r
            .route(base, get(list_all).post(create))
            .route(&format!("{base}/{{order_type}}"), get(list_type))
            .route(
                &format!("{base}/{{order_type}}/{{order_id}}"),
                get(get_one).patch(patch).delete(delete),
            )
            .route(
                &format!("{base}/{{order_type}}/{{order_id}}/cancel"),
                post(cancel),
            );
    }
    r
}

/// RFC 7807 problem body, as the v3 service answers errors.
fn problem(e: ErpError) -> Response {
    let title = match e.status {
        StatusCode::BAD_REQUEST => "One or more validation errors occurred.",
        StatusCode::NOT_FOUND => "Not Found",
        StatusCode::PRECONDITION_FAILED => "Precondition Failed",
        StatusCode::PRECONDITION_REQUIRED => "Precondition Required",
        _ => "Error",
    };
    let mut resp = (
        e.status,
        Json(json!({
            "type": format!("https://httpstatuses.io/{}", e.status.as_u16()),
            "title": title,
            "status": e.status.as_u16(),
            "detail": e.message,
        })),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

fn reply(r: ErpResult<Response>) -> Response {
    r.unwrap_or_else(problem)
}

fn etag(o: &SalesOrder) -> String {
    wire::etag(
        "salesorder",
        &format!("{}/{}", o.order_type, o.order_id),
        o.version,
    )
}

fn bad(msg: impl Into<String>) -> ErpError {
    ErpError::validation(msg)
}

fn dto(c: &Company, o: &SalesOrder) -> Value {
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "lineId": l.line_id,
                "inventoryId": l.inventory_id,
                "description": l.description,
                "quantity": num(l.quantity),
                "unitPrice": num(l.unit_price),
                "discountPercent": num(l.discount_percent),
                "discountAmount": num(l.discount_amount),
                "amount": num(l.amount),
                "taxCategoryId": l.tax_category,
                "warehouseId": l.warehouse,
                "unitOfMeasure": l.uom,
                "operation": l.operation,
            })
        })
        .collect();
    wire::prune(json!({
        "type": o.order_type,
        "orderId": o.order_id,
        "status": o.status,
        "customer": {
            "id": o.customer,
            "name": c.customers.get(&o.customer).map(|x| x.name.clone()),
            "order": o.customer_order,
            "refNo": o.customer_ref_no,
        },
        "date": o.date.format("%Y-%m-%d").to_string(),
        "currencyId": o.currency,
        "description": o.description,
        "note": o.note,
        "branchId": o.branch,
        "freight": {"cost": num(o.freight_cost), "taxCategoryId": o.freight_tax_category},
        "paymentSettings": {"paymentMethodId": o.payment_method, "paymentReference": o.payment_reference},
        "billing": o.billing.as_ref().map(party_dto),
        "shipping": o.shipping.as_ref().map(party_dto),
        "financialInformation": {"invoiceId": o.invoice_nbr},
        "orderLines": lines,
        "taxes": o.tax.iter().map(|t| json!({
            "taxId": t.vat_id, "taxRate": num(t.rate), "taxableAmount": num(t.taxable), "taxAmount": num(t.vat),
        })).collect::<Vec<_>>(),
        "lineTotal": num(o.line_total),
        "discountTotal": num(o.discount_total),
        "freightTotal": num(o.freight_cost),
        "taxTotal": num(o.tax_total),
        "orderTotal": num(o.order_total),
        "createdAt": wire::fmt_dt(&o.created),
        "lastModified": wire::fmt_dt(&o.modified),
    }))
}

/// `billing`/`shipping` as read (`SalesOrderBillingDto`: `AddressDto` with the country as a
/// code/name pair, `ContactDto`); an address given on the order overrides the customer's.
fn party_dto(p: &SoParty) -> Value {
    json!({
        "address": p.address.as_ref().map(|a| json!({
            "line1": a.line1, "line2": a.line2, "line3": a.line3,
            "postalCode": a.postal_code, "city": a.city,
            "country": {"id": a.country},
            "county": a.state.as_ref().map(|s| json!({"id": s})),
            "overridesDefault": true,
        })),
        "contact": p.contact.as_ref().map(|c| json!({
            "name": c.name, "attention": c.attention, "email": c.email, "phone1": c.phone1,
            "overridesDefault": true,
        })),
    })
}

/// Reads `billing` or `shipping` of a new order. As in the service, a given address must
/// be complete (no customer defaults fill the gaps): `countryId` is required, and an empty
/// object is refused rather than silently ignored.
fn read_party(body: &Value, field: &str) -> ErpResult<Option<SoParty>> {
    let Some(p) = obj(body, field)? else {
        return Ok(None);
    };
    for key in p.keys() {
        let known = ["address", "contact"].contains(&key.as_str())
            || (field == "shipping" && SHIPPING_ONLY.contains(&key.as_str()));
        if !known {
            return Err(bad(format!("'{field}.{key}' is not a known field.")));
        }
    }
    let body = Value::Object(p.clone());
    let address = match obj(&body, "address")? {
        None => None,
        Some(a) => {
            let path = format!("{field}.address.");
            let country = string(a, "countryId", &path)?.ok_or_else(|| {
                bad(format!(
                    "'{path}countryId' is required when an address is given."
                ))
            })?;
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(bad(format!(
                    "Country '{country}' cannot be found in the system ('{path}countryId' takes an ISO 3166 two-letter code)."
                )));
            }
            let line = |name: &str, max: usize| -> ErpResult<Option<String>> {
                let v = string(a, name, &path)?;
                max_len(&v, &format!("{path}{name}"), max)?;
                Ok(v)
            };
            Some(SoAddress {
                line1: line("line1", 50)?,
                line2: line("line2", 50)?,
                line3: line("line3", 50)?,
                postal_code: line("postalCode", 20)?,
                city: line("city", 50)?,
                country,
                state: line("stateId", 50)?,
            })
        }
    };
    let contact = match obj(&body, "contact")? {
        None => None,
        Some(c) => {
            let path = format!("{field}.contact.");
            let text = |name: &str, max: usize| -> ErpResult<Option<String>> {
                let v = string(c, name, &path)?;
                max_len(&v, &format!("{path}{name}"), max)?;
                Ok(v)
            };
            let email = text("email", 255)?;
            if let Some(e) = &email
                && !e.contains('@')
            {
                return Err(bad(format!(
                    "'{path}email' is not a valid e-mail address: '{e}'."
                )));
            }
            Some(SoContact {
                name: text("name", 255)?,
                attention: text("attention", 255)?,
                email,
                phone1: text("phone1", 50)?,
            })
        }
    };
    if address.is_none() && contact.is_none() {
        return Ok(None);
    }
    Ok(Some(SoParty { address, contact }))
}

/// `shipping` fields beside address and contact that the simulator accepts and ignores.
const SHIPPING_ONLY: [&str; 12] = [
    "fobPointId",
    "insurance",
    "intrastatTransactionTypeId",
    "preferredWarehouseId",
    "priority",
    "residentialDelivery",
    "rule",
    "saturdayDelivery",
    "scheduledDate",
    "shipSeparately",
    "shipViaId",
    "termsId",
];

fn obj<'a>(v: &'a Value, field: &str) -> ErpResult<Option<&'a Map<String, Value>>> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(bad(format!("'{field}' must be an object, got {other}."))),
    }
}

fn string(o: &Map<String, Value>, field: &str, path: &str) -> ErpResult<Option<String>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(bad(format!(
            "'{path}{field}' must be a string, got {other}."
        ))),
    }
}

fn max_len(value: &Option<String>, field: &str, max: usize) -> ErpResult<()> {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(bad(format!(
            "'{field}' cannot be longer than {max} characters."
        )));
    }
    Ok(())
}

fn decimal(o: &Map<String, Value>, field: &str, path: &str) -> ErpResult<Option<Decimal>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => wire::parse_decimal(&n.to_string())
            .map(Some)
            .ok_or_else(|| bad(format!("'{path}{field}' is not a valid number."))),
        Some(other) => Err(bad(format!(
            "'{path}{field}' must be a number, got {other}."
        ))),
    }
}

fn date(o: &Map<String, Value>, field: &str) -> ErpResult<Option<NaiveDate>> {
    match string(o, field, "")? {
        None => Ok(None),
        Some(s) => wire::parse_date_time(&s)
            .map(|d| Some(d.date_naive()))
            .ok_or_else(|| bad(format!("'{field}' is not a valid date: '{s}'."))),
    }
}

/// The tax category a line gets: explicit, else zero-rated zones zero-rate everything, else
/// the item's category, else the zone's default.
fn tax_category(
    c: &Company,
    zone: &str,
    explicit: Option<String>,
    item: Option<&str>,
) -> ErpResult<String> {
    if let Some(cat) = explicit {
        if c.vat_category(&cat).is_none() {
            return Err(ErpError::unknown("Tax category", &cat));
        }
        return Ok(cat);
    }
    let zone_default = c.vat_zone(zone).map(|z| z.default_vat_category.clone());
    let zone_rate = zone_default
        .as_deref()
        .and_then(|cat| c.vat_category(cat))
        .and_then(|cat| c.vat(&cat.vat_id))
        .map(|v| v.rate);
    let chosen = if zone_rate == Some(Decimal::ZERO) {
        zone_default
    } else {
        item.map(str::to_string).or(zone_default)
    };
    chosen.ok_or_else(|| bad("No tax category applies: set 'taxCategoryId'."))
}

pub(super) fn rate_of(c: &Company, category: &str) -> Decimal {
    c.vat_category(category)
        .and_then(|cat| c.vat(&cat.vat_id))
        .map(|v| v.rate)
        .unwrap_or_default()
}

fn compute_totals(c: &Company, o: &mut SalesOrder) {
    let mut tax: Vec<TaxDetail> = Vec::new();
    let mut add =
        |category: &str, amount: Decimal| match tax.iter_mut().find(|t| t.vat_id == category) {
            Some(t) => t.taxable += amount,
            None => tax.push(TaxDetail {
                vat_id: category.to_string(),
                rate: rate_of(c, category),
                taxable: amount,
                vat: Decimal::ZERO,
            }),
        };
    for l in &o.lines {
        let signed = if l.operation == "Receipt" {
            -l.amount
        } else {
            l.amount
        };
        add(&l.tax_category, signed);
    }
    if !o.freight_cost.is_zero()
        && let Some(cat) = &o.freight_tax_category
    {
        add(cat, o.freight_cost);
    }
    for t in &mut tax {
        t.vat = round2(t.taxable * t.rate / Decimal::ONE_HUNDRED);
    }
    o.line_total = o
        .lines
        .iter()
        .map(|l| {
            if l.operation == "Receipt" {
                -l.amount
            } else {
                l.amount
            }
        })
        .sum();
    o.discount_total = o.lines.iter().map(|l| l.discount_amount).sum();
    o.tax_total = tax.iter().map(|t| t.vat).sum();
    o.order_total = o.line_total + o.freight_cost + o.tax_total;
    o.tax = tax;
}

/// Books (or unbooks, with `sign = -1`) the stock of an order's issue lines.
pub(super) fn book(
    c: &mut Company,
    o: &SalesOrder,
    sign: Decimal,
    now: chrono::DateTime<chrono::Utc>,
) {
    if o.order_type == "QT" {
        return;
    }
    for l in &o.lines {
        let (Some(w), true) = (&l.warehouse, l.operation == "Issue") else {
            continue;
        };
        if !c.items.get(&l.inventory_id).is_some_and(|i| i.is_stock()) {
            continue;
        }
        let s = c
            .stock
            .entry((l.inventory_id.clone(), w.clone()))
            .or_default();
        s.so_booked += sign * l.quantity;
        s.modified = Some(now);
        if let Some(item) = c.items.get_mut(&l.inventory_id) {
            item.availability_modified = now;
        }
    }
}

fn read_new_order(
    c: &Company,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> ErpResult<SalesOrder> {
    let root = body
        .as_object()
        .ok_or_else(|| bad("The request body must be a JSON object."))?;
    let order_type = string(root, "type", "")?.ok_or_else(|| bad("'type' is required."))?;
    if !ORDER_TYPES.contains(&order_type.as_str()) {
        return Err(bad(format!(
            "Order type '{order_type}' cannot be found in the system (known: {}).",
            ORDER_TYPES.join(", ")
        )));
    }
    let cust = obj(body, "customer")?.ok_or_else(|| bad("'customer' is required."))?;
    let customer_id =
        string(cust, "id", "customer.")?.ok_or_else(|| bad("'customer.id' is required."))?;
    let customer = c
        .customers
        .get(&customer_id)
        .ok_or_else(|| ErpError::unknown("Customer", &customer_id))?;
    if customer.status == "Inactive" {
        return Err(bad(format!("Customer '{customer_id}' is inactive.")));
    }
    let customer_order = string(cust, "order", "customer.")?;
    let customer_ref_no = string(cust, "refNo", "customer.")?;
    max_len(&customer_order, "customer.order", 40)?;
    max_len(&customer_ref_no, "customer.refNo", 40)?;
    let currency = string(root, "currencyId", "")?.unwrap_or_else(|| customer.currency.clone());
    if c.currency(&currency).is_none() {
        return Err(ErpError::unknown("Currency", &currency));
    }
    let branch = string(root, "branchId", "")?.unwrap_or_else(|| c.main_branch().number.clone());
    if c.branch(&branch).is_none() {
        return Err(ErpError::unknown("Branch", &branch));
    }
    let zone = string(root, "taxZoneId", "")?.unwrap_or_else(|| customer.vat_zone.clone());
    if c.vat_zone(&zone).is_none() {
        return Err(ErpError::unknown("Tax zone", &zone));
    }
    let status = string(root, "status", "")?.unwrap_or_else(|| "Open".into());
    if status != "Open" && status != "Hold" {
        return Err(bad(format!(
            "'status' must be Open or Hold, got '{status}'."
        )));
    }
    let order_date = date(root, "date")?.unwrap_or_else(|| now.date_naive());
    let rate = c.rate_to_base(&currency, order_date).ok_or_else(|| {
        bad(format!(
            "No exchange rate from {currency} to {} is effective on {order_date}.",
            c.base_currency
        ))
    })?;
    let (mut payment_method, mut payment_reference) = (None, None);
    if let Some(ps) = obj(body, "paymentSettings")? {
        payment_method = string(ps, "paymentMethodId", "paymentSettings.")?;
        payment_reference = string(ps, "paymentReference", "paymentSettings.")?;
        if let Some(m) = &payment_method
            && c.payment_method(m).is_none()
        {
            return Err(ErpError::unknown("Payment method", m));
        }
        max_len(&payment_reference, "paymentSettings.paymentReference", 40)?;
    }
    let (mut freight_cost, mut freight_tax_category) = (Decimal::ZERO, None);
    if let Some(f) = obj(body, "freight")? {
        freight_cost = decimal(f, "cost", "freight.")?.unwrap_or_default()
            + decimal(f, "premiumAmount", "freight.")?.unwrap_or_default();
        if freight_cost < Decimal::ZERO {
            return Err(bad("'freight.cost' cannot be negative."));
        }
        let explicit = string(f, "taxCategoryId", "freight.")?;
        freight_tax_category = Some(tax_category(c, &zone, explicit, None)?);
    }
    let lines_value = match body.get("orderLines") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => return Err(bad(format!("'orderLines' must be an array, got {other}."))),
    };
    let mut lines = Vec::new();
    for (i, lv) in lines_value.iter().enumerate() {
        let p = format!("orderLines[{i}].");
        let l = lv
            .as_object()
            .ok_or_else(|| bad(format!("'orderLines[{i}]' must be an object.")))?;
        let inventory_id = string(l, "inventoryId", &p)?
            .ok_or_else(|| bad(format!("'{p}inventoryId' is required.")))?;
        let item = c
            .items
            .get(&inventory_id)
            .ok_or_else(|| ErpError::unknown("Inventory item", &inventory_id))?;
        if item.status != "Active" {
            return Err(bad(format!(
                "Inventory item '{inventory_id}' is not active."
            )));
        }
        let quantity = decimal(l, "quantity", &p)?.unwrap_or(Decimal::ONE);
        if quantity <= Decimal::ZERO {
            return Err(bad(format!("'{p}quantity' must be positive.")));
        }
        let unit_price = match decimal(l, "unitPrice", &p)? {
            Some(u) if u < Decimal::ZERO => {
                return Err(bad(format!("'{p}unitPrice' cannot be negative.")));
            }
            Some(u) => u,
            None => round2(item.default_price / rate),
        };
        let gross = round2(quantity * unit_price);
        let pct = decimal(l, "discountPercent", &p)?;
        let amt = decimal(l, "discountAmount", &p)?;
        if pct.is_some_and(|x| !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&x)) {
            return Err(bad(format!(
                "'{p}discountPercent' must be between 0 and 100."
            )));
        }
        if amt.is_some_and(|x| x < Decimal::ZERO || x > gross) {
            return Err(bad(format!(
                "'{p}discountAmount' must be between 0 and the line amount {gross}."
            )));
        }
        let (discount_percent, discount_amount) = match (pct, amt) {
            (_, Some(a)) => (
                if gross.is_zero() {
                    Decimal::ZERO
                } else {
                    (a / gross * Decimal::ONE_HUNDRED).round_dp(6)
                },
                a,
            ),
            (Some(x), None) => (x, round2(gross * x / Decimal::ONE_HUNDRED)),
            (None, None) => (Decimal::ZERO, Decimal::ZERO),
        };
        let warehouse = match string(l, "warehouseId", &p)? {
            Some(w) => {
                if c.warehouse(&w).is_none() {
                    return Err(ErpError::unknown("Warehouse", &w));
                }
                Some(w)
            }
            None if item.is_stock() => item.default_warehouse.clone(),
            None => None,
        };
        let operation = string(l, "operation", &p)?.unwrap_or_else(|| {
            if order_type == "CR" {
                "Receipt"
            } else {
                "Issue"
            }
            .into()
        });
        if operation != "Issue" && operation != "Receipt" {
            return Err(bad(format!("'{p}operation' must be Issue or Receipt.")));
        }
        let uom = string(l, "unitOfMeasure", &p)?.unwrap_or_else(|| item.base_unit.clone());
        if uom.chars().count() > 6 {
            return Err(bad(format!(
                "'{p}unitOfMeasure' cannot be longer than 6 characters."
            )));
        }
        let category = tax_category(
            c,
            &zone,
            string(l, "taxCategoryId", &p)?,
            Some(&item.vat_category),
        )?;
        lines.push(SoLine {
            line_id: i as i32 + 1,
            inventory_id,
            description: string(l, "description", &p)?.or_else(|| Some(item.description.clone())),
            quantity,
            unit_price,
            discount_percent,
            discount_amount,
            amount: gross - discount_amount,
            tax_category: category,
            warehouse,
            uom,
            operation,
        });
    }
    if lines.is_empty() {
        return Err(bad("'orderLines' must contain at least one line."));
    }
    let description = string(root, "description", "")?;
    let note = string(root, "note", "")?;
    let billing = read_party(body, "billing")?;
    let shipping = read_party(body, "shipping")?;
    let mut order = SalesOrder {
        order_type,
        order_id: string(root, "orderId", "")?.unwrap_or_default(),
        customer: customer_id,
        customer_order,
        customer_ref_no,
        status,
        date: order_date,
        currency,
        description,
        note,
        branch,
        payment_method,
        payment_reference,
        lines,
        freight_cost,
        freight_tax_category,
        tax: Vec::new(),
        line_total: Decimal::ZERO,
        discount_total: Decimal::ZERO,
        tax_total: Decimal::ZERO,
        order_total: Decimal::ZERO,
        created: now,
        modified: now,
        version: 1,
        billing,
        shipping,
        invoice_nbr: None,
    };
    compute_totals(c, &mut order);
    Ok(order)
}

fn parse_json(body: &[u8]) -> ErpResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| bad(format!("The request body is not valid JSON: {e}")))
}

async fn create(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> Response {
    reply((|| {
        let body = parse_json(&body)?;
        let now = sim.clock.now();
        let mut state = sim.state.lock();
        let c = &mut state.companies[ctx.company];
        let mut order = read_new_order(c, &body, now)?;
        if order.order_id.is_empty() {
            loop {
                let id = format!("{:06}", c.series.sales_order);
                c.series.sales_order += 1;
                if !c
                    .sales_orders
                    .contains_key(&(order.order_type.clone(), id.clone()))
                {
                    order.order_id = id;
                    break;
                }
            }
        } else if c
            .sales_orders
            .contains_key(&(order.order_type.clone(), order.order_id.clone()))
        {
            return Err(bad(format!(
                "Order {} {} already exists.",
                order.order_type, order.order_id
            )));
        }
        if order.status == "Open" {
            book(c, &order, Decimal::ONE, now);
        }
        let location = format!(
            "{}/api/v3/SalesOrders/{}/{}",
            sim.info.salesorder_base_url, order.order_type, order.order_id
        );
        let tag = etag(&order);
        let body = dto(c, &order);
        c.sales_orders
            .insert((order.order_type.clone(), order.order_id.clone()), order);
        let mut resp = wire::json_response(StatusCode::CREATED, body, Some(&tag));
        if let Ok(v) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        Ok(resp)
    })())
}

fn find<'a>(c: &'a Company, t: &str, id: &str) -> ErpResult<&'a SalesOrder> {
    c.sales_orders
        .get(&(t.to_string(), id.to_string()))
        .ok_or_else(|| ErpError::not_found(format!("Sales order {t} {id} not found.")))
}

async fn get_one(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path((t, id)): Path<(String, String)>,
) -> Response {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    reply(find(c, &t, &id).map(|o| wire::json_response(StatusCode::OK, dto(c, o), Some(&etag(o)))))
}

fn list(sim: &Sim, ctx: &Ctx, order_type: Option<&str>, q: &Query) -> ErpResult<Response> {
    let page_index = match q
        .get("pageIndex")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => 0,
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| bad(format!("'{s}' is not a valid pageIndex (zero-based).")))?,
    };
    let page_size = match q
        .get("pageSize")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => 100,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| bad(format!("'{s}' is not a valid pageSize (1–1000).")))?,
    };
    let page_size = if q.contains_key("expand") {
        page_size.min(100)
    } else {
        page_size
    };
    let since = match q.get("modifiedSince").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            wire::parse_date_time(s)
                .ok_or_else(|| bad(format!("'{s}' is not a valid modifiedSince.")))?,
        ),
    };
    let (key, desc) = match q.get("orderBy").map(|s| s.trim().to_ascii_lowercase()) {
        None => ("orderid".to_string(), false),
        Some(s) => {
            let mut parts = s.split_whitespace();
            let key = parts.next().unwrap_or("orderid").to_string();
            let dir = parts.next().unwrap_or("asc");
            if !["created", "lastmodified", "orderid"].contains(&key.as_str())
                || !["asc", "desc"].contains(&dir)
            {
                return Err(bad(format!(
                    "'{s}' is not a valid orderBy: use created|lastModified|orderId [asc|desc]."
                )));
            }
            (key, dir == "desc")
        }
    };
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let mut orders: Vec<&SalesOrder> = c
        .sales_orders
        .values()
        .filter(|o| order_type.is_none_or(|t| o.order_type == t))
        .filter(|o| q.get("customerId").is_none_or(|x| &o.customer == x))
        .filter(|o| {
            q.get("status")
                .is_none_or(|x| o.status.eq_ignore_ascii_case(x))
        })
        .filter(|o| since.is_none_or(|s| o.modified >= s))
        .filter(|o| {
            q.get("filter")
                .is_none_or(|f| o.order_id.contains(f.as_str()))
        })
        .collect();
    orders.sort_by(|a, b| {
        let ord = match key.as_str() {
            "created" => a.created.cmp(&b.created),
            "lastmodified" => a.modified.cmp(&b.modified),
            _ => (&a.order_type, &a.order_id).cmp(&(&b.order_type, &b.order_id)),
        };
        if desc { ord.reverse() } else { ord }
    });
    let total = orders.len();
    let items: Vec<Value> = orders
        .into_iter()
        .skip(page_index.saturating_mul(page_size))
        .take(page_size)
        .map(|o| dto(c, o))
        .collect();
    Ok(wire::json_response(
        StatusCode::OK,
        json!({"items": items, "pageIndex": page_index, "pageSize": page_size, "totalCount": total}),
        None,
    ))
}

async fn list_all(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> Response {
    reply(list(&sim, &ctx, None, &q))
}

async fn list_type(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(t): Path<String>,
    QueryExtract(q): QueryExtract<Query>,
) -> Response {
    reply(list(&sim, &ctx, Some(&t), &q))
}

/// v3 modifications require `If-Match`: 428 without it, 412 on a stale one.
fn require_if_match(headers: &HeaderMap, current: &str) -> ErpResult<()> {
    if !headers.contains_key(header::IF_MATCH) {
        return Err(ErpError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "10028",
            "This operation requires an If-Match header with the order's ETag.",
        ));
    }
    wire::check_if_match(headers, current)
}

async fn patch(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path((t, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    reply((|| {
        let body = parse_json(&body)?;
        let root = body
            .as_object()
            .ok_or_else(|| bad("The request body must be a JSON object."))?;
        let now = sim.clock.now();
        let mut state = sim.state.lock();
        let c = &mut state.companies[ctx.company];
        let mut o = find(c, &t, &id)?.clone();
        require_if_match(&headers, &etag(&o))?;
        if o.status == "Cancelled" || o.status == "Completed" {
            return Err(bad(format!(
                "Order {t} {id} is {} and cannot be changed.",
                o.status
            )));
        }
        let was_open = o.status == "Open";
        for key in root.keys() {
            if !["description", "note", "status", "customer", "requestOn"].contains(&key.as_str()) {
                return Err(bad(format!(
                    "'{key}' cannot be changed with PATCH in this simulator."
                )));
            }
        }
        if let Some(d) = string(root, "description", "")? {
            o.description = Some(d);
        }
        if let Some(n) = string(root, "note", "")? {
            o.note = Some(n);
        }
        if let Some(s) = string(root, "status", "")? {
            if s != "Open" && s != "Hold" {
                return Err(bad(format!("'status' must be Open or Hold, got '{s}'.")));
            }
            o.status = s;
        }
        if let Some(cust) = obj(&body, "customer")? {
            if let Some(r) = string(cust, "refNo", "customer.")? {
                max_len(&Some(r.clone()), "customer.refNo", 40)?;
                o.customer_ref_no = Some(r);
            }
            if let Some(r) = string(cust, "order", "customer.")? {
                max_len(&Some(r.clone()), "customer.order", 40)?;
                o.customer_order = Some(r);
            }
        }
        let now_open = o.status == "Open";
        if was_open && !now_open {
            book(c, &o, Decimal::NEGATIVE_ONE, now);
        } else if !was_open && now_open {
            book(c, &o, Decimal::ONE, now);
        }
        o.modified = now;
        o.version += 1;
        let tag = etag(&o);
        let body = dto(c, &o);
        c.sales_orders.insert((t.clone(), id.clone()), o);
        Ok(wire::json_response(StatusCode::OK, body, Some(&tag)))
    })())
}

async fn delete(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path((t, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    reply((|| {
        let now = sim.clock.now();
        let mut state = sim.state.lock();
        let c = &mut state.companies[ctx.company];
        let o = find(c, &t, &id)?.clone();
        require_if_match(&headers, &etag(&o))?;
        if let Some(invoice) = &o.invoice_nbr {
            return Err(bad(format!(
                "Order {t} {id} has been invoiced (invoice {invoice}) and cannot be deleted."
            )));
        }
        if o.status == "Open" {
            book(c, &o, Decimal::NEGATIVE_ONE, now);
        }
        c.sales_orders.remove(&(t.clone(), id.clone()));
        Ok(StatusCode::NO_CONTENT.into_response())
    })())
}

async fn cancel(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path((t, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    reply((|| {
        let now = sim.clock.now();
        let mut state = sim.state.lock();
        let c = &mut state.companies[ctx.company];
        let mut o = find(c, &t, &id)?.clone();
        wire::check_if_match(&headers, &etag(&o))?;
        if o.status == "Cancelled" {
            return Err(bad(format!("Order {t} {id} is already cancelled.")));
        }
        if let Some(invoice) = &o.invoice_nbr {
            return Err(bad(format!(
                "Order {t} {id} has been invoiced (invoice {invoice}) and cannot be cancelled; credit the invoice instead."
            )));
        }
        if o.status == "Open" {
            book(c, &o, Decimal::NEGATIVE_ONE, now);
        }
        o.status = "Cancelled".into();
        o.modified = now;
        o.version += 1;
        let tag = etag(&o);
        let body = dto(c, &o);
        c.sales_orders.insert((t.clone(), id.clone()), o);
        Ok(wire::json_response(StatusCode::OK, body, Some(&tag)))
    })())
}
