//! End to end over real HTTP: BigCommerce simulator → webhook → host (engine, standard
//! plugin) → Visma simulator, and back. Needs the standard plugin built
//! (`scripts/wasm-plugins.sh`).

use ledgerlink_sim::visma::{FI_TENANT, SE_TENANT};
use ledgerlink_tests::{Harness, order_body};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

fn num(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// Cents of a JSON number or string, exactly (no float sums).
fn cents(v: &Value) -> i64 {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let d: rust_decimal_lite::Dec = s.parse().expect("decimal");
    d.cents()
}

mod rust_decimal_lite {
    /// Just enough decimal parsing to compare amounts to the cent without floats.
    pub struct Dec(i64);
    impl std::str::FromStr for Dec {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            let neg = s.starts_with('-');
            let s = s.trim_start_matches('-');
            let (int, frac) = s.split_once('.').unwrap_or((s, ""));
            let mut frac = frac.to_owned();
            while frac.len() < 2 {
                frac.push('0');
            }
            let c: i64 = format!("{int}{}", &frac[..2])
                .parse()
                .map_err(|e| format!("{s}: {e}"))?;
            Ok(Dec(if neg { -c } else { c }))
        }
    }
    impl Dec {
        pub fn cents(&self) -> i64 {
            self.0
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tax_inclusive_store_order_with_shipping_becomes_one_released_invoice_with_write_back() {
    let h = Harness::start().await.unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let id = h
        .create_order(order_body(1, &[(mug, 2), (bottle, 1)], Some("39.20")))
        .await
        .unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    // Released after the totals check: the invoice shows as soon as it is created, and turns
    // `Open` (open for payment) once the flow has released it.
    let doc = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await
        .unwrap();
    assert_eq!(doc["currency"], "SEK");
    assert_eq!(doc["customer"], ledgerlink_sim::visma::GUEST_CUSTOMER);
    assert_eq!(
        cents(&doc["amount"]),
        cents(&order["total_inc_tax"]),
        "Visma total equals BigCommerce total to the cent: {doc} vs {order}"
    );
    assert!(num(&doc["balance"]) > 0.0);

    // Exactly one document for the order, even though the poller and the webhook both saw it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let docs = h.visma_documents(SE_TENANT).await.unwrap();
    let n = docs
        .iter()
        .filter(|d| d["external_reference"] == doc["external_reference"])
        .count();
    assert_eq!(n, 1, "{docs:?}");

    // Write-back: the invoice number lands in a metafield on the order.
    let number = doc["number"].as_str().unwrap().to_owned();
    let mf = h
        .wait_for("the write-back metafield", Duration::from_secs(10), || {
            let h = &h;
            async move {
                let v = h
                    .bc_send(Method::GET, &format!("/v3/orders/{id}/metafields"), None)
                    .await?;
                Ok(v["data"].as_array().and_then(|a| {
                    a.iter()
                        .find(|m| m["key"] == "visma_invoice_number")
                        .cloned()
                }))
            }
        })
        .await
        .unwrap();
    assert_eq!(mf["value"], number);

    // The audit log finds the order by its id and by the Visma number.
    let trail = h
        .admin(Method::GET, &format!("/api/audit/{number}"), None)
        .await
        .unwrap();
    assert!(!trail["attempts"].as_array().unwrap().is_empty(), "{trail}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_channel_order_goes_to_the_second_company() {
    let h = Harness::start().await.unwrap();
    // A zero-rated item: the store's Swedish VAT and the Finnish company's VAT agree on 0 %.
    let gift = h.product_id("LL-GIFTCARD-500").await.unwrap();
    let id = h
        .create_order(order_body(2, &[(gift, 1)], None))
        .await
        .unwrap();
    let doc = h
        .wait_document(FI_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await
        .unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    assert_eq!(doc["currency"], "EUR");
    assert_eq!(cents(&doc["amount"]), cents(&order["total_inc_tax"]));
    let se = h.visma_documents(SE_TENANT).await.unwrap();
    assert!(
        !se.iter()
            .any(|d| d["external_reference"] == doc["external_reference"]),
        "the order must not reach the first company"
    );
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_orders_are_not_posted_and_stay_out_of_the_error_queue() {
    let h = Harness::start().await.unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let mut body = order_body(1, &[(mug, 1)], None);
    body["status_id"] = 7.into(); // awaiting payment
    let id = h.create_order(body).await.unwrap();
    let paid = h
        .create_order(order_body(1, &[(mug, 1)], None))
        .await
        .unwrap();
    h.wait_document(SE_TENANT, |d| {
        d["external_reference"]
            .as_str()
            .is_some_and(|r| r.ends_with(&format!(":{paid}")))
    })
    .await
    .unwrap();
    let docs = h.visma_documents(SE_TENANT).await.unwrap();
    assert!(!docs.iter().any(|d| {
        d["external_reference"]
            .as_str()
            .is_some_and(|r| r.ends_with(&format!(":{id}")))
    }));
    let errors = h
        .admin(
            Method::GET,
            &format!("/api/errors?subject=order:{id}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(errors["errors"].as_array().unwrap().len(), 0, "{errors}");
    h.shutdown().await.unwrap();
}
