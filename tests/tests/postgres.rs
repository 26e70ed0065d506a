//! The host on PostgreSQL end to end: the same harness as `orders.rs` (both simulators, the
//! host, the standard plugin over real HTTP), with `host.database_url` naming a fresh
//! PostgreSQL database (`LEDGERLINK_TEST_PG_URL`, see `ledgerlink_store::testing`; skipped
//! with a note when it is not set, a failure when `LEDGERLINK_REQUIRE_PG=1`).

use ledgerlink::store::{IdentityKey, Store};
use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::{Harness, order_body, standard_plugin};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_sync_to_visma_with_the_store_on_postgres() {
    let Some(url) = ledgerlink::store::testing::pg_test_database("orders_sync_on_postgres").await
    else {
        return;
    };
    let config_url = url.clone();
    let h = Harness::start_configured(standard_plugin(), move |c| {
        c.host.database_url = Some(config_url);
    })
    .await
    .unwrap();
    // The host wrote nothing to the data dir's SQLite file: the store is on PostgreSQL.
    assert!(!h.dir.path().join("ledgerlink.sqlite").exists());

    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut orders = Vec::new();
    for n in 0..5u64 {
        let lines = [(mug, 1 + n % 2), (bottle, 1)];
        orders.push(h.create_order(order_body(1, &lines, None)).await.unwrap());
    }
    for &id in &orders {
        h.wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await
        .unwrap();
    }
    // Settle: the poller's backstop and the write-back echoes must not add documents.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let docs = h.visma_documents(SE_TENANT).await.unwrap();
    for &id in &orders {
        let n = docs
            .iter()
            .filter(|d| {
                d["kind"] == "customer_invoice"
                    && d["external_reference"]
                        .as_str()
                        .is_some_and(|r| r.ends_with(&format!(":{id}")))
            })
            .count();
        assert_eq!(n, 1, "order {id}: invoices in Visma");
    }

    // What the host recorded, read back from PostgreSQL by a second connection.
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend_name(), "postgres");
    let invoices = store.identities_of_kind("invoice").await.unwrap();
    for &id in &orders {
        assert!(
            invoices
                .iter()
                .any(|(bc, _, _)| bc.ends_with(&format!(":{id}"))),
            "order {id} mapped: {invoices:?}"
        );
    }
    let (bc_id, visma_id, _) = &invoices[0];
    let key = IdentityKey::new(ledgerlink::core::LegalEntityId::new("se"), "invoice", bc_id);
    assert_eq!(
        store.identity(&key).await.unwrap().as_deref(),
        Some(visma_id.as_str())
    );
    let trail = store.audit_search(&orders[0].to_string()).await.unwrap();
    assert!(
        !trail.attempts.is_empty(),
        "audit trail of order {}",
        orders[0]
    );
    assert_eq!(store.open_intent_count().await.unwrap(), 0);
    h.shutdown().await.unwrap();
}
