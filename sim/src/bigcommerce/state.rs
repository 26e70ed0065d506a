//! The simulated store's data: catalog, stock, customers, orders, refunds, hooks, settings.
//! Everything lives in one `Store` behind one lock; handlers take the lock, mutate, and emit
//! webhook events while holding it so the event order matches the write order.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

pub const DEFAULT_LOCATION: u64 = 1;

/// Tax classes of the store. `id` 0 is BigCommerce's "Default Tax Class".
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaxClass {
    pub id: u64,
    pub name: String,
    /// The store's (single-zone) rate for this class, as a fraction (0.25 = 25 %).
    pub rate: Decimal,
}

/// A tax zone: buyers shipping to one of `countries` pay these rates (class id → fraction)
/// instead of the store's default rates; classes the zone does not list keep the default.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaxZone {
    pub countries: Vec<String>,
    pub rates: Vec<(u64, Decimal)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Currency {
    pub id: u64,
    pub code: String,
    pub name: String,
    pub is_default: bool,
    pub exchange_rate: Decimal,
    pub country_iso2: String,
    pub token: String,
    pub enabled: bool,
    pub is_transactional: bool,
    pub last_updated: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Channel {
    pub id: u64,
    pub name: String,
    pub platform: String,
    pub kind: String,
    pub status: String,
    pub external_id: String,
    pub is_visible: bool,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    pub enabled_currencies: Vec<String>,
    pub default_currency: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub id: u64,
    pub code: String,
    pub label: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub id: u64,
    pub name: String,
    pub sku: String,
    pub kind: String,
    pub price: Decimal,
    pub cost_price: Decimal,
    pub sale_price: Decimal,
    pub weight: Decimal,
    pub tax_class_id: u64,
    /// `none` | `product` | `variant`.
    pub inventory_tracking: String,
    pub inventory_warning_level: i64,
    pub is_visible: bool,
    pub description: String,
    pub categories: Vec<u64>,
    pub channels: Vec<u64>,
    /// Variant ids in display order; simple products have exactly one (the base variant).
    pub variants: Vec<u64>,
    /// `true` when the product has option variants (then `base_variant_id` is null).
    pub has_options: bool,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Variant {
    pub id: u64,
    pub product_id: u64,
    pub sku: String,
    pub sku_id: Option<u64>,
    pub price: Option<Decimal>,
    pub sale_price: Option<Decimal>,
    pub cost_price: Option<Decimal>,
    pub weight: Option<Decimal>,
    pub upc: String,
    /// `[{id, label, option_id, option_display_name}]`.
    pub option_values: Vec<Value>,
    pub purchasing_disabled: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct StockLevel {
    pub on_hand: i64,
    pub safety_stock: i64,
    pub warning_level: i64,
    pub bin_picking_number: String,
    pub is_in_stock: bool,
    /// Relative adjustments are refused until an absolute one was made (NOTES §9.2).
    pub absolute_done: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PriceList {
    pub id: u64,
    pub name: String,
    pub active: bool,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    /// (variant_id, currency) → record.
    #[serde(with = "crate::common::pairs")]
    pub records: BTreeMap<(u64, String), PriceRecord>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PriceRecord {
    pub price: Decimal,
    pub sale_price: Option<Decimal>,
    pub retail_price: Option<Decimal>,
    pub map_price: Option<Decimal>,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CustomerGroup {
    pub id: u64,
    pub name: String,
    pub is_default: bool,
    pub discount_percent: Decimal,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Customer {
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub phone: String,
    pub notes: String,
    pub customer_group_id: u64,
    pub tax_exempt_category: String,
    pub origin_channel_id: u64,
    pub channel_ids: Vec<u64>,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CustomerAddress {
    pub id: u64,
    pub customer_id: u64,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state_or_province: String,
    pub postal_code: String,
    pub country_code: String,
    pub country: String,
    pub phone: String,
    pub address_type: String,
}

/// A postal address as the v2 orders API shows it (billing or shipping).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub street_1: String,
    pub street_2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub country_iso2: String,
    pub phone: String,
    pub email: String,
}

/// Money split the way v2 orders store it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Amount {
    pub ex_tax: Decimal,
    pub inc_tax: Decimal,
    pub tax: Decimal,
}

impl Amount {
    pub const ZERO: Amount = Amount {
        ex_tax: Decimal::ZERO,
        inc_tax: Decimal::ZERO,
        tax: Decimal::ZERO,
    };

    /// Split a price entered in the store's basis (`inclusive` or not) at `rate`; tax is rounded
    /// to cents on the side that was not entered.
    pub fn from_entered(entered: Decimal, rate: Decimal, inclusive: bool) -> Amount {
        if inclusive {
            let ex = (entered / (Decimal::ONE + rate)).round_dp(2);
            Amount {
                ex_tax: ex,
                inc_tax: entered,
                tax: entered - ex,
            }
        } else {
            let tax = (entered * rate).round_dp(2);
            Amount {
                ex_tax: entered,
                inc_tax: entered + tax,
                tax,
            }
        }
    }

    /// The value in the store's entry basis.
    pub fn entered(&self, inclusive: bool) -> Decimal {
        if inclusive { self.inc_tax } else { self.ex_tax }
    }

    pub fn add(self, o: Amount) -> Amount {
        Amount {
            ex_tax: self.ex_tax + o.ex_tax,
            inc_tax: self.inc_tax + o.inc_tax,
            tax: self.tax + o.tax,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    /// The order product id (used by shipments and refunds).
    pub id: u64,
    pub product_id: u64,
    pub variant_id: u64,
    pub sku: String,
    pub name: String,
    pub kind: String,
    pub quantity: u32,
    pub order_address_id: u64,
    pub tax_class_id: u64,
    pub tax_rate: Decimal,
    /// Unit price.
    pub unit: Amount,
    /// Line total before discounts.
    pub total: Amount,
    /// Share of the order-level discounts, in the store's entry basis: the sum of `applied`.
    pub discount: Decimal,
    /// Each order-level discount's share of this line, as `applied_discounts[]` shows them.
    /// (Absent from state files written before the field existed; see
    /// [`Store::fill_missing_applied`].)
    #[serde(default)]
    pub applied: Vec<AppliedDiscount>,
    /// Line total after the discount (what taxes are computed on).
    pub discounted: Amount,
    pub quantity_shipped: u32,
    pub quantity_refunded: u32,
    pub refund_amount: Decimal,
    pub wrapping: Amount,
    pub product_options: Vec<Value>,
    pub upc: String,
    pub base_cost_price: Decimal,
    pub weight: Decimal,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ShippingAddress {
    pub id: u64,
    pub address: Address,
    pub shipping_method: String,
    pub cost: Amount,
    pub handling: Amount,
    pub shipping_zone_id: u64,
    pub shipping_zone_name: String,
}

/// One discount's share of one order line (`orderProductAppliedDiscounts`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AppliedDiscount {
    /// `manual-discount` for the order's manual discount (the spec's example), `coupon` for a
    /// redeemed coupon (as production shows it).
    pub id: String,
    /// `Manual Discount`, or the coupon's name.
    pub name: String,
    /// The coupon code; none for a manual discount.
    pub code: Option<String>,
    /// Entry basis (the store's `tax_entered_with_prices`).
    pub amount: Decimal,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OrderCoupon {
    pub id: u64,
    pub coupon_id: u64,
    pub code: String,
    /// The coupon's name as the merchant set it up (what `applied_discounts[].name` shows).
    #[serde(default)]
    pub name: String,
    pub amount: Decimal,
    pub kind: u8,
    pub discount: Decimal,
}

/// A coupon the merchant set up (Marketing, `coupon_Full`), redeemable at the storefront
/// checkout by its code.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Coupon {
    pub id: u64,
    pub name: String,
    pub code: String,
    /// `orderCoupons_Base.type`: 1 percentage, 2 per total (a fixed amount off the order) are
    /// simulated; 0 per item, 3 shipping, 4 free shipping are refused at checkout.
    pub kind: u8,
    /// Per cent for type 1, money in the store's default currency and entry basis for type 2.
    pub amount: Decimal,
    pub enabled: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Shipment {
    pub id: u64,
    pub order_address_id: u64,
    pub tracking_number: String,
    pub shipping_method: String,
    pub shipping_provider: String,
    pub tracking_carrier: String,
    pub comments: String,
    pub items: Vec<(u64, u32)>,
    pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Transaction {
    pub id: u64,
    pub order_id: u64,
    pub event: String,
    pub method: String,
    pub amount: Decimal,
    pub currency: String,
    pub gateway: String,
    pub gateway_transaction_id: String,
    pub status: String,
    pub date_created: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Metafield {
    pub id: u64,
    pub resource_id: u64,
    pub namespace: String,
    pub key: String,
    pub value: String,
    pub permission_set: String,
    pub description: String,
    pub owner_client_id: String,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

/// The store's metafields by id, with an index by order: the host writes one per synced
/// order, and finding an order's own among all of them must not cost a scan of the store.
/// Saved (and read back) as the plain id → metafield map; the index is rebuilt on load.
#[derive(Debug, Default)]
pub struct Metafields {
    by_id: BTreeMap<u64, Metafield>,
    /// Order id → its metafields' ids, ascending (ids only grow).
    by_order: HashMap<u64, Vec<u64>>,
}

impl Metafields {
    pub fn get(&self, id: &u64) -> Option<&Metafield> {
        self.by_id.get(id)
    }

    /// The metafield to change in place; its order (`resource_id`) must not change.
    pub fn get_mut(&mut self, id: &u64) -> Option<&mut Metafield> {
        self.by_id.get_mut(id)
    }

    pub fn insert(&mut self, m: Metafield) {
        // A replaced metafield leaves its old order's index first.
        self.remove(&m.id);
        let ids = self.by_order.entry(m.resource_id).or_default();
        if let Err(at) = ids.binary_search(&m.id) {
            ids.insert(at, m.id);
        }
        self.by_id.insert(m.id, m);
    }

    pub fn remove(&mut self, id: &u64) -> Option<Metafield> {
        let m = self.by_id.remove(id)?;
        if let Some(ids) = self.by_order.get_mut(&m.resource_id) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                self.by_order.remove(&m.resource_id);
            }
        }
        Some(m)
    }

    /// An order's metafields in id order.
    pub fn of_order(&self, order_id: u64) -> impl Iterator<Item = &Metafield> {
        self.by_order
            .get(&order_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id))
    }
}

impl std::ops::Index<&u64> for Metafields {
    type Output = Metafield;
    fn index(&self, id: &u64) -> &Metafield {
        &self.by_id[id]
    }
}

impl serde::Serialize for Metafields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Metafields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let by_id = BTreeMap::<u64, Metafield>::deserialize(d)?;
        let mut all = Metafields::default();
        for m in by_id.into_values() {
            all.insert(m);
        }
        Ok(all)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Refund {
    pub id: u64,
    pub order_id: u64,
    pub reason: String,
    pub total_amount: Decimal,
    pub total_tax: Decimal,
    pub uses_merchant_override_values: bool,
    /// `{item_type, item_id, quantity, requested_amount, reason}`.
    pub items: Vec<Value>,
    /// `(id, provider_id, amount, offline)`.
    pub payments: Vec<(u64, String, Decimal, bool)>,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: u64,
    pub customer_id: u64,
    pub channel_id: u64,
    pub status_id: u8,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    pub date_shipped: Option<DateTime<Utc>>,
    pub is_tax_inclusive: bool,
    pub currency_code: String,
    pub currency_id: u64,
    pub store_default_currency_code: String,
    pub store_default_to_transactional_exchange_rate: Decimal,
    pub billing_address: Address,
    pub lines: Vec<OrderLine>,
    pub shipping_addresses: Vec<ShippingAddress>,
    pub coupons: Vec<OrderCoupon>,
    pub shipments: Vec<Shipment>,
    /// Manual order-level discount (`discount_amount`, writable), entry basis.
    pub discount_amount: Decimal,
    pub wrapping: Amount,
    pub staff_notes: String,
    pub customer_message: String,
    pub external_order_id: String,
    pub external_source: Option<String>,
    pub external_merchant_id: Option<String>,
    pub payment_method: String,
    pub payment_provider_id: String,
    pub payment_status: String,
    pub refunded_amount: Decimal,
    pub order_source: String,
    pub cart_id: String,
    pub ip_address: String,
    pub customer_locale: String,
    pub is_deleted: bool,
    pub stock_deducted: bool,
}

impl Order {
    pub fn coupon_discount(&self) -> Decimal {
        self.coupons.iter().map(|c| c.discount).sum()
    }
    pub fn subtotal(&self) -> Amount {
        self.lines.iter().fold(Amount::ZERO, |a, l| a.add(l.total))
    }
    pub fn shipping(&self) -> Amount {
        self.shipping_addresses
            .iter()
            .fold(Amount::ZERO, |a, s| a.add(s.cost))
    }
    pub fn handling(&self) -> Amount {
        self.shipping_addresses
            .iter()
            .fold(Amount::ZERO, |a, s| a.add(s.handling))
    }
    /// Grand total: discounted lines + shipping + handling + wrapping.
    pub fn total(&self) -> Amount {
        self.lines
            .iter()
            .fold(Amount::ZERO, |a, l| a.add(l.discounted).add(l.wrapping))
            .add(self.shipping())
            .add(self.handling())
            .add(self.wrapping)
    }
    pub fn items_total(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
    pub fn items_shipped(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity_shipped).sum()
    }

    /// The order-level discounts in the order `applied_discounts` lists them: the manual
    /// discount, then each coupon.
    fn discount_sources(&self) -> Vec<AppliedDiscount> {
        let mut sources = Vec::new();
        if !self.discount_amount.is_zero() {
            sources.push(AppliedDiscount {
                id: "manual-discount".into(),
                name: "Manual Discount".into(),
                code: None,
                amount: self.discount_amount,
            });
        }
        for c in &self.coupons {
            sources.push(AppliedDiscount {
                id: "coupon".into(),
                name: if c.name.is_empty() {
                    c.code.clone()
                } else {
                    c.name.clone()
                },
                code: Some(c.code.clone()),
                amount: c.discount,
            });
        }
        sources
    }

    /// Spread each order-level discount (manual, coupons) over the lines in proportion to
    /// their ex-tax totals, `discount × price_ex_tax / subtotal_ex_tax` (NOTES §6.4, the
    /// spec's `orderProductAppliedDiscounts`; taken per line, so the shares add up to the
    /// discount), and recompute each line's discounted amounts and taxes.
    pub fn apply_discounts(&mut self) {
        let inclusive = self.is_tax_inclusive;
        let weights: Vec<Decimal> = self.lines.iter().map(|l| l.total.ex_tax).collect();
        // What each line can still give: a line never goes below zero.
        let mut room: Vec<Decimal> = self
            .lines
            .iter()
            .map(|l| l.total.entered(inclusive))
            .collect();
        for line in &mut self.lines {
            line.applied.clear();
        }
        for source in self.discount_sources() {
            let shares = spread(source.amount, &weights, &mut room);
            for (line, share) in self.lines.iter_mut().zip(shares) {
                if !share.is_zero() {
                    line.applied.push(AppliedDiscount {
                        amount: share,
                        ..source.clone()
                    });
                }
            }
        }
        for line in &mut self.lines {
            line.discount = line.applied.iter().map(|a| a.amount).sum();
            let entered = line.total.entered(inclusive) - line.discount;
            line.discounted = Amount::from_entered(entered, line.tax_rate, inclusive);
        }
    }

    /// Names the discounts of lines saved before `applied` existed, without changing any
    /// amount: each line's discount is split over the order's discounts in proportion to
    /// their size.
    fn fill_missing_applied(&mut self) {
        let sources = self.discount_sources();
        let weights: Vec<Decimal> = sources.iter().map(|s| s.amount).collect();
        for line in &mut self.lines {
            if line.discount.is_zero() || !line.applied.is_empty() {
                continue;
            }
            let mut room = vec![line.discount; sources.len()];
            let shares = spread(line.discount, &weights, &mut room);
            line.applied = sources
                .iter()
                .zip(shares)
                .filter(|(_, share)| !share.is_zero())
                .map(|(s, share)| AppliedDiscount {
                    amount: share,
                    ..s.clone()
                })
                .collect();
            if line.applied.is_empty() {
                line.applied.push(AppliedDiscount {
                    id: "manual-discount".into(),
                    name: "Manual Discount".into(),
                    code: None,
                    amount: line.discount,
                });
            }
        }
    }
}

/// `amount` shared by `weights`, each share rounded to the cent and the last weighted share
/// taking what rounding left; no share exceeds its `room` (which is lowered by the shares),
/// and what a full slot could not take goes to the next ones with room.
fn spread(amount: Decimal, weights: &[Decimal], room: &mut [Decimal]) -> Vec<Decimal> {
    let mut left = amount.min(room.iter().copied().sum());
    let whole = left;
    let base: Decimal = weights.iter().copied().sum();
    let last = weights.iter().rposition(|w| !w.is_zero());
    let mut shares = vec![Decimal::ZERO; weights.len()];
    for i in 0..weights.len() {
        let want = if Some(i) == last {
            left
        } else if base.is_zero() {
            Decimal::ZERO
        } else {
            (whole * weights[i] / base).round_dp(2)
        };
        let share = want.min(left).min(room[i]).max(Decimal::ZERO);
        shares[i] = share;
        room[i] -= share;
        left -= share;
    }
    for i in 0..weights.len() {
        if left.is_zero() {
            break;
        }
        let more = left.min(room[i]);
        shares[i] += more;
        room[i] -= more;
        left -= more;
    }
    shares
}

/// Fixed status ids and names (NOTES §6.2).
pub const STATUSES: [(u8, &str, &str); 15] = [
    (
        0,
        "Incomplete",
        "An incomplete order happens when a shopper reached the payment page, but did not complete the transaction.",
    ),
    (
        1,
        "Pending",
        "Customer started the checkout process, but did not complete it.",
    ),
    (
        2,
        "Shipped",
        "Order has been shipped, but receipt has not been confirmed; seller has used the Ship Items action.",
    ),
    (
        3,
        "Partially Shipped",
        "Only some items in the order have been shipped, due to some products being pre-order only or other reasons.",
    ),
    (4, "Refunded", "Seller has used the Refund action."),
    (
        5,
        "Cancelled",
        "Seller has cancelled an order, due to a stock inconsistency or other reasons.",
    ),
    (
        6,
        "Declined",
        "Seller has marked the order as declined for lack of manual payment, or other reasons.",
    ),
    (
        7,
        "Awaiting Payment",
        "Customer has completed checkout process, but payment has yet to be confirmed.",
    ),
    (
        8,
        "Awaiting Pickup",
        "Order has been pulled, and is awaiting customer pickup from a seller-specified location.",
    ),
    (
        9,
        "Awaiting Shipment",
        "Order has been pulled and packaged, and is awaiting collection from a shipping provider.",
    ),
    (
        10,
        "Completed",
        "Client has paid for their digital product and their file(s) are available for download.",
    ),
    (
        11,
        "Awaiting Fulfillment",
        "Customer has completed the checkout process and payment has been confirmed.",
    ),
    (
        12,
        "Manual Verification Required",
        "Order on hold while some aspect needs to be manually confirmed.",
    ),
    (
        13,
        "Disputed",
        "Customer has initiated a dispute resolution process for the PayPal transaction that paid for the order.",
    ),
    (
        14,
        "Partially Refunded",
        "Seller has partially refunded the order.",
    ),
];

pub fn status_name(id: u8) -> &'static str {
    STATUSES
        .iter()
        .find(|s| s.0 == id)
        .map(|s| s.1)
        .unwrap_or("Unknown")
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Hook {
    pub id: u64,
    pub client_id: String,
    pub scope: String,
    pub destination: String,
    pub is_active: bool,
    pub headers: Map<String, Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Inventory behaviour settings (`/v3/settings/inventory`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InventorySettings {
    /// `order_placed` | `order_completed_or_shipped`.
    pub update_stock_behavior: String,
    pub edit_order_stock_adjustment: bool,
    pub refund_order_stock_adjustment: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoreInfo {
    pub name: String,
    pub domain: String,
    pub country: String,
    pub country_code: String,
    pub timezone: String,
    pub address: String,
    pub email: String,
    pub phone: String,
}

/// All data of the one simulated store.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Store {
    pub info: StoreInfo,
    /// `tax_entered_with_prices`: catalog prices include tax.
    pub prices_include_tax: bool,
    pub tax_classes: Vec<TaxClass>,
    /// Zones with their own rates (e.g. EU distance sales at the buyer country's VAT); the
    /// class rates above apply everywhere else.
    pub tax_zones: Vec<TaxZone>,
    pub shipping_tax_class_id: u64,
    pub handling_tax_class_id: u64,
    pub wrapping_tax_class_id: u64,
    pub currencies: Vec<Currency>,
    pub channels: Vec<Channel>,
    pub locations: Vec<Location>,
    pub products: BTreeMap<u64, Product>,
    pub variants: BTreeMap<u64, Variant>,
    #[serde(with = "crate::common::pairs")]
    pub stock: HashMap<(u64, u64), StockLevel>,
    pub price_lists: BTreeMap<u64, PriceList>,
    pub customer_groups: BTreeMap<u64, CustomerGroup>,
    pub customers: BTreeMap<u64, Customer>,
    pub addresses: BTreeMap<u64, CustomerAddress>,
    pub orders: BTreeMap<u64, Order>,
    pub refunds: BTreeMap<u64, Refund>,
    pub transactions: BTreeMap<u64, Transaction>,
    pub metafields: Metafields,
    pub hooks: BTreeMap<u64, Hook>,
    /// Coupons the merchant set up (the demo seed has some; older state files none).
    #[serde(default)]
    pub coupons: Vec<Coupon>,
    pub inventory_settings: InventorySettings,
    #[serde(deserialize_with = "crate::common::pairs::static_keys")]
    next_id: HashMap<&'static str, u64>,
}

impl Store {
    pub fn new(now: DateTime<Utc>) -> Self {
        let rate = |p: i64| Decimal::new(p, 2);
        Store {
            info: StoreInfo {
                name: "Ledgerlink Nordic Outfitters".into(),
                domain: "nordic-outfitters.example".into(),
                country: "Sweden".into(),
                country_code: "SE".into(),
                timezone: "Europe/Stockholm".into(),
                address: "Drottninggatan 1\n111 51 Stockholm\nSweden".into(),
                email: "shop@nordic-outfitters.example".into(),
                phone: "+46 8 123 456".into(),
            },
            prices_include_tax: true,
            tax_classes: vec![
                TaxClass {
                    id: 0,
                    name: "Default Tax Class".into(),
                    rate: rate(25),
                },
                TaxClass {
                    id: 1,
                    name: "Non-Taxable Products".into(),
                    rate: rate(0),
                },
                TaxClass {
                    id: 2,
                    name: "Shipping".into(),
                    rate: rate(25),
                },
                TaxClass {
                    id: 3,
                    name: "Gift Wrapping".into(),
                    rate: rate(25),
                },
                TaxClass {
                    id: 4,
                    name: "Reduced Rate (Food)".into(),
                    rate: rate(12),
                },
                TaxClass {
                    id: 5,
                    name: "Books".into(),
                    rate: rate(6),
                },
            ],
            tax_zones: Vec::new(),
            shipping_tax_class_id: 2,
            handling_tax_class_id: 2,
            wrapping_tax_class_id: 3,
            currencies: vec![Currency {
                id: 1,
                code: "SEK".into(),
                name: "Swedish Krona".into(),
                is_default: true,
                exchange_rate: Decimal::ONE,
                country_iso2: "SE".into(),
                token: "kr".into(),
                enabled: true,
                is_transactional: true,
                last_updated: now,
            }],
            channels: vec![Channel {
                id: 1,
                name: "Nordic Outfitters Storefront".into(),
                platform: "bigcommerce".into(),
                kind: "storefront".into(),
                status: "active".into(),
                external_id: String::new(),
                is_visible: true,
                date_created: now,
                date_modified: now,
                enabled_currencies: vec!["SEK".into()],
                default_currency: Some("SEK".into()),
            }],
            locations: vec![Location {
                id: DEFAULT_LOCATION,
                code: "BC-LOCATION-1".into(),
                label: "Default location".into(),
                enabled: true,
                created_at: now,
                updated_at: now,
            }],
            products: BTreeMap::new(),
            variants: BTreeMap::new(),
            stock: HashMap::new(),
            price_lists: BTreeMap::new(),
            customer_groups: BTreeMap::new(),
            customers: BTreeMap::new(),
            addresses: BTreeMap::new(),
            orders: BTreeMap::new(),
            refunds: BTreeMap::new(),
            transactions: BTreeMap::new(),
            metafields: Metafields::default(),
            hooks: BTreeMap::new(),
            coupons: Vec::new(),
            inventory_settings: InventorySettings {
                update_stock_behavior: "order_placed".into(),
                edit_order_stock_adjustment: true,
                refund_order_stock_adjustment: true,
            },
            next_id: HashMap::new(),
        }
    }

    /// Next id in a per-kind sequence, starting at `start` for the first one.
    pub fn next_id(&mut self, kind: &'static str, start: u64) -> u64 {
        let n = self.next_id.entry(kind).or_insert(start);
        let id = *n;
        *n += 1;
        id
    }

    /// Names the discounts of order lines saved before lines listed them one by one.
    pub fn fill_missing_applied(&mut self) {
        for o in self.orders.values_mut() {
            o.fill_missing_applied();
        }
    }

    pub fn tax_rate(&self, class_id: u64) -> Decimal {
        self.tax_classes
            .iter()
            .find(|c| c.id == class_id)
            .map(|c| c.rate)
            .unwrap_or(Decimal::ZERO)
    }

    /// The rate of a class for a buyer in `country` (ISO 3166 alpha-2): the zone's rate when
    /// a zone covers the country and lists the class, else the store's rate.
    pub fn tax_rate_in(&self, class_id: u64, country: &str) -> Decimal {
        self.tax_zones
            .iter()
            .filter(|z| z.countries.iter().any(|c| c.eq_ignore_ascii_case(country)))
            .find_map(|z| z.rates.iter().find(|(id, _)| *id == class_id).map(|r| r.1))
            .unwrap_or_else(|| self.tax_rate(class_id))
    }

    pub fn default_currency(&self) -> &Currency {
        self.currencies
            .iter()
            .find(|c| c.is_default)
            .unwrap_or(&self.currencies[0])
    }

    /// Which variant id holds the stock of a sale of `variant_id` (product-tracked products
    /// keep their stock on the first variant).
    pub fn stock_holder(&self, product: &Product, variant_id: u64) -> Option<u64> {
        match product.inventory_tracking.as_str() {
            "none" => None,
            "product" => product.variants.first().copied(),
            _ => Some(variant_id),
        }
    }

    pub fn on_hand(&self, variant_id: u64, location: u64) -> i64 {
        self.stock
            .get(&(variant_id, location))
            .map(|s| s.on_hand)
            .unwrap_or(0)
    }

    /// Catalog-visible inventory level (default location only, NOTES §8.4).
    pub fn product_inventory_level(&self, p: &Product) -> i64 {
        match p.inventory_tracking.as_str() {
            "none" => 0,
            "product" => p
                .variants
                .first()
                .map(|v| self.on_hand(*v, DEFAULT_LOCATION))
                .unwrap_or(0),
            _ => p
                .variants
                .iter()
                .map(|v| self.on_hand(*v, DEFAULT_LOCATION))
                .sum(),
        }
    }

    pub fn variant_price(&self, v: &Variant) -> Decimal {
        v.price.unwrap_or_else(|| {
            self.products
                .get(&v.product_id)
                .map(|p| p.price)
                .unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metafield(id: u64, order: u64) -> Metafield {
        let now = Utc::now();
        Metafield {
            id,
            resource_id: order,
            namespace: "ns".into(),
            key: format!("k{id}"),
            value: "v".into(),
            permission_set: "app_only".into(),
            description: String::new(),
            owner_client_id: "c".into(),
            date_created: now,
            date_modified: now,
        }
    }

    fn ids(m: &Metafields, order: u64) -> Vec<u64> {
        m.of_order(order).map(|m| m.id).collect()
    }

    #[test]
    fn metafields_are_found_by_order_and_survive_a_save() {
        let mut m = Metafields::default();
        for (id, order) in [(3, 100), (1, 100), (2, 101), (4, 100)] {
            m.insert(metafield(id, order));
        }
        assert_eq!(ids(&m, 100), [1, 3, 4]);
        assert_eq!(ids(&m, 101), [2]);
        assert_eq!(m.remove(&3).map(|x| x.id), Some(3));
        assert_eq!(ids(&m, 100), [1, 4]);
        // Replacing a metafield under another order moves it.
        m.insert(metafield(4, 101));
        assert_eq!(ids(&m, 100), [1]);
        assert_eq!(ids(&m, 101), [2, 4]);
        let saved = serde_json::to_string(&m).unwrap();
        let back: Metafields = serde_json::from_str(&saved).unwrap();
        assert_eq!(ids(&back, 100), [1]);
        assert_eq!(ids(&back, 101), [2, 4]);
        assert!(ids(&back, 102).is_empty());
        assert_eq!(back[&2].key, "k2");
    }
}
