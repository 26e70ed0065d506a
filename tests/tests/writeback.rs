//! Write-back to BigCommerce end to end: the Visma invoice number lands on the order once (a
//! metafield and a staff note), the payment status read from Visma on the schedule follows
//! the invoice's balance (open, then paid, and the order moves to the configured status), and
//! none of our own writes makes the order flow post anything again.

use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::{Harness, order_body, standard_plugin};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);
/// BigCommerce "Completed": where the merchant wants paid orders.
const PAID_STATUS: u32 = 10;

async fn documents_of(h: &Harness, order: u64) -> Vec<Value> {
    h.visma_documents(SE_TENANT)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| {
            d["external_reference"]
                .as_str()
                .is_some_and(|r| r.ends_with(&format!(":{order}")))
        })
        .collect()
}

async fn payment_checks(h: &Harness, order: u64) -> usize {
    h.jobs(&format!(
        "kind=ledgerlink/payments/check&subject=order:{order}&limit=1000"
    ))
    .await
    .unwrap()
    .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoice_number_and_payment_status_are_written_back_once() {
    let h = Harness::start_configured(standard_plugin(), |c| {
        for e in &mut c.entities {
            e.posting.paid_status_id = Some(PAID_STATUS);
        }
    })
    .await
    .unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let order = h
        .create_order(order_body(1, &[(mug, 2)], Some("49")))
        .await
        .unwrap();
    let doc = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{order}")))
        })
        .await
        .unwrap();
    let number = doc["number"].as_str().unwrap().to_owned();

    // The invoice number: a metafield and a line in the staff notes.
    let mf = h
        .wait_for("the invoice number metafield", WAIT, || async {
            Ok(h.order_metafields(order, "visma_invoice_number")
                .await?
                .into_iter()
                .next())
        })
        .await
        .unwrap();
    assert_eq!(mf["value"], number.as_str());
    assert_eq!(mf["namespace"], "ledgerlink");
    let note = format!("Visma invoice {number}");
    let o = h
        .wait_for("the staff note", WAIT, || async {
            let o = h
                .bc_send(Method::GET, &format!("/v2/orders/{order}"), None)
                .await?;
            Ok(o["staff_notes"]
                .as_str()
                .is_some_and(|n| n.contains(&note))
                .then_some(o))
        })
        .await
        .unwrap();

    // Payment status while the invoice is open.
    let open = h
        .wait_for("the open payment status", WAIT, || async {
            Ok(h.order_metafields(order, "visma_payment_status")
                .await?
                .into_iter()
                .find(|m| m["value"].as_str().is_some_and(|v| v.starts_with("open"))))
        })
        .await
        .unwrap();
    let balance = open["value"]
        .as_str()
        .unwrap()
        .trim_start_matches("open; balance ");
    assert_ne!(
        balance.parse::<rust_decimal::Decimal>().unwrap(),
        rust_decimal::Decimal::ZERO,
        "{open}"
    );
    assert_ne!(o["status_id"], PAID_STATUS);

    // The customer pays; Visma's books show it.
    let payment = json!({
        "type": {"value": "Payment"},
        "customer": {"value": doc["customer"]},
        "hold": {"value": false},
        "paymentLines": [{"documentType": {"value": "Invoice"}, "refNbr": {"value": number}}],
    });
    let resp = h
        .visma_erp("se", Method::POST, "/v1/customerPayment", Some(payment))
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let payment_no = location.rsplit('/').next().unwrap().to_owned();
    h.visma_erp(
        "se",
        Method::POST,
        &format!("/v1/customerPayment/{payment_no}/action/release"),
        None,
    )
    .await
    .unwrap();

    let paid = h
        .wait_for("the paid status on the order", WAIT, || async {
            let o = h
                .bc_send(Method::GET, &format!("/v2/orders/{order}"), None)
                .await?;
            let mf = h.order_metafields(order, "visma_payment_status").await?;
            let paid = mf
                .iter()
                .any(|m| m["value"].as_str().is_some_and(|v| v.starts_with("paid")));
            Ok((paid && o["status_id"] == PAID_STATUS).then_some(mf))
        })
        .await
        .unwrap();
    assert_eq!(paid.len(), 1, "one payment status metafield: {paid:?}");
    assert!(
        paid[0]["value"].as_str().unwrap().contains("balance 0"),
        "{paid:?}"
    );

    // Settle: several payment schedule passes and the webhooks our writes caused.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = payment_checks(&h, order).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        payment_checks(&h, order).await,
        before,
        "an unchanged invoice is not checked again"
    );
    let o = h
        .bc_send(Method::GET, &format!("/v2/orders/{order}"), None)
        .await
        .unwrap();
    let notes = o["staff_notes"].as_str().unwrap_or_default();
    assert_eq!(notes.matches(&note).count(), 1, "{notes:?}");
    assert_eq!(
        h.order_metafields(order, "visma_invoice_number")
            .await
            .unwrap()
            .len(),
        1
    );
    // Our status change and notes did not post anything again: one invoice, no credit note.
    let docs = documents_of(&h, order).await;
    assert_eq!(docs.len(), 1, "{docs:?}");
    let failed = h
        .jobs(&format!("state=failed&subject=order:{order}"))
        .await
        .unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    h.shutdown().await.unwrap();
}
