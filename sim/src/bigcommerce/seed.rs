//! `--seed demo`: a deterministic, realistic store.
//!
//! - Store "Ledgerlink Nordic Outfitters", Sweden, prices entered **including** VAT (25 %,
//!   food 12 %, books 6 %, gift cards 0 %), default currency SEK; a tax zone "Finland" with the
//!   Finnish rates (24 %, food 14 %, books 10 %, gift cards 0 %) for orders shipped there.
//! - Currencies SEK (default) and EUR; channels 1 "Nordic Outfitters Storefront" (SEK, EUR
//!   enabled) and 2 "Nordic Outfitters EU" (EUR).
//! - Locations 1 (default, Stockholm) and 2 (Göteborg warehouse).
//! - 50 products: the 30 simple products in [`SIMPLE_PRODUCTS`] (tracked by product) and the
//!   20 products in [`VARIANT_PRODUCTS`] with three option variants each (tracked by variant):
//!   90 SKUs in all, listed by [`demo_skus`]. The Visma simulator's demo items use the same SKUs.
//! - Price lists "EUR storefront" (EUR records for every SKU) and "Wholesale" (SEK).
//! - Customer groups Retail (default), Wholesale (10 %), VIP; 12 customers with addresses.
//! - 36 orders spread over the last 40 days in every status that matters to the sync: paid
//!   (Awaiting Fulfillment), partially shipped, shipped, completed, refunded, partially refunded,
//!   cancelled, pending, awaiting payment, incomplete; EUR orders on channel 2; tax-exclusive
//!   B2B orders (created while the store was switched to exclusive prices); a manual discount.
//! - Coupons FJALL10 (10 % off) and SOMMAR200 (200 kr off the order), each redeemed by one
//!   seeded order through the storefront checkout (see `orders::checkout`): FJALL10 on a
//!   tax-inclusive order, SOMMAR200 on a tax-exclusive one, both with shipping.
//!
//! Everything comes from a seeded RNG, so two starts with the same `rng_seed` are identical
//! except for timestamps (relative to the start time).

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::state::*;
use super::{catalog, customers, orders, refunds};

/// Simple products: (sku, name, price in SEK incl. VAT, tax class id, weight kg).
pub const SIMPLE_PRODUCTS: [(&str, &str, i64, u64, &str); 30] = [
    ("LL-MUG-01", "Enamel Camp Mug", 149, 0, "0.30"),
    ("LL-BOTTLE-075", "Steel Bottle 0.75 l", 299, 0, "0.40"),
    ("LL-LANTERN-01", "Hurricane Lantern", 449, 0, "1.10"),
    ("LL-KNIFE-MORA", "Mora Bushcraft Knife", 399, 0, "0.20"),
    ("LL-AXE-HATCHET", "Forest Hatchet", 1290, 0, "0.90"),
    ("LL-STOVE-GAS", "Compact Gas Stove", 649, 0, "0.35"),
    ("LL-POT-SET", "Nesting Pot Set", 549, 0, "0.80"),
    ("LL-TENT-2P", "Fjäll Tent 2P", 4990, 0, "2.40"),
    ("LL-TENT-3P", "Fjäll Tent 3P", 6490, 0, "3.10"),
    ("LL-MAT-SELF", "Self-inflating Mat", 899, 0, "1.00"),
    ("LL-PILLOW-AIR", "Air Pillow", 249, 0, "0.12"),
    ("LL-HEADLAMP-300", "Headlamp 300 lm", 499, 0, "0.09"),
    ("LL-COMPASS-BASE", "Baseplate Compass", 349, 0, "0.05"),
    ("LL-MAP-KEBNE", "Map Kebnekaise 1:50000", 169, 5, "0.10"),
    ("LL-BOOK-FORAGE", "Nordic Foraging Handbook", 279, 5, "0.60"),
    ("LL-BOOK-KNOTS", "Field Guide to Knots", 199, 5, "0.30"),
    ("LL-COFFEE-500", "Campfire Coffee 500 g", 129, 4, "0.50"),
    ("LL-CHOC-BAR", "Dark Trail Chocolate", 39, 4, "0.10"),
    ("LL-MEAL-CHILI", "Freeze-dried Chili Meal", 119, 4, "0.15"),
    ("LL-MEAL-PASTA", "Freeze-dried Pasta Meal", 119, 4, "0.15"),
    ("LL-GIFTCARD-500", "Gift Card 500 kr", 500, 1, "0.00"),
    ("LL-FIRSTAID-KIT", "First Aid Kit", 329, 0, "0.35"),
    ("LL-ROPE-30M", "Utility Rope 30 m", 259, 0, "0.90"),
    ("LL-CARABINER-3", "Carabiner 3-pack", 189, 0, "0.15"),
    ("LL-SEAT-PAD", "Sit Pad", 99, 0, "0.06"),
    ("LL-THERMOS-05", "Thermos 0.5 l", 379, 0, "0.45"),
    ("LL-TARP-3X3", "Tarp 3x3 m", 799, 0, "0.70"),
    ("LL-HAMMOCK", "Travel Hammock", 599, 0, "0.55"),
    ("LL-FIRESTEEL", "Fire Steel", 149, 0, "0.04"),
    ("LL-SPORK-TI", "Titanium Spork", 129, 0, "0.02"),
];

/// Products with three option variants: (product sku, name, price in SEK incl. VAT, option name, [(variant sku, option label); 3]).
/// (product sku, name, price, option name, [(variant sku, option label); 3]).
pub type VariantProduct = (
    &'static str,
    &'static str,
    i64,
    &'static str,
    [(&'static str, &'static str); 3],
);

pub const VARIANT_PRODUCTS: [VariantProduct; 20] = [
    (
        "LL-JKT-ARCTIC",
        "Arctic Down Jacket",
        2990,
        "Size",
        [
            ("LL-JKT-ARCTIC-S", "S"),
            ("LL-JKT-ARCTIC-M", "M"),
            ("LL-JKT-ARCTIC-L", "L"),
        ],
    ),
    (
        "LL-JKT-RAIN",
        "Rain Shell Jacket",
        1890,
        "Size",
        [
            ("LL-JKT-RAIN-S", "S"),
            ("LL-JKT-RAIN-M", "M"),
            ("LL-JKT-RAIN-L", "L"),
        ],
    ),
    (
        "LL-FLEECE-MID",
        "Mid-layer Fleece",
        899,
        "Size",
        [
            ("LL-FLEECE-MID-S", "S"),
            ("LL-FLEECE-MID-M", "M"),
            ("LL-FLEECE-MID-L", "L"),
        ],
    ),
    (
        "LL-PANTS-HIKE",
        "Hiking Pants",
        1290,
        "Size",
        [
            ("LL-PANTS-HIKE-S", "S"),
            ("LL-PANTS-HIKE-M", "M"),
            ("LL-PANTS-HIKE-L", "L"),
        ],
    ),
    (
        "LL-BASE-MERINO",
        "Merino Base Layer",
        749,
        "Size",
        [
            ("LL-BASE-MERINO-S", "S"),
            ("LL-BASE-MERINO-M", "M"),
            ("LL-BASE-MERINO-L", "L"),
        ],
    ),
    (
        "LL-SOCKS-WOOL",
        "Wool Hiking Socks",
        189,
        "Size",
        [
            ("LL-SOCKS-WOOL-36-39", "36-39"),
            ("LL-SOCKS-WOOL-40-43", "40-43"),
            ("LL-SOCKS-WOOL-44-47", "44-47"),
        ],
    ),
    (
        "LL-BOOT-TREK",
        "Trekking Boots",
        2490,
        "Size",
        [
            ("LL-BOOT-TREK-40", "40"),
            ("LL-BOOT-TREK-42", "42"),
            ("LL-BOOT-TREK-44", "44"),
        ],
    ),
    (
        "LL-GLOVES-WARM",
        "Insulated Gloves",
        449,
        "Size",
        [
            ("LL-GLOVES-WARM-S", "S"),
            ("LL-GLOVES-WARM-M", "M"),
            ("LL-GLOVES-WARM-L", "L"),
        ],
    ),
    (
        "LL-BEANIE",
        "Knitted Beanie",
        249,
        "Colour",
        [
            ("LL-BEANIE-RED", "RED"),
            ("LL-BEANIE-GREY", "GREY"),
            ("LL-BEANIE-NAVY", "NAVY"),
        ],
    ),
    (
        "LL-BUFF",
        "Neck Gaiter",
        199,
        "Colour",
        [
            ("LL-BUFF-BLACK", "BLACK"),
            ("LL-BUFF-GREEN", "GREEN"),
            ("LL-BUFF-ORANGE", "ORANGE"),
        ],
    ),
    (
        "LL-PACK-30",
        "Daypack 30 l",
        1190,
        "Colour",
        [
            ("LL-PACK-30-BLACK", "BLACK"),
            ("LL-PACK-30-GREEN", "GREEN"),
            ("LL-PACK-30-BLUE", "BLUE"),
        ],
    ),
    (
        "LL-PACK-65",
        "Trekking Pack 65 l",
        2690,
        "Size",
        [
            ("LL-PACK-65-S", "S"),
            ("LL-PACK-65-M", "M"),
            ("LL-PACK-65-L", "L"),
        ],
    ),
    (
        "LL-BAG-DOWN",
        "Down Sleeping Bag",
        3490,
        "Length",
        [
            ("LL-BAG-DOWN-REG", "REG"),
            ("LL-BAG-DOWN-LONG", "LONG"),
            ("LL-BAG-DOWN-XL", "XL"),
        ],
    ),
    (
        "LL-BAG-SYNTH",
        "Synthetic Sleeping Bag",
        1790,
        "Length",
        [
            ("LL-BAG-SYNTH-REG", "REG"),
            ("LL-BAG-SYNTH-LONG", "LONG"),
            ("LL-BAG-SYNTH-XL", "XL"),
        ],
    ),
    (
        "LL-POLES-TREK",
        "Trekking Poles",
        799,
        "Length",
        [
            ("LL-POLES-TREK-115", "115"),
            ("LL-POLES-TREK-125", "125"),
            ("LL-POLES-TREK-135", "135"),
        ],
    ),
    (
        "LL-CAP-SUN",
        "Sun Cap",
        229,
        "Colour",
        [
            ("LL-CAP-SUN-SAND", "SAND"),
            ("LL-CAP-SUN-OLIVE", "OLIVE"),
            ("LL-CAP-SUN-BLACK", "BLACK"),
        ],
    ),
    (
        "LL-TSHIRT-TECH",
        "Technical T-shirt",
        349,
        "Size",
        [
            ("LL-TSHIRT-TECH-S", "S"),
            ("LL-TSHIRT-TECH-M", "M"),
            ("LL-TSHIRT-TECH-L", "L"),
        ],
    ),
    (
        "LL-SHORTS-TRAIL",
        "Trail Shorts",
        499,
        "Size",
        [
            ("LL-SHORTS-TRAIL-S", "S"),
            ("LL-SHORTS-TRAIL-M", "M"),
            ("LL-SHORTS-TRAIL-L", "L"),
        ],
    ),
    (
        "LL-GAITERS",
        "Trail Gaiters",
        349,
        "Size",
        [
            ("LL-GAITERS-S-M", "S-M"),
            ("LL-GAITERS-L-XL", "L-XL"),
            ("LL-GAITERS-XXL", "XXL"),
        ],
    ),
    (
        "LL-DRYBAG",
        "Dry Bag",
        179,
        "Volume",
        [
            ("LL-DRYBAG-5L", "5L"),
            ("LL-DRYBAG-10L", "10L"),
            ("LL-DRYBAG-20L", "20L"),
        ],
    ),
];

/// Every SKU of the demo store (simple products, then variants), in catalog order; all but
/// `LL-GIFTCARD-500` (digital, untracked) keep stock. Stable across releases: the Visma
/// simulator seeds matching items from [`SIMPLE_PRODUCTS`] and [`VARIANT_PRODUCTS`].
pub fn demo_skus() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SIMPLE_PRODUCTS.iter().map(|p| p.0).collect();
    for p in VARIANT_PRODUCTS.iter() {
        v.extend(p.4.iter().map(|(sku, _)| *sku));
    }
    v
}

const EUR_RATE: &str = "0.0870";

/// (email, first name, last name, company, street, city, postcode, customer group).
type DemoCustomer = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u64,
);

const CUSTOMERS: [DemoCustomer; 12] = [
    (
        "anna.lindqvist@example.se",
        "Anna",
        "Lindqvist",
        "",
        "Sveavägen 12",
        "Stockholm",
        "11157",
        1,
    ),
    (
        "erik.johansson@example.se",
        "Erik",
        "Johansson",
        "",
        "Kungsgatan 4",
        "Göteborg",
        "41119",
        1,
    ),
    (
        "maja.nilsson@example.se",
        "Maja",
        "Nilsson",
        "",
        "Stortorget 3",
        "Malmö",
        "21122",
        3,
    ),
    (
        "lars.berg@example.se",
        "Lars",
        "Berg",
        "Berg Friluft AB",
        "Industrivägen 8",
        "Umeå",
        "90130",
        2,
    ),
    (
        "sofia.karlsson@example.se",
        "Sofia",
        "Karlsson",
        "",
        "Drottninggatan 55",
        "Uppsala",
        "75310",
        1,
    ),
    (
        "johan.eriksson@example.se",
        "Johan",
        "Eriksson",
        "Fjällguiden HB",
        "Storgatan 20",
        "Östersund",
        "83130",
        2,
    ),
    (
        "elin.andersson@example.se",
        "Elin",
        "Andersson",
        "",
        "Västra Hamngatan 9",
        "Göteborg",
        "41117",
        1,
    ),
    (
        "oskar.persson@example.se",
        "Oskar",
        "Persson",
        "",
        "Norra Vallgatan 40",
        "Malmö",
        "21125",
        1,
    ),
    (
        "ida.svensson@example.se",
        "Ida",
        "Svensson",
        "",
        "Hamngatan 2",
        "Linköping",
        "58226",
        3,
    ),
    (
        "mikko.virtanen@example.fi",
        "Mikko",
        "Virtanen",
        "",
        "Mannerheimintie 5",
        "Helsinki",
        "00100",
        1,
    ),
    (
        "lena.schmidt@example.de",
        "Lena",
        "Schmidt",
        "",
        "Hauptstraße 17",
        "Berlin",
        "10115",
        1,
    ),
    (
        "pieter.devries@example.nl",
        "Pieter",
        "de Vries",
        "Buiten BV",
        "Damrak 70",
        "Amsterdam",
        "1012LM",
        2,
    ),
];

fn dec(s: &str) -> Decimal {
    s.parse().expect("seed decimal")
}

pub(crate) fn demo(store: &mut Store, now: DateTime<Utc>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ev = orders::Events::new();
    let start = now - Duration::days(60);

    store.currencies.push(Currency {
        id: 2,
        code: "EUR".into(),
        name: "Euro".into(),
        is_default: false,
        exchange_rate: dec(EUR_RATE),
        country_iso2: "FI".into(),
        token: "€".into(),
        enabled: true,
        is_transactional: true,
        last_updated: start,
    });
    // Distance sales to Finland (the EU channel's market) carry Finnish VAT, as the EU's
    // one-stop-shop rules require: 24 % standard (shipping and wrapping follow it), 14 % food,
    // 10 % books, 0 % gift cards. The Finnish company books these orders at the same rates.
    store.tax_zones.push(TaxZone {
        countries: vec!["FI".into()],
        rates: vec![
            (0, dec("0.24")),
            (1, Decimal::ZERO),
            (2, dec("0.24")),
            (3, dec("0.24")),
            (4, dec("0.14")),
            (5, dec("0.10")),
        ],
    });
    store.channels[0].enabled_currencies = vec!["SEK".into(), "EUR".into()];
    store.channels[0].date_created = start;
    store.channels[0].date_modified = start;
    store.channels.push(Channel {
        id: 2,
        name: "Nordic Outfitters EU".into(),
        platform: "bigcommerce".into(),
        kind: "storefront".into(),
        status: "active".into(),
        external_id: String::new(),
        is_visible: true,
        date_created: start,
        date_modified: start,
        enabled_currencies: vec!["EUR".into()],
        default_currency: Some("EUR".into()),
    });
    store.locations.push(Location {
        id: 2,
        code: "GBG-WH".into(),
        label: "Göteborg warehouse".into(),
        enabled: true,
        created_at: start,
        updated_at: start,
    });
    store.next_id("location", 2);

    for (name, pct, default) in [
        ("Retail", "0", true),
        ("Wholesale", "10", false),
        ("VIP", "5", false),
    ] {
        let id = store.next_id("customer_group", 1);
        store.customer_groups.insert(
            id,
            CustomerGroup {
                id,
                name: name.into(),
                is_default: default,
                discount_percent: dec(pct),
                date_created: start,
                date_modified: start,
            },
        );
    }

    // Catalog, through the same code path as POST /v3/catalog/products.
    for (sku, name, price, class, weight) in SIMPLE_PRODUCTS {
        let body = json!({"name": name, "type": if class == 1 { "digital" } else { "physical" }, "sku": sku, "price": price, "weight": weight,
                          "tax_class_id": class, "cost_price": price * 45 / 100, "inventory_tracking": if class == 1 { "none" } else { "product" },
                          "inventory_level": rng.random_range(60..400), "channels": [1, 2]});
        catalog::create(store, &body, start, &mut ev).expect("seed product");
    }
    for (sku, name, price, option, variants) in VARIANT_PRODUCTS {
        let vs: Vec<Value> = variants
            .iter()
            .map(|(vsku, label)| {
                json!({"sku": vsku, "price": price,
                       "option_values": [{"option_display_name": option, "label": label}],
                       "inventory_level": rng.random_range(40..250)})
            })
            .collect();
        let body = json!({"name": name, "type": "physical", "sku": sku, "price": price, "weight": "1.0", "tax_class_id": 0,
                          "cost_price": price * 45 / 100, "variants": vs, "channels": [1, 2]});
        catalog::create(store, &body, start, &mut ev).expect("seed product");
    }
    // Absolute stock at the second location for every other SKU.
    let holders: Vec<u64> = store
        .products
        .values()
        .filter(|p| p.inventory_tracking != "none")
        .flat_map(|p| {
            if p.inventory_tracking == "product" {
                vec![p.variants[0]]
            } else {
                p.variants.clone()
            }
        })
        .collect();
    for (i, v) in holders.iter().enumerate() {
        if i % 2 == 0 {
            let st = store.stock.entry((*v, 2)).or_default();
            st.on_hand = rng.random_range(10..120);
            st.absolute_done = true;
            st.is_in_stock = true;
        }
    }

    // Price lists.
    let rate = dec(EUR_RATE);
    for (id, name) in [(1u64, "EUR storefront"), (2, "Wholesale")] {
        store.price_lists.insert(
            id,
            PriceList {
                id,
                name: name.into(),
                active: true,
                date_created: start,
                date_modified: start,
                records: Default::default(),
            },
        );
    }
    store.next_id("price_list", 1);
    store.next_id("price_list", 1);
    let variants: Vec<(u64, Decimal)> = store
        .variants
        .values()
        .map(|v| (v.id, store.variant_price(v)))
        .collect();
    for (vid, price) in variants {
        let eur = (price * rate).round_dp(0) - dec("0.05");
        store.price_lists.get_mut(&1).expect("list").records.insert(
            (vid, "EUR".into()),
            PriceRecord {
                price: eur,
                sale_price: None,
                retail_price: None,
                map_price: None,
                date_created: start,
                date_modified: start,
            },
        );
        store.price_lists.get_mut(&2).expect("list").records.insert(
            (vid, "SEK".into()),
            PriceRecord {
                price: (price * dec("0.8")).round_dp(2),
                sale_price: None,
                retail_price: None,
                map_price: None,
                date_created: start,
                date_modified: start,
            },
        );
    }

    for (email, first, last, company, street, city, zip, group) in CUSTOMERS {
        let (cc, country) = match email.rsplit('.').next() {
            Some("fi") => ("FI", "Finland"),
            Some("de") => ("DE", "Germany"),
            Some("nl") => ("NL", "Netherlands"),
            _ => ("SE", "Sweden"),
        };
        let body = json!({"email": email, "first_name": first, "last_name": last, "company": company, "customer_group_id": group,
                          "origin_channel_id": if cc == "SE" { 1 } else { 2 }, "channel_ids": [1, 2],
                          "addresses": [{"first_name": first, "last_name": last, "company": company, "address1": street, "city": city,
                                         "postal_code": zip, "country_code": cc, "country": country, "address_type": if company.is_empty() { "residential" } else { "commercial" }}]});
        customers::create(store, &body, start, &mut ev).expect("seed customer");
    }

    store.coupons = vec![
        Coupon {
            id: 7,
            name: "10 % off everything".into(),
            code: "FJALL10".into(),
            kind: 1,
            amount: dec("10"),
            enabled: true,
        },
        Coupon {
            id: 8,
            name: "200 kr off the order".into(),
            code: "SOMMAR200".into(),
            kind: 2,
            amount: dec("200"),
            enabled: true,
        },
    ];
    seed_orders(store, now, &mut rng);
}

/// The status each demo order ends in, in creation order.
const ORDER_PLAN: [u8; 36] = [
    11, 2, 3, 4, 14, 5, 10, 7, 1, 9, 11, 2, 3, 14, 4, 5, 0, 11, 2, 10, 11, 2, 3, 4, 14, 5, 11, 7,
    2, 11, 2, 3, 14, 4, 11, 10,
];

fn seed_orders(store: &mut Store, now: DateTime<Utc>, rng: &mut StdRng) {
    let mut ev = orders::Events::new();
    let products: Vec<(u64, Vec<u64>, bool)> = store
        .products
        .values()
        .filter(|p| p.inventory_tracking != "none")
        .map(|p| (p.id, p.variants.clone(), p.has_options))
        .collect();
    for (i, target) in ORDER_PLAN.iter().copied().enumerate() {
        let mut t = now - Duration::days(40)
            + Duration::hours(i as i64 * 26)
            + Duration::minutes(rng.random_range(0..600));
        let customer = (i % CUSTOMERS.len()) as u64 + 1;
        let c = CUSTOMERS[customer as usize - 1];
        let eur = c.0.ends_with(".fi") || c.0.ends_with(".de") || c.0.ends_with(".nl");
        // Every fourth order is a B2B order entered in a tax-exclusive store set-up.
        let exclusive = i % 4 == 3;
        store.prices_include_tax = !exclusive;
        let n_lines = rng.random_range(1..=3usize);
        let mut lines = Vec::new();
        for l in 0..n_lines {
            let (pid, vids, has_options) = &products[rng.random_range(0..products.len())];
            let qty = if l == 0 { 2 } else { rng.random_range(1..=3) };
            let mut line = json!({"product_id": pid, "quantity": qty});
            if *has_options {
                line["variant_id"] = json!(vids[rng.random_range(0..vids.len())]);
            }
            if eur {
                let vid = line
                    .get("variant_id")
                    .and_then(Value::as_u64)
                    .unwrap_or(vids[0]);
                // The EUR price list's price as entered in the store (gross or net, as the
                // store is set up); the store adds Finnish VAT to it (see the tax zone).
                let price = store.price_lists[&1].records[&(vid, "EUR".to_string())].price;
                let entered = if exclusive {
                    "price_ex_tax"
                } else {
                    "price_inc_tax"
                };
                line[entered] = json!(price.to_string());
            }
            if lines
                .iter()
                .all(|x: &Value| x["product_id"] != line["product_id"])
            {
                lines.push(line);
            }
        }
        let addr = json!({"first_name": c.1, "last_name": c.2, "company": c.3, "street_1": c.4, "city": c.5, "zip": c.6,
                          "country": if eur { "Finland" } else { "Sweden" }, "country_iso2": if eur { "FI" } else { "SE" }, "email": c.0});
        let ship = if eur { "9.90" } else { "79.00" };
        let mut body = json!({
            "customer_id": customer, "status_id": if matches!(target, 2 | 3 | 4 | 14 | 5 | 10) { 11 } else { target },
            "channel_id": if eur { 2 } else { 1 }, "billing_address": addr, "shipping_addresses": [addr],
            "products": lines, "payment_method": if i % 3 == 0 { "Klarna" } else { "Credit Card" },
            "date_created": super::http::rfc2822(&t), "customer_message": if i % 5 == 0 { "Please leave at the door." } else { "" },
        });
        if exclusive {
            body["shipping_cost_ex_tax"] = json!(ship);
        } else {
            body["shipping_cost_inc_tax"] = json!(ship);
        }
        if eur {
            body["default_currency_code"] = json!("EUR");
        }
        if i == 10 {
            body["discount_amount"] = json!(if eur { "5.00" } else { "50.00" });
        }
        // Two orders redeemed a coupon at the storefront checkout: a percentage one in the
        // tax-inclusive set-up, a fixed amount off a tax-exclusive B2B order.
        let coupon = match i {
            17 => Some("FJALL10"),
            19 => Some("SOMMAR200"),
            _ => None,
        };
        let id = match coupon {
            Some(code) => orders::checkout(store, &body, Some(code), t, &mut ev),
            None => orders::create(store, &body, t, &mut ev),
        }
        .expect("seed order");
        t += Duration::hours(3);
        let lines: Vec<(u64, u32)> = store.orders[&id]
            .lines
            .iter()
            .map(|l| (l.id, l.quantity))
            .collect();
        let address = store.orders[&id].shipping_addresses[0].id;
        match target {
            2 | 10 | 4 => {
                let items: Vec<Value> = lines
                    .iter()
                    .map(|(l, q)| json!({"order_product_id": l, "quantity": q}))
                    .collect();
                orders::ship(store, id, &json!({"order_address_id": address, "tracking_number": format!("PN{:08}", 10_000 + i), "shipping_provider": "PostNord", "items": items}), t, &mut ev).expect("seed shipment");
                if target == 10 {
                    orders::set_status(store, id, 10, t + Duration::hours(30), &mut ev)
                        .expect("seed status");
                }
                if target == 4 {
                    let mut items: Vec<Value> = lines
                        .iter()
                        .map(|(l, q)| json!({"item_type": "PRODUCT", "item_id": l, "quantity": q}))
                        .collect();
                    let ship_cost = store.orders[&id].shipping_addresses[0].cost.inc_tax;
                    if !ship_cost.is_zero() {
                        items.push(json!({"item_type": "SHIPPING", "item_id": address, "amount": ship_cost.to_string()}));
                    }
                    refund_all(store, id, items, t + Duration::days(5), &mut ev);
                }
            }
            3 => {
                let (l, _) = lines[0];
                orders::ship(store, id, &json!({"order_address_id": address, "tracking_number": format!("PN{:08}", 20_000 + i), "shipping_provider": "PostNord", "items": [{"order_product_id": l, "quantity": 1}]}), t, &mut ev).expect("seed shipment");
            }
            14 => {
                let (l, _) = lines[0];
                refund_all(
                    store,
                    id,
                    vec![
                        json!({"item_type": "PRODUCT", "item_id": l, "quantity": 1, "reason": "Wrong size"}),
                    ],
                    t + Duration::days(2),
                    &mut ev,
                );
            }
            5 => orders::set_status(store, id, 5, t, &mut ev).expect("seed cancel"),
            _ => {}
        }
        if let Some(o) = store.orders.get_mut(&id) {
            o.date_modified = o.date_modified.max(t);
        }
    }
    store.prices_include_tax = true;
}

fn refund_all(
    store: &mut Store,
    id: u64,
    items: Vec<Value>,
    t: DateTime<Utc>,
    ev: &mut orders::Events,
) {
    let total =
        refunds::quote_total(store, id, &json!({"items": items})).expect("seed refund quote");
    let provider = store.orders[&id]
        .payment_method
        .to_lowercase()
        .replace(' ', "");
    refunds::refund(store, id, &json!({"items": items, "payments": [{"provider_id": provider, "amount": total.to_string(), "offline": false}]}), t, ev).expect("seed refund");
}
