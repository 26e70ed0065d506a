//! Contract test: every endpoint the client uses answers (on the demo store) with a body that
//! validates against the response schema of the official spec file in
//! `../shared/specs/bigcommerce/`.

mod bigcommerce_common;
use bigcommerce_common::*;
use ledgerlink_sim::openapi::Spec;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/bigcommerce")
}

struct Specs(HashMap<&'static str, Spec>);

impl Specs {
    fn load() -> Specs {
        let mut m = HashMap::new();
        for f in [
            "orders.v2.oas2.yml",
            "orders.v3.yml",
            "products_catalog.v3.yml",
            "product-variants_catalog.v3.yml",
            "inventory.v3.yml",
            "locations.v3.yml",
            "customers.v3.yml",
            "customers.v2.yml",
            "channels.v3.yml",
            "currencies.v2.yml",
            "tax_classes.v2.yml",
            "tax_settings.v3.yml",
            "store_information.v2.yml",
            "price_lists.v3.yml",
            "webhooks.v3.yml",
            "settings.v3.yml",
        ] {
            let path = spec_dir().join(f);
            m.insert(
                f,
                Spec::load(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display())),
            );
        }
        Specs(m)
    }
}

struct Ctx<'a> {
    sim: &'a Sim,
    specs: &'a Specs,
    failures: Vec<String>,
}

/// Call, then validate the answer against `spec › method template status`.
async fn check(
    c: &mut Ctx<'_>,
    spec: &str,
    method: &str,
    template: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let sim = c.sim;
    let req = match method {
        "GET" => sim.http.get(sim.url(path)),
        "POST" => sim.http.post(sim.url(path)),
        "PUT" => sim.http.put(sim.url(path)),
        "DELETE" => sim.http.delete(sim.url(path)),
        _ => unreachable!(),
    };
    let req = req.header("x-auth-token", &sim.token);
    let req = match &body {
        Some(b) => req.json(b),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let bytes = r.bytes().await.unwrap();
    let value: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    if !(200..300).contains(&status) {
        c.failures
            .push(format!("{method} {path}: status {status}: {value}"));
        return value;
    }
    // Empty v2 collections answer 204 without a body (NOTES §3), also where the spec only
    // documents 200.
    if status == 204 && value.is_null() {
        return value;
    }
    if let Err(errs) = c.specs.0[spec].validate_response(method, template, status, &value) {
        c.failures.push(format!(
            "{method} {path} ({spec} {template} {status}):\n    {}",
            errs.join("\n    ")
        ));
    }
    value
}

#[tokio::test]
async fn demo_store_answers_match_the_official_schemas() {
    let specs = Specs::load();
    let sim = Sim::start(ledgerlink_sim::bigcommerce::Config {
        quota: None,
        ..demo()
    })
    .await;
    let mut c = Ctx {
        sim: &sim,
        specs: &specs,
        failures: Vec::new(),
    };
    let o2 = "orders.v2.oas2.yml";
    let o3 = "orders.v3.yml";

    let orders = check(&mut c, o2, "GET", "/orders", "/v2/orders?limit=250", None).await;
    let orders = orders.as_array().expect("orders");
    assert!(orders.len() >= 30);
    check(&mut c, o2, "GET", "/orders/count", "/v2/orders/count", None).await;
    check(
        &mut c,
        o2,
        "GET",
        "/order_statuses",
        "/v2/order_statuses",
        None,
    )
    .await;
    check(
        &mut c,
        o2,
        "GET",
        "/order_statuses/{status_id}",
        "/v2/order_statuses/11",
        None,
    )
    .await;
    // Every demo order with all its sub-resources.
    for o in orders {
        let id = o["id"].as_u64().unwrap();
        check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}",
            &format!("/v2/orders/{id}"),
            None,
        )
        .await;
        let lines = check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/products",
            &format!("/v2/orders/{id}/products"),
            None,
        )
        .await;
        let lid = lines[0]["id"].as_u64().unwrap_or_else(|| {
            panic!(
                "order {id} lines: {lines}; failures so far: {:#?}",
                c.failures
            )
        });
        check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/products/{product_id}",
            &format!("/v2/orders/{id}/products/{lid}"),
            None,
        )
        .await;
        let addrs = check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/shipping_addresses",
            &format!("/v2/orders/{id}/shipping_addresses"),
            None,
        )
        .await;
        let aid = addrs[0]["id"].as_u64().unwrap();
        check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/shipping_addresses/{id}",
            &format!("/v2/orders/{id}/shipping_addresses/{aid}"),
            None,
        )
        .await;
        check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/coupons",
            &format!("/v2/orders/{id}/coupons"),
            None,
        )
        .await;
        check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/taxes",
            &format!("/v2/orders/{id}/taxes"),
            None,
        )
        .await;
        check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/taxes",
            &format!("/v2/orders/{id}/taxes?details=true"),
            None,
        )
        .await;
        let ships = check(
            &mut c,
            o2,
            "GET",
            "/orders/{order_id}/shipments",
            &format!("/v2/orders/{id}/shipments"),
            None,
        )
        .await;
        if let Some(sid) = ships.get(0).and_then(|s| s["id"].as_u64()) {
            check(
                &mut c,
                o2,
                "GET",
                "/orders/{order_id}/shipments/{shipment_id}",
                &format!("/v2/orders/{id}/shipments/{sid}"),
                None,
            )
            .await;
        }
        check(
            &mut c,
            o3,
            "GET",
            "/orders/{order_id}/payment_actions/refunds",
            &format!("/v3/orders/{id}/payment_actions/refunds"),
            None,
        )
        .await;
        check(
            &mut c,
            o3,
            "GET",
            "/orders/{order_id}/transactions",
            &format!("/v3/orders/{id}/transactions"),
            None,
        )
        .await;
    }
    check(
        &mut c,
        o2,
        "GET",
        "/orders/{order_id}/shipments/count",
        &format!("/v2/orders/{}/shipments/count", orders[0]["id"]),
        None,
    )
    .await;
    let refunds = check(
        &mut c,
        o3,
        "GET",
        "/orders/payment_actions/refunds",
        "/v3/orders/payment_actions/refunds",
        None,
    )
    .await;
    let rid = refunds["data"][0]["id"].as_u64().expect("demo has refunds");
    check(
        &mut c,
        o3,
        "GET",
        "/orders/payment_actions/refunds/{refund_id}",
        &format!("/v3/orders/payment_actions/refunds/{rid}"),
        None,
    )
    .await;

    // Writes: create an order, update it, ship, quote, refund, metafields.
    let p = check(
        &mut c,
        "products_catalog.v3.yml",
        "GET",
        "/catalog/products",
        "/v3/catalog/products?include=variants&limit=5",
        None,
    )
    .await;
    let pid = p["data"][0]["id"].as_u64().unwrap();
    let body = json!({"billing_address": billing(), "shipping_addresses": [shipping()], "status_id": 11,
                      "products": [{"product_id": pid, "quantity": 2}], "shipping_cost_inc_tax": 49});
    let o = check(&mut c, o2, "POST", "/orders", "/v2/orders", Some(body)).await;
    let oid = o["id"].as_u64().unwrap();
    check(
        &mut c,
        o2,
        "PUT",
        "/orders/{order_id}",
        &format!("/v2/orders/{oid}"),
        Some(json!({"staff_notes": "Visma 1001"})),
    )
    .await;
    let (lid, aid) = sim.first_line_and_address(oid).await;
    check(
        &mut c,
        o2,
        "POST",
        "/orders/{order_id}/shipments",
        &format!("/v2/orders/{oid}/shipments"),
        Some(json!({"order_address_id": aid, "items": [{"order_product_id": lid, "quantity": 1}]})),
    )
    .await;
    let items = json!([{"item_type": "PRODUCT", "item_id": lid, "quantity": 1}]);
    let q = check(
        &mut c,
        o3,
        "POST",
        "/orders/{order_id}/payment_actions/refund_quotes",
        &format!("/v3/orders/{oid}/payment_actions/refund_quotes"),
        Some(json!({"items": items})),
    )
    .await;
    let amount = q["data"]["total_refund_amount"].clone();
    let provider = q["data"]["refund_methods"][0][0]["provider_id"].clone();
    check(&mut c, o3, "POST", "/orders/{order_id}/payment_actions/refunds", &format!("/v3/orders/{oid}/payment_actions/refunds"),
          Some(json!({"items": items, "payments": [{"provider_id": provider, "amount": amount, "offline": false}]}))).await;
    let m = check(&mut c, o3, "POST", "/orders/{order_id}/metafields", &format!("/v3/orders/{oid}/metafields"),
                  Some(json!({"namespace": "visma", "key": "invoice", "value": "1001", "permission_set": "app_only"}))).await;
    let mid = m["data"]["id"].as_u64().unwrap();
    check(
        &mut c,
        o3,
        "GET",
        "/orders/{order_id}/metafields",
        &format!("/v3/orders/{oid}/metafields"),
        None,
    )
    .await;
    check(
        &mut c,
        o3,
        "PUT",
        "/orders/{order_id}/metafields/{metafield_id}",
        &format!("/v3/orders/{oid}/metafields/{mid}"),
        Some(json!({"value": "1002"})),
    )
    .await;
    check(
        &mut c,
        o3,
        "GET",
        "/orders/{order_id}/metafields/{metafield_id}",
        &format!("/v3/orders/{oid}/metafields/{mid}"),
        None,
    )
    .await;

    // Catalog.
    let pc = "products_catalog.v3.yml";
    let pv = "product-variants_catalog.v3.yml";
    check(
        &mut c,
        pc,
        "GET",
        "/catalog/products/{product_id}",
        &format!("/v3/catalog/products/{pid}?include=variants"),
        None,
    )
    .await;
    check(
        &mut c,
        pc,
        "GET",
        "/catalog/products",
        "/v3/catalog/products?sku:in=LL-MUG-01,LL-TENT-2P",
        None,
    )
    .await;
    check(
        &mut c,
        pc,
        "PUT",
        "/catalog/products/{product_id}",
        &format!("/v3/catalog/products/{pid}"),
        Some(json!({"price": 199})),
    )
    .await;
    let np = check(&mut c, pc, "POST", "/catalog/products", "/v3/catalog/products",
                   Some(json!({"name": "Contract Product", "type": "physical", "price": 10, "weight": 1, "sku": "CT-1"}))).await;
    let npid = np["data"]["id"].as_u64().unwrap();
    let vs = check(
        &mut c,
        pv,
        "GET",
        "/catalog/products/{product_id}/variants",
        &format!("/v3/catalog/products/{pid}/variants"),
        None,
    )
    .await;
    let vid = vs["data"][0]["id"].as_u64().unwrap();
    check(
        &mut c,
        pv,
        "GET",
        "/catalog/products/{product_id}/variants/{variant_id}",
        &format!("/v3/catalog/products/{pid}/variants/{vid}"),
        None,
    )
    .await;
    check(
        &mut c,
        pv,
        "PUT",
        "/catalog/products/{product_id}/variants/{variant_id}",
        &format!("/v3/catalog/products/{pid}/variants/{vid}"),
        Some(json!({"upc": "123"})),
    )
    .await;
    check(&mut c, pv, "POST", "/catalog/products/{product_id}/variants", &format!("/v3/catalog/products/{npid}/variants"),
          Some(json!({"sku": "CT-1-RED", "price": 12, "option_values": [{"option_display_name": "Colour", "label": "Red"}]}))).await;
    check(
        &mut c,
        pv,
        "GET",
        "/catalog/variants",
        "/v3/catalog/variants?sku=LL-JKT-ARCTIC-M",
        None,
    )
    .await;
    let pl = "price_lists.v3.yml";
    check(&mut c, pl, "GET", "/pricelists", "/v3/pricelists", None).await;
    check(
        &mut c,
        pl,
        "GET",
        "/pricelists/{price_list_id}",
        "/v3/pricelists/1",
        None,
    )
    .await;
    check(
        &mut c,
        pl,
        "GET",
        "/pricelists/{price_list_id}/records",
        "/v3/pricelists/1/records?limit=5",
        None,
    )
    .await;
    check(
        &mut c,
        pl,
        "PUT",
        "/pricelists/{price_list_id}/records/{variant_id}/{currency_code}",
        &format!("/v3/pricelists/1/records/{vid}/EUR"),
        Some(json!({"price": 19.95})),
    )
    .await;

    check(
        &mut c,
        pl,
        "PUT",
        "/pricelists/{price_list_id}/records",
        "/v3/pricelists/2/records",
        Some(json!([{"variant_id": vid, "currency": "sek", "price": 99.5}])),
    )
    .await;
    check(
        &mut c,
        "tax_settings.v3.yml",
        "PUT",
        "/tax/settings",
        "/v3/tax/settings",
        Some(json!({"tax_entered_with_prices": true})),
    )
    .await;
    check(
        &mut c,
        o3,
        "DELETE",
        "/orders/{order_id}/metafields/{metafield_id}",
        &format!("/v3/orders/{oid}/metafields/{mid}"),
        None,
    )
    .await;

    // Inventory and locations.
    let inv = "inventory.v3.yml";
    check(
        &mut c,
        inv,
        "GET",
        "/inventory/items",
        "/v3/inventory/items?sku:in=LL-MUG-01,LL-JKT-ARCTIC-M",
        None,
    )
    .await;
    check(
        &mut c,
        inv,
        "GET",
        "/inventory/locations/{location_id}/items",
        "/v3/inventory/locations/1/items?limit=5",
        None,
    )
    .await;
    check(&mut c, inv, "PUT", "/inventory/adjustments/absolute", "/v3/inventory/adjustments/absolute",
          Some(json!({"reason": "Visma sync", "items": [{"location_id": 1, "sku": "LL-MUG-01", "quantity": 50}]}))).await;
    check(
        &mut c,
        inv,
        "POST",
        "/inventory/adjustments/relative",
        "/v3/inventory/adjustments/relative",
        Some(json!({"items": [{"location_id": 1, "sku": "LL-MUG-01", "quantity": -5}]})),
    )
    .await;
    check(
        &mut c,
        "locations.v3.yml",
        "GET",
        "/inventory/locations",
        "/v3/inventory/locations",
        None,
    )
    .await;

    // Customers, channels, currencies, tax, store.
    check(
        &mut c,
        "customers.v3.yml",
        "GET",
        "/customers",
        "/v3/customers?include=addresses",
        None,
    )
    .await;
    check(
        &mut c,
        "customers.v3.yml",
        "GET",
        "/customers/addresses",
        "/v3/customers/addresses",
        None,
    )
    .await;
    check(
        &mut c,
        "customers.v3.yml",
        "POST",
        "/customers",
        "/v3/customers",
        Some(json!([{"email": "new@example.se", "first_name": "Ny", "last_name": "Kund"}])),
    )
    .await;
    check(
        &mut c,
        "customers.v2.yml",
        "GET",
        "/customer_groups",
        "/v2/customer_groups",
        None,
    )
    .await;
    check(
        &mut c,
        "customers.v2.yml",
        "GET",
        "/customer_groups/{customer_group_id}",
        "/v2/customer_groups/2",
        None,
    )
    .await;
    check(
        &mut c,
        "channels.v3.yml",
        "GET",
        "/channels",
        "/v3/channels?include=currencies",
        None,
    )
    .await;
    check(
        &mut c,
        "channels.v3.yml",
        "GET",
        "/channels/{channel_id}",
        "/v3/channels/2",
        None,
    )
    .await;
    check(
        &mut c,
        "channels.v3.yml",
        "GET",
        "/channels/currency-assignments",
        "/v3/channels/currency-assignments",
        None,
    )
    .await;
    check(
        &mut c,
        "channels.v3.yml",
        "GET",
        "/channels/{channel_id}/currency-assignments",
        "/v3/channels/1/currency-assignments",
        None,
    )
    .await;
    check(
        &mut c,
        "currencies.v2.yml",
        "GET",
        "/currencies",
        "/v2/currencies",
        None,
    )
    .await;
    check(
        &mut c,
        "currencies.v2.yml",
        "GET",
        "/currencies/{id}",
        "/v2/currencies/2",
        None,
    )
    .await;
    check(
        &mut c,
        "tax_classes.v2.yml",
        "GET",
        "/tax_classes",
        "/v2/tax_classes",
        None,
    )
    .await;
    check(
        &mut c,
        "tax_classes.v2.yml",
        "GET",
        "/tax_classes/{id}",
        "/v2/tax_classes/4",
        None,
    )
    .await;
    check(
        &mut c,
        "tax_settings.v3.yml",
        "GET",
        "/tax/settings",
        "/v3/tax/settings",
        None,
    )
    .await;
    check(
        &mut c,
        "store_information.v2.yml",
        "GET",
        "/store",
        "/v2/store",
        None,
    )
    .await;
    check(
        &mut c,
        "store_information.v2.yml",
        "GET",
        "/time",
        "/v2/time",
        None,
    )
    .await;
    check(
        &mut c,
        "settings.v3.yml",
        "GET",
        "/settings/inventory",
        "/v3/settings/inventory",
        None,
    )
    .await;

    // Webhooks.
    let wh = "webhooks.v3.yml";
    check(&mut c, wh, "GET", "/hooks", "/v3/hooks", None).await;
    let h = check(&mut c, wh, "POST", "/hooks", "/v3/hooks",
                  Some(json!({"scope": "store/order/*", "destination": "https://example.com:443/hook", "headers": {"x-secret": "s"}}))).await;
    let hid = h["data"]["id"].as_u64().unwrap();
    check(
        &mut c,
        wh,
        "GET",
        "/hooks/{webhook_id}",
        &format!("/v3/hooks/{hid}"),
        None,
    )
    .await;
    check(
        &mut c,
        wh,
        "PUT",
        "/hooks/{webhook_id}",
        &format!("/v3/hooks/{hid}"),
        Some(json!({"is_active": false})),
    )
    .await;
    check(&mut c, wh, "GET", "/hooks", "/v3/hooks", None).await;
    check(
        &mut c,
        wh,
        "DELETE",
        "/hooks/{webhook_id}",
        &format!("/v3/hooks/{hid}"),
        None,
    )
    .await;

    let f = std::mem::take(&mut c.failures);
    sim.stop().await;
    assert!(
        f.is_empty(),
        "{} contract failures:\n{}",
        f.len(),
        f.join("\n")
    );
}

#[test]
fn spec_examples_validate_and_broken_bodies_do_not() {
    let spec = Spec::load(spec_dir().join("orders.v2.oas2.yml")).unwrap();
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(spec_dir().join("examples/order_v2_get.json")).unwrap(),
    )
    .unwrap();
    spec.validate_response("GET", "/orders/{order_id}", 200, &example)
        .unwrap();
    let mut broken = example.clone();
    broken["id"] = json!("218");
    broken["billing_address"] = json!(7);
    assert!(
        spec.validate_response("GET", "/orders/{order_id}", 200, &broken)
            .is_err()
    );
    let v3 = Spec::load(spec_dir().join("orders.v3.yml")).unwrap();
    let refund: Value = serde_json::from_str(
        &std::fs::read_to_string(spec_dir().join("examples/refund_v3_get.json")).unwrap(),
    )
    .unwrap();
    v3.validate_response(
        "GET",
        "/orders/payment_actions/refunds/{refund_id}",
        200,
        &refund,
    )
    .unwrap();
    let hooks = Spec::load(spec_dir().join("webhooks.v3.yml")).unwrap();
    // NOTES §17.12: an empty hook list is valid.
    hooks
        .validate_response("GET", "/hooks", 200, &json!({"data": [], "meta": {}}))
        .unwrap();
}
