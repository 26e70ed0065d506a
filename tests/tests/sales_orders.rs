//! The SalesOrders v3 posting rule end to end over real HTTP: the sales order with the order's
//! billing and shipping address, and refunds and cancellations before and after Visma
//! invoices the sales order (the credit note is made against the invoice Visma made from it).
//! Needs the standard plugin built (`scripts/wasm-plugins.sh`).
// Amounts in minor units are written `<units>_<cents>` (646_00 is 646.00).
#![allow(clippy::inconsistent_digit_grouping)]

use ledgerlink::engine::flows::DocumentType;
use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::{Harness, cents, order_body, standard_plugin};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

async fn harness() -> Harness {
    Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.document_type = DocumentType::SalesOrder;
            e.posting
                .settings
                .insert("charge-item".into(), "FREIGHT".into());
        }
    })
    .await
    .unwrap()
}

/// Two mugs (119.20 net each) and a bottle (239.20 net), 49.00 shipping: 646.00 in all.
async fn order(h: &Harness) -> u64 {
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_inc_tax"] = json!("49.00");
    body["payment_method"] = json!("Credit Card");
    h.create_order(body).await.unwrap()
}

/// The order's sales order once it is open in Visma: its `type/number` and the v3 order.
async fn open_sales_order(h: &Harness, id: u64) -> (String, Value) {
    let summary = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "sales_order"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await
        .unwrap();
    let number = summary["number"].as_str().unwrap().to_owned();
    let so = h
        .visma_so_get(SE_TENANT, &format!("api/v3/SalesOrders/{number}"))
        .await
        .unwrap();
    (number, so)
}

/// What an accountant does in Visma: prepares the sales order's invoice and releases it.
async fn visma_invoices(h: &Harness, so_number: &str) -> String {
    let url = format!(
        "{}/__admin/salesorders/{so_number}/invoice?tenant_id={SE_TENANT}",
        h.visma.info().erp_base_url
    );
    let resp = h.http.post(url).send().await.unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "invoicing {so_number}: {status} {v}");
    v["invoice"].as_str().unwrap().to_owned()
}

async fn mug_line(h: &Harness, id: u64) -> u64 {
    h.order_lines(id)
        .await
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "LL-MUG-01")
        .unwrap()["id"]
        .as_u64()
        .unwrap()
}

/// The credit note whose external reference ends with `suffix`, once it exists.
async fn credit_note_of(h: &Harness, suffix: &str) -> Value {
    h.wait_document(SE_TENANT, |d| {
        d["kind"] == "customer_credit_note"
            && d["external_reference"]
                .as_str()
                .is_some_and(|r| r.ends_with(suffix))
    })
    .await
    .unwrap()
}

/// The invoice as Visma's API shows it, once `pred` holds (or as it stands after the wait).
async fn invoice_when(h: &Harness, number: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let pred = &pred;
    h.wait_for("the invoice", WAIT, || async move {
        let inv = h.visma_invoice(SE_TENANT, number).await?;
        Ok(pred(&inv).then_some(inv))
    })
    .await
    .unwrap()
}

/// The credit note with its applications (`GET v1/customerCreditNote/{n}`).
async fn credit_note_detail(h: &Harness, number: &str) -> Value {
    h.visma_send(
        SE_TENANT,
        Method::GET,
        &format!("v1/customerCreditNote/{number}"),
        None,
    )
    .await
    .unwrap()
}

async fn metafield(h: &Harness, id: u64, key: &str, pred: impl Fn(&str) -> bool) -> String {
    let pred = &pred;
    h.wait_for(key, WAIT, || async move {
        Ok(h.order_metafields(id, key)
            .await?
            .into_iter()
            .filter_map(|m| m["value"].as_str().map(str::to_owned))
            .find(|v| pred(v)))
    })
    .await
    .unwrap()
}

/// Whether a payment-status write-back says `status` with `balance` (minor units).
fn payment_is(value: &str, status: &str, balance: i64) -> bool {
    value
        .strip_prefix(&format!("{status}; balance "))
        .is_some_and(|b| cents(&Value::String(b.to_owned())) == balance)
}

/// Errors in the host's error queue that concern order `id`.
async fn order_errors(h: &Harness, id: u64) -> Vec<Value> {
    h.order_jobs(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j["state"] == "failed")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_order_carries_the_orders_billing_and_shipping_address_and_contact() {
    let h = harness().await;
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let mut body = order_body(1, &[(mug, 1)], None);
    body["billing_address"]["company"] = json!("Analytical Engines AB");
    body["billing_address"]["phone"] = json!("+46 8 123 456");
    body["billing_address"]["street_2"] = json!("Box 17");
    body["shipping_addresses"] = json!([{
        "first_name": "Charles", "last_name": "Babbage",
        "street_1": "Kungsportsavenyen 5", "street_2": "3 tr",
        "city": "Göteborg", "zip": "41136", "country": "Norway", "country_iso2": "no",
        "email": "charles@example.com", "phone": "+47 22 33 44 55"
    }]);
    body["shipping_cost_inc_tax"] = json!("49.00");
    let id = h.create_order(body).await.unwrap();
    let (_, so) = open_sales_order(&h, id).await;

    let billing = &so["billing"];
    assert_eq!(billing["address"]["line1"], "Storgatan 1", "{so:#}");
    assert_eq!(billing["address"]["line2"], "Box 17");
    assert_eq!(billing["address"]["postalCode"], "11122");
    assert_eq!(billing["address"]["city"], "Stockholm");
    assert_eq!(billing["address"]["country"]["id"], "SE");
    assert_eq!(billing["contact"]["name"], "Ada Lovelace");
    assert_eq!(billing["contact"]["attention"], "Analytical Engines AB");
    assert_eq!(billing["contact"]["email"], "ada@example.com");
    assert_eq!(billing["contact"]["phone1"], "+46 8 123 456");

    let shipping = &so["shipping"];
    assert_eq!(
        shipping["address"]["line1"], "Kungsportsavenyen 5",
        "{so:#}"
    );
    assert_eq!(shipping["address"]["line2"], "3 tr");
    assert_eq!(shipping["address"]["postalCode"], "41136");
    assert_eq!(shipping["address"]["city"], "Göteborg");
    assert_eq!(
        shipping["address"]["country"]["id"], "NO",
        "ISO code, upper case"
    );
    assert_eq!(shipping["contact"]["name"], "Charles Babbage");
    assert_eq!(shipping["contact"]["email"], "charles@example.com");
    assert_eq!(shipping["contact"]["phone1"], "+47 22 33 44 55");
    assert!(shipping["contact"].get("attention").is_none(), "{so:#}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_before_visma_invoices_the_sales_order_waits_then_credits_the_invoice_made_from_it()
{
    let h = harness().await;
    let id = order(&h).await;
    let (so_number, so) = open_sales_order(&h, id).await;
    assert_eq!(cents(&so["orderTotal"]), 646_00);
    let mug = mug_line(&h, id).await;
    let refund = h
        .refund(
            id,
            json!([{"item_type": "PRODUCT", "item_id": mug, "quantity": 1}]),
        )
        .await
        .unwrap();
    let refund_id = refund["id"].as_u64().unwrap();
    assert_eq!(cents(&refund["total_amount"]), 149_00);

    // Not invoiced yet: the refund waits (retried), with the reason on the job; nothing
    // is credited and nothing is in the error queue.
    let waiting = h
        .wait_for("the refund to wait for the invoice", WAIT, || {
            let h = &h;
            async move {
                Ok(h.order_jobs(id)
                    .await?
                    .into_iter()
                    .find(|j| j["error"]["code"] == "awaiting_invoice"))
            }
        })
        .await
        .unwrap();
    // Between attempts it is pending, during one running: never failed.
    assert!(
        waiting["state"] == "pending" || waiting["state"] == "running",
        "{waiting:#}"
    );
    assert_eq!(waiting["error"]["class"], "transient");
    let reason = waiting["error"]["message"].as_str().unwrap();
    assert!(
        reason.contains(&refund_id.to_string()) && reason.contains(&so_number),
        "{reason}"
    );
    assert!(
        h.documents_ending(SE_TENANT, &format!("-{refund_id}"))
            .await
            .unwrap()
            .is_empty()
    );
    let errors = order_errors(&h, id).await;
    assert!(errors.is_empty(), "{errors:#?}");

    // Visma invoices the sales order: the credit note is made against that invoice.
    let invoice = visma_invoices(&h, &so_number).await;
    let cn = credit_note_of(&h, &format!("-{refund_id}")).await;
    assert_eq!(cn["customer_ref_number"], refund_id.to_string(), "{cn}");
    assert_eq!(cents(&cn["amount"]), 149_00, "{cn}");
    assert_eq!(cn["customer"], ledgerlink_sim::visma::GUEST_CUSTOMER);
    let detail = credit_note_detail(&h, cn["number"].as_str().unwrap()).await;
    let apps = detail["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{detail:#}");
    assert_eq!(apps[0]["refNbr"], invoice.as_str());
    assert_eq!(cents(&apps[0]["amountPaid"]), 149_00);
    let inv = invoice_when(&h, &invoice, |i| cents(&i["balanceInCurrency"]) < 646_00).await;
    assert_eq!(cents(&inv["amountInCurrency"]), 646_00, "{inv:#}");
    assert_eq!(cents(&inv["balanceInCurrency"]), 646_00 - 149_00);
    assert!(
        inv["invoiceLines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| format!(
                "{}/{}",
                l["soOrderType"].as_str().unwrap(),
                l["soOrderNbr"].as_str().unwrap()
            ) == so_number),
        "{inv:#}"
    );

    // The invoice is now the order's: its number and payment status reach BigCommerce.
    metafield(&h, id, "visma_invoice_number", |v| v == invoice).await;
    metafield(&h, id, "visma_payment_status", |v| {
        payment_is(v, "open", 497_00)
    })
    .await;
    let errors = order_errors(&h, id).await;
    assert!(errors.is_empty(), "{errors:#?}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoice_visma_made_from_the_sales_order_is_written_back_then_refunds_credit_it() {
    let h = harness().await;
    let id = order(&h).await;
    let (so_number, _) = open_sales_order(&h, id).await;
    // Visma invoices the order with no BigCommerce event: the host finds the invoice on its
    // payment-status pass and writes number and status back.
    let invoice = visma_invoices(&h, &so_number).await;
    metafield(&h, id, "visma_invoice_number", |v| v == invoice).await;
    metafield(&h, id, "visma_payment_status", |v| {
        payment_is(v, "open", 646_00)
    })
    .await;

    // A refund after invoicing is credited against that invoice at once.
    let mug = mug_line(&h, id).await;
    let refund = h
        .refund(
            id,
            json!([{"item_type": "PRODUCT", "item_id": mug, "quantity": 2}]),
        )
        .await
        .unwrap();
    let refund_id = refund["id"].as_u64().unwrap();
    let cn = credit_note_of(&h, &format!("-{refund_id}")).await;
    assert_eq!(cents(&cn["amount"]), 298_00, "{cn}");
    assert_eq!(cn["customer_ref_number"], refund_id.to_string());
    let detail = credit_note_detail(&h, cn["number"].as_str().unwrap()).await;
    assert_eq!(
        detail["applications"][0]["refNbr"],
        invoice.as_str(),
        "{detail:#}"
    );
    let inv = invoice_when(&h, &invoice, |i| cents(&i["balanceInCurrency"]) < 646_00).await;
    assert_eq!(cents(&inv["balanceInCurrency"]), 646_00 - 298_00);
    metafield(&h, id, "visma_payment_status", |v| {
        payment_is(v, "open", 348_00)
    })
    .await;
    let errors = order_errors(&h, id).await;
    assert!(errors.is_empty(), "{errors:#?}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_before_invoicing_cancels_the_sales_order_even_with_a_refund_waiting() {
    let h = harness().await;
    let id = order(&h).await;
    let (so_number, _) = open_sales_order(&h, id).await;
    let mug = mug_line(&h, id).await;
    let refund = h
        .refund(
            id,
            json!([{"item_type": "PRODUCT", "item_id": mug, "quantity": 1}]),
        )
        .await
        .unwrap();
    h.wait_for("the refund to wait", WAIT, || {
        let h = &h;
        async move {
            Ok(h.order_jobs(id)
                .await?
                .into_iter()
                .find(|j| j["error"]["code"] == "awaiting_invoice"))
        }
    })
    .await
    .unwrap();

    // The merchant cancels the order before Visma invoiced it: the sales order is cancelled,
    // the waiting refund has nothing left to credit, nothing fails.
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{id}"),
        Some(json!({"status_id": 5})),
    )
    .await
    .unwrap();
    h.wait_document(SE_TENANT, |d| {
        d["kind"] == "sales_order"
            && d["number"] == so_number.as_str()
            && d["status"] == "Cancelled"
    })
    .await
    .unwrap();
    h.wait_for("the order's jobs to settle", WAIT, || {
        let h = &h;
        async move {
            let jobs = h.order_jobs(id).await?;
            Ok(jobs
                .iter()
                .all(|j| j["state"] == "done" || j["state"] == "skipped")
                .then_some(()))
        }
    })
    .await
    .unwrap();
    let refund_id = refund["id"].as_u64().unwrap();
    assert!(
        h.documents_ending(SE_TENANT, &format!("-{refund_id}"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        h.visma_documents(SE_TENANT)
            .await
            .unwrap()
            .iter()
            .all(|d| d["kind"] != "customer_invoice" && d["kind"] != "customer_credit_note"),
        "no invoice, no credit note"
    );
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_after_invoicing_credits_the_invoice_made_from_the_sales_order() {
    let h = harness().await;
    let id = order(&h).await;
    let (so_number, _) = open_sales_order(&h, id).await;
    let invoice = visma_invoices(&h, &so_number).await;
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{id}"),
        Some(json!({"status_id": 5})),
    )
    .await
    .unwrap();
    let cn = credit_note_of(&h, &format!(":{id}")).await;
    assert!(
        cn["external_reference"]
            .as_str()
            .unwrap()
            .starts_with("bc-x-"),
        "{cn}"
    );
    assert_eq!(cents(&cn["amount"]), 646_00, "{cn}");
    let detail = credit_note_detail(&h, cn["number"].as_str().unwrap()).await;
    assert_eq!(
        detail["applications"][0]["refNbr"],
        invoice.as_str(),
        "{detail:#}"
    );
    let inv = invoice_when(&h, &invoice, |i| cents(&i["balanceInCurrency"]) == 0).await;
    assert_eq!(inv["status"], "Closed", "{inv:#}");
    // The invoiced sales order stays as Visma completed it.
    let so = h
        .visma_so_get(SE_TENANT, &format!("api/v3/SalesOrders/{so_number}"))
        .await
        .unwrap();
    assert_eq!(so["status"], "Completed");
    assert_eq!(so["financialInformation"]["invoiceId"], invoice.as_str());
    let errors = order_errors(&h, id).await;
    assert!(errors.is_empty(), "{errors:#?}");
    h.shutdown().await.unwrap();
}
