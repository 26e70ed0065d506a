//! How audit bodies are kept on disk: large ones packed (LZ4 against a dictionary), small ones
//! as text, rows from before packing still readable, secrets redacted before either, and a
//! damaged packed row reported as such. Each test runs on SQLite and, when available,
//! PostgreSQL (`LEDGERLINK_TEST_PG_URL`, see `ledgerlink_store::testing`).

use chrono::Utc;
use ledgerlink_store::{FinishOutcome, JobId, NewExchange, NewJob, Store, StoreError};
use serde_json::json;
use std::time::Duration;

#[macro_use]
mod common;
use common::{Backend, open};

/// A raw connection beside the store, to look at (and write) rows as they are on disk.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

async fn raw(backend: Backend, store: &Store) -> Raw {
    let location = store.path().to_str().unwrap().to_owned();
    match backend {
        Backend::Sqlite => Raw::Sqlite(
            sqlx::SqlitePool::connect(&format!("sqlite://{location}"))
                .await
                .unwrap(),
        ),
        Backend::Postgres => Raw::Postgres(sqlx::PgPool::connect(&location).await.unwrap()),
    }
}

/// (request text, request packed, response text, response packed) of each exchange, by id.
type StoredRow = (
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    Option<Vec<u8>>,
);

impl Raw {
    async fn stored(&self) -> Vec<StoredRow> {
        let sql = "SELECT request_body, request_body_packed, response_body, response_body_packed
                   FROM audit_exchanges ORDER BY id";
        match self {
            Raw::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Raw::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        }
    }

    async fn attempt_ids(&self) -> Vec<i64> {
        let sql = "SELECT id FROM audit_attempts ORDER BY id";
        let rows: Vec<(i64,)> = match self {
            Raw::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
            Raw::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await.unwrap(),
        };
        rows.into_iter().map(|(id,)| id).collect()
    }

    /// An exchange row written straight into the table.
    async fn insert(&self, attempt: i64, seq: i64, text: Option<&str>, packed: Option<&[u8]>) {
        let sql = "INSERT INTO audit_exchanges (attempt_id, seq, at, system, method, url,
                       response_body, response_body_packed, status, duration_us)
                   VALUES ($1, $2, 0, 'bigcommerce', 'GET', '/v2/orders/7', $3, $4, 200, 10)";
        match self {
            Raw::Sqlite(p) => {
                let q = sqlx::query(sql).bind(attempt).bind(seq).bind(text);
                q.bind(packed).execute(p).await.unwrap();
            }
            Raw::Postgres(p) => {
                let q = sqlx::query(sql).bind(attempt).bind(seq).bind(text);
                q.bind(packed).execute(p).await.unwrap();
            }
        };
    }
}

/// A BigCommerce v2 order as the API returns it (the audit's largest body), ~2.4 kB.
fn order_json(id: u64) -> String {
    r#"{"id":ID,"customer_id":0,"date_created":"Tue, 05 Mar 2024 10:11:12 +0000","date_modified":"Tue, 05 Mar 2024 10:11:12 +0000","date_shipped":"","status_id":11,"status":"Awaiting Fulfillment","custom_status":"Awaiting Fulfillment","subtotal_ex_tax":"119.2000","subtotal_inc_tax":"149.0000","subtotal_tax":"29.8000","base_shipping_cost":"0.0000","shipping_cost_ex_tax":"0.0000","shipping_cost_inc_tax":"0.0000","shipping_cost_tax":"0.0000","shipping_cost_tax_class_id":0,"base_handling_cost":"0.0000","handling_cost_ex_tax":"0.0000","handling_cost_inc_tax":"0.0000","handling_cost_tax":"0.0000","handling_cost_tax_class_id":2,"base_wrapping_cost":"0.0000","wrapping_cost_ex_tax":"0.0000","wrapping_cost_inc_tax":"0.0000","wrapping_cost_tax":"0.0000","wrapping_cost_tax_class_id":3,"total_ex_tax":"119.2000","total_inc_tax":"149.0000","total_tax":"29.8000","discount_amount":"0.0000","coupon_discount":"0.0000","store_credit_amount":"0.0000","gift_certificate_amount":"0.0000","refunded_amount":"0.0000","is_tax_inclusive_pricing":true,"items_total":1,"items_shipped":0,"payment_method":"Manual","payment_status":"captured","currency_code":"EUR","currency_exchange_rate":"1.0000000000","default_currency_code":"EUR","staff_notes":"","customer_message":"Ring twice ☎","billing_address":{"first_name":"Åsa","last_name":"Öberg","company":"","street_1":"Storgatan 1","street_2":"","city":"Malmö","state":"","zip":"21122","country":"Sweden","country_iso2":"SE","phone":"","email":"asa@example.com","form_fields":[]},"products":{"url":"https://api.bigcommerce.com/stores/abc/v2/orders/ID/products","resource":"/orders/ID/products"},"fees":[],"credit_card_type":null,"ebay_order_id":"0","is_deleted":false}"#
        .replace("ID", &id.to_string())
}

fn exchange(request_body: Option<String>, response_body: Option<String>) -> NewExchange {
    NewExchange {
        system: "visma".into(),
        method: "POST".into(),
        url: "https://visma.example/v2/customerinvoice".into(),
        request_headers: vec![],
        request_body,
        status: Some(201),
        response_headers: vec![],
        response_body,
        at: Utc::now(),
        duration: Duration::from_millis(12),
    }
}

/// Runs one job for order `order` whose attempt recorded `exchanges`.
async fn attempt(store: &Store, order: u64, exchanges: Vec<NewExchange>) -> JobId {
    let id = store
        .enqueue(&NewJob::new(
            "order.sync",
            format!("order:{order}"),
            json!({}),
        ))
        .await
        .unwrap();
    let job = store
        .lease("w", 1, Duration::from_secs(30))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.id, id);
    let mut finish = ledgerlink_store::testing::finish(&job, "w", FinishOutcome::Done);
    finish.audit.exchanges = exchanges;
    finish.audit.refs = vec![("bc_order".into(), order.to_string())];
    store.finish(&finish).await.unwrap();
    id
}

on_both_backends!(
    #[tokio::test]
    large_bodies_are_packed_and_read_back_exactly
);

async fn large_bodies_are_packed_and_read_back_exactly(backend: Backend) {
    let Some((_dir, store)) = open(backend, "large_bodies_are_packed_and_read_back_exactly").await
    else {
        return;
    };
    let order = order_json(4711);
    let note = r#"{"staff_notes":"Visma invoice 100393"}"#.to_owned();
    // A body past the audit's cap (256 KiB) is cut first, then packed.
    let huge = format!("[{}]", vec![order.as_str(); 200].join(","));
    assert!(huge.len() > 256 * 1024);
    let id = attempt(
        &store,
        4711,
        vec![
            exchange(None, Some(order.clone())),
            exchange(Some(note.clone()), Some("null".into())),
            exchange(None, Some(huge.clone())),
        ],
    )
    .await;

    let trail = store.audit_search("4711").await.unwrap();
    assert_eq!(trail.job_ids, vec![id]);
    let x = &trail.attempts[0].exchanges;
    assert_eq!(x[0].response_body.as_deref(), Some(order.as_str()));
    assert_eq!(x[0].request_body, None);
    assert_eq!(x[1].request_body.as_deref(), Some(note.as_str()));
    assert_eq!(x[1].response_body.as_deref(), Some("null"));
    let cut = x[2].response_body.as_deref().unwrap();
    assert!(cut.starts_with(&huge[..1000]), "{}", &cut[..100]);
    assert!(cut.ends_with(&format!("…[truncated {} bytes]", huge.len() - 256 * 1024)));

    let stored = raw(backend, &store).await.stored().await;
    // The order: packed only, and to well under half its size.
    let (req, req_packed, resp, resp_packed) = &stored[0];
    assert_eq!((req, req_packed, resp), (&None, &None, &None));
    let packed = resp_packed.as_ref().expect("the order is packed");
    assert!(
        packed.len() * 3 < order.len(),
        "{} of {}",
        packed.len(),
        order.len()
    );
    // Short bodies stay readable text.
    let (req, req_packed, resp, resp_packed) = &stored[1];
    assert_eq!(req.as_deref(), Some(note.as_str()));
    assert_eq!(resp.as_deref(), Some("null"));
    assert_eq!((req_packed, resp_packed), (&None, &None));
    assert!(stored[2].3.is_some() && stored[2].2.is_none());
}

on_both_backends!(
    #[tokio::test]
    secrets_are_redacted_before_packing
);

async fn secrets_are_redacted_before_packing(backend: Backend) {
    let Some((_dir, store)) = open(backend, "secrets_are_redacted_before_packing").await else {
        return;
    };
    let mut order: serde_json::Value = serde_json::from_str(&order_json(12)).unwrap();
    order["payment_provider_token"] = json!("tok_live_4242424242");
    order["billing_address"]["api_key"] = json!("k-9f8e7d6c5b");
    let form = format!(
        "grant_type=client_credentials&client_secret=s3cr3t-v4lue&scope=ea:api {}",
        "x".repeat(200)
    );
    attempt(
        &store,
        12,
        vec![exchange(Some(form), Some(order.to_string()))],
    )
    .await;

    let stored = raw(backend, &store).await.stored().await;
    assert!(
        stored[0].1.is_some() && stored[0].3.is_some(),
        "both packed"
    );
    // What is stored decodes to exactly what the audit shows: the redacted text.
    let x = &store.audit_search("12").await.unwrap().attempts[0].exchanges[0];
    let (request, response) = (
        x.request_body.as_deref().unwrap(),
        x.response_body.as_deref().unwrap(),
    );
    for secret in ["tok_live_4242424242", "k-9f8e7d6c5b", "s3cr3t-v4lue"] {
        assert!(
            !request.contains(secret) && !response.contains(secret),
            "{secret}"
        );
    }
    assert!(request.contains("client_secret=[REDACTED]&scope=ea:api"));
    let response: serde_json::Value = serde_json::from_str(response).unwrap();
    assert_eq!(response["payment_provider_token"], "[REDACTED]");
    assert_eq!(response["billing_address"]["api_key"], "[REDACTED]");
    assert_eq!(response["billing_address"]["city"], "Malmö");
}

on_both_backends!(
    #[tokio::test]
    text_rows_from_before_packing_still_read
);

async fn text_rows_from_before_packing_still_read(backend: Backend) {
    let Some((_dir, store)) = open(backend, "text_rows_from_before_packing_still_read").await
    else {
        return;
    };
    attempt(&store, 7, vec![]).await;
    let raw = raw(backend, &store).await;
    let attempt_id = raw.attempt_ids().await[0];
    // As every row was written before packing: a large body in the text column.
    let order = order_json(7);
    raw.insert(attempt_id, 0, Some(&order), None).await;
    let x = &store.audit_search("7").await.unwrap().attempts[0].exchanges;
    assert_eq!(x.len(), 1);
    assert_eq!(x[0].response_body.as_deref(), Some(order.as_str()));
}

on_both_backends!(
    #[tokio::test]
    a_damaged_packed_body_is_a_clear_error
);

async fn a_damaged_packed_body_is_a_clear_error(backend: Backend) {
    let Some((_dir, store)) = open(backend, "a_damaged_packed_body_is_a_clear_error").await else {
        return;
    };
    attempt(&store, 8, vec![]).await;
    let raw = raw(backend, &store).await;
    let attempt_id = raw.attempt_ids().await[0];
    // Codec 1, claims 500 bytes, then bytes that are no LZ4 block of them.
    let mut damaged = vec![1u8];
    damaged.extend_from_slice(&500u32.to_le_bytes());
    damaged.extend_from_slice(&[0xff; 16]);
    raw.insert(attempt_id, 0, None, Some(&damaged)).await;
    match store.audit_search("8").await {
        Err(StoreError::Corrupt { what, value }) => {
            assert_eq!(what, "audit_exchanges.response_body_packed");
            assert!(value.contains("packed body"), "{value}");
        }
        other => panic!("expected a corrupt-row error, got {other:?}"),
    }
}
