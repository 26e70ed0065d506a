//! Company set-up lookups: organization, branches, warehouses, VAT codes, VAT categories, VAT
//! zones, payment methods, credit terms, currencies and currency rates (read + create/update).

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Extension, Router};
use bytes::Bytes;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Sim;
use super::auth::Ctx;
use super::error::{ErpError, ErpResult};
use super::state::{Company, CurrencyRate};
use super::wire::{self, Dto, Query, num};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/v1/organization", get(organizations))
        .route("/v1/branch", get(branches))
        .route("/v1/branch/{number}", get(branch))
        .route("/v1/warehouse", get(warehouses))
        .route("/v1/warehouse/{id}", get(warehouse))
        .route("/v1/vat", get(vats))
        .route("/v1/vatCategory", get(vat_categories))
        .route("/v1/vatCategory/{id}", get(vat_category))
        .route("/v1/vatZone", get(vat_zones))
        .route("/v1/vatZone/{id}", get(vat_zone))
        .route("/v1/paymentmethod", get(payment_methods))
        .route("/v1/paymentmethod/{id}", get(payment_method))
        .route("/v1/creditTerm", get(credit_terms))
        .route("/v1/currency", get(currencies))
        .route("/v1/currency/{id}", get(currency))
        .route("/v2/currencyrate", get(currency_rates).post(create_rate))
        .route("/v2/currencyrate/{id}", put(update_rate))
}

/// Lookups have no per-record history; they were set up when the company was.
const SETUP_TIME: &str = "2026-01-01T00:00:00.000+00:00";

fn ok(body: Value) -> ErpResult<Response> {
    Ok(wire::json_response(StatusCode::OK, body, None))
}

fn with<T>(sim: &Sim, ctx: &Ctx, f: impl FnOnce(&Company) -> T) -> T {
    let state = sim.state.lock();
    f(&state.companies[ctx.company])
}

fn branch_dto(c: &Company, i: usize) -> Value {
    let b = &c.branches[i];
    let cur = c.currency(&b.currency);
    json!({
        "branchId": i as i32 + 1,
        "number": b.number,
        "name": b.name,
        "organizationId": 1,
        "isMainBranch": b.is_main,
        "isActive": true,
        "lastModifiedDateTime": SETUP_TIME,
        "vatRegistrationId": c.vat_registration_id,
        "currency": {"id": b.currency, "description": cur.map(|x| x.description.clone()),
                     "symbol": cur.map(|x| x.symbol.clone())},
        "vatZone": {"id": b.vat_zone,
                    "description": c.vat_zone(&b.vat_zone).map(|z| z.description.clone())},
    })
}

async fn organizations(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        json!([{
            "organizationCd": c.organization,
            "name": c.name,
            "organizationType": "WithBranchesNotBalancing",
            "fileTaxByBranches": false,
            "baseCurrency": c.base_currency,
            "vatRegistrationId": c.vat_registration_id,
            "lastModifiedDateTime": SETUP_TIME,
            "branches": c.branches.iter().map(|b| json!({"number": b.number, "name": b.name})).collect::<Vec<_>>(),
        }])
    }))
}

async fn branches(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        Value::Array((0..c.branches.len()).map(|i| branch_dto(c, i)).collect())
    }))
}

async fn branch(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    with(&sim, &ctx, |c| {
        let i = c
            .branches
            .iter()
            .position(|b| b.number == number)
            .ok_or_else(|| ErpError::not_found(format!("Branch '{number}' not found.")))?;
        ok(branch_dto(c, i))
    })
}

fn warehouse_dto(c: &Company, id: &str) -> Option<Value> {
    let w = c.warehouse(id)?;
    Some(json!({
        "warehouseID": w.id,
        "description": w.description,
        "active": true,
        "branch": {"number": w.branch, "name": c.branch(&w.branch).map(|b| b.name.clone())},
        "locationEntry": "Validate",
        "locations": w.locations.iter().map(|l| json!({
            "locationId": l, "description": l, "active": true, "inclQtyAvail": w.id != "RETURNS",
            "salesValid": w.id != "RETURNS", "receiptsValid": true, "transfersValid": true,
        })).collect::<Vec<_>>(),
    }))
}

async fn warehouses(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        Value::Array(
            c.warehouses
                .iter()
                .filter(|w| q.get("branch").is_none_or(|b| &w.branch == b))
                .filter_map(|w| warehouse_dto(c, &w.id))
                .collect(),
        )
    }))
}

async fn warehouse(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ErpResult<Response> {
    with(&sim, &ctx, |c| {
        ok(warehouse_dto(c, &id)
            .ok_or_else(|| ErpError::not_found(format!("Warehouse '{id}' not found.")))?)
    })
}

fn vat_type(rate: Decimal) -> &'static str {
    if rate.is_zero() { "ExemptVat" } else { "Sales" }
}

async fn vats(State(sim): State<Arc<Sim>>, Extension(ctx): Extension<Ctx>) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        Value::Array(
            c.vats
                .iter()
                .map(|v| {
                    let category = c.vat_categories.iter().find(|x| x.vat_id == v.id);
                    json!({
                        "vatId": v.id,
                        "vatCategoryId": category.map(|x| x.id.clone()),
                        "description": v.description,
                        "type": vat_type(v.rate),
                        "includeinVatTotal": !v.rate.is_zero(),
                        "includeinVatExemptTotal": v.rate.is_zero(),
                        "calculateOn": "ItemAmount",
                        "lastModifiedDateTime": SETUP_TIME,
                        "schedules": [{"vatRate": num(v.rate), "startDate": SETUP_TIME}],
                    })
                })
                .collect(),
        )
    }))
}

fn vat_category_dto(c: &Company, id: &str) -> Option<Value> {
    let cat = c.vat_category(id)?;
    let vat = c.vat(&cat.vat_id);
    Some(json!({
        "vatCategoryId": cat.id,
        "description": cat.description,
        "active": true,
        "excludeListedTaxes": false,
        "lastModifiedDateTime": SETUP_TIME,
        "vatCategoryLines": [{
            "vatId": cat.vat_id,
            "description": vat.map(|v| v.description.clone()),
            "type": vat.map(|v| vat_type(v.rate)),
            "calculateOn": "ItemAmount",
            "vatRates": vat.map(|v| vec![json!({"vatRate": num(v.rate), "startDate": SETUP_TIME})]),
        }],
    }))
}

async fn vat_categories(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        Value::Array(
            c.vat_categories
                .iter()
                .filter_map(|x| vat_category_dto(c, &x.id))
                .collect(),
        )
    }))
}

async fn vat_category(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ErpResult<Response> {
    with(&sim, &ctx, |c| {
        ok(vat_category_dto(c, &id)
            .ok_or_else(|| ErpError::not_found(format!("VAT category '{id}' not found.")))?)
    })
}

fn vat_zone_dto(c: &Company, id: &str) -> Option<Value> {
    let z = c.vat_zone(id)?;
    Some(json!({
        "id": z.id,
        "description": z.description,
        "defaultVatCategory": z.default_vat_category,
        "defaultTaxCategory": {"number": z.default_vat_category,
            "description": c.vat_category(&z.default_vat_category).map(|x| x.description.clone())},
    }))
}

async fn vat_zones(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let items = with(&sim, &ctx, |c| {
        c.vat_zones
            .iter()
            .filter_map(|z| vat_zone_dto(c, &z.id))
            .collect::<Vec<_>>()
    });
    ok(Value::Array(wire::paginate(items, &q, sim.max_page_size)?))
}

async fn vat_zone(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ErpResult<Response> {
    with(&sim, &ctx, |c| {
        ok(vat_zone_dto(c, &id)
            .ok_or_else(|| ErpError::not_found(format!("VAT zone '{id}' not found.")))?)
    })
}

fn payment_method_dto(c: &Company, id: &str) -> Option<Value> {
    let p = c.payment_method(id)?;
    Some(json!({
        "paymentMethodID": p.id,
        "description": p.description,
        "active": true,
        "meansOfPayment": p.means,
        "useInAP": false,
    }))
}

async fn payment_methods(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        Value::Array(
            c.payment_methods
                .iter()
                .filter_map(|p| payment_method_dto(c, &p.id))
                .collect(),
        )
    }))
}

async fn payment_method(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ErpResult<Response> {
    with(&sim, &ctx, |c| {
        ok(payment_method_dto(c, &id)
            .ok_or_else(|| ErpError::not_found(format!("Payment method '{id}' not found.")))?)
    })
}

/// `GET /v1/creditTerm` is one of the few paged endpoints with an envelope
/// (`BasePaginationDtoOfCreditTermDto`: pageNumber, pageSize, totalCount, records).
async fn credit_terms(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let parse = |name: &str, default: usize| -> ErpResult<usize> {
        match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => s.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ErpError::validation(format!("'{s}' is not a valid value for {name}."))
            }),
        }
    };
    let page_number = parse("pageNumber", 1)?;
    let page_size = parse("pageSize", sim.max_page_size)?.min(sim.max_page_size);
    ok(with(&sim, &ctx, |c| {
        let all: Vec<Value> = c
            .credit_terms
            .iter()
            .filter(|t| q.get("termsId").is_none_or(|id| &t.id == id))
            .map(|t| {
                json!({
                    "termsId": t.id,
                    "description": t.description,
                    "visibleTo": "All",
                    "dueDateType": "FixedNumberOfDays",
                    "dueDay1": t.due_days,
                    "discountPercent": num(t.discount_percent),
                    "discountDay": if t.discount_percent.is_zero() { 0 } else { 10 },
                    "createdDateTime": SETUP_TIME,
                    "lastModifiedDateTime": SETUP_TIME,
                })
            })
            .collect();
        let total = all.len();
        let records: Vec<Value> = all
            .into_iter()
            .skip((page_number - 1) * page_size)
            .take(page_size)
            .collect();
        json!({"pageNumber": page_number, "pageSize": page_size, "totalCount": total, "records": records})
    }))
}

fn currency_dto(c: &Company, id: &str) -> Option<Value> {
    let cur = c.currency(id)?;
    Some(json!({
        "id": cur.id,
        "description": cur.description,
        "symbol": cur.symbol,
        "isBaseCurrency": cur.id == c.base_currency,
        "decimalPrecision": cur.decimals,
        "isUsedForAccounting": true,
    }))
}

async fn currencies(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
) -> ErpResult<Response> {
    ok(with(&sim, &ctx, |c| {
        Value::Array(
            c.currencies
                .iter()
                .filter_map(|x| currency_dto(c, &x.id))
                .collect(),
        )
    }))
}

async fn currency(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ErpResult<Response> {
    with(&sim, &ctx, |c| {
        ok(currency_dto(c, &id)
            .ok_or_else(|| ErpError::not_found(format!("Currency '{id}' not found.")))?)
    })
}

fn rate_dto(r: &CurrencyRate) -> Value {
    let reciprocal = if r.rate.is_zero() {
        Decimal::ZERO
    } else {
        (Decimal::ONE / r.rate).round_dp(8)
    };
    json!({
        "id": r.id.parse::<i64>().unwrap_or(0),
        "fromCurrencyId": r.from,
        "toCurrencyId": r.to,
        "rateType": r.rate_type,
        "rate": num(r.rate),
        "effectiveDate": wire::fmt_date(&r.effective),
        "multDiv": r.mult_div,
        "rateReciprocal": num(reciprocal),
    })
}

async fn currency_rates(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let date = |name: &str| -> ErpResult<Option<NaiveDate>> {
        match q.get(name).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => wire::parse_date_time(s)
                .map(|d| Some(d.date_naive()))
                .ok_or_else(|| ErpError::validation(format!("'{s}' is not a valid {name}."))),
        }
    };
    let (from, to) = (date("fromDate")?, date("toDate")?);
    ok(with(&sim, &ctx, |c| {
        Value::Array(
            c.rates
                .iter()
                .filter(|r| from.is_none_or(|d| r.effective >= d))
                .filter(|r| to.is_none_or(|d| r.effective <= d))
                .filter(|r| q.get("fromCurrency").is_none_or(|x| &r.from == x))
                .filter(|r| q.get("toCurrency").is_none_or(|x| &r.to == x))
                .filter(|r| q.get("rateType").is_none_or(|x| &r.rate_type == x))
                .map(rate_dto)
                .collect(),
        )
    }))
}

fn read_rate(c: &Company, d: &Dto, r: &mut CurrencyRate) -> ErpResult<()> {
    for (field, target) in [("fromCurrencyId", &mut r.from), ("toCurrencyId", &mut r.to)] {
        if let Some(cur) = d.text(field)? {
            if c.currency(&cur).is_none() {
                return Err(ErpError::unknown("Currency", &cur));
            }
            *target = cur;
        }
    }
    if let Some(t) = d.text("rateType")? {
        r.rate_type = t;
    }
    if let Some(e) = d.date_time("effectiveDate")? {
        r.effective = e.date_naive();
    }
    if let Some(rate) = d.decimal("rate")? {
        if rate <= Decimal::ZERO {
            return Err(ErpError::validation("'rate' must be positive."));
        }
        r.rate = rate;
    }
    if let Some(m) = d.text("multDiv")? {
        if m != "Multiply" && m != "Divide" {
            return Err(ErpError::validation(
                "'multDiv' must be Multiply or Divide.",
            ));
        }
        r.mult_div = m;
    }
    if r.from == r.to {
        return Err(ErpError::validation(
            "The from and to currencies of a rate must differ.",
        ));
    }
    Ok(())
}

async fn create_rate(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    for required in ["fromCurrencyId", "toCurrencyId", "rate", "effectiveDate"] {
        if d.raw(required)?.is_none() {
            return Err(ErpError::validation(format!("'{required}' is required.")));
        }
    }
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let mut r = CurrencyRate {
        id: String::new(),
        from: String::new(),
        to: c.base_currency.clone(),
        rate_type: "SPOT".into(),
        effective: chrono::Utc::now().date_naive(),
        rate: Decimal::ONE,
        mult_div: "Multiply".into(),
    };
    read_rate(c, &d, &mut r)?;
    r.id = c.series.currency_rate.to_string();
    c.series.currency_rate += 1;
    let body = rate_dto(&r);
    c.rates.push(r);
    // The spec declares 200 with an (empty) object; we return the created rate in it.
    ok(body)
}

async fn update_rate(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let idx = c
        .rates
        .iter()
        .position(|r| r.id == id)
        .ok_or_else(|| ErpError::not_found(format!("Currency rate {id} not found.")))?;
    let mut r = c.rates[idx].clone();
    read_rate(c, &d, &mut r)?;
    let body = rate_dto(&r);
    c.rates[idx] = r;
    ok(body)
}
