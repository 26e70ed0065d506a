//! Orders v3 refunds (with the order they belong to) → `types::Refund`.

use super::CanonicalError;
use super::json::{Obj, field_path, to_wit, unwrap_data};
use super::order::{OrderBundle, OrderExtras, build_order, money_in};
use crate::bindings::types::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A refund as fetched: `GET /v3/orders/payment_actions/refunds/{id}` (envelope or bare) and
/// its order. For a cancellation (which has no refund) `refund` is `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundBundle {
    #[serde(default)]
    pub refund: Value,
    pub order: OrderBundle,
}

/// What the host adds: the kind of credit, the original Visma document, what was credited
/// before, and whether returned goods are restocked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundExtras {
    #[serde(default)]
    pub kind: CreditKind,
    pub original_document: Option<DocumentRef>,
    /// (order product id, quantity) credited by earlier credit notes.
    #[serde(default)]
    pub already_credited: Vec<(u64, String)>,
    /// Returned goods go back to stock (for `return`).
    #[serde(default)]
    pub restock: bool,
    #[serde(default)]
    pub order: OrderExtras,
}

/// `refund-kind` as written in fixtures and by the flows: `refund`, `cancellation`, `return`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CreditKind {
    #[default]
    Refund,
    Cancellation,
    Return,
}

impl From<CreditKind> for RefundKind {
    fn from(k: CreditKind) -> Self {
        match k {
            CreditKind::Refund => RefundKind::Refund,
            CreditKind::Cancellation => RefundKind::Cancellation,
            CreditKind::Return => RefundKind::Return,
        }
    }
}

impl Default for RefundExtras {
    fn default() -> Self {
        RefundExtras {
            kind: CreditKind::Refund,
            original_document: None,
            already_credited: Vec::new(),
            restock: false,
            order: OrderExtras::default(),
        }
    }
}

fn item_type(raw: &str, field: &str, v: &Value) -> Result<RefundItemType, CanonicalError> {
    Ok(match raw.trim().to_ascii_uppercase().as_str() {
        "PRODUCT" => RefundItemType::Product,
        "SHIPPING" => RefundItemType::Shipping,
        "HANDLING" => RefundItemType::Handling,
        "GIFT_WRAPPING" => RefundItemType::GiftWrapping,
        "FEE" => RefundItemType::Fee,
        "ORDER" => RefundItemType::Order,
        _ => {
            return Err(CanonicalError::invalid(
                field,
                v,
                "unknown refund item type",
            ));
        }
    })
}

pub fn build_refund(
    bundle: &RefundBundle,
    extras: &RefundExtras,
) -> Result<Refund, CanonicalError> {
    let order = build_order(&bundle.order, &extras.order)?;
    let currency = order.currency.clone();
    let mut already = Vec::new();
    for (i, (id, q)) in extras.already_credited.iter().enumerate() {
        let field = format!("already_credited[{i}]");
        let d = super::json::parse_decimal(&Value::String(q.clone()), &field)?;
        already.push((*id, to_wit(d, &field)?));
    }
    if extras.kind == CreditKind::Cancellation && bundle.refund.is_null() {
        return Ok(Refund {
            id: 0,
            kind: RefundKind::Cancellation,
            created_at: order.modified_at.clone(),
            currency,
            total: 0,
            reason: "Order cancelled".into(),
            items: Vec::new(),
            order,
            original_document: extras.original_document.clone(),
            already_credited: already,
        });
    }
    let data = unwrap_data(&bundle.refund);
    let r = Obj::new(data, "refund");
    if let Some(order_id) = r.opt_u64("order_id")?
        && order_id != order.id
    {
        return Err(CanonicalError::invalid(
            "refund.order_id",
            r.get("order_id").unwrap_or(&Value::Null),
            format!("the bundled order is {}", order.id),
        ));
    }
    let mut items = Vec::new();
    for (i, it) in r.array("items")?.iter().enumerate() {
        let path = format!("refund.items[{i}]");
        let it = Obj::new(it, &path);
        let kind = item_type(
            &it.str("item_type"),
            &field_path(&path, "item_type"),
            it.get("item_type").unwrap_or(&Value::Null),
        )?;
        let item_id = it.required_u64("item_id")?;
        let quantity = it.opt_decimal("quantity")?;
        let requested = it
            .get("requested_amount")
            .or_else(|| it.get("amount"))
            .cloned()
            .unwrap_or(Value::Null);
        let mut amount = money_in(
            &requested,
            &currency,
            &field_path(&path, "requested_amount"),
        )?;
        // A quantity refund carries no amount: it is what those units cost on the order.
        if requested.is_null()
            && let (RefundItemType::Product, Some(q)) = (kind, quantity)
            && let Some(line) = order.lines.iter().find(|l| l.id == item_id)
        {
            let qty = rust_decimal::Decimal::new(line.quantity.digits, line.quantity.scale.into());
            if !qty.is_zero() {
                let share = rust_decimal::Decimal::from(line.total_inc_tax) * q / qty;
                amount = ledgerlink_core::money::decimal_to_minor(share, 0).unwrap_or(0);
            }
        }
        items.push(RefundItem {
            item_type: kind,
            item_id,
            quantity: quantity
                .map(|q| to_wit(q, &field_path(&path, "quantity")))
                .transpose()?,
            amount,
            restock: extras.restock,
            reason: it.str("reason"),
        });
    }
    let total = money_in(
        r.get("total_amount").unwrap_or(&Value::Null),
        &currency,
        "refund.total_amount",
    )?;
    Ok(Refund {
        id: r.required_u64("id")?,
        kind: extras.kind.into(),
        created_at: super::json::time(&r, "created")?,
        currency,
        total,
        reason: r.str("reason"),
        items,
        order,
        original_document: extras.original_document.clone(),
        already_credited: already,
    })
}
