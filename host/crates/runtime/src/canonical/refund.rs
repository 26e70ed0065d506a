//! Orders v3 refunds (with the order they belong to) → `types::Refund`.

use super::CanonicalError;
use super::json::{Obj, field_path, to_wit, unwrap_data};
use super::order::{OrderBundle, OrderExtras, build_order, money_in};
use crate::bindings::types::*;
use ledgerlink_core::money::decimal_to_minor;
use rust_decimal::Decimal;
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
    /// What earlier credit notes of the order came to, in major units of the order currency
    /// (`"25.00"`); a cancellation credits the order total less this.
    #[serde(default)]
    pub already_credited_total: Option<String>,
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
            already_credited_total: None,
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

/// The refund with its order built from the bundle.
pub fn build_refund(
    bundle: &RefundBundle,
    extras: &RefundExtras,
) -> Result<Refund, CanonicalError> {
    let order = build_order(&bundle.order, &extras.order)?;
    refund_for(order, &bundle.refund, extras)
}

/// The refund of an order already built (`extras.order` is not used): `refund` is the v3
/// refund JSON, `null` for a cancellation.
pub fn refund_for(
    order: Order,
    refund: &Value,
    extras: &RefundExtras,
) -> Result<Refund, CanonicalError> {
    let currency = order.currency.clone();
    let mut already = Vec::new();
    for (i, (id, q)) in extras.already_credited.iter().enumerate() {
        let field = format!("already_credited[{i}]");
        let d = super::json::parse_decimal(&Value::String(q.clone()), &field)?;
        already.push((*id, to_wit(d, &field)?));
    }
    if extras.kind == CreditKind::Cancellation && refund.is_null() {
        let credited_total = match &extras.already_credited_total {
            None => 0,
            Some(t) => money_in(
                &Value::String(t.clone()),
                &currency,
                "already_credited_total",
            )?,
        };
        return Ok(cancellation(
            order,
            extras.original_document.clone(),
            already,
            credited_total,
        ));
    }
    let data = unwrap_data(refund);
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
            amount = units_worth(line, q);
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

fn dec(d: &crate::bindings::types::Decimal) -> Decimal {
    Decimal::new(d.digits, d.scale.into())
}

/// What `units` of an order line cost, tax included: its share of the line total (so the
/// shares of all units add up to the line exactly).
fn units_worth(line: &OrderLine, units: Decimal) -> i64 {
    let qty = dec(&line.quantity);
    if qty.is_zero() {
        return 0;
    }
    decimal_to_minor(Decimal::from(line.total_inc_tax) * units / qty, 0).unwrap_or(0)
}

/// A cancellation after invoicing credits what earlier credit notes left: every unit not yet
/// credited (bundle children go with their parent), and the shipping when nothing was credited
/// before. `total` is the order total less what was credited.
fn cancellation(
    order: Order,
    original_document: Option<DocumentRef>,
    already_credited: Vec<(u64, crate::bindings::types::Decimal)>,
    already_credited_total: i64,
) -> Refund {
    const REASON: &str = "Order cancelled";
    let mut items = Vec::new();
    for l in order.lines.iter().filter(|l| l.parent_line_id.is_none()) {
        let credited: Decimal = already_credited
            .iter()
            .filter(|(id, _)| *id == l.id)
            .map(|(_, q)| dec(q))
            .sum();
        let left = dec(&l.quantity) - credited;
        if left > Decimal::ZERO {
            items.push(RefundItem {
                item_type: RefundItemType::Product,
                item_id: l.id,
                quantity: to_wit(left, "quantity").ok(),
                amount: units_worth(l, left),
                restock: true,
                reason: REASON.into(),
            });
        }
    }
    if already_credited_total == 0 {
        for s in order
            .shipping_addresses
            .iter()
            .filter(|s| s.cost_inc_tax != 0)
        {
            items.push(RefundItem {
                item_type: RefundItemType::Shipping,
                item_id: s.id,
                quantity: None,
                amount: s.cost_inc_tax,
                restock: false,
                reason: REASON.into(),
            });
        }
    }
    Refund {
        id: 0,
        kind: RefundKind::Cancellation,
        created_at: order.modified_at.clone(),
        currency: order.currency.clone(),
        total: (order.total_inc_tax - already_credited_total).max(0),
        reason: REASON.into(),
        items,
        order,
        original_document,
        already_credited,
    }
}
