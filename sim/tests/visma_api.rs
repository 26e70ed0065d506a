//! Behaviour of the Visma.net ERP simulator over real HTTP on 127.0.0.1.

mod visma_common;

use std::time::Duration;

use ledgerlink_sim::visma::{Config, GUEST_CUSTOMER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use visma_common::*;

#[tokio::test]
async fn token_is_bound_to_one_company() {
    let h = demo().await;
    let se = h.session(0).await;
    let fi = h.session(1).await;

    let created = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                GUEST_CUSTOMER,
                "BC-ISO-1",
                vec![line("LL-MUG-01", 1.0, 100.0)],
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let number = created.location_key();
    assert!(
        se.get(&format!("/v1/customerinvoice/{number}"))
            .await
            .status
            .is_success()
    );

    // The Finnish token sees nothing of the Swedish company.
    let read = fi.get(&format!("/v1/customerinvoice/{number}")).await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    assert_eq!(read.body["ExceptionType"], "IPPException");
    let listed = fi
        .get("/v1/customerinvoice?externalReference=BC-ISO-1")
        .await;
    assert_eq!(listed.body, json!([]));
    let write = fi
        .put(
            &format!("/v1/customerinvoice/{number}"),
            &json!({"invoiceText": v("hijack")}),
            None,
        )
        .await;
    assert_eq!(write.status, StatusCode::NOT_FOUND);
    let release = fi
        .post(
            &format!("/v1/customerinvoice/{number}/action/release"),
            &json!({}),
        )
        .await;
    assert_eq!(release.status, StatusCode::NOT_FOUND);
    // And the Swedish document is unchanged.
    let again = se.get(&format!("/v1/customerinvoice/{number}")).await;
    assert!(again.body.get("invoiceText").is_none());
    assert_eq!(again.body["status"], "Balanced");

    // SalesOrders v3 is just as separate.
    let so_base = format!("{}/api/v3/SalesOrders", h.sim.info().salesorder_base_url);
    let order = json!({"type": "SO", "customer": {"id": GUEST_CUSTOMER},
                       "orderLines": [{"inventoryId": "LL-MUG-01", "quantity": 1}]});
    let so = se
        .send(Method::POST, &so_base, Some(&order), &[])
        .await
        .unwrap();
    assert_eq!(so.status, StatusCode::CREATED, "{:?}", so.body);
    let so_url = so.header("location").unwrap();
    let foreign = fi.send(Method::GET, &so_url, None, &[]).await.unwrap();
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let listed = fi.send(Method::GET, &so_base, None, &[]).await.unwrap();
    assert_eq!(listed.body["totalCount"], 0);
    let cancel = fi
        .send(Method::POST, &format!("{so_url}/cancel"), None, &[])
        .await
        .unwrap();
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);

    // Documents, customers and items of one company are separate.
    let fi_customer = fi
        .post("/v1/customer", &json!({"name": v("Only in Finland")}))
        .await;
    let key = fi_customer.location_key();
    assert_eq!(
        se.get(&format!("/v1/customer/{key}")).await.status,
        StatusCode::NOT_FOUND
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_and_bad_credentials_are_refused() {
    let h = start(Config {
        token_ttl: Duration::from_millis(1000),
        ..Config::default()
    })
    .await;
    let info = h.sim.info().clone();
    let wrong = h
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &info.client_id),
            ("client_secret", "nope"),
            ("tenant_id", &h.tenant(0)),
        ])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let no_tenant = h
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &info.client_id),
            ("client_secret", &info.client_secret),
        ])
        .await;
    assert_eq!(no_tenant.status(), StatusCode::BAD_REQUEST);
    let body: Value = no_tenant.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    let s = h.session(0).await;
    assert_eq!(s.get("/v1/customer").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = s.get("/v1/customer").await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(expired.message().contains("expired"));
    let anonymous = h.http.get(h.url("/v1/customer")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn commit_then_drop_really_commits() {
    let h = demo().await;
    let s = h.session(0).await;
    h.set_faults(json!({"commit_then_drop_ratio": 1.0, "methods": ["POST"]}))
        .await;
    let result = s
        .send(
            Method::POST,
            "/v2/customerinvoice",
            Some(&invoice_body(
                GUEST_CUSTOMER,
                "BC-DROP-1",
                vec![line("LL-CHOC-BAR", 2.0, 50.0)],
            )),
            &[],
        )
        .await;
    let err = result
        .err()
        .expect("the connection is dropped without a reply");
    assert!(!err.is_status());
    // GETs are unaffected and show the document was created exactly once.
    let found = s
        .get("/v1/customerinvoice?externalReference=BC-DROP-1")
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body.as_array().unwrap().len(), 1);
    let docs = h
        .admin(
            Method::GET,
            &format!("/__admin/documents?tenant_id={}", h.tenant(0)),
            None,
        )
        .await;
    let matching = docs
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["external_reference"] == "BC-DROP-1")
        .count();
    assert_eq!(matching, 1);
    let stats = h.admin(Method::GET, "/__admin/stats", None).await;
    assert_eq!(stats["dropped_after_commit"], 1);

    h.admin(Method::DELETE, "/__admin/faults", None).await;
    let ok = s
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                GUEST_CUSTOMER,
                "BC-DROP-2",
                vec![line("LL-CHOC-BAR", 1.0, 50.0)],
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    h.sim.shutdown().await;
}

fn f(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

#[tokio::test]
async fn erp_computes_totals_vat_and_rounding() {
    let h = demo().await;
    let se = h.session(0).await;
    // Three VAT rates, a percentage discount, and a total that needs whole-krona rounding.
    let mut mug = line("LL-MUG-01", 2.0, 99.90);
    mug["discountPercent"] = v(10);
    let body = invoice_body(
        GUEST_CUSTOMER,
        "BC-TOTALS-1",
        vec![
            mug,
            line("LL-COFFEE-500", 3.0, 119.0),
            line("LL-BOOK-FORAGE", 1.0, 299.0),
        ],
    );
    let created = se.post("/v2/customerinvoice", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let inv = se
        .get(&format!("/v1/customerinvoice/{}", created.location_key()))
        .await
        .body;
    // 2 × 99.90 = 199.80 − 10 % (19.98) = 179.82 at 25 %; 357.00 at 12 %; 299.00 at 6 %.
    let lines = inv["invoiceLines"].as_array().unwrap();
    assert_eq!(f(&lines[0]["amountInCurrency"]), 179.82);
    assert_eq!(f(&lines[0]["discountAmountInCurrency"]), 19.98);
    assert_eq!(lines[0]["vatCode"]["id"], "SE25");
    assert_eq!(lines[1]["vatCode"]["id"], "SE12");
    assert_eq!(lines[2]["vatCode"]["id"], "SE06");
    // VAT per code: 44.955 → 44.96, 42.84, 17.94.
    let tax = inv["taxDetails"].as_array().unwrap();
    let vat_of = |id: &str| f(&tax.iter().find(|t| t["taxId"] == id).unwrap()["vatAmount"]);
    assert_eq!(vat_of("SE25"), 44.96);
    assert_eq!(vat_of("SE12"), 42.84);
    assert_eq!(vat_of("SE06"), 17.94);
    assert_eq!(f(&inv["detailTotalInCurrency"]), 835.82);
    assert_eq!(f(&inv["vatTotalInCurrency"]), 105.74);
    // 941.56 rounds to 942 kronor; the difference is reported.
    assert_eq!(f(&inv["amountInCurrency"]), 942.0);
    assert_eq!(f(&inv["roundingDiff"]), 0.44);
    assert_eq!(f(&inv["balanceInCurrency"]), 942.0);
    assert_eq!(inv["status"], "Balanced");

    // A EUR invoice in the Swedish company: rounded to cents, base amounts at the table rate.
    let mut eur = invoice_body(
        GUEST_CUSTOMER,
        "BC-TOTALS-2",
        vec![line("LL-MUG-01", 1.0, 10.0)],
    );
    eur["currencyId"] = v("EUR");
    let created = se.post("/v2/customerinvoice", &eur).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let inv = se
        .get(&format!("/v1/customerinvoice/{}", created.location_key()))
        .await
        .body;
    assert_eq!(f(&inv["exchangeRate"]), 11.2);
    assert_eq!(f(&inv["amountInCurrency"]), 12.5);
    assert_eq!(f(&inv["amount"]), 140.0);

    // The Finnish company: 24 % VAT, no whole-unit rounding; default price from the item.
    let fi = h.session(1).await;
    let body = json!({
        "customerNumber": v(GUEST_CUSTOMER),
        "invoiceLines": [{"inventoryNumber": v("LL-TSHIRT-TECH-M"), "quantity": v(1)}],
    });
    let created = fi.post("/v2/customerinvoice", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let inv = fi
        .get(&format!("/v1/customerinvoice/{}", created.location_key()))
        .await
        .body;
    // The item's net EUR price: 349 kr × 0.0893 = 31.1657 incl. 24 % → 25.13 net;
    // VAT 25.13 × 24 % = 6.0312 → 6.03.
    assert_eq!(f(&inv["invoiceLines"][0]["unitPriceInCurrency"]), 25.13);
    assert_eq!(f(&inv["vatTotalInCurrency"]), 6.03);
    assert_eq!(f(&inv["amountInCurrency"]), 31.16);
    assert_eq!(f(&inv["roundingDiff"]), 0.0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn validation_errors_are_clear_and_create_nothing() {
    let h = demo().await;
    let se = h.session(0).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            invoice_body("NO-SUCH", "X1", vec![line("LL-MUG-01", 1.0, 1.0)]),
            "NO-SUCH",
        ),
        (
            invoice_body(GUEST_CUSTOMER, "X2", vec![line("NO-SUCH-ITEM", 1.0, 1.0)]),
            "NO-SUCH-ITEM",
        ),
        (
            {
                let mut l = line("LL-MUG-01", 1.0, 1.0);
                l["vatCodeId"] = v("XX99");
                invoice_body(GUEST_CUSTOMER, "X3", vec![l])
            },
            "XX99",
        ),
        (
            {
                let mut b = invoice_body(GUEST_CUSTOMER, "X4", vec![line("LL-MUG-01", 1.0, 1.0)]);
                b["currencyId"] = v("XYZ");
                b
            },
            "XYZ",
        ),
        (
            {
                let mut b = invoice_body(GUEST_CUSTOMER, "X5", vec![line("LL-MUG-01", 1.0, 1.0)]);
                b["branchNumber"] = v("99");
                b
            },
            "99",
        ),
        (
            json!({"customerNumber": GUEST_CUSTOMER, "invoiceLines": []}),
            "customerNumber",
        ),
    ];
    for (body, needle) in cases {
        let r = se.post("/v2/customerinvoice", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        let msg = r.body["ExceptionMessage"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "message {msg:?} should name {needle}");
        assert!(r.body["ExceptionMessageID"].as_str().is_some());
    }
    let bad_json = se
        .send(
            Method::POST,
            "/v2/customerinvoice",
            None,
            &[("content-type", "application/json")],
        )
        .await
        .unwrap();
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    let bad_warehouse = se
        .post(
            "/v1/inventoryadjustment",
            &json!({"adjustmentLines": [{"inventoryNumber": v("LL-MUG-01"),
                     "warehouseId": v("NOWHERE"), "quantity": v(1)}]}),
        )
        .await;
    assert_eq!(bad_warehouse.status, StatusCode::BAD_REQUEST);
    assert!(bad_warehouse.message().contains("NOWHERE"));
    let bad_category = se
        .post(
            "/v1/inventory",
            &json!({"inventoryNumber": v("NEW-1"), "itemClass": v("GOODS"), "vatCode": v("NOPE")}),
        )
        .await;
    assert_eq!(bad_category.status, StatusCode::BAD_REQUEST);
    let stats = h.admin(Method::GET, "/__admin/stats", None).await;
    assert_eq!(stats["companies"][0]["invoices"], 0);
    assert_eq!(stats["companies"][0]["inventory_documents"], 0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn etag_if_match_and_412() {
    let h = demo().await;
    let se = h.session(0).await;
    let read = se.get(&format!("/v1/customer/{GUEST_CUSTOMER}")).await;
    let tag = read.header("etag").expect("ETag on GET");
    let ok = se
        .put(
            &format!("/v1/customer/{GUEST_CUSTOMER}"),
            &json!({"name": v("Guest (web)")}),
            Some(&tag),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let new_tag = ok.header("etag").unwrap();
    assert_ne!(new_tag, tag);
    let stale = se
        .put(
            &format!("/v1/customer/{GUEST_CUSTOMER}"),
            &json!({"name": v("Lost update")}),
            Some(&tag),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let now = se.get(&format!("/v1/customer/{GUEST_CUSTOMER}")).await;
    assert_eq!(now.body["name"], "Guest (web)");
    assert_eq!(now.header("etag").unwrap(), new_tag);

    let created = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                GUEST_CUSTOMER,
                "BC-ETAG",
                vec![line("LL-MUG-01", 1.0, 10.0)],
            ),
        )
        .await;
    let path = format!("/v1/customerinvoice/{}", created.location_key());
    let tag = se.get(&path).await.header("etag").unwrap();
    let edit =
        json!({"invoiceLines": [{"operation": "Update", "lineNumber": v(1), "quantity": v(3)}]});
    assert_eq!(
        se.put(&path, &edit, Some(&tag)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        se.put(&path, &edit, Some(&tag)).await.status,
        StatusCode::PRECONDITION_FAILED
    );
    let inv = se.get(&path).await.body;
    assert_eq!(f(&inv["detailTotalInCurrency"]), 30.0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn quota_per_company_and_client_gives_429() {
    let h = start(Config {
        quota: Some(3),
        window: Duration::from_millis(1500),
        ..Config::default()
    })
    .await;
    let se = h.session(0).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = se.get("/v1/branch").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("x-ratelimit-limit").as_deref(), Some("3"));
        assert!(r.header("x-ratelimit-reset").is_some());
        remaining.push(r.header("x-ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = se.get("/v1/branch").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        limited.header("x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    assert!(limited.header("retry-after").is_some());
    assert!(limited.message().contains("quota"));

    // Another company with the same client, and the same company with another client, have
    // their own windows.
    let fi = h.session(1).await;
    assert_eq!(fi.get("/v1/branch").await.status, StatusCode::OK);
    let other = &ledgerlink_sim::visma::Config::default().clients[1];
    let resp = h
        .token_response(&[
            ("grant_type", "client_credentials"),
            ("client_id", &other.client_id),
            ("client_secret", &other.client_secret),
            ("tenant_id", &h.tenant(0)),
        ])
        .await;
    let token: Value = resp.json().await.unwrap();
    let other_session = Session {
        h: &h,
        token: token["access_token"].as_str().unwrap().to_string(),
    };
    assert_eq!(other_session.get("/v1/branch").await.status, StatusCode::OK);

    // The window resets.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(se.get("/v1/branch").await.status, StatusCode::OK);
    let stats = h.admin(Method::GET, "/__admin/stats", None).await;
    assert_eq!(stats["rate_limited"], 1);
    h.sim.shutdown().await;
}

async fn released_invoice(s: &Session<'_>, external_ref: &str, price: f64) -> String {
    let created = s
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                GUEST_CUSTOMER,
                external_ref,
                vec![line("LL-MUG-01", 1.0, price)],
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let number = created.location_key();
    let rel = s
        .post(
            &format!("/v1/customerinvoice/{number}/action/release"),
            &json!({}),
        )
        .await;
    assert_eq!(rel.status, StatusCode::OK, "{:?}", rel.body);
    assert_eq!(rel.body["actionResult"], "Done");
    number
}

#[tokio::test]
async fn credit_note_links_to_invoice_and_reduces_balance() {
    let h = demo().await;
    let se = h.session(0).await;
    // 800 + 25 % = 1000.
    let invoice = released_invoice(&se, "BC-CN-1", 800.0).await;
    let inv_path = format!("/v1/customerinvoice/{invoice}");
    assert_eq!(se.get(&inv_path).await.body["status"], "Open");

    // Credit 200 + 25 % = 250 of it.
    let cn = json!({
        "customerNumber": v(GUEST_CUSTOMER),
        "externalReference": v("BC-REFUND-1"),
        "lines": [line("LL-MUG-01", 1.0, 200.0)],
        "applicationLines": [{"operation": "Insert", "documentType": v("Invoice"),
                              "refNbr": v(invoice.clone()), "amountPaid": v(250)}],
    });
    let created = se.post("/v2/customerCreditNote", &cn).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(
        created
            .header("location")
            .unwrap()
            .contains("/v1/customerCreditNote/")
    );
    let cn_number = created.location_key();
    let cn_path = format!("/v1/customerCreditNote/{cn_number}");
    let note = se.get(&cn_path).await.body;
    assert_eq!(note["documentType"], "CreditNote");
    assert_eq!(f(&note["amountInCurrency"]), 250.0);
    assert_eq!(note["applications"][0]["refNbr"], invoice.as_str());
    assert_eq!(note["applications"][0]["released"], false);
    // Not applied before release.
    assert_eq!(
        f(&se.get(&inv_path).await.body["balanceInCurrency"]),
        1000.0
    );

    let rel = se
        .post(&format!("{cn_path}/action/release"), &json!({}))
        .await;
    assert_eq!(rel.status, StatusCode::OK, "{:?}", rel.body);
    let inv = se.get(&inv_path).await.body;
    assert_eq!(f(&inv["balanceInCurrency"]), 750.0);
    assert_eq!(inv["status"], "Open");
    assert_eq!(inv["applications"][0]["docType"], "CreditNote");
    assert_eq!(inv["applications"][0]["refNbr"], cn_number.as_str());
    assert_eq!(f(&inv["applications"][0]["amountPaid"]), 250.0);
    let note = se.get(&cn_path).await.body;
    assert_eq!(note["status"], "Closed");
    assert_eq!(note["applications"][0]["released"], true);
    // Found by our reference.
    let listed = se
        .get("/v1/customerCreditNote?externalReference=BC-REFUND-1")
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);

    // Applying more than the open balance is refused.
    let too_much = json!({
        "customerNumber": v(GUEST_CUSTOMER),
        "lines": [line("LL-MUG-01", 1.0, 800.0)],
        "applicationLines": [{"documentType": v("Invoice"), "refNbr": v(invoice.clone()),
                              "amountPaid": v(1000)}],
    });
    let r = se.post("/v2/customerCreditNote", &too_much).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.message().contains("exceeds"));
    // Another company's invoice cannot be credited.
    let fi = h.session(1).await;
    let foreign = json!({
        "customerNumber": v(GUEST_CUSTOMER),
        "lines": [line("LL-MUG-01", 1.0, 1.0)],
        "applicationLines": [{"documentType": v("Invoice"), "refNbr": v(invoice.clone()), "amountPaid": v(1)}],
    });
    assert_eq!(
        fi.post("/v2/customerCreditNote", &foreign).await.status,
        StatusCode::BAD_REQUEST
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn payment_changes_invoice_balance_and_status() {
    let h = demo().await;
    let se = h.session(0).await;
    let invoice = released_invoice(&se, "BC-PAY-1", 400.0).await; // 500.00 incl. VAT
    let pay = |amount: f64| {
        json!({
            "type": v("Payment"),
            "customer": v(GUEST_CUSTOMER),
            "paymentMethod": v("CARD"),
            "paymentAmount": v(amount),
            "paymentLines": [{"operation": "Insert", "documentType": v("Invoice"),
                              "refNbr": v(invoice.clone()), "amountPaid": v(amount)}],
        })
    };
    let p1 = se.post("/v1/customerPayment", &pay(200.0)).await;
    assert_eq!(p1.status, StatusCode::CREATED, "{:?}", p1.body);
    let p1_number = p1.location_key();
    // Unreleased payments change nothing.
    let inv_path = format!("/v1/customerinvoice/{invoice}");
    assert_eq!(f(&se.get(&inv_path).await.body["balanceInCurrency"]), 500.0);
    let rel = se
        .post(
            &format!("/v1/customerPayment/{p1_number}/action/release"),
            &json!({}),
        )
        .await;
    assert_eq!(rel.status, StatusCode::OK, "{:?}", rel.body);
    let inv = se.get(&inv_path).await.body;
    assert_eq!(f(&inv["balanceInCurrency"]), 300.0);
    assert_eq!(inv["status"], "Open");

    let p2 = se.post("/v1/customerPayment", &pay(300.0)).await;
    let rel = se
        .post(
            &format!("/v1/customerPayment/{}/action/release", p2.location_key()),
            &json!({}),
        )
        .await;
    assert_eq!(rel.status, StatusCode::OK);
    let inv = se.get(&inv_path).await.body;
    assert_eq!(f(&inv["balanceInCurrency"]), 0.0);
    assert_eq!(inv["status"], "Closed");
    let closed = se
        .get("/v1/customerinvoice?status=Closed&externalReference=BC-PAY-1")
        .await;
    assert_eq!(closed.body.as_array().unwrap().len(), 1);
    let payment = se
        .get(&format!("/v1/customerPayment/{p1_number}"))
        .await
        .body;
    assert_eq!(payment["status"], "Closed");
    // Overpaying is refused.
    assert_eq!(
        se.post("/v1/customerPayment", &pay(1.0)).await.status,
        StatusCode::BAD_REQUEST
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn stock_documents_move_stock_and_availability_timestamp() {
    let h = demo().await;
    let se = h.session(0).await;
    let before = se
        .get("/v1/inventorysummary/LL-MUG-01?warehouse=MAIN")
        .await
        .body;
    let on_hand = f(&before[0]["onHand"]);
    let since = |ts: &str| {
        format!(
            "/v1/inventory?availabilityLastModifiedDateTime={}&availabilityLastModifiedDateTimeCondition=%3E&expandWarehouseDetail=true",
            ts.replace('+', "%2B")
        )
    };
    let start = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false);
    assert_eq!(se.get(&since(&start)).await.body, json!([]));

    let adj = se
        .post(
            "/v1/inventoryadjustment",
            &json!({"externalReference": v("STOCK-1"), "adjustmentLines": [
                {"operation": "Insert", "inventoryNumber": v("LL-MUG-01"), "warehouseId": v("MAIN"), "quantity": v(5)}
            ]}),
        )
        .await;
    assert_eq!(adj.status, StatusCode::CREATED, "{:?}", adj.body);
    let number = adj.location_key();
    // Nothing moves until release.
    assert_eq!(se.get(&since(&start)).await.body, json!([]));
    let rel = se
        .post(
            &format!("/v1/inventoryadjustment/{number}/action/release"),
            &json!({}),
        )
        .await;
    assert_eq!(rel.status, StatusCode::OK, "{:?}", rel.body);
    let after = se
        .get("/v1/inventorysummary/LL-MUG-01?warehouse=MAIN")
        .await
        .body;
    assert_eq!(f(&after[0]["onHand"]), on_hand + 5.0);
    let changed = se.get(&since(&start)).await.body;
    let changed = changed.as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["inventoryNumber"], "LL-MUG-01");
    let main = changed[0]["warehouseDetails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["warehouse"] == "MAIN")
        .unwrap()
        .clone();
    assert_eq!(f(&main["quantityOnHand"]), on_hand + 5.0);

    // An issue larger than the stock fails on release and moves nothing.
    let issue = se
        .post(
            "/v1/inventoryissue",
            &json!({"issueLines": [{"inventoryNumber": v("LL-MUG-01"), "warehouseId": v("MAIN"),
                                    "quantity": v(on_hand + 100.0)}]}),
        )
        .await;
    let rel = se
        .post(
            &format!("/v1/inventoryissue/{}/action/release", issue.location_key()),
            &json!({}),
        )
        .await;
    assert_eq!(rel.status, StatusCode::BAD_REQUEST);
    let still = se
        .get("/v1/inventorysummary/LL-MUG-01?warehouse=MAIN")
        .await
        .body;
    assert_eq!(f(&still[0]["onHand"]), on_hand + 5.0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn sales_orders_v3_create_get_list_cancel() {
    let h = demo().await;
    let se = h.session(0).await;
    let so_base = format!("{}/api/v3/SalesOrders", h.sim.info().salesorder_base_url);
    let before = f(&se
        .get("/v1/inventorysummary/LL-FLEECE-MID-M?warehouse=MAIN")
        .await
        .body[0]["available"]);
    let order = json!({
        "type": "SO",
        "customer": {"id": GUEST_CUSTOMER, "refNo": "BC-ORDER-77"},
        "currencyId": "SEK",
        "freight": {"cost": 49.0},
        "paymentSettings": {"paymentMethodId": "CARD", "paymentReference": "txn_123"},
        "orderLines": [
            {"inventoryId": "LL-FLEECE-MID-M", "quantity": 2, "unitPrice": 549.0, "discountAmount": 98.0, "warehouseId": "MAIN"},
            {"inventoryId": "LL-COFFEE-500", "quantity": 1, "unitPrice": 119.0}
        ]
    });
    let created = se
        .send(Method::POST, &so_base, Some(&order), &[])
        .await
        .unwrap();
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let location = created.header("location").unwrap();
    assert!(location.starts_with(&format!("{so_base}/SO/")));
    let got = se.send(Method::GET, &location, None, &[]).await.unwrap();
    let o = &got.body;
    assert_eq!(o["customer"]["refNo"], "BC-ORDER-77");
    // Lines 1098 − 98 = 1000 (25 %) and 119 (12 %); freight 49 at 25 %.
    assert_eq!(f(&o["lineTotal"]), 1119.0);
    assert_eq!(f(&o["discountTotal"]), 98.0);
    assert_eq!(f(&o["taxTotal"]), 276.53); // (1000 + 49) × 25 % = 262.25; 119 × 12 % = 14.28
    assert_eq!(f(&o["orderTotal"]), 1444.53);
    let booked = f(&se
        .get("/v1/inventorysummary/LL-FLEECE-MID-M?warehouse=MAIN")
        .await
        .body[0]["available"]);
    assert_eq!(booked, before - 2.0);

    // Zero-based paging.
    let second = json!({"type": "SO", "customer": {"id": GUEST_CUSTOMER},
                        "orderLines": [{"inventoryId": "LL-CHOC-BAR", "quantity": 1}]});
    assert_eq!(
        se.send(Method::POST, &so_base, Some(&second), &[])
            .await
            .unwrap()
            .status,
        StatusCode::CREATED
    );
    let page0 = se
        .send(
            Method::GET,
            &format!("{so_base}?pageIndex=0&pageSize=1"),
            None,
            &[],
        )
        .await
        .unwrap()
        .body;
    let page1 = se
        .send(
            Method::GET,
            &format!("{so_base}?pageIndex=1&pageSize=1"),
            None,
            &[],
        )
        .await
        .unwrap()
        .body;
    assert_eq!(page0["totalCount"], 2);
    assert_eq!(page0["items"].as_array().unwrap().len(), 1);
    assert_ne!(page0["items"][0]["orderId"], page1["items"][0]["orderId"]);

    // PATCH needs If-Match; cancel releases the booked stock.
    let patch = json!({"note": "paid"});
    let no_match = se
        .send(Method::PATCH, &location, Some(&patch), &[])
        .await
        .unwrap();
    assert_eq!(no_match.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(no_match.body["status"], 428);
    let stale = se
        .send(
            Method::PATCH,
            &location,
            Some(&patch),
            &[("if-match", "\"nope\"")],
        )
        .await
        .unwrap();
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let tag = got.header("etag").unwrap();
    let patched = se
        .send(
            Method::PATCH,
            &location,
            Some(&patch),
            &[("if-match", &tag)],
        )
        .await
        .unwrap();
    assert_eq!(patched.status, StatusCode::OK);
    let cancelled = se
        .send(Method::POST, &format!("{location}/cancel"), None, &[])
        .await
        .unwrap();
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(cancelled.body["status"], "Cancelled");
    let after = f(&se
        .get("/v1/inventorysummary/LL-FLEECE-MID-M?warehouse=MAIN")
        .await
        .body[0]["available"]);
    assert_eq!(after, before);

    // Validation comes back as problem details.
    let bad = json!({"type": "SO", "customer": {"id": GUEST_CUSTOMER},
                     "orderLines": [{"inventoryId": "NOPE", "quantity": 1}]});
    let r = se
        .send(Method::POST, &so_base, Some(&bad), &[])
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["detail"].as_str().unwrap().contains("NOPE"));
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn page_number_paging_with_metadata_and_delta_filters() {
    let h = demo().await;
    let se = h.session(0).await;
    let mark = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    for i in 0..5 {
        let r = se
            .post(
                "/v1/customer",
                &json!({"name": v(format!("Paging {i}")),
                        "mainContact": v(json!({"email": v(format!("p{i}@example.com"))}))}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    // 2 seeded + 5 new = 7: pages of 2 are 2, 2, 2, 1.
    let p4 = se.get("/v1/customer?pageNumber=4&pageSize=2").await.body;
    let p4 = p4.as_array().unwrap();
    assert_eq!(p4.len(), 1);
    assert_eq!(p4[0]["metadata"]["totalCount"], 7);
    assert_eq!(p4[0]["metadata"]["maxPageSize"], 1000);
    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=4 {
        let items = se
            .get(&format!("/v1/customer?pageNumber={page}&pageSize=2"))
            .await
            .body;
        for c in items.as_array().unwrap() {
            assert!(seen.insert(c["number"].as_str().unwrap().to_string()));
        }
    }
    assert_eq!(seen.len(), 7);
    let since = mark.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let delta = se
        .get(&format!(
            "/v1/customer?lastModifiedDateTime={since}&lastModifiedDateTimeCondition=%3E"
        ))
        .await
        .body;
    assert_eq!(delta.as_array().unwrap().len(), 5);
    let by_mail = se.get("/v1/customer?email=p3@example.com").await.body;
    assert_eq!(by_mail[0]["name"], "Paging 3");
    let bad = se.get("/v1/customer?lastModifiedDateTime=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn injected_errors_bursts_and_timeouts() {
    let h = demo().await;
    let se = h.session(0).await;
    h.set_faults(json!({"burst_429": 2})).await;
    assert_eq!(
        se.get("/v1/branch").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        se.get("/v1/branch").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(se.get("/v1/branch").await.status, StatusCode::OK);

    h.set_faults(json!({"error_ratio": 1.0, "path_prefix": "/v2/customerinvoice"}))
        .await;
    let r = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(GUEST_CUSTOMER, "BC-ERR", vec![line("LL-MUG-01", 1.0, 1.0)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.body["ExceptionType"], "IPPException");
    assert_eq!(se.get("/v1/branch").await.status, StatusCode::OK);

    h.set_faults(json!({"timeout_ratio": 1.0, "timeout_ms": 150, "methods": ["POST"]}))
        .await;
    let started = std::time::Instant::now();
    let r = se
        .send(
            Method::POST,
            "/v2/customerinvoice",
            Some(&invoice_body(
                GUEST_CUSTOMER,
                "BC-TIMEOUT",
                vec![line("LL-MUG-01", 1.0, 1.0)],
            )),
            &[],
        )
        .await;
    assert!(r.is_err());
    assert!(started.elapsed() >= Duration::from_millis(150));
    h.admin(Method::DELETE, "/__admin/faults", None).await;
    // Neither the 500 nor the timeout created anything.
    let found = se.get("/v1/customerinvoice").await.body;
    assert_eq!(found, json!([]));
    let stats = h.admin(Method::GET, "/__admin/stats", None).await;
    assert_eq!(stats["injected_429"], 2);
    assert_eq!(stats["injected_errors"], 1);
    assert_eq!(stats["injected_timeouts"], 1);
    let bad = h
        .http
        .post(h.url("/__admin/faults"))
        .json(&json!({"error_ratio": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    h.sim.shutdown().await;
}

/// The fault that makes naive connectors write duplicates, and the pattern that avoids them:
/// with half of all creates committed but unanswered, retrying blindly duplicates invoices,
/// while looking the reference up before retrying ends with exactly one each.
#[tokio::test]
async fn commit_then_drop_duplicates_blind_retries_but_not_lookups() {
    let h = demo().await;
    let se = h.session(0).await;
    h.set_faults(json!({"commit_then_drop_ratio": 0.5, "methods": ["POST"],
                    "path_prefix": "/v2/customerinvoice", "seed": 7}))
        .await;
    let n = 60;
    let create = |r: String| {
        let body = invoice_body(GUEST_CUSTOMER, &r, vec![line("LL-MUG-01", 1.0, 10.0)]);
        let se = &se;
        async move {
            se.send(Method::POST, "/v2/customerinvoice", Some(&body), &[])
                .await
        }
    };
    for i in 0..n {
        let reference = format!("CAREFUL-{i}");
        loop {
            if create(reference.clone()).await.is_ok() {
                break;
            }
            let found = se
                .get(&format!(
                    "/v1/customerinvoice?externalReference={reference}"
                ))
                .await;
            if !found.body.as_array().unwrap().is_empty() {
                break;
            }
        }
    }
    for i in 0..n {
        let reference = format!("BLIND-{i}");
        while create(reference.clone()).await.is_err() {}
    }
    let docs = h
        .admin(
            Method::GET,
            &format!("/__admin/documents?tenant_id={}", h.tenant(0)),
            None,
        )
        .await;
    let count = |prefix: &str| {
        let mut refs: Vec<String> = docs
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["external_reference"].as_str())
            .filter(|r| r.starts_with(prefix))
            .map(str::to_string)
            .collect();
        let total = refs.len();
        refs.sort();
        refs.dedup();
        (total, refs.len())
    };
    assert_eq!(count("CAREFUL-"), (n, n));
    let (blind_total, blind_distinct) = count("BLIND-");
    assert_eq!(blind_distinct, n);
    assert!(
        blind_total > n,
        "blind retries should duplicate, got {blind_total}"
    );
    let stats = h.admin(Method::GET, "/__admin/stats", None).await;
    assert!(stats["dropped_after_commit"].as_u64().unwrap() > 0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn empty_seed_has_companies_but_no_data() {
    let h = start(Config {
        seed: ledgerlink_sim::Seed::Empty,
        ..Config::default()
    })
    .await;
    let se = h.session(0).await;
    assert_eq!(se.get("/v1/customer").await.body, json!([]));
    assert_eq!(se.get("/v1/inventory").await.body, json!([]));
    assert_eq!(
        se.get("/v1/warehouse").await.body.as_array().unwrap().len(),
        3
    );
    let r = se
        .post("/v1/customer", &json!({"name": v("First customer")}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let item = se
        .post(
            "/v1/inventory",
            &json!({"inventoryNumber": v("NEW-SKU"), "itemClass": v("GOODS"), "defaultPrice": v(100)}),
        )
        .await;
    assert_eq!(item.status, StatusCode::CREATED, "{:?}", item.body);
    let inv = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(&r.location_key(), "E-1", vec![line("NEW-SKU", 1.0, 100.0)]),
        )
        .await;
    assert_eq!(inv.status, StatusCode::CREATED, "{:?}", inv.body);
    h.sim.shutdown().await;
}
