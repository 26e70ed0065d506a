//! Create-then-confirm: lost replies never turn into duplicates.

use crate::harness::*;
use futures::StreamExt;
use ledgerlink_core::ErrorClass;
use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_visma::{Origin, VismaError};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;

/// Counts the simulator's invoices per external reference.
async fn invoice_refs(h: &Harness) -> HashMap<String, usize> {
    let mut refs = HashMap::new();
    for d in h.documents(SE_TENANT).await {
        if d["kind"] == "customer_invoice" {
            let r = d["external_reference"].as_str().unwrap_or("").to_owned();
            *refs.entry(r).or_default() += 1;
        }
    }
    refs
}

#[tokio::test]
async fn every_reply_lost_still_gives_exactly_200_invoices() {
    let h = Harness::start().await;
    let client = h.client();
    h.set_faults(json!({
        "commit_then_drop_ratio": 1.0,
        "methods": ["POST"],
        "path_prefix": "/v2/customerinvoice",
    }))
    .await;
    let results: Vec<_> = futures::stream::iter(0..200)
        .map(|i| {
            let client = client.clone();
            async move {
                let reference = r(format!("bc-order-{i}"));
                client
                    .create_invoice_once(&se(), &reference, &se_invoice(1, Decimal::from(129)))
                    .await
                    .map(|c| (reference, c))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    h.clear_faults().await;

    for res in &results {
        let (reference, created) = res.as_ref().expect("every invoice ends confirmed");
        assert_eq!(created.origin, Origin::ConfirmedAfterLostReply);
        assert_eq!(
            created.doc.external_reference.as_deref(),
            Some(reference.as_str())
        );
    }
    let refs = invoice_refs(&h).await;
    assert_eq!(
        refs.values().sum::<usize>(),
        200,
        "invoices in the simulator"
    );
    assert_eq!(refs.len(), 200, "distinct references");
    assert!(
        refs.values().all(|n| *n == 1),
        "an invoice was created twice"
    );
    let stats = h.stats().await;
    assert_eq!(stats["dropped_after_commit"], 200);
    assert_eq!(client.stats().confirm_lookups, 200);
}

#[tokio::test]
async fn mixed_faults_on_creates_still_give_one_invoice_each() {
    let h = Harness::start().await;
    let client = h.client();
    // 5xx before processing, dropped connections after commit, and plain successes.
    h.set_faults(json!({
        "error_ratio": 0.25,
        "commit_then_drop_ratio": 0.35,
        "methods": ["POST"],
        "path_prefix": "/v2/customerinvoice",
        "seed": 7,
    }))
    .await;
    let results: Vec<_> = futures::stream::iter(0..120)
        .map(|i| {
            let client = client.clone();
            async move {
                let res = client
                    .create_invoice_once(
                        &se(),
                        &r(format!("mix-{i}")),
                        &se_invoice(2, Decimal::new(4990, 2)),
                    )
                    .await;
                (i, res)
            }
        })
        .buffer_unordered(12)
        .collect()
        .await;
    h.clear_faults().await;
    let mut origins: HashMap<String, usize> = HashMap::new();
    for (i, res) in results {
        let c = match res {
            Ok(c) => c,
            // At 60 % faults a create can fail all of its attempts; the engine then retries
            // the job later, which calls this again: that call must find or create exactly one.
            Err(VismaError::OutcomeUnknown { .. }) => {
                *origins.entry("UnknownThenRetried".into()).or_default() += 1;
                client
                    .create_invoice_once(
                        &se(),
                        &r(format!("mix-{i}")),
                        &se_invoice(2, Decimal::new(4990, 2)),
                    )
                    .await
                    .expect("created or confirmed on the retry")
            }
            Err(e) => panic!("created or confirmed: {e:?}"),
        };
        *origins.entry(format!("{:?}", c.origin)).or_default() += 1;
    }
    let refs = invoice_refs(&h).await;
    assert_eq!(refs.len(), 120);
    assert!(refs.values().all(|n| *n == 1), "duplicates: {refs:?}");
    // The seeded faults hit both paths.
    assert!(
        origins.get("Created").copied().unwrap_or(0) > 0,
        "{origins:?}"
    );
    assert!(
        origins.get("ConfirmedAfterLostReply").copied().unwrap_or(0) > 0,
        "{origins:?}"
    );
    let stats = h.stats().await;
    assert!(stats["injected_errors"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn server_errors_on_every_create_end_unknown_with_nothing_written() {
    let h = Harness::start().await;
    let client = h.client();
    h.set_faults(json!({
        "error_ratio": 1.0,
        "methods": ["POST"],
        "path_prefix": "/v2/customerinvoice",
    }))
    .await;
    let err = client
        .create_invoice_once(&se(), &r("doomed-1"), &se_invoice(1, Decimal::from(10)))
        .await
        .expect_err("every attempt fails");
    assert!(matches!(err, VismaError::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Unknown);
    h.clear_faults().await;
    assert!(
        client
            .find_invoice_by_ref(&se(), &r("doomed-1"))
            .await
            .unwrap()
            .is_none()
    );
    // Each create attempt was preceded by a confirming lookup except the first.
    let stats = h.stats().await;
    assert_eq!(stats["injected_errors"], 6);
}

#[tokio::test]
async fn ensure_finds_what_an_earlier_run_created() {
    let h = Harness::start().await;
    let client = h.client();
    let reference = r("bc-order-77");
    let first = client
        .create_invoice_once(&se(), &reference, &se_invoice(1, Decimal::from(129)))
        .await
        .unwrap();
    assert_eq!(first.origin, Origin::Created);
    assert!(first.created_now());
    // A job re-run after a crash: the lookup finds the invoice and nothing is sent.
    let before = h.requests().await;
    let again = client
        .ensure_invoice(&se(), &reference, &se_invoice(1, Decimal::from(129)))
        .await
        .unwrap();
    assert_eq!(again.origin, Origin::AlreadyExisted);
    assert_eq!(again.doc.reference_number, first.doc.reference_number);
    assert_eq!(h.requests().await - before, 1, "one lookup, no create");
    assert_eq!(invoice_refs(&h).await.get("bc-order-77"), Some(&1));
}

#[tokio::test]
async fn created_invoice_carries_erp_computed_totals() {
    let h = Harness::start().await;
    let client = h.client();
    let c = client
        .create_invoice_once(&se(), &r("totals-1"), &se_invoice(2, Decimal::from(100)))
        .await
        .unwrap();
    let inv = c.doc;
    assert_eq!(inv.customer.unwrap().number.as_deref(), Some("10000"));
    assert_eq!(inv.currency_id.as_deref(), Some("SEK"));
    assert_eq!(
        inv.amount_in_currency.or(inv.amount),
        Some(Decimal::from(250))
    );
    assert_eq!(
        inv.vat_total_in_currency.or(inv.vat_total),
        Some(Decimal::from(50))
    );
    assert_eq!(inv.invoice_lines.len(), 1);
    assert_eq!(inv.invoice_lines[0].quantity, Some(Decimal::from(2)));
}
