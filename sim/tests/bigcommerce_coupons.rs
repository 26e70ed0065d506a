//! Order-level discounts and coupons over real HTTP: how a discount is spread over the lines
//! (NOTES §6.4), how the lines name each discount (`applied_discounts`), and the admin
//! checkout that redeems a coupon as the storefront would (the v2 API cannot).
// Amounts in minor units are written `<units>_<cents>` (200_00 is 200.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod bigcommerce_common;
use bigcommerce_common::*;
use serde_json::{Value, json};

/// Exact cents of a v2 money string ("12.3400").
fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("{v} is not a string"));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<4}");
    assert!(frac[2..].bytes().all(|b| b == b'0'), "{s} has sub-cents");
    let neg = int.starts_with('-');
    let c: i64 = format!("{}{}", int.trim_start_matches('-'), &frac[..2])
        .parse()
        .unwrap();
    if neg { -c } else { c }
}

/// `num / den` rounded half away from zero.
fn div_round(num: i64, den: i64) -> i64 {
    (2 * num + den * num.signum()) / (2 * den)
}

async fn product_id(sim: &Sim, sku: &str) -> u64 {
    let v = sim
        .get_json(&format!("/v3/catalog/products?sku={sku}"))
        .await;
    v["data"][0]["id"].as_u64().unwrap()
}

/// 2 × Field Guide to Knots (books, 6 %) and 1 × Enamel Camp Mug (25 %), shipped in Sweden.
async fn mixed_rate_order(sim: &Sim) -> Value {
    let knots = product_id(sim, "LL-BOOK-KNOTS").await;
    let mug = product_id(sim, "LL-MUG-01").await;
    json!({
        "status_id": 11,
        "billing_address": billing(),
        "shipping_addresses": [shipping()],
        "products": [{"product_id": knots, "quantity": 2}, {"product_id": mug, "quantity": 1}],
        "shipping_cost_inc_tax": "79.00",
    })
}

/// Each line's share of `discount` as the spec puts it: `discount × price_ex_tax /
/// subtotal_ex_tax` per line (its ex-tax total), the last line taking what rounding left.
fn expected_shares(lines: &[Value], discount: i64) -> Vec<i64> {
    let subtotal_ex: i64 = lines.iter().map(|l| cents(&l["total_ex_tax"])).sum();
    let mut left = discount;
    let mut shares = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let share = if i + 1 == lines.len() {
            left
        } else {
            div_round(discount * cents(&l["total_ex_tax"]), subtotal_ex)
        };
        left -= share;
        shares.push(share);
    }
    shares
}

#[tokio::test]
async fn a_manual_discount_is_spread_by_ex_tax_totals_and_named_manual_discount() {
    let sim = Sim::start(demo()).await;
    let mut body = mixed_rate_order(&sim).await;
    body["discount_amount"] = json!("50.00");
    let r = sim.post("/v2/orders", body).await;
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    let id = o["id"].as_u64().unwrap();
    let lines = sim.get_json(&format!("/v2/orders/{id}/products")).await;
    let lines = lines.as_array().unwrap();
    let shares = expected_shares(lines, 50_00);
    // By the gross totals (398.00 and 149.00) the books would take 36.38; by the net totals
    // (375.47 and 119.20) they take 37.95.
    assert_ne!(
        shares[0],
        div_round(50_00 * 398_00, 547_00),
        "the figures must tell the two bases apart"
    );
    for (l, share) in lines.iter().zip(&shares) {
        let applied = l["applied_discounts"].as_array().unwrap();
        assert_eq!(applied.len(), 1, "{l:#}");
        assert_eq!(applied[0]["id"], "manual-discount");
        assert_eq!(applied[0]["name"], "Manual Discount");
        assert_eq!(applied[0]["code"], Value::Null);
        assert_eq!(applied[0]["target"], "order");
        assert_eq!(cents(&applied[0]["amount"]), *share, "{l:#}");
        // The discounted line is what its tax is charged on.
        assert_eq!(
            cents(&l["discounted_total_inc_tax"]),
            cents(&l["total_inc_tax"]) - share
        );
    }
    assert_eq!(cents(&o["discount_amount"]), 50_00);
    assert_eq!(cents(&o["coupon_discount"]), 0);
    assert_eq!(
        cents(&o["total_inc_tax"]),
        cents(&o["subtotal_inc_tax"]) - 50_00 + 79_00
    );
    assert_eq!(o["order_source"], "external");
    sim.stop().await;
}

async fn checkout(sim: &Sim, body: Value) -> reqwest::Response {
    sim.http
        .post(sim.admin_url("/__admin/orders/checkout"))
        .header("x-auth-token", &sim.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn checkout_redeems_a_coupon_by_code_and_the_lines_name_it() {
    let sim = Sim::start(demo()).await;
    let coupons: Value = sim
        .http
        .get(sim.admin_url("/__admin/coupons"))
        .header("x-auth-token", &sim.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fjall = coupons
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "FJALL10")
        .cloned()
        .unwrap_or_else(|| panic!("FJALL10 in {coupons:#}"));
    assert_eq!(fjall["type"], 1);

    let mut body = mixed_rate_order(&sim).await;
    body["coupon_code"] = json!("fjall10");
    let r = checkout(&sim, body).await;
    assert_eq!(r.status(), 201);
    let o: Value = r.json().await.unwrap();
    let id = o["id"].as_u64().unwrap();
    assert_eq!(o["order_source"], "www");
    // 10 % of the VAT-inclusive subtotal (the store's entry basis).
    let subtotal = cents(&o["subtotal_inc_tax"]);
    let discount = div_round(subtotal * 10, 100);
    assert_eq!(cents(&o["coupon_discount"]), discount, "{o:#}");
    assert_eq!(cents(&o["discount_amount"]), 0);
    assert_eq!(
        cents(&o["total_inc_tax"]),
        subtotal - discount + 79_00,
        "{o:#}"
    );
    let listed = sim.get_json(&format!("/v2/orders/{id}/coupons")).await;
    assert_eq!(listed[0]["code"], "FJALL10");
    assert_eq!(listed[0]["type"], 1);
    assert_eq!(listed[0]["coupon_id"], fjall["id"]);

    let lines = sim.get_json(&format!("/v2/orders/{id}/products")).await;
    let lines = lines.as_array().unwrap();
    let shares = expected_shares(lines, discount);
    for (l, share) in lines.iter().zip(&shares) {
        let applied = l["applied_discounts"].as_array().unwrap();
        assert_eq!(applied.len(), 1, "{l:#}");
        assert_eq!(applied[0]["id"], "coupon");
        assert_eq!(applied[0]["code"], "FJALL10");
        assert_eq!(applied[0]["name"], fjall["name"]);
        assert_eq!(cents(&applied[0]["amount"]), *share);
    }

    // The merchant adds a manual discount afterwards: each line names both, spread alike.
    let r = sim
        .put(
            &format!("/v2/orders/{id}"),
            json!({"discount_amount": "20.00"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let lines = sim.get_json(&format!("/v2/orders/{id}/products")).await;
    let lines = lines.as_array().unwrap();
    let manual = expected_shares(lines, 20_00);
    for (i, l) in lines.iter().enumerate() {
        let applied = l["applied_discounts"].as_array().unwrap();
        let ids: Vec<&str> = applied.iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["manual-discount", "coupon"], "{l:#}");
        assert_eq!(cents(&applied[0]["amount"]), manual[i]);
        assert_eq!(cents(&applied[1]["amount"]), shares[i]);
    }
    let o = sim.get_json(&format!("/v2/orders/{id}")).await;
    assert_eq!(
        cents(&o["total_inc_tax"]),
        subtotal - discount - 20_00 + 79_00
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_fixed_amount_coupon_in_a_tax_exclusive_store_comes_off_the_net_subtotal() {
    let sim = Sim::start(demo()).await;
    let r = sim
        .put(
            "/v3/tax/settings",
            json!({"tax_entered_with_prices": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mut body = mixed_rate_order(&sim).await;
    body.as_object_mut()
        .unwrap()
        .remove("shipping_cost_inc_tax");
    body["shipping_cost_ex_tax"] = json!("79.00");
    body["coupon_code"] = json!("SOMMAR200");
    let r = checkout(&sim, body).await;
    assert_eq!(r.status(), 201);
    let o: Value = r.json().await.unwrap();
    let id = o["id"].as_u64().unwrap();
    assert_eq!(o["is_tax_inclusive_pricing"], false);
    assert_eq!(cents(&o["coupon_discount"]), 200_00);
    let lines = sim.get_json(&format!("/v2/orders/{id}/products")).await;
    let lines = lines.as_array().unwrap();
    let shares = expected_shares(lines, 200_00);
    let mut tax = 0;
    for (l, share) in lines.iter().zip(&shares) {
        assert_eq!(cents(&l["applied_discounts"][0]["amount"]), *share);
        assert_eq!(l["applied_discounts"][0]["code"], "SOMMAR200");
        // Tax on the discounted net line, rounded per line.
        let net = cents(&l["total_ex_tax"]) - share;
        let rate = div_round(cents(&l["total_tax"]) * 100, cents(&l["total_ex_tax"]));
        tax += div_round(net * rate, 100);
    }
    tax += div_round(79_00 * 25, 100);
    assert_eq!(cents(&o["total_tax"]), tax, "{o:#}");
    assert_eq!(
        cents(&o["total_ex_tax"]),
        cents(&o["subtotal_ex_tax"]) - 200_00 + 79_00
    );
    assert_eq!(cents(&o["total_inc_tax"]), cents(&o["total_ex_tax"]) + tax);
    sim.stop().await;
}

#[tokio::test]
async fn checkout_refuses_unknown_codes_foreign_currencies_and_manual_discounts() {
    let sim = Sim::start(demo()).await;
    let before = sim.get_json("/v2/orders/count").await["count"].clone();
    let base = mixed_rate_order(&sim).await;

    let mut body = base.clone();
    body["coupon_code"] = json!("NOSUCHCODE");
    let r = checkout(&sim, body).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e.to_string().contains("NOSUCHCODE"), "{e}");

    let mut body = base.clone();
    body["coupon_code"] = json!("FJALL10");
    body["default_currency_code"] = json!("EUR");
    let r = checkout(&sim, body).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e.to_string().contains("default currency"), "{e}");

    let mut body = base.clone();
    body["coupon_code"] = json!("FJALL10");
    body["discount_amount"] = json!("5.00");
    let r = checkout(&sim, body).await;
    assert_eq!(r.status(), 400);

    let mut body = base;
    body["coupon_code"] = json!(10);
    let r = checkout(&sim, body).await;
    assert_eq!(r.status(), 400);

    assert_eq!(
        sim.get_json("/v2/orders/count").await["count"],
        before,
        "nothing was created"
    );
    sim.stop().await;
}

#[tokio::test]
async fn the_demo_seed_has_a_coupon_order_in_each_tax_basis() {
    let sim = Sim::start(demo()).await;
    let orders = sim.get_json("/v2/orders?limit=250").await;
    let mut found = Vec::new();
    for o in orders.as_array().unwrap() {
        let id = o["id"].as_u64().unwrap();
        let r = sim.get(&format!("/v2/orders/{id}/coupons")).await;
        if r.status() == 200 {
            let c: Value = r.json().await.unwrap();
            found.push((
                c[0]["code"].as_str().unwrap().to_owned(),
                o["is_tax_inclusive_pricing"].as_bool().unwrap(),
                cents(&o["shipping_cost_inc_tax"]) > 0,
                o["order_source"].as_str().unwrap().to_owned(),
            ));
        }
    }
    found.sort();
    assert_eq!(
        found,
        [
            ("FJALL10".to_owned(), true, true, "www".to_owned()),
            ("SOMMAR200".to_owned(), false, true, "www".to_owned()),
        ]
    );
    sim.stop().await;
}

#[tokio::test]
async fn a_state_file_from_before_lines_named_their_discounts_still_names_them() {
    let dir = std::env::temp_dir().join(format!("ll-sim-coupons-{}", uuid::Uuid::new_v4()));
    let file = dir.join("bigcommerce.json");
    let config = || ledgerlink_sim::bigcommerce::Config {
        auth_token: Some("coupons-test-token".into()),
        state_file: Some(file.clone()),
        ..demo()
    };
    let sim = Sim::start(config()).await;
    let mut body = mixed_rate_order(&sim).await;
    body["discount_amount"] = json!("50.00");
    let r = sim.post("/v2/orders", body).await;
    let manual_id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let mut before = Vec::new();
    for id in 100..=manual_id {
        before.push(sim.get_json(&format!("/v2/orders/{id}/products")).await);
    }
    sim.stop().await;

    // The file as the previous version wrote it: no `applied` on the lines.
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let mut stripped = 0;
    for o in saved["state"]["orders"]
        .as_object_mut()
        .unwrap()
        .values_mut()
    {
        for l in o["lines"].as_array_mut().unwrap() {
            stripped += usize::from(l.as_object_mut().unwrap().remove("applied").is_some());
        }
    }
    assert!(stripped > 0);
    std::fs::write(&file, serde_json::to_vec(&saved).unwrap()).unwrap();

    let sim = Sim::start(config()).await;
    for (k, id) in (100..=manual_id).enumerate() {
        let after = sim.get_json(&format!("/v2/orders/{id}/products")).await;
        assert_eq!(after, before[k], "order {id} reads as before");
    }
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
