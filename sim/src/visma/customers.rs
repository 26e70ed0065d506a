//! Customers: `POST /v1/customer`, `PUT /v1/customer/{customerCd}`,
//! `GET /v1/customer/{customerCd}`, `GET|PUT /v1/customer/internal/{internalID}`,
//! `GET /v1/customer` with the spec's filters.

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use serde_json::{Value, json};

use super::Sim;
use super::auth::Ctx;
use super::error::{ErpError, ErpResult};
use super::state::{Address, Company, Contact, Customer};
use super::wire::{self, Dto, Query};

const STATUSES: [&str; 5] = ["Active", "OnHold", "CreditHold", "Inactive", "OneTime"];

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/v1/customer", get(list).post(create))
        .route("/v1/customer/{customer_cd}", get(get_one).put(update))
        .route(
            "/v1/customer/internal/{internal_id}",
            get(get_internal).put(update_internal),
        )
}

pub fn etag(c: &Customer) -> String {
    wire::etag("customer", &c.number, c.version)
}

fn address_dto(a: &Address) -> Value {
    json!({
        "addressLine1": a.line1, "addressLine2": a.line2, "addressLine3": a.line3,
        "postalCode": a.postal_code, "city": a.city,
        "country": a.country.as_ref().map(|c| json!({"id": c})),
    })
}

fn contact_dto(c: &Contact) -> Value {
    json!({"name": c.name, "attention": c.attention, "email": c.email, "phone1": c.phone1})
}

pub fn dto(company: &Company, c: &Customer) -> Value {
    let terms = company.credit_term(&c.credit_terms);
    let zone = company.vat_zone(&c.vat_zone);
    json!({
        "internalId": c.internal_id,
        "number": c.number,
        "name": c.name,
        "status": c.status,
        "mainAddress": address_dto(&c.address),
        "mainContact": contact_dto(&c.contact),
        "invoiceAddress": address_dto(&c.address),
        "invoiceContact": contact_dto(&c.contact),
        "accountReference": c.account_reference,
        "customerClass": {"id": c.customer_class},
        "creditTerms": {"id": c.credit_terms, "description": terms.map(|t| t.description.clone())},
        "currencyId": c.currency,
        "creditLimit": wire::num(c.credit_limit),
        "vatRegistrationId": c.vat_registration_id,
        "corporateId": c.corporate_id,
        "vatZone": {"id": c.vat_zone, "description": zone.map(|z| z.description.clone()),
                    "defaultVatCategory": zone.map(|z| z.default_vat_category.clone())},
        "attributes": c.attributes.iter().map(|(k, v)| json!({"id": k, "value": v})).collect::<Vec<_>>(),
        "defaultPaymentMethodId": c.default_payment_method,
        "lastModifiedDateTime": wire::fmt_dt(&c.modified),
        "createdDateTime": wire::fmt_dt(&c.created),
    })
}

fn read_address(d: &Dto, field: &str, into: &mut Address) -> ErpResult<()> {
    let Some(a) = d.object(field)? else {
        return Ok(());
    };
    let set = |target: &mut Option<String>, name: &str| -> ErpResult<()> {
        if let Some(v) = a.string(name)? {
            *target = Some(v);
        }
        Ok(())
    };
    set(&mut into.line1, "addressLine1")?;
    set(&mut into.line2, "addressLine2")?;
    set(&mut into.line3, "addressLine3")?;
    set(&mut into.postal_code, "postalCode")?;
    set(&mut into.city, "city")?;
    if let Some(country) = a.text("countryId")? {
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ErpError::validation(format!(
                "'{}' is not a valid country: use a two-letter ISO code.",
                country
            )));
        }
        into.country = Some(country.to_ascii_uppercase());
    }
    Ok(())
}

fn read_contact(d: &Dto, field: &str, into: &mut Contact) -> ErpResult<()> {
    let Some(c) = d.object(field)? else {
        return Ok(());
    };
    if let Some(v) = c.string("name")? {
        into.name = Some(v);
    }
    if let Some(v) = c.string("attention")? {
        into.attention = Some(v);
    }
    if let Some(v) = c.string("email")? {
        if !v.is_empty() && !v.contains('@') {
            return Err(ErpError::validation(format!(
                "'{v}' is not a valid e-mail address."
            )));
        }
        into.email = Some(v);
    }
    if let Some(v) = c.string("phone1")? {
        into.phone1 = Some(v);
    }
    Ok(())
}

/// Validates and applies an UpdateDto to a customer (new or existing).
fn apply(company: &Company, d: &Dto, c: &mut Customer) -> ErpResult<()> {
    if let Some(name) = d.string("name")? {
        if name.trim().is_empty() {
            return Err(ErpError::validation("'name' cannot be empty."));
        }
        c.name = name;
    }
    if let Some(status) = d.text("status")? {
        if !STATUSES.contains(&status.as_str()) {
            return Err(ErpError::validation(format!(
                "'{status}' is not a valid customer status: use one of {}.",
                STATUSES.join(", ")
            )));
        }
        c.status = status;
    }
    if let Some(cur) = d.text("currencyId")? {
        if company.currency(&cur).is_none() {
            return Err(ErpError::unknown("Currency", &cur));
        }
        c.currency = cur;
    }
    if let Some(terms) = d.text("creditTermsId")? {
        if company.credit_term(&terms).is_none() {
            return Err(ErpError::unknown("Credit terms", &terms));
        }
        c.credit_terms = terms;
    }
    if let Some(zone) = d.text("vatZoneId")? {
        if company.vat_zone(&zone).is_none() {
            return Err(ErpError::unknown("VAT zone", &zone));
        }
        c.vat_zone = zone;
    }
    if let Some(class) = d.text("customerClassId")? {
        if !company.customer_classes.contains(&class) {
            return Err(ErpError::unknown("Customer class", &class));
        }
        c.customer_class = class;
    }
    if let Some(v) = d.string("corporateId")? {
        c.corporate_id = Some(v);
    }
    if let Some(v) = d.string("vatRegistrationId")? {
        c.vat_registration_id = Some(v);
    }
    if let Some(v) = d.string("accountReference")? {
        c.account_reference = Some(v);
    }
    if let Some(v) = d.string("note")? {
        c.note = Some(v);
    }
    if let Some(v) = d.decimal("creditLimit")? {
        c.credit_limit = v;
    }
    read_address(d, "mainAddress", &mut c.address)?;
    read_contact(d, "mainContact", &mut c.contact)?;
    for line in d.array("attributeLines")? {
        let id = match line.raw("attributeId")? {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(ErpError::validation(format!(
                    "'{}' is required.",
                    line.field_name("attributeId")
                )));
            }
        };
        match line.string("attributeValue")? {
            Some(v) => c.attributes.insert(id, v),
            None => c.attributes.remove(&id),
        };
    }
    Ok(())
}

async fn create(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let company = &mut state.companies[ctx.company];
    let number = match d.text("number")? {
        Some(n) => {
            if company.customers.contains_key(&n) {
                return Err(ErpError::validation(format!(
                    "Customer '{n}' already exists."
                )));
            }
            n
        }
        None => {
            let mut n = company.series.customer;
            while company.customers.contains_key(&n.to_string()) {
                n += 1;
            }
            company.series.customer = n + 1;
            n.to_string()
        }
    };
    if d.string("name")?.is_none_or(|n| n.trim().is_empty()) {
        return Err(ErpError::validation("'name' is required."));
    }
    let main = company.main_branch().clone();
    let mut customer = Customer {
        internal_id: 0,
        number: number.clone(),
        name: String::new(),
        status: "Active".into(),
        currency: company.base_currency.clone(),
        credit_terms: "30D".into(),
        vat_zone: main.vat_zone.clone(),
        customer_class: "B2C".into(),
        address: Address::default(),
        contact: Contact::default(),
        corporate_id: None,
        vat_registration_id: None,
        account_reference: None,
        note: None,
        default_payment_method: None,
        credit_limit: rust_decimal::Decimal::ZERO,
        attributes: Default::default(),
        created: now,
        modified: now,
        version: 1,
    };
    apply(company, &d, &mut customer)?;
    customer.internal_id = company.next_internal_id();
    let tag = etag(&customer);
    company.customers.insert(number.clone(), customer);
    Ok(wire::created(
        &sim.erp_url(&format!("/v1/customer/{number}")),
        Some(&tag),
    ))
}

fn put(
    sim: &Sim,
    ctx: &Ctx,
    headers: &HeaderMap,
    body: &[u8],
    find: impl Fn(&Company) -> Option<String>,
    what: &str,
) -> ErpResult<Response> {
    let body = wire::parse_body(body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let company = &mut state.companies[ctx.company];
    let number =
        find(company).ok_or_else(|| ErpError::not_found(format!("Customer {what} not found.")))?;
    let mut draft = company.customers[&number].clone();
    wire::check_if_match(headers, &etag(&draft))?;
    if let Some(n) = d.text("number")?
        && n != number
    {
        return Err(ErpError::validation(
            "The customer number cannot be changed here: use action/changeCustomerCd.",
        ));
    }
    apply(company, &d, &mut draft)?;
    draft.modified = now;
    draft.version += 1;
    let tag = etag(&draft);
    company.customers.insert(number, draft);
    Ok(wire::no_content(Some(&tag)))
}

async fn update(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(cd): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ErpResult<Response> {
    let key = cd.clone();
    put(
        &sim,
        &ctx,
        &headers,
        &body,
        move |c| c.customers.contains_key(&key).then(|| key.clone()),
        &format!("'{cd}'"),
    )
}

async fn update_internal(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<i32>,
    headers: HeaderMap,
    body: Bytes,
) -> ErpResult<Response> {
    put(
        &sim,
        &ctx,
        &headers,
        &body,
        move |c| {
            c.customers
                .values()
                .find(|x| x.internal_id == id)
                .map(|x| x.number.clone())
        },
        &format!("with internal id {id}"),
    )
}

async fn get_one(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(cd): Path<String>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let company = &state.companies[ctx.company];
    let c = company
        .customers
        .get(&cd)
        .ok_or_else(|| ErpError::not_found(format!("Customer '{cd}' not found.")))?;
    Ok(wire::json_response(
        StatusCode::OK,
        dto(company, c),
        Some(&etag(c)),
    ))
}

async fn get_internal(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<i32>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let company = &state.companies[ctx.company];
    let c = company
        .customers
        .values()
        .find(|c| c.internal_id == id)
        .ok_or_else(|| ErpError::not_found(format!("Customer with internal id {id} not found.")))?;
    Ok(wire::json_response(
        StatusCode::OK,
        dto(company, c),
        Some(&etag(c)),
    ))
}

async fn list(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let modified = wire::date_filter(&q, "lastModifiedDateTime")?;
    let created = wire::date_filter(&q, "createdDateTime")?;
    let attributes: Option<serde_json::Map<String, Value>> = match q.get("attributes") {
        None => None,
        Some(raw) => Some(serde_json::from_str(raw).map_err(|_| {
            ErpError::validation(
                "attributes must be a JSON object such as {\"AttrID\":\"ValueID\"}.",
            )
        })?),
    };
    if let Some(status) = q.get("status")
        && !STATUSES.contains(&status.as_str())
    {
        return Err(ErpError::validation(format!(
            "'{status}' is not a valid customer status."
        )));
    }
    let state = sim.state.lock();
    let company = &state.companies[ctx.company];
    let eq = |filter: Option<&String>, value: &Option<String>| {
        filter.is_none_or(|f| value.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(f)))
    };
    let items: Vec<&Customer> = company
        .customers
        .values()
        .filter(|c| q.get("name").is_none_or(|n| c.name.eq_ignore_ascii_case(n)))
        .filter(|c| q.get("status").is_none_or(|s| &c.status == s))
        .filter(|c| eq(q.get("corporateId"), &c.corporate_id))
        .filter(|c| eq(q.get("vatRegistrationId"), &c.vat_registration_id))
        .filter(|c| eq(q.get("email"), &c.contact.email))
        .filter(|c| eq(q.get("phone"), &c.contact.phone1))
        .filter(|c| {
            q.get("greaterThanValue")
                .is_none_or(|g| c.number.as_str() > g.as_str())
        })
        .filter(|c| modified.is_none_or(|(cond, at)| cond.holds(&c.modified, &at)))
        .filter(|c| created.is_none_or(|(cond, at)| cond.holds(&c.created, &at)))
        .filter(|c| {
            attributes.as_ref().is_none_or(|attrs| {
                attrs
                    .iter()
                    .all(|(k, v)| c.attributes.get(k).map(String::as_str) == v.as_str())
            })
        })
        .collect();
    wire::list_response(items, &q, sim.max_page_size, |c| dto(company, c))
}
