//! Refunds and cancellations end to end: credit notes linked to the original invoice, the
//! invoice balance right, each credit note referencing the BigCommerce refund id.

use ledgerlink_sim::visma::SE_TENANT;
use ledgerlink_tests::{Harness, order_body, standard_plugin};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

fn cents(v: &Value) -> i64 {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<2}");
    let c: i64 = format!("{int}{}", &frac[..2]).parse().unwrap();
    if neg { -c } else { c }
}

async fn invoiced_order(h: &Harness) -> (u64, Value) {
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let id = h
        .create_order(order_body(1, &[(mug, 2), (bottle, 1)], None))
        .await
        .unwrap();
    let inv = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
                && d["status"] == "Open"
        })
        .await
        .unwrap();
    (id, inv)
}

async fn invoice_now(h: &Harness, number: &str) -> Value {
    h.visma_documents(SE_TENANT)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d["kind"] == "customer_invoice" && d["number"] == number)
        .unwrap()
}

/// The invoice once its balance is 0, or as it stands after 15 s.
async fn invoice_balance_settled(h: &Harness, number: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let inv = invoice_now(h, number).await;
        if cents(&inv["balance"]) == 0 || std::time::Instant::now() > deadline {
            return inv;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_then_full_refund_credit_the_invoice_down_to_zero() {
    let h = Harness::start().await.unwrap();
    let (id, inv) = invoiced_order(&h).await;
    let number = inv["number"].as_str().unwrap().to_owned();
    let lines = h.order_lines(id).await.unwrap();
    let mug_line = lines.iter().find(|l| l["sku"] == "LL-MUG-01").unwrap()["id"]
        .as_u64()
        .unwrap();

    // Partial: one of the two mugs.
    let r1 = h
        .refund(
            id,
            json!([{"item_type": "PRODUCT", "item_id": mug_line, "quantity": 1}]),
        )
        .await
        .unwrap();
    let r1_id = r1["id"].as_u64().unwrap();
    let cn1 = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_credit_note"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!("-{r1_id}")))
        })
        .await
        .unwrap();
    assert_eq!(
        cents(&cn1["amount"]),
        cents(&r1["total_amount"]),
        "{cn1} vs {r1}"
    );
    // The credit note names the BigCommerce refund and credits the order's invoice.
    assert_eq!(cn1["customer_ref_number"], r1_id.to_string(), "{cn1}");
    assert_eq!(cn1["customer"], inv["customer"]);
    let after1 = h
        .wait_for(
            "the invoice balance to drop",
            Duration::from_secs(60),
            || {
                let (h, number, inv) = (&h, &number, &inv);
                async move {
                    let i = invoice_now(h, number).await;
                    Ok((cents(&i["balance"]) < cents(&inv["amount"])).then_some(i))
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(
        cents(&after1["balance"]),
        cents(&inv["amount"]) - cents(&r1["total_amount"]),
        "balance = invoice − credit note"
    );

    // Full: everything left.
    let remaining: Vec<Value> = lines
        .iter()
        .map(|l| {
            let q = l["quantity"].as_u64().unwrap()
                - if l["id"].as_u64() == Some(mug_line) {
                    1
                } else {
                    0
                };
            json!({"item_type": "PRODUCT", "item_id": l["id"], "quantity": q})
        })
        .filter(|i| i["quantity"].as_u64() != Some(0))
        .collect();
    let r2 = h.refund(id, Value::Array(remaining)).await.unwrap();
    let r2_id = r2["id"].as_u64().unwrap();
    h.wait_document(SE_TENANT, |d| {
        d["kind"] == "customer_credit_note"
            && d["external_reference"]
                .as_str()
                .is_some_and(|r| r.ends_with(&format!("-{r2_id}")))
    })
    .await
    .unwrap();
    let after2 = h
        .wait_for(
            "the invoice to be fully credited",
            Duration::from_secs(60),
            || {
                let (h, number) = (&h, &number);
                async move {
                    let i = invoice_now(h, number).await;
                    Ok((cents(&i["balance"]) == 0).then_some(i))
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(cents(&after2["balance"]), 0);
    // Payment status read back from Visma on the schedule: nothing left to pay.
    let status = h
        .wait_for(
            "the payment status metafield",
            Duration::from_secs(60),
            || {
                let h = &h;
                async move {
                    let v = h
                        .bc_send(Method::GET, &format!("/v3/orders/{id}/metafields"), None)
                        .await?;
                    Ok(v["data"].as_array().and_then(|a| {
                        a.iter()
                            .find(|m| {
                                m["key"] == "visma_payment_status"
                                    && m["value"].as_str().is_some_and(|v| v.starts_with("paid"))
                            })
                            .cloned()
                    }))
                }
            },
        )
        .await
        .unwrap();
    assert!(
        status["value"].as_str().unwrap().contains("balance 0"),
        "{status}"
    );
    // Exactly two credit notes for the order.
    let notes = h.visma_documents(SE_TENANT).await.unwrap();
    let n = notes
        .iter()
        .filter(|d| {
            d["kind"] == "customer_credit_note"
                && d["external_reference"].as_str().is_some_and(|r| {
                    r.ends_with(&format!("-{r1_id}")) || r.ends_with(&format!("-{r2_id}"))
                })
        })
        .count();
    assert_eq!(n, 2);
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_after_invoicing_credits_the_invoice_and_before_does_nothing() {
    let h = Harness::start().await.unwrap();
    // After: the invoice exists, the order is cancelled.
    let (id, inv) = invoiced_order(&h).await;
    let number = inv["number"].as_str().unwrap().to_owned();
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{id}"),
        Some(json!({"status_id": 5})),
    )
    .await
    .unwrap();
    let cn = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_credit_note"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await;
    let cn = match cn {
        Ok(cn) => cn,
        Err(e) => {
            let jobs = h
                .admin(Method::GET, &format!("/api/jobs?subject=order:{id}"), None)
                .await
                .unwrap();
            panic!("{e}\njobs of the order: {jobs:#}");
        }
    };
    assert_eq!(cents(&cn["amount"]), cents(&inv["amount"]), "{cn} vs {inv}");
    // The credit note is visible as soon as it is created; it lowers the invoice balance only
    // once the flow has released it, a moment later.
    let after = invoice_balance_settled(&h, &number).await;
    assert_eq!(cents(&after["balance"]), 0, "{after}");

    // Before: an unpaid order (not posted) is cancelled; nothing reaches Visma.
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let mut body = order_body(1, &[(mug, 1)], None);
    body["status_id"] = 7.into();
    let early = h.create_order(body).await.unwrap();
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{early}"),
        Some(json!({"status_id": 5})),
    )
    .await
    .unwrap();
    // The job for the cancellation finishes as skipped (nothing to undo).
    h.wait_for(
        "the cancellation to be handled",
        Duration::from_secs(60),
        || {
            let h = &h;
            async move {
                let jobs = h
                    .admin(
                        Method::GET,
                        &format!("/api/jobs?subject=order:{early}&state=skipped"),
                        None,
                    )
                    .await?;
                Ok(jobs["jobs"]
                    .as_array()
                    .is_some_and(|a| {
                        a.iter().any(|j| {
                            j["resolution"]
                                .as_str()
                                .is_some_and(|r| r.contains("cancelled"))
                        })
                    })
                    .then_some(()))
            }
        },
    )
    .await
    .unwrap();
    assert!(
        h.documents_ending(SE_TENANT, &format!(":{early}"))
            .await
            .unwrap()
            .is_empty()
    );
    h.shutdown().await.unwrap();
}

/// On-hand quantity of an item in one warehouse of the Swedish company.
async fn on_hand(h: &Harness, item: &str, warehouse: &str) -> i64 {
    let v = h
        .visma_send(
            SE_TENANT,
            Method::GET,
            &format!("v1/inventorysummary/{item}?warehouse={warehouse}"),
            None,
        )
        .await
        .unwrap();
    cents(&v[0]["onHand"]) / 100
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returned_goods_are_restocked_per_posting_rule_and_unshipped_refunds_move_no_stock() {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.restock_returns = true;
            e.posting
                .settings
                .insert("return-warehouse".into(), "MAIN".into());
        }
    })
    .await
    .unwrap();
    let before = on_hand(&h, "LL-MUG-01", "MAIN").await;
    // Shipped, then one mug comes back.
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let id = h
        .create_order(order_body(1, &[(mug, 2)], Some("39.20")))
        .await
        .unwrap();
    h.wait_document(SE_TENANT, |d| {
        d["kind"] == "customer_invoice"
            && d["status"] == "Open"
            && d["external_reference"]
                .as_str()
                .is_some_and(|r| r.ends_with(&format!(":{id}")))
    })
    .await
    .unwrap();
    let lines = h.order_lines(id).await.unwrap();
    let mug_line = lines[0]["id"].as_u64().unwrap();
    let addresses = h
        .bc_send(
            Method::GET,
            &format!("/v2/orders/{id}/shipping_addresses"),
            None,
        )
        .await
        .unwrap();
    h.bc_send(
        Method::POST,
        &format!("/v2/orders/{id}/shipments"),
        Some(
            json!({"order_address_id": addresses[0]["id"], "tracking_number": "PN9",
                    "items": [{"order_product_id": mug_line, "quantity": 2}]}),
        ),
    )
    .await
    .unwrap();
    let r = h
        .refund(
            id,
            json!([{"item_type": "PRODUCT", "item_id": mug_line, "quantity": 1}]),
        )
        .await
        .unwrap();
    let rid = r["id"].as_u64().unwrap();
    let rid_text = rid.to_string();
    let receipt = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "inventory_receipt"
                && d["status"] == "Released"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|x| x.ends_with(&format!("-{rid}")))
        })
        .await
        .unwrap();
    assert!(receipt["number"].is_string());
    assert_eq!(on_hand(&h, "LL-MUG-01", "MAIN").await, before + 1);
    // The credit note for the return is there too, for the refund's amount.
    let cn = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_credit_note"
                && d["customer_ref_number"].as_str() == Some(rid_text.as_str())
        })
        .await
        .unwrap();
    assert_eq!(cents(&cn["amount"]), cents(&r["total_amount"]));

    // Not shipped: a refund credits, but nothing goes back into stock.
    let before = on_hand(&h, "LL-MUG-01", "MAIN").await;
    let (id2, _) = invoiced_order(&h).await;
    let lines2 = h.order_lines(id2).await.unwrap();
    let mug2 = lines2.iter().find(|l| l["sku"] == "LL-MUG-01").unwrap()["id"]
        .as_u64()
        .unwrap();
    let r2 = h
        .refund(
            id2,
            json!([{"item_type": "PRODUCT", "item_id": mug2, "quantity": 1}]),
        )
        .await
        .unwrap();
    let r2id = r2["id"].as_u64().unwrap();
    let r2id_text = r2id.to_string();
    h.wait_document(SE_TENANT, |d| {
        d["kind"] == "customer_credit_note"
            && d["customer_ref_number"].as_str() == Some(r2id_text.as_str())
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(on_hand(&h, "LL-MUG-01", "MAIN").await, before);
    let receipts = h
        .documents_ending(SE_TENANT, &format!("-{r2id}"))
        .await
        .unwrap();
    assert!(
        receipts.iter().all(|d| d["kind"] != "inventory_receipt"),
        "the unshipped refund restocked nothing: {receipts:#?}"
    );
    h.shutdown().await.unwrap();
}

/// Two mugs and a bottle (597.00 with VAT) plus `shipping` with VAT: an order of the Swedish
/// company, whose invoices and credit notes Visma rounds to whole kronor.
async fn invoiced_order_shipping(h: &Harness, shipping: &str) -> (u64, Value) {
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_inc_tax"] = json!(shipping);
    let id = h.create_order(body).await.unwrap();
    let inv = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
                && d["status"] == "Open"
        })
        .await
        .unwrap();
    (id, inv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_of_an_order_not_in_whole_kronor_credits_the_rounded_invoice_to_zero() {
    let h = Harness::start().await.unwrap();
    // 646.40 rounds down to 646 kronor, 646.60 up to 647: the credit must follow either way.
    for (shipping, whole) in [("49.40", 646_i64), ("49.60", 647)] {
        let (id, inv) = invoiced_order_shipping(&h, shipping).await;
        let number = inv["number"].as_str().unwrap().to_owned();
        let order = h
            .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
            .await
            .unwrap();
        assert_ne!(cents(&order["total_inc_tax"]) % 100, 0, "{order}");
        assert_eq!(cents(&inv["amount"]), whole * 100, "{inv}");
        h.bc_send(
            Method::PUT,
            &format!("/v2/orders/{id}"),
            Some(json!({"status_id": 5})),
        )
        .await
        .unwrap();
        let cn = h
            .wait_for(
                "the cancellation's credit note",
                Duration::from_secs(60),
                || {
                    let h = &h;
                    async move {
                        let docs = h.documents_ending(SE_TENANT, &format!(":{id}")).await?;
                        if let Some(cn) = docs.iter().find(|d| d["kind"] == "customer_credit_note")
                        {
                            return Ok(Some(cn.clone()));
                        }
                        let failed: Vec<Value> = h
                            .order_jobs(id)
                            .await?
                            .into_iter()
                            .filter(|j| j["state"] == "failed")
                            .collect();
                        anyhow::ensure!(failed.is_empty(), "cancellation failed: {failed:#?}");
                        Ok(None)
                    }
                },
            )
            .await
            .unwrap();
        // Credited exactly what the invoice asks, rounded the same way.
        assert_eq!(cents(&cn["amount"]), whole * 100, "{cn}");
        let detail = h
            .visma_send(
                SE_TENANT,
                Method::GET,
                &format!("v1/customerCreditNote/{}", cn["number"].as_str().unwrap()),
                None,
            )
            .await
            .unwrap();
        let after = invoice_balance_settled(&h, &number).await;
        assert_eq!(cents(&after["balance"]), 0, "{after}\n{detail:#}");
        let detail = h
            .visma_send(
                SE_TENANT,
                Method::GET,
                &format!("v1/customerCreditNote/{}", cn["number"].as_str().unwrap()),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            detail["applications"][0]["refNbr"],
            number.as_str(),
            "{detail:#}"
        );
        assert_eq!(
            cents(&detail["applications"][0]["amountPaid"]),
            whole * 100,
            "{detail:#}"
        );
        let failed: Vec<Value> = h
            .order_jobs(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j["state"] == "failed")
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_refund_of_an_order_not_in_whole_kronor_credits_the_rounded_invoice_to_zero() {
    let h = Harness::start().await.unwrap();
    for (shipping, whole) in [("49.40", 646_i64), ("49.60", 647)] {
        let (id, inv) = invoiced_order_shipping(&h, shipping).await;
        let number = inv["number"].as_str().unwrap().to_owned();
        assert_eq!(cents(&inv["amount"]), whole * 100, "{inv}");
        let mut items: Vec<Value> = h
            .order_lines(id)
            .await
            .unwrap()
            .iter()
            .map(|l| json!({"item_type": "PRODUCT", "item_id": l["id"], "quantity": l["quantity"]}))
            .collect();
        let addresses = h
            .bc_send(
                Method::GET,
                &format!("/v2/orders/{id}/shipping_addresses"),
                None,
            )
            .await
            .unwrap();
        items.push(
            json!({"item_type": "SHIPPING", "item_id": addresses[0]["id"], "amount": shipping}),
        );
        let r = h.refund(id, Value::Array(items)).await.unwrap();
        assert_ne!(cents(&r["total_amount"]) % 100, 0, "{r}");
        let rid = r["id"].as_u64().unwrap();
        let cn = h
            .wait_for("the refund's credit note", Duration::from_secs(60), || {
                let h = &h;
                async move {
                    let docs = h.documents_ending(SE_TENANT, &format!("-{rid}")).await?;
                    if let Some(cn) = docs.iter().find(|d| d["kind"] == "customer_credit_note") {
                        return Ok(Some(cn.clone()));
                    }
                    let failed: Vec<Value> = h
                        .order_jobs(id)
                        .await?
                        .into_iter()
                        .filter(|j| j["state"] == "failed")
                        .collect();
                    anyhow::ensure!(failed.is_empty(), "the refund failed: {failed:#?}");
                    Ok(None)
                }
            })
            .await
            .unwrap();
        assert_eq!(cents(&cn["amount"]), whole * 100, "{cn}");
        let after = invoice_balance_settled(&h, &number).await;
        assert_eq!(cents(&after["balance"]), 0, "{after}");
        assert_eq!(after["status"], "Closed", "{after}");
        let detail = h
            .visma_send(
                SE_TENANT,
                Method::GET,
                &format!("v1/customerCreditNote/{}", cn["number"].as_str().unwrap()),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            detail["applications"][0]["refNbr"],
            number.as_str(),
            "{detail:#}"
        );
        assert_eq!(
            cents(&detail["applications"][0]["amountPaid"]),
            whole * 100,
            "{detail:#}"
        );
        let failed: Vec<Value> = h
            .order_jobs(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j["state"] == "failed")
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
    h.shutdown().await.unwrap();
}

/// The same under the SalesOrders posting rule: the credit note is made against the invoice
/// Visma made from the sales order, which Visma rounds the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_under_the_sales_order_rule_credits_a_rounded_invoice_to_zero() {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.document_type = ledgerlink::engine::flows::DocumentType::SalesOrder;
            e.posting
                .settings
                .insert("charge-item".into(), "FREIGHT".into());
        }
    })
    .await
    .unwrap();
    for (shipping, whole) in [("49.40", 646_i64), ("49.60", 647)] {
        let mug = h.product_id("LL-MUG-01").await.unwrap();
        let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
        let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
        body["shipping_addresses"] = json!([body["billing_address"].clone()]);
        body["shipping_cost_inc_tax"] = json!(shipping);
        let id = h.create_order(body).await.unwrap();
        let so = h
            .wait_document(SE_TENANT, |d| {
                d["kind"] == "sales_order"
                    && d["status"] == "Open"
                    && d["external_reference"]
                        .as_str()
                        .is_some_and(|r| r.ends_with(&format!(":{id}")))
            })
            .await
            .unwrap();
        // What an accountant does in Visma: invoices the sales order and releases the invoice.
        let url = format!(
            "{}/__admin/salesorders/{}/invoice?tenant_id={SE_TENANT}",
            h.visma.info().erp_base_url,
            so["number"].as_str().unwrap()
        );
        let resp = h.http.post(url).send().await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let v: Value = resp.json().await.unwrap();
        let number = v["invoice"].as_str().unwrap().to_owned();
        let inv = h.visma_invoice(SE_TENANT, &number).await.unwrap();
        assert_eq!(cents(&inv["amount"]), whole * 100, "{inv:#}");
        h.bc_send(
            Method::PUT,
            &format!("/v2/orders/{id}"),
            Some(json!({"status_id": 5})),
        )
        .await
        .unwrap();
        let cn = h
            .wait_for(
                "the cancellation's credit note",
                Duration::from_secs(20),
                || {
                    let h = &h;
                    async move {
                        let docs = h.documents_ending(SE_TENANT, &format!(":{id}")).await?;
                        if let Some(cn) = docs.iter().find(|d| d["kind"] == "customer_credit_note")
                        {
                            return Ok(Some(cn.clone()));
                        }
                        let failed: Vec<Value> = h
                            .order_jobs(id)
                            .await?
                            .into_iter()
                            .filter(|j| j["state"] == "failed")
                            .collect();
                        anyhow::ensure!(failed.is_empty(), "cancellation failed: {failed:#?}");
                        Ok(None)
                    }
                },
            )
            .await
            .unwrap();
        assert_eq!(cents(&cn["amount"]), whole * 100, "{cn}");
        let after = h
            .wait_for("the invoice balance at 0", Duration::from_secs(60), || {
                let (h, number) = (&h, &number);
                async move {
                    let i = h.visma_invoice(SE_TENANT, number).await?;
                    Ok((cents(&i["balanceInCurrency"]) == 0).then_some(i))
                }
            })
            .await
            .unwrap();
        assert_eq!(after["status"], "Closed", "{after:#}");
        let failed: Vec<Value> = h
            .order_jobs(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j["state"] == "failed")
            .collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
    h.shutdown().await.unwrap();
}
