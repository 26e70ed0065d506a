//! Plugin output (WIT records) → Visma request bodies. Plain field copies plus the two
//! things the ERP needs that the plugin does not say: VAT codes for VAT categories, and
//! ex-VAT amounts when the plugin produced a VAT-inclusive document.

use super::canonical::{digits_of, from_wit_decimal};
use crate::error::JobError;
use chrono::{DateTime, NaiveDate, Utc};
use ledgerlink_core::money::minor_to_decimal;
use ledgerlink_runtime::types as wit;
use ledgerlink_visma::dto::{
    AddressUpdate, ContactUpdate, CreditNoteLineUpdate, CreditNoteUpdate, CustomerStatus,
    CustomerUpdate, InvoiceLineUpdate, InvoiceUpdate, LineOperation,
};
use rust_decimal::Decimal;
use std::collections::HashMap;

pub type VatCodes = HashMap<String, (String, Decimal)>;

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub fn date(s: &str) -> Option<DateTime<Utc>> {
    if s.trim().is_empty() {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

pub fn address(a: &wit::VismaAddress) -> AddressUpdate {
    AddressUpdate {
        address_line1: opt(&a.line1),
        address_line2: opt(&a.line2),
        address_line3: opt(&a.line3),
        postal_code: opt(&a.postal_code),
        city: opt(&a.city),
        country_id: opt(&a.country_id),
        county: a.county_id.clone(),
    }
}

pub fn contact(c: &wit::VismaContact) -> ContactUpdate {
    ContactUpdate {
        name: opt(&c.name),
        attention: opt(&c.attention),
        email: opt(&c.email),
        phone1: opt(&c.phone),
        ..Default::default()
    }
}

pub fn customer(c: &wit::VismaCustomer) -> CustomerUpdate {
    let status = match c.status.to_ascii_lowercase().as_str() {
        "onhold" | "on-hold" => Some(CustomerStatus::OnHold),
        "inactive" => Some(CustomerStatus::Inactive),
        "onetime" | "one-time" => Some(CustomerStatus::OneTime),
        _ => Some(CustomerStatus::Active),
    };
    CustomerUpdate {
        number: c.number.clone(),
        name: opt(&c.name),
        status,
        currency_id: opt(&c.currency_id),
        customer_class_id: c.customer_class_id.clone(),
        credit_terms_id: c.credit_terms_id.clone(),
        vat_registration_id: c.vat_registration_id.clone(),
        corporate_id: c.corporate_id.clone(),
        vat_zone_id: c.vat_zone_id.clone(),
        note: opt(&c.note),
        main_address: Some(address(&c.main_address)),
        main_contact: Some(contact(&c.main_contact)),
        invoice_address: c.invoice_address.as_ref().map(address),
        delivery_address: c.delivery_address.as_ref().map(address),
        price_class_id: c.price_class_id.clone(),
        ..Default::default()
    }
}

/// One line's Visma fields, ex VAT.
struct Line {
    inventory_number: Option<String>,
    description: Option<String>,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    amount: Decimal,
    account: Option<String>,
    vat_code: Option<String>,
    uom: Option<String>,
    note: Option<String>,
}

fn line(
    l: &wit::DocumentLine,
    i: usize,
    vat_inclusive: bool,
    digits: u32,
    vat: &VatCodes,
) -> Result<Line, JobError> {
    let path = format!("lines[{i}]");
    let (vat_code, rate) = match vat.get(&l.vat_category_id) {
        Some((code, rate)) => (Some(code.clone()), *rate),
        None if l.vat_category_id.trim().is_empty() => (None, Decimal::ZERO),
        None => {
            return Err(JobError::permanent(
                "missing_mapping",
                format!(
                    "VAT category {:?} does not exist in this Visma company",
                    l.vat_category_id
                ),
            )
            .at(format!("{path}.vat-category-id")));
        }
    };
    let quantity = from_wit_decimal(&l.quantity);
    let mut unit_price = from_wit_decimal(&l.unit_price);
    let mut discount = minor_to_decimal(l.discount_amount, digits);
    let mut amount = minor_to_decimal(l.line_amount, digits);
    if vat_inclusive && !rate.is_zero() {
        // Visma documents are ex VAT: take the VAT out of every amount; the plugin's rounding
        // line and the totals check catch a cent lost here.
        let factor = Decimal::ONE + rate / Decimal::ONE_HUNDRED;
        unit_price = (unit_price / factor).round_dp(4);
        discount = (discount / factor).round_dp(digits);
        amount = (amount / factor).round_dp(digits);
    }
    Ok(Line {
        inventory_number: l.item_number.clone().filter(|n| !n.trim().is_empty()),
        description: opt(&l.description),
        quantity,
        unit_price,
        discount,
        amount,
        account: l.account.clone(),
        vat_code,
        uom: l.uom.clone(),
        note: opt(&l.note),
    })
}

pub fn invoice(inv: &wit::CustomerInvoice, vat: &VatCodes) -> Result<InvoiceUpdate, JobError> {
    let digits = digits_of(&inv.currency_id);
    let mut lines = Vec::with_capacity(inv.lines.len());
    for (i, l) in inv.lines.iter().enumerate() {
        let l = line(l, i, inv.vat_inclusive, digits, vat)?;
        lines.push(InvoiceLineUpdate {
            operation: LineOperation::Insert,
            inventory_number: l.inventory_number,
            description: l.description,
            quantity: Some(l.quantity),
            unit_price_in_currency: Some(l.unit_price),
            manual_amount_in_currency: Some(l.amount),
            account_number: l.account,
            vat_code_id: l.vat_code,
            uom: l.uom,
            discount_amount_in_currency: (!l.discount.is_zero()).then_some(l.discount),
            manual_discount: (!l.discount.is_zero()).then_some(true),
            note: l.note,
            ..Default::default()
        });
    }
    Ok(InvoiceUpdate {
        customer_number: Some(inv.customer_number.clone()),
        document_date: date(&inv.document_date),
        document_due_date: inv.due_date.as_deref().and_then(date),
        currency_id: Some(inv.currency_id.clone()),
        exchange_rate: inv.exchange_rate.as_ref().map(from_wit_decimal),
        credit_terms_id: inv.credit_terms_id.clone(),
        payment_method_id: inv.payment_method_id.clone(),
        external_reference: Some(inv.external_reference.clone()),
        customer_ref_number: opt(&inv.customer_ref_number),
        invoice_text: opt(&inv.description),
        note: opt(&inv.note),
        branch_number: inv.branch_number.clone(),
        billing_address: inv.invoice_address.as_ref().map(address),
        invoice_contact: inv.invoice_contact.as_ref().map(contact),
        invoice_lines: lines,
        ..Default::default()
    })
}

/// A sales order mapped for a company that posts invoices is turned into the same lines on
/// an invoice (the Visma simulator and many tenants have no SalesOrders v3 service).
pub fn sales_order_as_invoice(so: &wit::SalesOrder) -> wit::CustomerInvoice {
    wit::CustomerInvoice {
        customer_number: so.customer_number.clone(),
        document_date: so.date.clone(),
        due_date: None,
        currency_id: so.currency_id.clone(),
        exchange_rate: so.exchange_rate,
        branch_number: so.branch_number.clone(),
        external_reference: so.external_reference.clone(),
        customer_ref_number: so.customer_ref_number.clone(),
        description: so.description.clone(),
        vat_inclusive: so.vat_inclusive,
        payment_method_id: so.payment_method_id.clone(),
        credit_terms_id: so.credit_terms_id.clone(),
        invoice_address: so.billing_address.clone(),
        invoice_contact: so.billing_contact.clone(),
        delivery_address: so.shipping_address.clone(),
        lines: so.lines.clone(),
        expected_total: so.expected_total,
        expected_vat: so.expected_vat,
        note: so.note.clone(),
    }
}

pub fn credit_note(
    cn: &wit::CreditNote,
    vat: &VatCodes,
    apply_amount: Option<Decimal>,
) -> Result<CreditNoteUpdate, JobError> {
    let digits = digits_of(&cn.currency_id);
    let mut lines = Vec::with_capacity(cn.lines.len());
    for (i, l) in cn.lines.iter().enumerate() {
        let l = line(l, i, cn.vat_inclusive, digits, vat)?;
        lines.push(CreditNoteLineUpdate {
            operation: LineOperation::Insert,
            inventory_number: l.inventory_number,
            description: l.description,
            quantity: Some(l.quantity),
            unit_price_in_currency: Some(l.unit_price),
            manual_amount_in_currency: Some(l.amount),
            account_number: l.account,
            vat_code_id: l.vat_code,
            uom: l.uom,
            discount_amount_in_currency: (!l.discount.is_zero()).then_some(l.discount),
            manual_discount: (!l.discount.is_zero()).then_some(true),
            note: l.note,
            ..Default::default()
        });
    }
    let application_lines = match apply_amount {
        Some(a) if !cn.original_invoice_number.is_empty() => {
            vec![ledgerlink_visma::dto::ApplicationLineUpdate::to_invoice(
                cn.original_invoice_number.clone(),
                a,
            )]
        }
        _ => Vec::new(),
    };
    Ok(CreditNoteUpdate {
        customer_number: Some(cn.customer_number.clone()),
        document_date: date(&cn.document_date),
        currency_id: Some(cn.currency_id.clone()),
        external_reference: Some(cn.external_reference.clone()),
        customer_ref_number: opt(&cn.customer_ref_number),
        invoice_text: opt(&cn.description),
        note: opt(&cn.note),
        branch_number: cn.branch_number.clone(),
        lines,
        application_lines,
        ..Default::default()
    })
}

/// Minor units of a Visma amount, for comparing with what BigCommerce says.
pub fn to_minor(d: Decimal, currency: &str) -> Option<i64> {
    ledgerlink_core::money::decimal_to_minor(d, digits_of(currency))
}
