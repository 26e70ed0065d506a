//! Inventory items (`POST /v1/inventory`, `GET|PUT /v1/inventory/{inventoryNumber}`,
//! `GET /v1/inventory` with delta filters and expansions, cross-references), stock per item and
//! warehouse (`GET /v1/inventorysummary/{inventoryNumber}`), and the stock documents that move
//! quantities as the ERP does it: inventory receipts, issues and adjustments, which change
//! stock when released (and move the item's `availabilityLastModifiedDateTime`), and the
//! sales price table (`/v1/customerSalesPrice`, ERP 10.56+): base, customer and customer price
//! class prices per item, currency, unit and break quantity.

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Sim;
use super::auth::Ctx;
use super::error::{ErpError, ErpResult};
use super::state::{Company, CrossReference, InvDoc, InvDocKind, InvDocLine, Item, SalesPrice};
use super::wire::{self, Dto, Query, num};

const STATUSES: [&str; 7] = [
    "Active",
    "NoSales",
    "NoPurchases",
    "NoRequest",
    "Inactive",
    "MarkedForDeletion",
    "Unknown",
];
const TYPES: [&str; 8] = [
    "NonStockItem",
    "LaborItem",
    "ServiceItem",
    "ChargeItem",
    "ExpenseItem",
    "FinishedGoodItem",
    "ComponentPartItem",
    "SubassemblyItem",
];
const ALTERNATE_TYPES: [&str; 4] = ["CPN", "VPN", "Global", "Barcode"];

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/v1/inventory", get(list_items).post(create_item))
        .route("/v1/inventory/{number}", get(get_item).put(update_item))
        .route(
            "/v1/inventory/{number}/crossReferences",
            get(list_cross_references).post(add_cross_reference),
        )
        .route("/v1/inventorysummary/{number}", get(summary))
        .route(
            "/v1/inventoryReceipt",
            get(list_receipts).post(create_receipt),
        )
        .route("/v1/inventoryReceipt/{number}", get(get_receipt))
        .route(
            "/v1/inventoryReceipt/{number}/action/release",
            post(release_receipt),
        )
        .route("/v1/inventoryissue", get(list_issues).post(create_issue))
        .route("/v1/inventoryissue/{number}", get(get_issue))
        .route(
            "/v1/inventoryissue/{number}/action/release",
            post(release_issue),
        )
        .route(
            "/v1/inventoryadjustment",
            get(list_adjustments).post(create_adjustment),
        )
        .route("/v1/inventoryadjustment/{number}", get(get_adjustment))
        .route(
            "/v1/inventoryadjustment/{number}/action/release",
            post(release_adjustment),
        )
        .route(
            "/v1/customerSalesPrice",
            get(list_sales_prices).post(create_sales_price),
        )
        .route(
            "/v1/customerSalesPrice/{record}",
            get(get_sales_price).put(update_sales_price),
        )
}

pub fn etag(item: &Item) -> String {
    wire::etag("inventory", &item.number, item.version)
}

fn warehouse_details(c: &Company, item: &Item) -> Vec<Value> {
    c.stock
        .range((item.number.clone(), String::new())..)
        .take_while(|((n, _), _)| *n == item.number)
        .map(|((_, w), s)| {
            json!({
                "isDefault": item.default_warehouse.as_deref() == Some(w.as_str()),
                "warehouse": w,
                "quantityOnHand": num(s.on_hand),
                "available": num(s.available()),
                "availableForShipment": num(s.available()),
                "lastModifiedDateTime": s.modified.as_ref().map(wire::fmt_dt),
            })
        })
        .collect()
}

struct Expand {
    warehouse_detail: bool,
}

fn item_dto(c: &Company, item: &Item, expand: &Expand) -> Value {
    let vat = c.vat_category(&item.vat_category);
    let mut v = json!({
        "inventoryId": item.internal_id,
        "inventoryNumber": item.number,
        "status": item.status,
        "type": item.item_type,
        "description": item.description,
        "itemClass": {"id": item.item_class, "description": item.item_class, "type": item.item_type},
        "vatCode": {"id": item.vat_category, "description": vat.map(|v| v.description.clone())},
        "defaultPrice": num(item.default_price),
        "baseUnit": item.base_unit,
        "salesUnit": item.base_unit,
        "purchaseUnit": item.base_unit,
        "stockItem": item.is_stock(),
        "lastModifiedDateTime": wire::fmt_dt(&item.modified),
        "defaultWarehouse": item.default_warehouse.as_ref().map(|w| json!({
            "id": w, "description": c.warehouse(w).map(|x| x.description.clone()),
        })),
        "crossReferences": item.cross_references.iter().map(|x| json!({
            "alternateType": x.alternate_type, "alternateID": x.alternate_id, "uom": x.uom,
        })).collect::<Vec<_>>(),
        "attributes": item.attributes.iter().map(|(k, v)| json!({"id": k, "value": v})).collect::<Vec<_>>(),
        "note": item.note,
        "timestamp": etag(item).trim_matches('"'),
    });
    if expand.warehouse_detail {
        v["warehouseDetails"] = Value::Array(warehouse_details(c, item));
    }
    v
}

fn apply_item(c: &Company, d: &Dto, item: &mut Item) -> ErpResult<()> {
    if let Some(s) = d.text("status")? {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ErpError::validation(format!(
                "'{s}' is not a valid item status: use one of {}.",
                STATUSES.join(", ")
            )));
        }
        item.status = s;
    }
    if let Some(class) = d.text("itemClass")? {
        if !c.item_classes.contains(&class) {
            return Err(ErpError::unknown("Item class", &class));
        }
        item.item_type = if class == "SERVICE" {
            "NonStockItem"
        } else {
            "FinishedGoodItem"
        }
        .into();
        item.item_class = class;
    }
    if let Some(t) = d.text("type")? {
        if !TYPES.contains(&t.as_str()) {
            return Err(ErpError::validation(format!(
                "'{t}' is not a valid item type: use one of {}.",
                TYPES.join(", ")
            )));
        }
        item.item_type = t;
    }
    if let Some(desc) = d.string("description")? {
        item.description = desc;
    }
    if let Some(vat) = d.text("vatCode")? {
        if c.vat_category(&vat).is_none() {
            return Err(ErpError::unknown("VAT category", &vat));
        }
        item.vat_category = vat;
    }
    if let Some(price) = d.decimal("defaultPrice")? {
        if price < Decimal::ZERO {
            return Err(ErpError::validation("'defaultPrice' cannot be negative."));
        }
        item.default_price = price;
    }
    if let Some(unit) = d.text("baseUnit")? {
        if unit.chars().count() > 6 {
            return Err(ErpError::validation(
                "'baseUnit' cannot be longer than 6 characters.",
            ));
        }
        item.base_unit = unit;
    }
    if let Some(w) = d.text("defaultWarehouse")? {
        if c.warehouse(&w).is_none() {
            return Err(ErpError::unknown("Warehouse", &w));
        }
        item.default_warehouse = Some(w);
    }
    if let Some(note) = d.string("note")? {
        item.note = Some(note);
    }
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
            Some(v) => item.attributes.insert(id, v),
            None => item.attributes.remove(&id),
        };
    }
    Ok(())
}

async fn create_item(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let number = d
        .text("inventoryNumber")?
        .ok_or_else(|| ErpError::validation("'inventoryNumber' is required."))?;
    if d.text("itemClass")?.is_none() {
        return Err(ErpError::validation("'itemClass' is required."));
    }
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    if c.items.contains_key(&number) {
        return Err(ErpError::validation(format!(
            "Inventory item '{number}' already exists."
        )));
    }
    let mut item = Item {
        internal_id: 0,
        number: number.clone(),
        description: number.clone(),
        status: "Active".into(),
        item_type: "FinishedGoodItem".into(),
        item_class: "GOODS".into(),
        vat_category: c
            .vat_zone(&c.main_branch().vat_zone)
            .map(|z| z.default_vat_category.clone())
            .unwrap_or_default(),
        default_price: Decimal::ZERO,
        base_unit: "PCS".into(),
        default_warehouse: None,
        cross_references: Vec::new(),
        attributes: Default::default(),
        note: None,
        created: now,
        modified: now,
        availability_modified: now,
        version: 1,
    };
    apply_item(c, &d, &mut item)?;
    item.internal_id = c.next_internal_id();
    let tag = etag(&item);
    c.items.insert(number.clone(), item);
    Ok(wire::created(
        &sim.erp_url(&format!("/v1/inventory/{number}")),
        Some(&tag),
    ))
}

async fn update_item(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let mut item = find_item(c, &number)?.clone();
    wire::check_if_match(&headers, &etag(&item))?;
    if let Some(n) = d.text("inventoryNumber")?
        && n != number
    {
        return Err(ErpError::validation(
            "The inventory number cannot be changed here: use action/changeInventoryNbr.",
        ));
    }
    apply_item(c, &d, &mut item)?;
    item.modified = now;
    item.version += 1;
    let tag = etag(&item);
    c.items.insert(number, item);
    Ok(wire::no_content(Some(&tag)))
}

fn find_item<'a>(c: &'a Company, number: &str) -> ErpResult<&'a Item> {
    c.items.get(number).ok_or_else(|| item_not_found(number))
}

fn item_not_found(number: &str) -> ErpError {
    ErpError::not_found(format!("Inventory item '{number}' not found."))
}

async fn get_item(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let item = find_item(c, &number)?;
    Ok(wire::json_response(
        StatusCode::OK,
        item_dto(
            c,
            item,
            &Expand {
                warehouse_detail: true,
            },
        ),
        Some(&etag(item)),
    ))
}

async fn list_items(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let modified = wire::date_filter(&q, "lastModifiedDateTime")?;
    let created = wire::date_filter(&q, "createdDateTime")?;
    let availability = wire::date_filter(&q, "availabilityLastModifiedDateTime")?;
    let expand = Expand {
        warehouse_detail: wire::query_bool(&q, "expandWarehouseDetail")?,
    };
    let types: Option<Vec<String>> = q
        .get("inventoryTypes")
        .map(|t| t.split(',').map(|s| s.trim().to_string()).collect());
    if let Some(bad) = types
        .iter()
        .flatten()
        .find(|t| !TYPES.contains(&t.as_str()))
    {
        return Err(ErpError::validation(format!(
            "'{bad}' is not a valid inventory type."
        )));
    }
    let attributes: Option<serde_json::Map<String, Value>> = match q.get("attributes") {
        None => None,
        Some(raw) => Some(serde_json::from_str(raw).map_err(|_| {
            ErpError::validation(
                "attributes must be a JSON object such as {\"AttrID\":\"ValueID\"}.",
            )
        })?),
    };
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let items: Vec<&Item> = c
        .items
        .values()
        .filter(|i| q.get("inventoryNumber").is_none_or(|n| &i.number == n))
        .filter(|i| {
            q.get("alternateID")
                .is_none_or(|a| i.cross_references.iter().any(|x| &x.alternate_id == a))
        })
        .filter(|i| {
            q.get("description")
                .is_none_or(|d| i.description.to_lowercase().contains(&d.to_lowercase()))
        })
        .filter(|i| q.get("status").is_none_or(|s| &i.status == s))
        .filter(|i| types.as_ref().is_none_or(|t| t.contains(&i.item_type)))
        .filter(|i| {
            q.get("greaterThanValue")
                .is_none_or(|g| i.number.as_str() > g.as_str())
        })
        .filter(|i| modified.is_none_or(|(cond, at)| cond.holds(&i.modified, &at)))
        .filter(|i| created.is_none_or(|(cond, at)| cond.holds(&i.created, &at)))
        .filter(|i| availability.is_none_or(|(cond, at)| cond.holds(&i.availability_modified, &at)))
        .filter(|i| {
            attributes.as_ref().is_none_or(|attrs| {
                attrs
                    .iter()
                    .all(|(k, v)| i.attributes.get(k).map(String::as_str) == v.as_str())
            })
        })
        .collect();
    wire::list_response(items, &q, sim.max_page_size, |i| item_dto(c, i, &expand))
}

async fn list_cross_references(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let item = find_item(c, &number)?;
    let refs: Vec<Value> = item
        .cross_references
        .iter()
        .map(|x| json!({"alternateType": x.alternate_type, "alternateID": x.alternate_id, "uom": x.uom}))
        .collect();
    Ok(wire::json_response(
        StatusCode::OK,
        Value::Array(refs),
        None,
    ))
}

async fn add_cross_reference(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let alternate_type = d
        .text("alternateType")?
        .ok_or_else(|| ErpError::validation("'alternateType' is required."))?;
    if !ALTERNATE_TYPES.contains(&alternate_type.as_str()) {
        return Err(ErpError::validation(format!(
            "'{alternate_type}' is not a valid alternateType: use CPN, VPN, Global or Barcode."
        )));
    }
    let alternate_id = d
        .text("alternateID")?
        .ok_or_else(|| ErpError::validation("'alternateID' is required."))?;
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let item = c
        .items
        .get_mut(&number)
        .ok_or_else(|| item_not_found(&number))?;
    if item
        .cross_references
        .iter()
        .any(|x| x.alternate_type == alternate_type && x.alternate_id == alternate_id)
    {
        return Err(ErpError::validation(format!(
            "Cross-reference {alternate_type} '{alternate_id}' already exists for '{number}'."
        )));
    }
    item.cross_references.push(CrossReference {
        alternate_type: alternate_type.clone(),
        alternate_id: alternate_id.clone(),
        uom: d.text("uom")?,
    });
    item.modified = now;
    item.version += 1;
    Ok(wire::created(
        &sim.erp_url(&format!(
            "/v1/inventory/{number}/crossReferences/{alternate_type}/{alternate_id}"
        )),
        None,
    ))
}

async fn summary(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let item = find_item(c, &number)?;
    if let Some(w) = q.get("warehouse")
        && c.warehouse(w).is_none()
    {
        return Err(ErpError::unknown("Warehouse", w));
    }
    let rows: Vec<Value> = c
        .warehouses
        .iter()
        .filter(|w| q.get("warehouse").is_none_or(|x| &w.id == x))
        .filter_map(|w| {
            let s = c.stock.get(&(number.clone(), w.id.clone()))?;
            Some(json!({
                "inventory": {"number": item.number, "description": item.description},
                "warehouse": {"id": w.id, "description": w.description},
                "available": num(s.available()),
                "availableForShipment": num(s.available()),
                "notAvailable": 0,
                "soBooked": num(s.so_booked),
                "soAllocated": 0, "soShipped": 0, "soBackOrdered": 0,
                "inIssues": 0, "inReceipts": 0, "inTransit": 0,
                "purchaseOrders": 0, "poReceipts": 0,
                "onHand": num(s.on_hand),
                "baseUnit": item.base_unit,
            }))
        })
        .collect();
    Ok(wire::json_response(
        StatusCode::OK,
        Value::Array(rows),
        None,
    ))
}

// ---- stock documents ---------------------------------------------------------------------

fn kind_label(kind: InvDocKind) -> &'static str {
    match kind {
        InvDocKind::Receipt => "Inventory receipt",
        InvDocKind::Issue => "Inventory issue",
        InvDocKind::Adjustment => "Inventory adjustment",
    }
}

fn kind_path(kind: InvDocKind) -> &'static str {
    match kind {
        InvDocKind::Receipt => "/v1/inventoryReceipt",
        InvDocKind::Issue => "/v1/inventoryissue",
        InvDocKind::Adjustment => "/v1/inventoryadjustment",
    }
}

fn lines_in(kind: InvDocKind) -> &'static str {
    match kind {
        InvDocKind::Receipt => "receiptLines",
        InvDocKind::Issue => "issueLines",
        InvDocKind::Adjustment => "adjustmentLines",
    }
}

/// The response field names, including the spec's own spelling `adjusmentLines`.
fn lines_out(kind: InvDocKind) -> &'static str {
    match kind {
        InvDocKind::Receipt => "receiptLines",
        InvDocKind::Issue => "issueLines",
        InvDocKind::Adjustment => "adjusmentLines",
    }
}

fn doc_etag(d: &InvDoc) -> String {
    wire::etag(kind_path(d.kind), &d.number, d.version)
}

fn inv_doc_dto(c: &Company, d: &InvDoc) -> Value {
    let lines: Vec<Value> = d
        .lines
        .iter()
        .map(|l| {
            let item = c.items.get(&l.item);
            let mut v = json!({
                "lineNumber": l.line_number,
                "inventoryItem": {"number": l.item, "description": item.map(|i| i.description.clone())},
                "warehouse": {"id": l.warehouse,
                              "description": c.warehouse(&l.warehouse).map(|w| w.description.clone())},
                "quantity": num(l.quantity),
                "unitCost": num(l.unit_cost),
                "extCost": num(wire::round2(l.unit_cost * l.quantity)),
                "uom": l.uom,
                "reasonCode": l.reason_code.as_ref().map(|r| json!({"id": r})),
            });
            if let Some(loc) = &l.location {
                v["location"] = json!({"id": loc, "name": loc});
            }
            if d.kind == InvDocKind::Issue {
                v["transactionType"] = json!("Issue");
            }
            v
        })
        .collect();
    let total_qty: Decimal = d.lines.iter().map(|l| l.quantity).sum();
    let total_cost: Decimal = d
        .lines
        .iter()
        .map(|l| wire::round2(l.unit_cost * l.quantity))
        .sum();
    let mut v = json!({
        "referenceNumber": d.number,
        "status": d.status,
        "hold": d.hold,
        "date": wire::fmt_dt(&d.date),
        "postPeriod": format!("{:02}{}", d.date.month(), d.date.year()),
        "externalReference": d.external_reference,
        "description": d.description,
        "totalQuantity": num(total_qty),
        "lastModifiedDateTime": wire::fmt_dt(&d.modified),
        "timestamp": doc_etag(d).trim_matches('"'),
    });
    v[lines_out(d.kind)] = Value::Array(lines);
    match d.kind {
        InvDocKind::Issue => v["totalAmount"] = num(total_cost),
        _ => v["totalCost"] = num(total_cost),
    }
    v
}

fn read_inv_doc(c: &Company, kind: InvDocKind, d: &Dto, now: DateTime<Utc>) -> ErpResult<InvDoc> {
    let mut lines = Vec::new();
    for (i, l) in d.array(lines_in(kind))?.iter().enumerate() {
        if let Some(op) = l.plain_string("operation")?
            && op != "Insert"
        {
            return Err(ErpError::validation(format!(
                "Only Insert is supported when creating a document, got '{op}'."
            )));
        }
        let item_no = l.text("inventoryNumber")?.ok_or_else(|| {
            ErpError::validation(format!(
                "'{}' is required.",
                l.field_name("inventoryNumber")
            ))
        })?;
        let item = c
            .items
            .get(&item_no)
            .ok_or_else(|| ErpError::unknown("Inventory item", &item_no))?;
        if !item.is_stock() {
            return Err(ErpError::validation(format!(
                "Inventory item '{item_no}' is a {} and holds no stock.",
                item.item_type
            )));
        }
        let warehouse = l
            .text("warehouseId")?
            .or_else(|| item.default_warehouse.clone())
            .ok_or_else(|| {
                ErpError::validation(format!("'{}' is required.", l.field_name("warehouseId")))
            })?;
        let wh = c
            .warehouse(&warehouse)
            .ok_or_else(|| ErpError::unknown("Warehouse", &warehouse))?;
        let location = l.text("locationId")?;
        if let Some(loc) = &location
            && !wh.locations.contains(loc)
        {
            return Err(ErpError::validation(format!(
                "Location '{loc}' does not exist in warehouse '{warehouse}'."
            )));
        }
        let quantity = l.decimal("quantity")?.ok_or_else(|| {
            ErpError::validation(format!("'{}' is required.", l.field_name("quantity")))
        })?;
        let positive_only = kind != InvDocKind::Adjustment;
        if quantity.is_zero() || (positive_only && quantity < Decimal::ZERO) {
            return Err(ErpError::validation(format!(
                "'{}' must be {}.",
                l.field_name("quantity"),
                if positive_only {
                    "positive"
                } else {
                    "non-zero"
                }
            )));
        }
        lines.push(InvDocLine {
            line_number: i as i32 + 1,
            item: item_no,
            warehouse,
            location,
            quantity,
            unit_cost: l.decimal("unitCost")?.unwrap_or(Decimal::ZERO),
            uom: l.text("uom")?.unwrap_or_else(|| item.base_unit.clone()),
            reason_code: l.text("reasonCode")?,
        });
    }
    if lines.is_empty() {
        return Err(ErpError::validation(format!(
            "'{}' must contain at least one line.",
            lines_in(kind)
        )));
    }
    let hold = d.boolean("hold")?.unwrap_or(false);
    Ok(InvDoc {
        kind,
        number: String::new(),
        status: if hold { "Hold" } else { "Balanced" }.into(),
        hold,
        date: d.date_time("date")?.unwrap_or(now),
        description: d.string("description")?,
        external_reference: d.string("externalReference")?,
        lines,
        modified: now,
        version: 1,
    })
}

fn create_inv_doc(sim: &Sim, ctx: &Ctx, kind: InvDocKind, body: &[u8]) -> ErpResult<Response> {
    let body = wire::parse_body(body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let mut doc = read_inv_doc(c, kind, &d, now)?;
    doc.number = format!("{:06}", c.series.inventory_doc);
    c.series.inventory_doc += 1;
    let location = sim.erp_url(&format!("{}/{}", kind_path(kind), doc.number));
    let tag = doc_etag(&doc);
    c.inv_docs.insert((kind, doc.number.clone()), doc);
    Ok(wire::created(&location, Some(&tag)))
}

fn get_inv_doc(sim: &Sim, ctx: &Ctx, kind: InvDocKind, number: &str) -> ErpResult<Response> {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let d = c.inv_docs.get(&(kind, number.to_string())).ok_or_else(|| {
        ErpError::not_found(format!("{} '{number}' not found.", kind_label(kind)))
    })?;
    Ok(wire::json_response(
        StatusCode::OK,
        inv_doc_dto(c, d),
        Some(&doc_etag(d)),
    ))
}

fn list_inv_docs(sim: &Sim, ctx: &Ctx, kind: InvDocKind, q: &Query) -> ErpResult<Response> {
    let modified = wire::date_filter(q, "lastModifiedDateTime")?;
    let date = wire::date_filter(q, "date")?;
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let items: Vec<&InvDoc> = c
        .inv_docs
        .iter()
        .filter(|((k, _), _)| *k == kind)
        .map(|(_, d)| d)
        .filter(|d| q.get("status").is_none_or(|s| &d.status == s))
        .filter(|d| modified.is_none_or(|(cond, at)| cond.holds(&d.modified, &at)))
        .filter(|d| date.is_none_or(|(cond, at)| cond.holds(&d.date, &at)))
        .collect();
    wire::list_response(items, q, sim.max_page_size, |d| inv_doc_dto(c, d))
}

/// Moves stock for every line; checks all lines first so a failure moves nothing.
fn release_inv_doc(sim: &Sim, ctx: &Ctx, kind: InvDocKind, number: &str) -> ErpResult<Response> {
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let key = (kind, number.to_string());
    let doc = c.inv_docs.get(&key).cloned().ok_or_else(|| {
        ErpError::not_found(format!("{} '{number}' not found.", kind_label(kind)))
    })?;
    if doc.status == "Released" {
        return Err(ErpError::validation(format!(
            "{} '{number}' is already released.",
            kind_label(kind)
        )));
    }
    if doc.hold {
        return Err(ErpError::validation(format!(
            "{} '{number}' is on hold.",
            kind_label(kind)
        )));
    }
    let delta = |l: &InvDocLine| match kind {
        InvDocKind::Issue => -l.quantity,
        _ => l.quantity,
    };
    let mut projected: std::collections::BTreeMap<(String, String), Decimal> = Default::default();
    for l in &doc.lines {
        let k = (l.item.clone(), l.warehouse.clone());
        let current = c.stock.get(&k).map(|s| s.on_hand).unwrap_or_default();
        let entry = projected.entry(k).or_insert(current);
        *entry += delta(l);
        if *entry < Decimal::ZERO {
            return Err(ErpError::validation(format!(
                "Insufficient quantity of '{}' in warehouse '{}': {} on hand.",
                l.item, l.warehouse, current
            )));
        }
    }
    for ((item_no, warehouse), on_hand) in projected {
        let s = c.stock.entry((item_no.clone(), warehouse)).or_default();
        s.on_hand = on_hand;
        s.modified = Some(now);
        if let Some(item) = c.items.get_mut(&item_no) {
            item.availability_modified = now;
        }
    }
    let doc = c.inv_docs.get_mut(&key).expect("present");
    doc.status = "Released".into();
    doc.modified = now;
    doc.version += 1;
    Ok(wire::json_response(
        StatusCode::OK,
        json!({"actionId": uuid::Uuid::new_v4(), "actionResult": "Done"}),
        None,
    ))
}

macro_rules! inv_doc_handlers {
    ($kind:expr, $create:ident, $get:ident, $list:ident, $release:ident) => {
        async fn $create(
            State(sim): State<Arc<Sim>>,
            Extension(ctx): Extension<Ctx>,
            body: Bytes,
        ) -> ErpResult<Response> {
            create_inv_doc(&sim, &ctx, $kind, &body)
        }
        async fn $get(
            State(sim): State<Arc<Sim>>,
            Extension(ctx): Extension<Ctx>,
            Path(number): Path<String>,
        ) -> ErpResult<Response> {
            get_inv_doc(&sim, &ctx, $kind, &number)
        }
        async fn $list(
            State(sim): State<Arc<Sim>>,
            Extension(ctx): Extension<Ctx>,
            QueryExtract(q): QueryExtract<Query>,
        ) -> ErpResult<Response> {
            list_inv_docs(&sim, &ctx, $kind, &q)
        }
        async fn $release(
            State(sim): State<Arc<Sim>>,
            Extension(ctx): Extension<Ctx>,
            Path(number): Path<String>,
        ) -> ErpResult<Response> {
            release_inv_doc(&sim, &ctx, $kind, &number)
        }
    };
}

inv_doc_handlers!(
    InvDocKind::Receipt,
    create_receipt,
    get_receipt,
    list_receipts,
    release_receipt
);
inv_doc_handlers!(
    InvDocKind::Issue,
    create_issue,
    get_issue,
    list_issues,
    release_issue
);
inv_doc_handlers!(
    InvDocKind::Adjustment,
    create_adjustment,
    get_adjustment,
    list_adjustments,
    release_adjustment
);

// ---- sales prices --------------------------------------------------------------------------

const PRICE_TYPES: [&str; 3] = ["Base", "Customer", "CustomerPriceClass"];

fn price_etag(p: &SalesPrice) -> String {
    wire::etag("customerSalesPrice", &p.record_id.to_string(), p.version)
}

fn sales_price_dto(c: &Company, p: &SalesPrice) -> Value {
    // The spec marks nothing nullable: unset dates are left out.
    wire::prune(json!({
        "recordId": p.record_id,
        "priceType": p.price_type,
        "priceCode": p.price_code,
        "inventoryId": p.item,
        "description": c.items.get(&p.item).map(|i| i.description.clone()),
        "uoM": p.uom,
        "promotion": p.promotion,
        "breakQty": num(p.break_qty),
        "price": num(p.price),
        "currency": p.currency,
        "effectiveDate": p.effective.as_ref().map(wire::fmt_dt),
        "expirationDate": p.expiration.as_ref().map(wire::fmt_dt),
        "warehouse": p.warehouse,
        "lastModifiedDateTime": wire::fmt_dt(&p.modified),
        "timeStamp": price_etag(p).trim_matches('"'),
    }))
}

/// Applies a `CustomerSalesPriceUpdateDto` and checks the row as the sales price screen does:
/// known item, unit, currency, customer or price class, a non-negative price, an expiration
/// after the effective date, and no second row with the same key.
fn apply_sales_price(c: &Company, d: &Dto, p: &mut SalesPrice) -> ErpResult<()> {
    if let Some(t) = d.text("priceType")? {
        if !PRICE_TYPES.contains(&t.as_str()) {
            return Err(ErpError::validation(format!(
                "'{t}' is not a valid priceType: use one of {}.",
                PRICE_TYPES.join(", ")
            )));
        }
        p.price_type = t;
    }
    if let Some(code) = d.string("priceCode")? {
        p.price_code = code;
    }
    if let Some(item) = d.text("inventoryId")? {
        p.item = item;
    }
    if let Some(uom) = d.text("uoM")? {
        p.uom = uom;
    }
    if let Some(promo) = d.boolean("promotion")? {
        p.promotion = promo;
    }
    if let Some(q) = d.decimal("breakQty")? {
        if q < Decimal::ZERO {
            return Err(ErpError::validation("'breakQty' cannot be negative."));
        }
        p.break_qty = q;
    }
    if let Some(price) = d.decimal("price")? {
        if price < Decimal::ZERO {
            return Err(ErpError::validation("'price' cannot be negative."));
        }
        p.price = price;
    }
    if let Some(cur) = d.text("currency")? {
        p.currency = cur;
    }
    if let Some(w) = d.text("warehouse")? {
        if c.warehouse(&w).is_none() {
            return Err(ErpError::unknown("Warehouse", &w));
        }
        p.warehouse = Some(w);
    }
    if let Some(at) = d.date_time("effectiveDate")? {
        p.effective = Some(at);
    }
    if let Some(at) = d.date_time("expirationDate")? {
        p.expiration = Some(at);
    }
    let item = c
        .items
        .get(&p.item)
        .ok_or_else(|| ErpError::unknown("Inventory item", &p.item))?;
    if p.uom.is_empty() {
        p.uom = item.base_unit.clone();
    }
    if p.uom != item.base_unit
        && !item
            .cross_references
            .iter()
            .any(|x| x.uom.as_deref() == Some(p.uom.as_str()))
    {
        return Err(ErpError::validation(format!(
            "Unit '{}' is not a unit of item '{}' (base unit {}).",
            p.uom, p.item, item.base_unit
        )));
    }
    if p.currency.is_empty() {
        p.currency = c.base_currency.clone();
    }
    if c.currency(&p.currency).is_none() {
        return Err(ErpError::unknown("Currency", &p.currency));
    }
    match p.price_type.as_str() {
        "Base" => p.price_code.clear(),
        "Customer" => {
            if !c.customers.contains_key(&p.price_code) {
                return Err(ErpError::unknown("Customer", &p.price_code));
            }
        }
        _ => {
            if !c.price_classes.contains(&p.price_code) {
                return Err(ErpError::unknown("Customer price class", &p.price_code));
            }
        }
    }
    if let (Some(from), Some(to)) = (p.effective, p.expiration)
        && to < from
    {
        return Err(ErpError::validation(
            "'expirationDate' cannot be earlier than 'effectiveDate'.",
        ));
    }
    let key = |x: &SalesPrice| {
        (
            x.price_type.clone(),
            x.price_code.clone(),
            x.item.clone(),
            x.uom.clone(),
            x.break_qty,
            x.currency.clone(),
            x.warehouse.clone(),
            x.promotion,
            x.effective.map(|d| d.date_naive()),
        )
    };
    if let Some(dup) = c
        .sales_prices
        .values()
        .find(|x| x.record_id != p.record_id && key(x) == key(p))
    {
        return Err(ErpError::validation(format!(
            "A sales price with the same price type, code, item, unit, break quantity, currency and effective date already exists (record {}).",
            dup.record_id
        )));
    }
    Ok(())
}

async fn create_sales_price(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    if d.text("priceType")?.is_none() {
        return Err(ErpError::validation("'priceType' is required."));
    }
    if d.text("inventoryId")?.is_none() {
        return Err(ErpError::validation("'inventoryId' is required."));
    }
    if d.decimal("price")?.is_none() {
        return Err(ErpError::validation("'price' is required."));
    }
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let mut p = SalesPrice {
        record_id: 0,
        price_type: String::new(),
        price_code: String::new(),
        item: String::new(),
        uom: String::new(),
        promotion: false,
        break_qty: Decimal::ZERO,
        price: Decimal::ZERO,
        currency: String::new(),
        warehouse: None,
        effective: None,
        expiration: None,
        modified: now,
        version: 1,
    };
    apply_sales_price(c, &d, &mut p)?;
    p.record_id = c.next_internal_id();
    let tag = price_etag(&p);
    let location = sim.erp_url(&format!("/v1/customerSalesPrice/{}", p.record_id));
    c.sales_prices.insert(p.record_id, p);
    Ok(wire::created(&location, Some(&tag)))
}

fn find_sales_price<'a>(c: &'a Company, record: &str) -> ErpResult<&'a SalesPrice> {
    record
        .parse::<i32>()
        .ok()
        .and_then(|id| c.sales_prices.get(&id))
        .ok_or_else(|| ErpError::not_found(format!("Customer sales price '{record}' not found.")))
}

async fn update_sales_price(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let mut p = find_sales_price(c, &record)?.clone();
    wire::check_if_match(&headers, &price_etag(&p))?;
    apply_sales_price(c, &d, &mut p)?;
    p.modified = now;
    p.version += 1;
    let tag = price_etag(&p);
    c.sales_prices.insert(p.record_id, p);
    Ok(wire::no_content(Some(&tag)))
}

async fn get_sales_price(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(record): Path<String>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let p = find_sales_price(c, &record)?;
    Ok(wire::json_response(
        StatusCode::OK,
        sales_price_dto(c, p),
        Some(&price_etag(p)),
    ))
}

/// `GET /v1/customerSalesPrice`: filters `priceType` (`All` for every type), `priceCode`,
/// `inventoryId`, `effectiveAsOf` (rows in force on that day) and `lastModifiedDateTime`.
async fn list_sales_prices(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let modified = wire::date_filter(&q, "lastModifiedDateTime")?;
    let price_type = q.get("priceType").filter(|t| t.as_str() != "All");
    if let Some(t) = price_type
        && !PRICE_TYPES.contains(&t.as_str())
    {
        return Err(ErpError::validation(format!(
            "'{t}' is not a valid priceType: use All, {}.",
            PRICE_TYPES.join(", ")
        )));
    }
    let as_of = match q.get("effectiveAsOf") {
        None => None,
        Some(s) => Some(wire::parse_date_time(s).ok_or_else(|| {
            ErpError::validation(format!("'{s}' is not a valid effectiveAsOf date."))
        })?),
    };
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let rows: Vec<&SalesPrice> = c
        .sales_prices
        .values()
        .filter(|p| price_type.is_none_or(|t| &p.price_type == t))
        .filter(|p| q.get("priceCode").is_none_or(|x| &p.price_code == x))
        .filter(|p| q.get("inventoryId").is_none_or(|x| &p.item == x))
        .filter(|p| {
            as_of.is_none_or(|at| {
                p.effective
                    .is_none_or(|e| e.date_naive() <= at.date_naive())
                    && p.expiration
                        .is_none_or(|x| x.date_naive() >= at.date_naive())
            })
        })
        .filter(|p| modified.is_none_or(|(cond, at)| cond.holds(&p.modified, &at)))
        .collect();
    wire::list_response(rows, &q, sim.max_page_size, |p| sales_price_dto(c, p))
}
