//! SalesOrders v3: create with lines, freight and discounts; create-once; cancel; If-Match.

use crate::harness::*;
use futures::StreamExt;
use ledgerlink_sim::visma::{GUEST_CUSTOMER, SE_TENANT};
use ledgerlink_visma::dto::{
    Freight, NewOrderLine, NewSalesOrder, OrderCustomer, PaymentSettings, SalesOrderPatch,
};
use ledgerlink_visma::{Origin, VismaError};
use rust_decimal::Decimal;
use serde_json::json;

fn order(lines: Vec<NewOrderLine>) -> NewSalesOrder {
    NewSalesOrder {
        order_type: "SO".into(),
        customer: OrderCustomer {
            id: GUEST_CUSTOMER.into(),
            order: Some("BC-1001".into()),
            ..Default::default()
        },
        currency_id: Some("SEK".into()),
        description: Some("Web order 1001".into()),
        freight: Some(Freight {
            cost: Decimal::from(49),
            ..Default::default()
        }),
        payment_settings: Some(PaymentSettings {
            payment_method_id: Some("CARD".into()),
            payment_reference: Some("ch_123".into()),
            ..Default::default()
        }),
        order_lines: lines,
        ..Default::default()
    }
}

fn line(qty: i64, price: i64) -> NewOrderLine {
    NewOrderLine {
        inventory_id: demo_sku().into(),
        quantity: Decimal::from(qty),
        unit_price: Some(Decimal::from(price)),
        warehouse_id: Some("MAIN".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn order_with_lines_freight_and_discount_gets_erp_totals() {
    let h = Harness::start().await;
    let client = h.client();
    let mut discounted = line(2, 100);
    discounted.discount_amount = Some(Decimal::from(20));
    let created = client
        .create_sales_order_once(&se(), &r("so-1"), &order(vec![discounted, line(1, 50)]))
        .await
        .unwrap();
    assert_eq!(created.origin, Origin::Created);
    let o = created.doc;
    assert_eq!(o.order_type, "SO");
    assert_eq!(o.status.as_deref(), Some("Open"));
    let cust = o.customer.as_ref().unwrap();
    assert_eq!(cust.ref_no.as_deref(), Some("so-1"));
    assert_eq!(cust.order.as_deref(), Some("BC-1001"));
    assert_eq!(o.order_lines.len(), 2);
    // 2 × 100 − 20 + 50 = 230 net of lines; freight 49 on top.
    assert_eq!(o.line_total, Some(Decimal::from(230)));
    assert_eq!(o.freight.as_ref().map(|f| f.cost), Some(Decimal::from(49)));
    let total = o.order_total.unwrap();
    let tax = o.tax_total.unwrap();
    assert!(tax > Decimal::ZERO);
    assert_eq!(total, Decimal::from(230) + Decimal::from(49) + tax);

    let read = client
        .get_sales_order(&se(), "SO", &o.order_id)
        .await
        .unwrap();
    assert_eq!(read.order_total, o.order_total);
    let listed = client
        .list_sales_orders(&se(), &Default::default())
        .await
        .unwrap();
    assert!(listed.iter().any(|x| x.order_id == o.order_id));
}

#[tokio::test]
async fn lost_replies_on_order_creates_never_duplicate() {
    let h = Harness::start().await;
    let client = h.client();
    h.set_faults(json!({
        "commit_then_drop_ratio": 0.5,
        "methods": ["POST"],
        "path_prefix": "/salesorder/api/v3",
        "seed": 11,
    }))
    .await;
    let results: Vec<_> = futures::stream::iter(0..40)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .create_sales_order_once(
                        &se(),
                        &r(format!("so-lost-{i}")),
                        &order(vec![line(1, 10)]),
                    )
                    .await
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    h.clear_faults().await;
    let mut confirmed = 0;
    for res in results {
        if res.expect("created or confirmed").origin == Origin::ConfirmedAfterLostReply {
            confirmed += 1;
        }
    }
    assert!(confirmed > 0);
    let docs = h.documents(SE_TENANT).await;
    let mut refs: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "sales_order")
        .filter_map(|d| d["external_reference"].as_str())
        .filter(|r| r.starts_with("so-lost-"))
        .collect();
    assert_eq!(refs.len(), 40);
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), 40, "an order was created twice");
}

#[tokio::test]
async fn stale_etag_is_a_typed_conflict_and_cancel_releases_the_order() {
    let h = Harness::start().await;
    let client = h.client();
    let o = client
        .create_sales_order_once(&se(), &r("so-etag"), &order(vec![line(1, 10)]))
        .await
        .unwrap()
        .doc;
    let v1 = client
        .get_sales_order_versioned(&se(), "SO", &o.order_id)
        .await
        .unwrap();
    let stale = v1.etag.clone().expect("v3 orders carry an ETag");
    let v2 = client
        .update_sales_order(
            &se(),
            "SO",
            &o.order_id,
            &SalesOrderPatch {
                note: Some("gift wrap".into()),
                ..Default::default()
            },
            &stale,
        )
        .await
        .unwrap();
    assert_eq!(v2.doc.note.as_deref(), Some("gift wrap"));
    assert_ne!(v2.etag, v1.etag);

    let err = client
        .update_sales_order(
            &se(),
            "SO",
            &o.order_id,
            &SalesOrderPatch {
                note: Some("overwritten?".into()),
                ..Default::default()
            },
            &stale,
        )
        .await
        .expect_err("stale ETag");
    match &err {
        VismaError::Conflict {
            sent_etag,
            current_etag,
            ..
        } => {
            assert_eq!(sent_etag.as_deref(), Some(stale.as_str()));
            assert_eq!(current_etag, &v2.etag);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        err.class(),
        ledgerlink_core::ErrorClass::Transient { .. }
    ));

    let cancelled = client
        .cancel_sales_order(&se(), "SO", &o.order_id, v2.etag.as_deref())
        .await
        .unwrap();
    assert_eq!(cancelled.status.as_deref(), Some("Cancelled"));
    // Again: already cancelled is fine.
    let again = client
        .cancel_sales_order(&se(), "SO", &o.order_id, None)
        .await
        .unwrap();
    assert_eq!(again.status.as_deref(), Some("Cancelled"));
}

#[tokio::test]
async fn unknown_item_is_a_validation_error_with_the_services_message() {
    let h = Harness::start().await;
    let client = h.client();
    let mut bad = line(1, 10);
    bad.inventory_id = "NO-SUCH-SKU".into();
    let before = h.requests().await;
    let err = client
        .create_sales_order_once(&se(), &r("so-bad"), &order(vec![bad]))
        .await
        .expect_err("unknown item");
    match &err {
        VismaError::Validation { message, .. } => {
            assert!(message.contains("NO-SUCH-SKU"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.requests().await - before, 1);
}

#[tokio::test]
async fn billing_and_shipping_round_trip_and_the_invoice_visma_makes_is_found_through_the_order() {
    use ledgerlink_visma::dto::{NewOrderAddress, NewOrderParty, OrderContact};
    let h = Harness::start().await;
    let client = h.client();
    let mut o = order(vec![line(1, 100)]);
    o.billing = Some(NewOrderParty {
        address: Some(NewOrderAddress {
            line1: Some("Storgatan 1".into()),
            postal_code: Some("11122".into()),
            city: Some("Stockholm".into()),
            country_id: "SE".into(),
            ..Default::default()
        }),
        contact: Some(OrderContact {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
            ..Default::default()
        }),
    });
    o.shipping = Some(NewOrderParty {
        address: Some(NewOrderAddress {
            line1: Some("Torggata 2".into()),
            city: Some("Oslo".into()),
            country_id: "NO".into(),
            ..Default::default()
        }),
        contact: None,
    });
    let created = client
        .create_sales_order_once(&se(), &r("so-addr"), &o)
        .await
        .unwrap()
        .doc;
    let billing = created.billing.as_ref().unwrap();
    let a = billing.address.as_ref().unwrap();
    assert_eq!(a.line1.as_deref(), Some("Storgatan 1"));
    assert_eq!(a.postal_code.as_deref(), Some("11122"));
    assert_eq!(a.city.as_deref(), Some("Stockholm"));
    assert_eq!(a.country.as_ref().unwrap().id.as_deref(), Some("SE"));
    let c = billing.contact.as_ref().unwrap();
    assert_eq!(c.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(c.email.as_deref(), Some("ada@example.com"));
    let shipping = created.shipping.as_ref().unwrap();
    let a = shipping.address.as_ref().unwrap();
    assert_eq!(a.city.as_deref(), Some("Oslo"));
    assert_eq!(a.country.as_ref().unwrap().id.as_deref(), Some("NO"));
    assert!(shipping.contact.is_none());
    assert_eq!(created.invoice_id(), None, "not invoiced yet");

    // An address without a country is refused, not half-stored.
    let mut bad = order(vec![line(1, 100)]);
    bad.shipping = Some(NewOrderParty {
        address: Some(NewOrderAddress {
            city: Some("Oslo".into()),
            ..Default::default()
        }),
        contact: None,
    });
    match client
        .create_sales_order_once(&se(), &r("so-addr-bad"), &bad)
        .await
    {
        Err(VismaError::Validation { message, .. }) => {
            assert!(message.contains("countryId"), "{message}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }

    // Visma invoices the order (the ERP's prepareInvoice action): the order names the
    // invoice, and the invoice's lines name the order.
    let token = h.raw_token(SE_TENANT).await;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v2/salesorder/SO/{}/action/prepareInvoice",
            h.base(),
            created.order_id
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::NO_CONTENT);
    let read = client
        .get_sales_order(&se(), "SO", &created.order_id)
        .await
        .unwrap();
    let number = read
        .invoice_id()
        .expect("the order names its invoice")
        .to_owned();
    assert_eq!(read.invoice_id(), Some(number.as_str()));
    assert_eq!(read.status.as_deref(), Some("Completed"));
    let inv = client
        .get_invoice(
            &se(),
            &ledgerlink_core::VismaDocumentNo::new(number.clone()),
        )
        .await
        .unwrap();
    assert_eq!(inv.sales_order(), Some(("SO", created.order_id.as_str())));
    // The order's total, before the company's cash rounding of invoice totals (whole kronor).
    assert_eq!(
        inv.amount_in_currency
            .zip(inv.rounding_diff)
            .map(|(a, d)| a - d),
        read.order_total,
        "{inv:?}"
    );
    assert!(
        !inv.status.as_ref().is_some_and(|s| s.is_released()),
        "prepared, not released"
    );
    // An invoiced order cannot be cancelled any more.
    assert!(
        client
            .cancel_sales_order(&se(), "SO", &created.order_id, None)
            .await
            .is_err()
    );
}
