//! Accounts-receivable documents shared by customer invoices and customer credit notes:
//! reading the UpdateDto, computing the ERP-side totals (line amounts, discounts, VAT per VAT
//! code, rounding) and writing the Dto.

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Number, Value};

use super::error::{ErpError, ErpResult};
use super::state::{ArDoc, ArKind, ArLine, Company, TaxDetail};
use super::wire::{self, Dto, num, round2};

pub fn etag(doc: &ArDoc) -> String {
    let kind = match doc.kind {
        ArKind::Invoice => "invoice",
        ArKind::CreditNote => "creditnote",
    };
    wire::etag(kind, &doc.number, doc.version)
}

pub fn path(kind: ArKind, number: &str) -> String {
    match kind {
        ArKind::Invoice => format!("/v1/customerinvoice/{number}"),
        ArKind::CreditNote => format!("/v1/customerCreditNote/{number}"),
    }
}

pub fn label(kind: ArKind) -> &'static str {
    match kind {
        ArKind::Invoice => "Invoice",
        ArKind::CreditNote => "Credit note",
    }
}

fn lines_field(kind: ArKind) -> &'static str {
    match kind {
        ArKind::Invoice => "invoiceLines",
        ArKind::CreditNote => "lines",
    }
}

fn today(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|n| n.and_utc())
        .unwrap_or(now)
}

/// A new, empty document for `customer` with the company's defaults; `apply` fills it in.
pub fn new_doc(company: &Company, kind: ArKind, d: &Dto, now: DateTime<Utc>) -> ErpResult<ArDoc> {
    let customer_no = d
        .text("customerNumber")?
        .ok_or_else(|| ErpError::validation("'customerNumber' is required."))?;
    let customer = company
        .customers
        .get(&customer_no)
        .ok_or_else(|| ErpError::unknown("Customer", &customer_no))?;
    if customer.status == "Inactive" {
        return Err(ErpError::validation(format!(
            "Customer '{customer_no}' is inactive."
        )));
    }
    let date = today(now);
    Ok(ArDoc {
        kind,
        number: String::new(),
        customer: customer_no,
        status: "Balanced".into(),
        hold: false,
        released: false,
        document_date: date,
        due_date: date,
        orig_invoice_date: None,
        currency: customer.currency.clone(),
        exchange_rate: Decimal::ONE,
        credit_terms: customer.credit_terms.clone(),
        payment_method: customer.default_payment_method.clone(),
        external_reference: None,
        customer_ref_number: None,
        payment_reference: None,
        invoice_text: None,
        note: None,
        branch: company.main_branch().number.clone(),
        vat_zone: customer.vat_zone.clone(),
        lines: Vec::new(),
        tax: Vec::new(),
        detail_total: Decimal::ZERO,
        discount_total: Decimal::ZERO,
        vat_total: Decimal::ZERO,
        rounding_diff: Decimal::ZERO,
        amount: Decimal::ZERO,
        balance: Decimal::ZERO,
        applications: Vec::new(),
        created: now,
        modified: now,
        version: 1,
    })
}

/// Applies header fields and line operations, then recomputes the totals.
pub fn apply(company: &Company, d: &Dto, doc: &mut ArDoc, creating: bool) -> ErpResult<()> {
    if !creating
        && let Some(c) = d.text("customerNumber")?
        && c != doc.customer
    {
        return Err(ErpError::validation(
            "The customer of a document cannot be changed.",
        ));
    }
    let mut due_given = false;
    if let Some(date) = d.date_time("documentDate")? {
        doc.document_date = date;
    }
    if let Some(date) = d.date_time("origInvoiceDate")? {
        doc.orig_invoice_date = Some(date);
    }
    if let Some(cur) = d.text("currencyId")? {
        if company.currency(&cur).is_none() {
            return Err(ErpError::unknown("Currency", &cur));
        }
        doc.currency = cur;
    }
    match d.decimal("exchangeRate")? {
        Some(rate) if rate <= Decimal::ZERO => {
            return Err(ErpError::validation("'exchangeRate' must be positive."));
        }
        Some(rate) => doc.exchange_rate = rate,
        None => {
            let date = doc.document_date.date_naive();
            doc.exchange_rate = company.rate_to_base(&doc.currency, date).ok_or_else(|| {
                ErpError::validation(format!(
                    "No exchange rate from {} to {} is effective on {date}.",
                    doc.currency, company.base_currency
                ))
            })?;
        }
    }
    if let Some(terms) = d.text("creditTermsId")? {
        if company.credit_term(&terms).is_none() {
            return Err(ErpError::unknown("Credit terms", &terms));
        }
        doc.credit_terms = terms;
    }
    if let Some(due) = d.date_time("documentDueDate")? {
        doc.due_date = due;
        due_given = true;
    }
    if !due_given && (creating || d.raw("documentDate")?.is_some()) {
        let days = company
            .credit_term(&doc.credit_terms)
            .map(|t| t.due_days)
            .unwrap_or(0);
        doc.due_date = doc.document_date + chrono::Duration::days(days);
    }
    if let Some(pm) = d.text("paymentMethodId")? {
        if company.payment_method(&pm).is_none() {
            return Err(ErpError::unknown("Payment method", &pm));
        }
        doc.payment_method = Some(pm);
    }
    if let Some(branch) = d.text("branchNumber")? {
        if company.branch(&branch).is_none() {
            return Err(ErpError::unknown("Branch", &branch));
        }
        doc.branch = branch;
    }
    if let Some(zone) = d.text("customerVatZoneId")? {
        if company.vat_zone(&zone).is_none() {
            return Err(ErpError::unknown("VAT zone", &zone));
        }
        doc.vat_zone = zone;
    }
    if let Some(v) = d.string("externalReference")? {
        if v.chars().count() > 40 {
            return Err(ErpError::validation(
                "'externalReference' cannot be longer than 40 characters.",
            ));
        }
        doc.external_reference = Some(v);
    }
    if let Some(v) = d.string("customerRefNumber")? {
        if v.chars().count() > 40 {
            return Err(ErpError::validation(
                "'customerRefNumber' cannot be longer than 40 characters.",
            ));
        }
        doc.customer_ref_number = Some(v);
    }
    if let Some(v) = d.string("paymentReference")? {
        doc.payment_reference = Some(v);
    }
    if let Some(v) = d.string("invoiceText")? {
        doc.invoice_text = Some(v);
    }
    if let Some(v) = d.string("note")? {
        doc.note = Some(v);
    }
    if let Some(hold) = d.boolean("hold")? {
        doc.hold = hold;
    }
    doc.status = if doc.hold { "Hold" } else { "Balanced" }.into();

    let field = lines_field(doc.kind);
    for line in d.array(field)? {
        apply_line(company, doc, &line)?;
    }
    compute_totals(company, doc);
    Ok(())
}

fn apply_line(company: &Company, doc: &mut ArDoc, d: &Dto) -> ErpResult<()> {
    let op = d
        .plain_string("operation")?
        .unwrap_or_else(|| "Insert".into());
    let line_number = match d.raw("lineNumber")? {
        None => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ErpError::validation(format!(
                "'{}' must be an integer.",
                d.field_name("lineNumber")
            ))
        })? as i32),
    };
    match op.as_str() {
        "Insert" => {
            let next = doc.lines.iter().map(|l| l.line_number).max().unwrap_or(0) + 1;
            let mut line = ArLine {
                line_number: next,
                inventory_number: None,
                description: None,
                quantity: Decimal::ONE,
                unit_price: Decimal::ZERO,
                discount_percent: Decimal::ZERO,
                discount_amount: Decimal::ZERO,
                manual_discount: false,
                amount: Decimal::ZERO,
                vat_id: String::new(),
                uom: None,
                note: None,
                branch: doc.branch.clone(),
                so_order_type: None,
                so_order_nbr: None,
            };
            fill_line(company, doc, d, &mut line, true)?;
            doc.lines.push(line);
        }
        "Update" => {
            let n = line_number.ok_or_else(|| {
                ErpError::validation(format!(
                    "'{}' is required to update a line.",
                    d.field_name("lineNumber")
                ))
            })?;
            let idx = doc
                .lines
                .iter()
                .position(|l| l.line_number == n)
                .ok_or_else(|| ErpError::validation(format!("Line {n} does not exist.")))?;
            let mut line = doc.lines[idx].clone();
            fill_line(company, doc, d, &mut line, false)?;
            doc.lines[idx] = line;
        }
        "Delete" => {
            let n = line_number.ok_or_else(|| {
                ErpError::validation(format!(
                    "'{}' is required to delete a line.",
                    d.field_name("lineNumber")
                ))
            })?;
            let before = doc.lines.len();
            doc.lines.retain(|l| l.line_number != n);
            if doc.lines.len() == before {
                return Err(ErpError::validation(format!("Line {n} does not exist.")));
            }
        }
        other => {
            return Err(ErpError::validation(format!(
                "'{other}' is not a valid line operation: use Insert, Update or Delete."
            )));
        }
    }
    Ok(())
}

/// The VAT code a line gets when none is given: a zero-rated VAT zone (export, intra-EU B2B)
/// zero-rates everything; otherwise the item's VAT category decides, then the zone default.
fn default_vat(company: &Company, doc: &ArDoc, item_category: Option<&str>) -> Option<String> {
    let zone = company.vat_zone(&doc.vat_zone);
    let zone_category = zone.map(|z| z.default_vat_category.as_str());
    let zone_rate = zone_category
        .and_then(|c| company.vat_category(c))
        .and_then(|c| company.vat(&c.vat_id))
        .map(|v| v.rate);
    let category = if zone_rate == Some(Decimal::ZERO) {
        zone_category
    } else {
        item_category.or(zone_category)
    };
    category
        .and_then(|c| company.vat_category(c))
        .map(|c| c.vat_id.clone())
}

fn fill_line(
    company: &Company,
    doc: &ArDoc,
    d: &Dto,
    line: &mut ArLine,
    inserting: bool,
) -> ErpResult<()> {
    let mut item_category = None;
    if let Some(number) = d.text("inventoryNumber")? {
        let item = company
            .items
            .get(&number)
            .ok_or_else(|| ErpError::unknown("Inventory item", &number))?;
        if item.status != "Active" {
            return Err(ErpError::validation(format!(
                "Inventory item '{number}' is not active (status {}).",
                item.status
            )));
        }
        item_category = Some(item.vat_category.clone());
        if line.description.is_none() {
            line.description = Some(item.description.clone());
        }
        if line.uom.is_none() {
            line.uom = Some(item.base_unit.clone());
        }
        if inserting {
            // The item's default price is in base currency.
            line.unit_price = if doc.exchange_rate.is_zero() {
                item.default_price
            } else {
                round2(item.default_price / doc.exchange_rate)
            };
        }
        line.inventory_number = Some(number);
    }
    if let Some(v) = d.string("description")? {
        line.description = Some(v);
    }
    if let Some(q) = d.decimal("quantity")? {
        line.quantity = q;
    }
    if let Some(p) = d.decimal("unitPriceInCurrency")? {
        if p < Decimal::ZERO {
            return Err(ErpError::validation(format!(
                "'{}' cannot be negative.",
                d.field_name("unitPriceInCurrency")
            )));
        }
        line.unit_price = p;
    }
    if let Some(u) = d.text("uom")? {
        line.uom = Some(u);
    }
    if let Some(n) = d.string("note")? {
        line.note = Some(n);
    }
    if let Some(b) = d.text("branchNumber")? {
        if company.branch(&b).is_none() {
            return Err(ErpError::unknown("Branch", &b));
        }
        line.branch = b;
    }
    let pct = d.decimal("discountPercent")?;
    let amt = d.decimal("discountAmountInCurrency")?;
    if let Some(p) = pct
        && !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&p)
    {
        return Err(ErpError::validation(format!(
            "'{}' must be between 0 and 100.",
            d.field_name("discountPercent")
        )));
    }
    if let Some(a) = amt
        && a < Decimal::ZERO
    {
        return Err(ErpError::validation(format!(
            "'{}' cannot be negative.",
            d.field_name("discountAmountInCurrency")
        )));
    }
    if let Some(m) = d.boolean("manualDiscount")? {
        line.manual_discount = m;
    }
    let gross = round2(line.quantity * line.unit_price);
    match (pct, amt) {
        (_, Some(a)) => {
            line.discount_amount = a;
            line.discount_percent = if gross.is_zero() {
                Decimal::ZERO
            } else {
                (a / gross * Decimal::ONE_HUNDRED).round_dp(6)
            };
            line.manual_discount = true;
        }
        (Some(p), None) => {
            line.discount_percent = p;
            line.discount_amount = round2(gross * p / Decimal::ONE_HUNDRED);
            line.manual_discount = true;
        }
        (None, None) => {
            line.discount_amount = round2(gross * line.discount_percent / Decimal::ONE_HUNDRED);
        }
    }
    if line.discount_amount > gross.abs() {
        return Err(ErpError::validation(format!(
            "The discount {} exceeds the line amount {gross}.",
            line.discount_amount
        )));
    }
    line.amount = match d.decimal("manualAmountInCurrency")? {
        Some(manual) => manual,
        None => gross - line.discount_amount,
    };
    match d.text("vatCodeId")? {
        Some(vat) => {
            if company.vat(&vat).is_none() {
                return Err(ErpError::unknown("VAT code", &vat));
            }
            line.vat_id = vat;
        }
        None if line.vat_id.is_empty() => {
            line.vat_id = default_vat(company, doc, item_category.as_deref()).ok_or_else(|| {
                ErpError::validation(format!(
                    "'{}' is required: no default VAT applies to this line.",
                    d.field_name("vatCodeId")
                ))
            })?;
        }
        None => {}
    }
    Ok(())
}

/// ERP-side totals: VAT is computed per VAT code on the sum of its lines (not per line),
/// then the document total is rounded to the company's step in base currency.
pub fn compute_totals(company: &Company, doc: &mut ArDoc) {
    let mut tax: Vec<TaxDetail> = Vec::new();
    for line in &doc.lines {
        let rate = company
            .vat(&line.vat_id)
            .map(|v| v.rate)
            .unwrap_or(Decimal::ZERO);
        match tax.iter_mut().find(|t| t.vat_id == line.vat_id) {
            Some(t) => t.taxable += line.amount,
            None => tax.push(TaxDetail {
                vat_id: line.vat_id.clone(),
                rate,
                taxable: line.amount,
                vat: Decimal::ZERO,
            }),
        }
    }
    for t in &mut tax {
        t.vat = round2(t.taxable * t.rate / Decimal::ONE_HUNDRED);
    }
    doc.detail_total = doc.lines.iter().map(|l| l.amount).sum();
    doc.discount_total = doc.lines.iter().map(|l| l.discount_amount).sum();
    doc.vat_total = tax.iter().map(|t| t.vat).sum();
    let raw = doc.detail_total + doc.vat_total;
    let step = if doc.currency == company.base_currency {
        company.invoice_rounding
    } else {
        Decimal::new(1, 2)
    };
    doc.amount = wire::round_to(raw, step);
    doc.rounding_diff = doc.amount - raw;
    doc.tax = tax;
    doc.balance = doc.amount;
}

fn base(doc: &ArDoc, amount: Decimal) -> Decimal {
    round2(amount * doc.exchange_rate)
}

fn period(dt: &DateTime<Utc>) -> (String, String) {
    (
        format!("{:02}{}", dt.month(), dt.year()),
        format!("{}{:02}", dt.year(), dt.month()),
    )
}

/// `{number, name}`; `name` left out when unknown (nothing in a response is `null`).
#[derive(Serialize)]
pub struct NumberName<'a> {
    number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// `{id, description}`; `description` left out when unknown.
#[derive(Serialize)]
pub struct IdDescription<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

/// `{number, description}` (a tax detail's `vatId`).
#[derive(Serialize)]
pub struct NumberDescription<'a> {
    number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

/// One line of an invoice or credit note as the ERP shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineDto<'a> {
    line_number: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_price: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_price_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_percent: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_amount: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_amount_in_currency: Option<Number>,
    manual_discount: bool,
    vat_code: IdDescription<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uom: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    branch_number: NumberName<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    so_order_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    so_order_nbr: Option<&'a str>,
}

fn line_dto<'a>(company: &'a Company, doc: &ArDoc, l: &'a ArLine) -> LineDto<'a> {
    let vat = company.vat(&l.vat_id);
    LineDto {
        line_number: l.line_number,
        inventory_number: l.inventory_number.as_deref(),
        description: l.description.as_deref(),
        quantity: number(l.quantity),
        unit_price: number(base(doc, l.unit_price)),
        unit_price_in_currency: number(l.unit_price),
        amount: number(base(doc, l.amount)),
        amount_in_currency: number(l.amount),
        discount_percent: number(l.discount_percent),
        discount_amount: number(base(doc, l.discount_amount)),
        discount_amount_in_currency: number(l.discount_amount),
        manual_discount: l.manual_discount,
        vat_code: IdDescription {
            id: &l.vat_id,
            description: vat.map(|v| v.description.as_str()),
        },
        uom: l.uom.as_deref(),
        note: l.note.as_deref(),
        branch_number: NumberName {
            number: &l.branch,
            name: company.branch(&l.branch).map(|b| b.name.as_str()),
        },
        so_order_type: l.so_order_type.as_deref(),
        so_order_nbr: l.so_order_nbr.as_deref(),
    }
}

/// One `taxDetails` entry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxDto<'a> {
    tax_id: &'a str,
    vat_id: NumberDescription<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_rate: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    taxable_amount: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_amount: Option<Number>,
}

/// One `applications` entry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDto<'a> {
    doc_type: &'a str,
    #[serde(rename = "customerCD")]
    customer_cd: &'a str,
    ref_nbr: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_paid: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<Number>,
    released: bool,
    hold: bool,
    voided: bool,
    status: &'static str,
    application_date: String,
}

/// An invoice or credit note as `GET /v1/customerinvoice/{n}` (…`customerCreditNote`) shows
/// it. A typed view (not a `json!` tree that is then pruned of `null`s): absent values are
/// left out by `skip_serializing_if`, as the spec marks nothing nullable (NOTES §5).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArDocDto<'a> {
    document_type: &'static str,
    reference_number: &'a str,
    status: &'a str,
    hold: bool,
    document_date: String,
    document_due_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    orig_invoice_date: Option<String>,
    post_period: String,
    financial_period: String,
    currency_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange_rate: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance_in_currency: Option<Number>,
    cash_discount: u32,
    cash_discount_in_currency: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail_total: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail_total_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_total: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    discount_total_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_total: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_total_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_taxable_total: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_taxable_total_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_exempt_total: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vat_exempt_total_in_currency: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rounding_diff: Option<Number>,
    customer: NumberName<'a>,
    credit_terms: IdDescription<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_method: Option<IdDescription<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_reference: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_ref_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_reference: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoice_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    branch_number: NumberName<'a>,
    customer_vat_zone: IdDescription<'a>,
    send_to_auto_invoice: bool,
    dont_print: bool,
    dont_email: bool,
    created_date_time: String,
    last_modified_date_time: String,
    /// An invoice's lines (`invoiceLines`).
    #[serde(skip_serializing_if = "Option::is_none")]
    invoice_lines: Option<Vec<LineDto<'a>>>,
    /// A credit note's lines (`lines`).
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<LineDto<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tax_details: Option<Vec<TaxDto<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    applications: Option<Vec<ApplicationDto<'a>>>,
}

/// [`wire::num`] as a `Number` (`None` where that gives `null`).
fn number(d: Decimal) -> Option<Number> {
    match num(d) {
        Value::Number(n) => Some(n),
        _ => None,
    }
}

pub fn dto<'a>(
    company: &'a Company,
    doc: &'a ArDoc,
    expand_applications: bool,
    expand_tax: bool,
) -> ArDocDto<'a> {
    let customer = company.customers.get(&doc.customer);
    let terms = company.credit_term(&doc.credit_terms);
    let zone = company.vat_zone(&doc.vat_zone);
    let (post_period, financial_period) = period(&doc.document_date);
    let taxable: Decimal = doc
        .tax
        .iter()
        .filter(|t| !t.rate.is_zero())
        .map(|t| t.taxable)
        .sum();
    let exempt: Decimal = doc
        .tax
        .iter()
        .filter(|t| t.rate.is_zero())
        .map(|t| t.taxable)
        .sum();
    let lines: Vec<LineDto> = doc
        .lines
        .iter()
        .map(|l| line_dto(company, doc, l))
        .collect();
    let (invoice_lines, lines) = match doc.kind {
        ArKind::Invoice => (Some(lines), None),
        ArKind::CreditNote => (None, Some(lines)),
    };
    let tax_details = expand_tax.then(|| {
        doc.tax
            .iter()
            .map(|t| TaxDto {
                tax_id: &t.vat_id,
                vat_id: NumberDescription {
                    number: &t.vat_id,
                    description: company.vat(&t.vat_id).map(|v| v.description.as_str()),
                },
                vat_rate: number(t.rate),
                taxable_amount: number(t.taxable),
                vat_amount: number(t.vat),
            })
            .collect()
    });
    let applications = expand_applications.then(|| {
        doc.applications
            .iter()
            .map(|a| ApplicationDto {
                doc_type: &a.doc_type,
                customer_cd: &doc.customer,
                ref_nbr: &a.ref_nbr,
                amount_paid: number(a.amount),
                balance: other_balance(company, a).and_then(number),
                released: a.released,
                hold: false,
                voided: false,
                status: if a.released { "Released" } else { "Pending" },
                application_date: wire::fmt_dt(&a.date),
            })
            .collect()
    });
    ArDocDto {
        document_type: doc.kind.document_type(),
        reference_number: &doc.number,
        status: &doc.status,
        hold: doc.hold,
        document_date: wire::fmt_dt(&doc.document_date),
        document_due_date: wire::fmt_dt(&doc.due_date),
        orig_invoice_date: doc.orig_invoice_date.as_ref().map(wire::fmt_dt),
        post_period,
        financial_period,
        currency_id: &doc.currency,
        exchange_rate: number(doc.exchange_rate),
        amount: number(base(doc, doc.amount)),
        amount_in_currency: number(doc.amount),
        balance: number(base(doc, doc.balance)),
        balance_in_currency: number(doc.balance),
        cash_discount: 0,
        cash_discount_in_currency: 0,
        detail_total: number(base(doc, doc.detail_total)),
        detail_total_in_currency: number(doc.detail_total),
        discount_total: number(base(doc, doc.discount_total)),
        discount_total_in_currency: number(doc.discount_total),
        vat_total: number(base(doc, doc.vat_total)),
        vat_total_in_currency: number(doc.vat_total),
        vat_taxable_total: number(base(doc, taxable)),
        vat_taxable_total_in_currency: number(taxable),
        vat_exempt_total: number(base(doc, exempt)),
        vat_exempt_total_in_currency: number(exempt),
        rounding_diff: number(doc.rounding_diff),
        customer: NumberName {
            number: &doc.customer,
            name: customer.map(|c| c.name.as_str()),
        },
        credit_terms: IdDescription {
            id: &doc.credit_terms,
            description: terms.map(|t| t.description.as_str()),
        },
        payment_method: doc.payment_method.as_deref().map(|pm| IdDescription {
            id: pm,
            description: company.payment_method(pm).map(|p| p.description.as_str()),
        }),
        external_reference: doc.external_reference.as_deref(),
        customer_ref_number: doc.customer_ref_number.as_deref(),
        payment_reference: doc.payment_reference.as_deref(),
        invoice_text: doc.invoice_text.as_deref(),
        note: doc.note.as_deref(),
        branch_number: NumberName {
            number: &doc.branch,
            name: company.branch(&doc.branch).map(|b| b.name.as_str()),
        },
        customer_vat_zone: IdDescription {
            id: &doc.vat_zone,
            description: zone.map(|z| z.description.as_str()),
        },
        send_to_auto_invoice: false,
        dont_print: true,
        dont_email: true,
        created_date_time: wire::fmt_dt(&doc.created),
        last_modified_date_time: wire::fmt_dt(&doc.modified),
        invoice_lines,
        lines,
        tax_details,
        applications,
    }
}

/// [`dto`] as a `Value`, for list pages (which add `metadata` to each item).
pub fn dto_value(
    company: &Company,
    doc: &ArDoc,
    expand_applications: bool,
    expand_tax: bool,
) -> Value {
    serde_json::to_value(dto(company, doc, expand_applications, expand_tax)).unwrap_or(Value::Null)
}

/// Current balance of the document on the other side of an application.
fn other_balance(company: &Company, a: &super::state::Application) -> Option<Decimal> {
    match a.doc_type.as_str() {
        "Invoice" => company
            .ar_docs
            .get(&(ArKind::Invoice, a.ref_nbr.clone()))
            .map(|d| d.balance),
        "CreditNote" => company
            .ar_docs
            .get(&(ArKind::CreditNote, a.ref_nbr.clone()))
            .map(|d| d.balance),
        "Payment" => company
            .payments
            .get(&a.ref_nbr)
            .map(|p| p.amount - p.lines.iter().map(|l| l.amount).sum::<Decimal>()),
        _ => None,
    }
}

/// Status after the balance changed on a released document.
pub fn settle_status(doc: &mut ArDoc) {
    if doc.released {
        doc.status = if doc.balance.is_zero() {
            "Closed"
        } else {
            "Open"
        }
        .into();
    }
}
