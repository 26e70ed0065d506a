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
                vec![line("MUG-CERAMIC", 1.0, 100.0)],
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
        token_ttl: Duration::from_millis(300),
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
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = s.get("/v1/customer").await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert!(
        expired.body["ExceptionMessage"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let anonymous = h.http.get(h.url("/v1/customer")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn commit_then_drop_really_commits() {
    let h = demo().await;
    let s = h.session(0).await;
    h.admin(
        Method::POST,
        "/__admin/faults",
        Some(json!({"commit_then_drop_ratio": 1.0, "methods": ["POST"]})),
    )
    .await;
    let result = s
        .send(
            Method::POST,
            "/v2/customerinvoice",
            Some(&invoice_body(
                GUEST_CUSTOMER,
                "BC-DROP-1",
                vec![line("TEA-100G", 2.0, 50.0)],
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
                vec![line("TEA-100G", 1.0, 50.0)],
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    h.sim.shutdown().await;
}
