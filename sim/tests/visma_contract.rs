//! Contract test: the Visma simulator's responses validate against the ERP OpenAPI file in
//! `../shared/specs/visma/`. The spec's traps (NOTES §5) are checked explicitly on top of the
//! schemas: the validator does not check `format`, so date-times are checked here for a UTC
//! offset; nothing is nullable, so a `null` anywhere is an error; `Location` on 201 and error
//! bodies are not declared in the spec, so they are checked by hand; 204 responses are declared
//! with an object schema but carry no body.

mod visma_common;

use std::path::PathBuf;

use ledgerlink_sim::openapi::Spec;
use ledgerlink_sim::visma::GUEST_CUSTOMER;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use visma_common::*;

fn spec() -> Spec {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/specs/visma/visma-net-erp-api_v1_2025-04-24.openapi.json");
    let path = if path.exists() {
        path
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/specs/visma/visma-net-erp-api_v1_2025-04-24.openapi.json")
    };
    Spec::load(&path).expect("ERP spec loads")
}

/// NOTES §5: every string that looks like a date-time must carry an offset, and no value may
/// be `null`.
fn check_traps(path: &str, v: &Value, at: &str, errors: &mut Vec<String>) {
    match v {
        Value::Null => errors.push(format!("{path}: null at {at}")),
        Value::Object(m) => {
            for (k, x) in m {
                check_traps(path, x, &format!("{at}/{k}"), errors);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                check_traps(path, x, &format!("{at}/{i}"), errors);
            }
        }
        Value::String(s) => {
            let looks_like_dt = s.len() >= 19
                && s.as_bytes()[4] == b'-'
                && s.as_bytes()[10] == b'T'
                && s[..4].chars().all(|c| c.is_ascii_digit());
            if looks_like_dt && chrono::DateTime::parse_from_rfc3339(s).is_err() {
                errors.push(format!("{path}: date-time without offset {s:?} at {at}"));
            }
        }
        _ => {}
    }
}

struct Checker {
    spec: Spec,
    errors: Vec<String>,
    checked: usize,
}

impl Checker {
    fn check(&mut self, method: &str, template: &str, concrete: &str, r: &Reply) {
        self.checked += 1;
        if r.status == StatusCode::NO_CONTENT {
            // Trap: the spec gives 204 responses a `type: object` schema, but a 204 cannot
            // carry a body (RFC 9110 §15.3.5); the real ERP sends none. Require an empty body.
            if !r.body.is_null() {
                self.errors
                    .push(format!("{method} {concrete}: 204 with a body"));
            }
            return;
        }
        let body = if r.body.is_null() {
            Value::Null
        } else {
            r.body.clone()
        };
        if let Err(e) = self
            .spec
            .validate_response(method, template, r.status.as_u16(), &body)
        {
            for x in e {
                self.errors
                    .push(format!("{method} {concrete} {}: {x}", r.status));
            }
        }
        check_traps(concrete, &body, "", &mut self.errors);
    }
}

#[tokio::test]
async fn responses_validate_against_the_erp_spec() {
    let h = demo().await;
    let se = h.session(0).await;
    let mut c = Checker {
        spec: spec(),
        errors: Vec::new(),
        checked: 0,
    };

    // Writes first, so reads have every kind of document to return.
    let cust = se
        .post(
            "/v1/customer",
            &json!({"name": v("Contract AB"), "corporateId": v("556000-0000"),
                    "mainAddress": v(json!({"addressLine1": v("Gatan 1"), "city": v("Stockholm"), "countryId": v("SE")})),
                    "mainContact": v(json!({"email": v("c@example.com")}))}),
        )
        .await;
    assert_eq!(cust.status, StatusCode::CREATED);
    c.check("POST", "/v1/customer", "/v1/customer", &cust);
    assert!(cust.header("location").unwrap().contains("/v1/customer/"));

    let mut mug = line("LL-MUG-01", 2.0, 99.5);
    mug["discountPercent"] = v(5);
    let inv = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                GUEST_CUSTOMER,
                "BC-CONTRACT",
                vec![mug, line("LL-BOOK-FORAGE", 1.0, 299.0)],
            ),
        )
        .await;
    c.check("POST", "/v2/customerinvoice", "/v2/customerinvoice", &inv);
    let inv_no = inv.location_key();
    let rel = se
        .post(
            &format!("/v1/customerinvoice/{inv_no}/action/release"),
            &json!({}),
        )
        .await;
    c.check(
        "POST",
        "/v1/customerinvoice/{invoiceNumber}/action/release",
        "release invoice",
        &rel,
    );
    let cn = se
        .post(
            "/v2/customerCreditNote",
            &json!({"customerNumber": v(GUEST_CUSTOMER), "externalReference": v("BC-CONTRACT-CN"),
                    "lines": [line("LL-MUG-01", 1.0, 10.0)],
                    "applicationLines": [{"operation": "Insert", "documentType": v("Invoice"),
                                          "refNbr": v(inv_no.clone()), "amountPaid": v(12.5)}]}),
        )
        .await;
    c.check(
        "POST",
        "/v2/customerCreditNote",
        "/v2/customerCreditNote",
        &cn,
    );
    let cn_no = cn.location_key();
    let rel = se
        .post(
            &format!("/v1/customerCreditNote/{cn_no}/action/release"),
            &json!({}),
        )
        .await;
    c.check(
        "POST",
        "/v1/customerCreditNote/{creditNoteNumber}/action/release",
        "release credit note",
        &rel,
    );
    let pay = se
        .post(
            "/v1/customerPayment",
            &json!({"customer": v(GUEST_CUSTOMER), "paymentAmount": v(50),
                    "paymentLines": [{"documentType": v("Invoice"), "refNbr": v(inv_no.clone()), "amountPaid": v(50)}]}),
        )
        .await;
    c.check("POST", "/v1/customerPayment", "/v1/customerPayment", &pay);
    let pay_no = pay.location_key();
    let rel = se
        .post(
            &format!("/v1/customerPayment/{pay_no}/action/release"),
            &json!({}),
        )
        .await;
    c.check(
        "POST",
        "/v1/customerPayment/{paymentNumber}/action/release",
        "release payment",
        &rel,
    );
    let item = se
        .post(
            "/v1/inventory",
            &json!({"inventoryNumber": v("CONTRACT-1"), "itemClass": v("GOODS"), "description": v("Contract item"),
                    "vatCode": v("HIGH"), "defaultPrice": v(10), "defaultWarehouse": v("MAIN")}),
        )
        .await;
    c.check("POST", "/v1/inventory", "/v1/inventory", &item);
    let xref = se
        .post(
            "/v1/inventory/CONTRACT-1/crossReferences",
            &json!({"alternateType": v("Barcode"), "alternateID": v("7310000000001")}),
        )
        .await;
    assert_eq!(xref.status, StatusCode::CREATED);
    for (path, lines_field) in [
        ("/v1/inventoryReceipt", "receiptLines"),
        ("/v1/inventoryissue", "issueLines"),
        ("/v1/inventoryadjustment", "adjustmentLines"),
    ] {
        let r = se
            .post(
                path,
                &json!({ lines_field: [{"inventoryNumber": v("LL-MUG-01"), "warehouseId": v("MAIN"), "quantity": v(1)}] }),
            )
            .await;
        c.check("POST", path, path, &r);
        let number = r.location_key();
        let release_template = match path {
            "/v1/inventoryReceipt" => "/v1/inventoryReceipt/{invoiceNumber}/action/release",
            "/v1/inventoryissue" => "/v1/inventoryissue/{invoiceNumber}/action/release",
            _ => "/v1/inventoryadjustment/{adjRefNumber}/action/release",
        };
        let rel = se
            .post(&format!("{path}/{number}/action/release"), &json!({}))
            .await;
        c.check("POST", release_template, path, &rel);
        let get_template = match path {
            "/v1/inventoryReceipt" => "/v1/inventoryReceipt/{inventoryReceiptNumber}",
            "/v1/inventoryissue" => "/v1/inventoryissue/{inventoryIssueNumber}",
            _ => "/v1/inventoryadjustment/{inventoryAdjustmentNumber}",
        };
        let concrete = format!("{path}/{number}");
        let got = se.get(&concrete).await;
        c.check("GET", get_template, &concrete, &got);
        let list = se.get(path).await;
        c.check("GET", path, path, &list);
    }

    let reads: Vec<(&str, String)> = vec![
        (
            "/v1/customer",
            "/v1/customer?pageNumber=1&pageSize=10".into(),
        ),
        (
            "/v1/customer/{customerCd}",
            format!("/v1/customer/{GUEST_CUSTOMER}"),
        ),
        (
            "/v1/customerinvoice",
            "/v1/customerinvoice?expandApplications=true&expandTaxDetails=true".into(),
        ),
        (
            "/v1/customerinvoice/{invoiceNumber}",
            format!("/v1/customerinvoice/{inv_no}"),
        ),
        (
            "/v1/customerCreditNote",
            "/v1/customerCreditNote?expandApplications=true".into(),
        ),
        (
            "/v1/customerCreditNote/{creditNoteNumber}",
            format!("/v1/customerCreditNote/{cn_no}"),
        ),
        ("/v1/customerPayment", "/v1/customerPayment".into()),
        (
            "/v1/customerPayment/{paymentNumber}",
            format!("/v1/customerPayment/{pay_no}"),
        ),
        (
            "/v1/inventory",
            "/v1/inventory?expandWarehouseDetail=true".into(),
        ),
        (
            "/v1/inventory/{inventoryNumber}",
            "/v1/inventory/CONTRACT-1".into(),
        ),
        (
            "/v1/inventorysummary/{inventoryNumber}",
            "/v1/inventorysummary/LL-MUG-01".into(),
        ),
        ("/v1/organization", "/v1/organization".into()),
        ("/v1/branch", "/v1/branch".into()),
        ("/v1/branch/{branchNumber}", "/v1/branch/1".into()),
        ("/v1/warehouse", "/v1/warehouse".into()),
        ("/v1/warehouse/{warehouseID}", "/v1/warehouse/MAIN".into()),
        ("/v1/vat", "/v1/vat".into()),
        ("/v1/vatCategory", "/v1/vatCategory".into()),
        (
            "/v1/vatCategory/{taxCategoryId}",
            "/v1/vatCategory/HIGH".into(),
        ),
        ("/v1/vatZone", "/v1/vatZone".into()),
        ("/v1/vatZone/{vatZoneId}", "/v1/vatZone/SE".into()),
        ("/v1/paymentmethod", "/v1/paymentmethod".into()),
        (
            "/v1/paymentmethod/{paymentMethodNumber}",
            "/v1/paymentmethod/CARD".into(),
        ),
        ("/v1/creditTerm", "/v1/creditTerm".into()),
        ("/v1/currency", "/v1/currency".into()),
        ("/v1/currency/{curyId}", "/v1/currency/EUR".into()),
        ("/v2/currencyrate", "/v2/currencyrate".into()),
    ];
    for (template, concrete) in &reads {
        let r = se.get(concrete).await;
        assert_eq!(r.status, StatusCode::OK, "GET {concrete}: {:?}", r.body);
        assert!(
            !(r.body.is_array() && r.body.as_array().unwrap().is_empty()),
            "GET {concrete} returned nothing to validate"
        );
        c.check("GET", template, concrete, &r);
    }

    // A v3 sales order invoiced with the ERP's prepareInvoice action: the action's reply and
    // the invoice (lines naming the order) validate like any other.
    let so = se
        .post(
            "/salesorder/api/v3/SalesOrders",
            &json!({"type": "SO", "customer": {"id": GUEST_CUSTOMER},
                    "billing": {"address": {"line1": "Gatan 1", "city": "Stockholm", "countryId": "SE"}},
                    "orderLines": [{"inventoryId": "LL-MUG-01", "quantity": 1, "unitPrice": 100}]}),
        )
        .await;
    assert_eq!(so.status, StatusCode::CREATED, "{:?}", so.body);
    let so_no = so.location_key();
    let prepared = se
        .post(
            &format!("/v2/salesorder/SO/{so_no}/action/prepareInvoice"),
            &json!({}),
        )
        .await;
    assert_eq!(
        prepared.status,
        StatusCode::NO_CONTENT,
        "{:?}",
        prepared.body
    );
    c.check(
        "POST",
        "/v2/salesorder/{orderType}/{orderNumber}/action/prepareInvoice",
        "prepare invoice",
        &prepared,
    );
    let order = se
        .get(&format!("/salesorder/api/v3/SalesOrders/SO/{so_no}"))
        .await;
    let so_inv_no = order.body["financialInformation"]["invoiceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let so_inv = se.get(&format!("/v1/customerinvoice/{so_inv_no}")).await;
    assert_eq!(so_inv.body["invoiceLines"][0]["soOrderNbr"], so_no.as_str());
    c.check(
        "GET",
        "/v1/customerinvoice/{invoiceNumber}",
        "invoice made from a sales order",
        &so_inv,
    );

    // Updates answer 204 with no body.
    let tag = se
        .get(&format!("/v1/customer/{GUEST_CUSTOMER}"))
        .await
        .header("etag")
        .unwrap();
    let put = se
        .put(
            &format!("/v1/customer/{GUEST_CUSTOMER}"),
            &json!({"note": v("checked")}),
            Some(&tag),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    c.check("PUT", "/v1/customer/{customerCd}", "PUT customer", &put);

    // Error bodies are undeclared: check their shape by hand.
    let missing = se.get("/v1/customerinvoice/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for key in [
        "ExceptionType",
        "ExceptionMessage",
        "ExceptionFaultCode",
        "ExceptionMessageID",
    ] {
        assert!(
            missing.body[key].is_string(),
            "error body lacks {key}: {}",
            missing.body
        );
    }

    assert!(
        c.errors.is_empty(),
        "{} contract violations:\n{}",
        c.errors.len(),
        c.errors.join("\n")
    );
    assert!(c.checked >= 45, "only {} responses checked", c.checked);
    let _ = h.admin(Method::GET, "/__admin/stats", None).await;
    h.sim.shutdown().await;
}

#[test]
fn the_spec_traps_are_real() {
    // Guards the explicit checks above: the spec really declares nothing nullable and the
    // validator really rejects a null where a string is declared.
    let spec = spec();
    let bad = json!({"number": null});
    assert!(spec.validate_schema("CustomerDto", &bad).is_err());
    let mut errors = Vec::new();
    check_traps("x", &json!({"d": "2025-05-01T00:00:00"}), "", &mut errors);
    assert_eq!(errors.len(), 1);
    errors.clear();
    check_traps(
        "x",
        &json!({"d": "2025-05-01T00:00:00.000+00:00"}),
        "",
        &mut errors,
    );
    assert!(errors.is_empty());
}
