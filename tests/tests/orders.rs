//! End to end over real HTTP: BigCommerce simulator → webhook → host (engine, standard
//! plugin) → Visma simulator, and back. Needs the standard plugin built
//! (`scripts/wasm-plugins.sh`).
// Amounts in minor units are written `<units>_<cents>` (596_00 is 596.00).
#![allow(clippy::inconsistent_digit_grouping)]

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
        .wait_for("the write-back metafield", Duration::from_secs(60), || {
            let h = &h;
            async move {
                Ok(h.order_metafields(id, "visma_invoice_number")
                    .await?
                    .into_iter()
                    .next())
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

// --- golden scenarios: every field of the Visma document, worked out by hand ---------------
//
// The demo store's prices include 25 % VAT (mug 149.00, bottle 299.00, chocolate 39.00 SEK).
// Visma documents are net: a VAT-inclusive line becomes gross − the VAT it contains (rounded
// per line), and Visma adds VAT per VAT code on the sum of its net lines.

use ledgerlink::engine::flows::DocumentType;
use ledgerlink_tests::standard_plugin;
use serde_json::json;

/// The line of a Visma invoice (or credit note) with this description.
fn line<'a>(doc: &'a Value, lines: &str, description: &str) -> &'a Value {
    doc[lines]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["description"] == description))
        .unwrap_or_else(|| panic!("no line {description:?} in {doc:#}"))
}

/// One line's fields: item, quantity, UoM, unit price, discount, amount, VAT code.
#[allow(clippy::too_many_arguments)]
fn assert_line(
    l: &Value,
    item: Option<&str>,
    qty: i64,
    uom: Option<&str>,
    unit: i64,
    discount: i64,
    amount: i64,
    vat: &str,
) {
    assert_eq!(l["inventoryNumber"].as_str(), item, "item of {l}");
    assert_eq!(cents(&l["quantity"]), qty * 100, "quantity of {l}");
    assert_eq!(l["uom"].as_str(), uom, "UoM of {l}");
    assert_eq!(cents(&l["unitPriceInCurrency"]), unit, "unit price of {l}");
    assert_eq!(
        cents(&l["discountAmountInCurrency"]),
        discount,
        "discount of {l}"
    );
    assert_eq!(cents(&l["amountInCurrency"]), amount, "amount of {l}");
    assert_eq!(l["vatCode"]["id"], vat, "VAT code of {l}");
}

async fn invoice_of(h: &Harness, tenant: &str, order: u64) -> Value {
    let summary = h
        .wait_document(tenant, |d| {
            d["kind"] == "customer_invoice"
                && d["status"] == "Open"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{order}")))
        })
        .await
        .unwrap();
    h.visma_invoice(tenant, summary["number"].as_str().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tax_inclusive_order_with_discount_and_shipping() {
    let h = Harness::start().await.unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_inc_tax"] = json!("49.00");
    // BigCommerce's order API takes a coupon's effect as the order discount.
    body["discount_amount"] = json!("50.00");
    body["payment_method"] = json!("Klarna");
    body["customer_message"] = json!("Leave it at the door");
    let id = h.create_order(body).await.unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    // 298.00 + 299.00 − 50.00 + 49.00
    assert_eq!(cents(&order["total_inc_tax"]), 596_00, "{order}");

    let inv = invoice_of(&h, SE_TENANT, id).await;
    assert_eq!(
        inv["customer"]["number"],
        ledgerlink_sim::visma::GUEST_CUSTOMER
    );
    assert_eq!(inv["currencyId"], "SEK");
    assert_eq!(cents(&inv["exchangeRate"]), 100);
    assert_eq!(inv["paymentMethod"]["id"], "KLARNA");
    assert_eq!(inv["creditTerms"]["id"], "0D", "the guest customer's terms");
    assert_eq!(inv["customerRefNumber"], id.to_string());
    assert_eq!(inv["invoiceText"], format!("BigCommerce order {id}"));
    assert_eq!(inv["note"], "Leave it at the door");
    assert_eq!(inv["branchNumber"]["number"], "1");
    assert_eq!(inv["invoiceLines"].as_array().unwrap().len(), 3, "{inv:#}");
    // Mug: 2 × 149.00 gross, discount 24.96 (50.00 × 298/597); net unit 119.20, discount
    // 24.96 − 4.99 = 19.97, amount 273.04 − 54.61 = 218.43.
    assert_line(
        line(&inv, "invoiceLines", "Enamel Camp Mug"),
        Some("LL-MUG-01"),
        2,
        Some("PCS"),
        119_20,
        19_97,
        218_43,
        "SE25",
    );
    // Bottle: 299.00, discount 25.04; net 239.20, 20.03, 273.96 − 54.79 = 219.17.
    assert_line(
        line(&inv, "invoiceLines", "Steel Bottle 0.75 l"),
        Some("LL-BOTTLE-075"),
        1,
        Some("PCS"),
        239_20,
        20_03,
        219_17,
        "SE25",
    );
    // Shipping 49.00 gross → 39.20 net, booked as freight on the freight account.
    assert_line(
        line(&inv, "invoiceLines", "Shipping: Flat Rate"),
        None,
        1,
        None,
        39_20,
        0,
        39_20,
        "SE25",
    );
    // 476.80 net + 25 % = 119.20 VAT: 596.00, BigCommerce's total to the cent.
    assert_eq!(cents(&inv["detailTotalInCurrency"]), 476_80);
    assert_eq!(cents(&inv["discountTotalInCurrency"]), 40_00);
    assert_eq!(cents(&inv["vatTotalInCurrency"]), 119_20);
    assert_eq!(cents(&inv["amountInCurrency"]), 596_00);
    assert_eq!(cents(&inv["roundingDiff"]), 0);
    assert_eq!(inv["status"], "Open");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tax_exclusive_b2b_order_with_po_number_terms_and_cash_rounding() {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            // Wholesale customers (group 2) buy on 30 days.
            e.tables
                .entry("credit-terms".into())
                .or_default()
                .insert("2".into(), "30D".into());
            // The store's B2B checkout keeps the buyer's PO number in an order metafield.
            e.posting.po_number_metafield = Some("b2b.po_number".into());
        }
    })
    .await
    .unwrap();
    h.bc_send(
        Method::PUT,
        "/v3/tax/settings",
        Some(json!({"tax_entered_with_prices": false})),
    )
    .await
    .unwrap();
    let customer = h
        .bc_send(
            Method::POST,
            "/v3/customers",
            Some(json!([{
                "email": "inköp@berg-friluft.example.se", "first_name": "Lars", "last_name": "Berg",
                "company": "Berg Friluft AB", "customer_group_id": 2,
                "addresses": [{"first_name": "Lars", "last_name": "Berg", "company": "Berg Friluft AB",
                               "address1": "Industrivägen 8", "city": "Umeå", "postal_code": "90130",
                               "country_code": "SE", "address_type": "commercial"}]
            }])),
        )
        .await
        .unwrap();
    let customer_id = customer["data"][0]["id"].as_u64().unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let mut body = order_body(1, &[(mug, 2)], None);
    body["customer_id"] = json!(customer_id);
    body["billing_address"] = json!({
        "first_name": "Lars", "last_name": "Berg", "company": "Berg Friluft AB",
        "street_1": "Industrivägen 8", "city": "Umeå", "zip": "90130", "country": "Sweden",
        "country_iso2": "SE", "email": "inköp@berg-friluft.example.se"
    });
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_ex_tax"] = json!("79.00");
    body["payment_method"] = json!("Manual");
    // Placed as Pending (not posted), the PO metafield added, then approved: the order is
    // posted with its PO number, as a B2B checkout does it.
    body["status_id"] = json!(1);
    let id = h.create_order(body).await.unwrap();
    h.bc_send(
        Method::POST,
        &format!("/v3/orders/{id}/metafields"),
        Some(
            json!({"namespace": "b2b", "key": "po_number", "value": "PO-2026-0457",
                    "permission_set": "app_only"}),
        ),
    )
    .await
    .unwrap();
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{id}"),
        Some(json!({"status_id": 11})),
    )
    .await
    .unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    // 2 × 149.00 + 79.00 net, 25 % VAT 94.25: 471.25.
    assert_eq!(cents(&order["total_inc_tax"]), 471_25, "{order}");

    let inv = invoice_of(&h, SE_TENANT, id).await;
    let number = inv["customer"]["number"].as_str().unwrap().to_owned();
    assert_ne!(number, ledgerlink_sim::visma::GUEST_CUSTOMER);
    let c = h
        .visma_send(
            SE_TENANT,
            Method::GET,
            &format!("v1/customer/{number}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(c["name"], "Berg Friluft AB", "{c:#}");
    assert_eq!(inv["creditTerms"]["id"], "30D");
    assert_eq!(inv["paymentMethod"]["id"], "INVOICE");
    // The buyer's PO number is the invoice's customer reference.
    assert_eq!(inv["customerRefNumber"], "PO-2026-0457", "{inv:#}");
    assert_line(
        line(&inv, "invoiceLines", "Enamel Camp Mug"),
        Some("LL-MUG-01"),
        2,
        Some("PCS"),
        149_00,
        0,
        298_00,
        "SE25",
    );
    assert_line(
        line(&inv, "invoiceLines", "Shipping: Flat Rate"),
        None,
        1,
        None,
        79_00,
        0,
        79_00,
        "SE25",
    );
    assert_eq!(cents(&inv["vatTotalInCurrency"]), 94_25);
    // The Swedish company rounds invoices to whole kronor: 471.25 → 471.00.
    assert_eq!(cents(&inv["amountInCurrency"]), 471_00);
    assert_eq!(cents(&inv["roundingDiff"]), -25);
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_eur_order_to_finland_goes_to_the_finnish_company_with_a_rounding_line() {
    let h = Harness::start().await.unwrap();
    let choc = h.product_id("LL-CHOC-BAR").await.unwrap();
    let helsinki = json!({
        "first_name": "Mikko", "last_name": "Virtanen", "street_1": "Mannerheimintie 5",
        "city": "Helsinki", "zip": "00100", "country": "Finland", "country_iso2": "FI",
        "email": "mikko.virtanen@example.fi"
    });
    let body = json!({
        "status_id": 11, "channel_id": 2, "customer_id": 0, "default_currency_code": "EUR",
        "billing_address": helsinki, "shipping_addresses": [helsinki],
        "products": [{"product_id": choc, "quantity": 2, "price_inc_tax": "2.95"}],
        "shipping_cost_inc_tax": "9.90", "payment_method": "Credit Card",
    });
    let id = h.create_order(body).await.unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    assert_eq!(order["currency_code"], "EUR");
    assert_eq!(cents(&order["total_inc_tax"]), 15_80);
    // Finnish VAT: 14 % on food, 24 % on shipping.
    assert_eq!(cents(&order["total_tax"]), 72 + 192, "{order}");

    let inv = invoice_of(&h, FI_TENANT, id).await;
    assert_eq!(inv["currencyId"], "EUR");
    assert_eq!(inv["paymentMethod"]["id"], "CARD");
    assert_eq!(inv["branchNumber"]["number"], "1");
    // 5.90 gross at 14 % → 5.18 net (unit 2.95 / 1.14 = 2.5877).
    let l = line(&inv, "invoiceLines", "Dark Trail Chocolate");
    assert_eq!(l["inventoryNumber"], "LL-CHOC-BAR");
    assert_eq!(cents(&l["quantity"]), 200);
    assert_eq!(l["unitPriceInCurrency"].to_string(), "2.5877");
    assert_eq!(cents(&l["amountInCurrency"]), 5_18);
    assert_eq!(l["vatCode"]["id"], "FI14");
    assert_line(
        line(&inv, "invoiceLines", "Shipping: Flat Rate"),
        None,
        1,
        None,
        7_98,
        0,
        7_98,
        "FI24",
    );
    // Visma: 5.18 + 0.73 VAT + 7.98 + 1.92 VAT = 15.81; a VAT-free −0.01 brings it to 15.80.
    assert_line(
        line(&inv, "invoiceLines", "Rounding"),
        None,
        -1,
        None,
        1,
        0,
        -1,
        "FI00",
    );
    assert_eq!(cents(&inv["vatTotalInCurrency"]), 2_65);
    assert_eq!(cents(&inv["amountInCurrency"]), 15_80);
    assert!(
        h.visma_documents(SE_TENANT)
            .await
            .unwrap()
            .iter()
            .all(|d| d["external_reference"] != inv["externalReference"]),
        "the order must not reach the Swedish company"
    );
    h.shutdown().await.unwrap();
}

/// How long a write-back may take to reach the order on a loaded CI machine.
const WAIT_WRITE_BACK: std::time::Duration = std::time::Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_order_posting_rule_creates_an_open_sales_order_writes_its_number_back_and_cancellation_cancels_it()
 {
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.posting.document_type = DocumentType::SalesOrder;
            e.posting
                .settings
                .insert("charge-item".into(), "FREIGHT".into());
        }
    })
    .await
    .unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let bottle = h.product_id("LL-BOTTLE-075").await.unwrap();
    let mut body = order_body(1, &[(mug, 2), (bottle, 1)], None);
    body["shipping_addresses"] = json!([body["billing_address"].clone()]);
    body["shipping_cost_inc_tax"] = json!("49.00");
    body["payment_method"] = json!("Credit Card");
    let id = h.create_order(body).await.unwrap();
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
    let so = h
        .visma_so_get(
            SE_TENANT,
            &format!("api/v3/SalesOrders/{}", summary["number"].as_str().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(so["type"], "SO");
    assert_eq!(so["customer"]["id"], ledgerlink_sim::visma::GUEST_CUSTOMER);
    assert_eq!(so["customer"]["order"], id.to_string());
    assert_eq!(so["currencyId"], "SEK");
    assert_eq!(so["branchId"], "1");
    assert_eq!(so["paymentSettings"]["paymentMethodId"], "CARD");
    assert_eq!(so["description"], format!("BigCommerce order {id}"));
    let lines = so["orderLines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{so:#}");
    let mug_line = lines
        .iter()
        .find(|l| l["inventoryId"] == "LL-MUG-01")
        .unwrap();
    assert_eq!(cents(&mug_line["quantity"]), 200);
    assert_eq!(cents(&mug_line["unitPrice"]), 119_20);
    assert_eq!(cents(&mug_line["amount"]), 238_40);
    assert_eq!(mug_line["taxCategoryId"], "HIGH");
    assert_eq!(mug_line["unitOfMeasure"], "PCS");
    let bottle_line = lines
        .iter()
        .find(|l| l["inventoryId"] == "LL-BOTTLE-075")
        .unwrap();
    assert_eq!(cents(&bottle_line["unitPrice"]), 239_20);
    // Shipping is the order's freight: 49.00 gross → 39.20 net.
    assert_eq!(cents(&so["freight"]["cost"]), 39_20);
    assert_eq!(so["freight"]["taxCategoryId"], "HIGH");
    // 516.80 net + 129.20 VAT = 646.00 = 298.00 + 299.00 + 49.00.
    assert_eq!(cents(&so["taxTotal"]), 129_20);
    assert_eq!(cents(&so["orderTotal"]), 646_00);
    // No invoice: the sales order is the document.
    assert!(
        h.documents_ending(SE_TENANT, &format!(":{id}"))
            .await
            .unwrap()
            .iter()
            .all(|d| d["kind"] == "sales_order")
    );

    // The sales order's number is written back to the order (metafield + staff note), once.
    let number = summary["number"].as_str().unwrap().to_owned();
    let written = h
        .wait_for(
            "the sales order number on the order",
            WAIT_WRITE_BACK,
            || {
                let h = &h;
                async move {
                    Ok(h.order_metafields(id, "visma_sales_order_number")
                        .await?
                        .into_iter()
                        .next())
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(written["namespace"], "ledgerlink", "{written}");
    assert_eq!(written["value"], number.as_str(), "{written}");
    // The note is appended after the metafield (and a re-read of the order), so wait for it.
    let note = format!("Visma sales order {number}");
    let notes = h
        .wait_for(
            "the sales order number in the staff notes",
            WAIT_WRITE_BACK,
            || {
                let (h, note) = (&h, &note);
                async move {
                    let order = h
                        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
                        .await?;
                    let notes = order["staff_notes"].as_str().unwrap_or_default().to_owned();
                    Ok(notes.contains(note.as_str()).then_some(notes))
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(notes.matches(&note).count(), 1, "{notes:?}");

    // Cancelled before it was invoiced: the sales order is cancelled, nothing is credited.
    h.bc_send(
        Method::PUT,
        &format!("/v2/orders/{id}"),
        Some(json!({"status_id": 5})),
    )
    .await
    .unwrap();
    h.wait_document(SE_TENANT, |d| {
        d["kind"] == "sales_order" && d["number"] == summary["number"] && d["status"] == "Cancelled"
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let docs = h
        .documents_ending(SE_TENANT, &format!(":{id}"))
        .await
        .unwrap();
    assert_eq!(docs.len(), 1, "only the cancelled sales order: {docs:#?}");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_invoice_is_rechecked_on_replay_and_released_once_right() {
    // A wrong mapping table (tax class 0 → the 12 % category) makes Visma total less than
    // BigCommerce: the invoice is held, unreleased, in the error queue.
    let h = Harness::start_configured(standard_plugin(), |cfg| {
        for e in &mut cfg.entities {
            e.tables
                .entry("vat-category".into())
                .or_default()
                .insert("0".into(), "MEDIUM".into());
        }
    })
    .await
    .unwrap();
    h.bc_send(
        Method::PUT,
        "/v3/tax/settings",
        Some(json!({"tax_entered_with_prices": false})),
    )
    .await
    .unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let id = h
        .create_order(order_body(1, &[(mug, 2)], None))
        .await
        .unwrap();
    let held = h
        .wait_document(SE_TENANT, |d| {
            d["kind"] == "customer_invoice"
                && d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(&format!(":{id}")))
        })
        .await
        .unwrap();
    let number = held["number"].as_str().unwrap().to_owned();
    let error = h
        .wait_for("the totals mismatch", Duration::from_secs(60), || {
            let h = &h;
            async move {
                let v = h
                    .admin(
                        Method::GET,
                        &format!("/api/errors?subject=order:{id}"),
                        None,
                    )
                    .await?;
                Ok(v["errors"].as_array().and_then(|a| a.first().cloned()))
            }
        })
        .await
        .unwrap();
    assert_eq!(error["error"]["code"], "totals_mismatch", "{error:#}");
    // A replay while it is still wrong keeps it held, with the reason.
    h.admin(
        Method::POST,
        "/api/replay",
        Some(json!({"filter": {"subject": format!("order:{id}"), "state": "failed"}})),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let still = h.visma_invoice(SE_TENANT, &number).await.unwrap();
    assert_ne!(still["status"], "Open", "{still:#}");
    let errors = h
        .admin(
            Method::GET,
            &format!("/api/errors?subject=order:{id}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        errors["errors"][0]["error"]["code"], "totals_mismatch",
        "{errors:#}"
    );

    // The accountant corrects the VAT code in Visma and replays: checked again, released.
    h.visma_send(
        SE_TENANT,
        Method::PUT,
        &format!("v1/customerinvoice/{number}"),
        Some(
            json!({"invoiceLines": [{"operation": "Update", "lineNumber": {"value": 1},
                                       "vatCodeId": {"value": "SE25"}}]}),
        ),
    )
    .await
    .unwrap();
    h.admin(
        Method::POST,
        "/api/replay",
        Some(json!({"filter": {"subject": format!("order:{id}"), "state": "failed"}})),
    )
    .await
    .unwrap();
    let released = h
        .wait_document(SE_TENANT, |d| {
            d["number"] == number && d["status"] == "Open"
        })
        .await
        .unwrap();
    // 298.00 + 74.50 VAT = 372.50, rounded by the company to 373.00.
    assert_eq!(cents(&released["amount"]), 373_00);
    let docs = h
        .documents_ending(SE_TENANT, &format!(":{id}"))
        .await
        .unwrap();
    assert_eq!(docs.len(), 1, "the held invoice was released, not replaced");
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_eur_order_in_the_swedish_store_carries_the_rate_into_the_swedish_company() {
    let h = Harness::start().await.unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let mut body = order_body(1, &[(mug, 1)], None);
    body["default_currency_code"] = json!("EUR");
    body["products"][0]["price_inc_tax"] = json!("12.95");
    let id = h.create_order(body).await.unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    assert_eq!(order["currency_code"], "EUR");
    assert_eq!(cents(&order["total_inc_tax"]), 12_95);

    let inv = invoice_of(&h, SE_TENANT, id).await;
    assert_eq!(inv["currencyId"], "EUR");
    // The store converts SEK → EUR at 0.0870; Visma wants EUR → SEK: 1 / 0.0870.
    assert_eq!(inv["exchangeRate"].to_string(), "11.49425287");
    assert_line(
        line(&inv, "invoiceLines", "Enamel Camp Mug"),
        Some("LL-MUG-01"),
        1,
        Some("PCS"),
        10_36,
        0,
        10_36,
        "SE25",
    );
    assert_eq!(cents(&inv["vatTotalInCurrency"]), 2_59);
    // In EUR to the cent (the whole-krona rounding applies to SEK documents only) …
    assert_eq!(cents(&inv["amountInCurrency"]), 12_95);
    // … and 12.95 × 11.49425287 = 148.85 SEK in the books.
    assert_eq!(cents(&inv["amount"]), 148_85);
    h.shutdown().await.unwrap();
}

// --- coupon orders ---------------------------------------------------------------------------
//
// BigCommerce's `POST /v2/orders` takes no coupons, so the goldens above stand a coupon in with
// an order discount. Real coupon orders come from the storefront checkout: the simulator's
// demo seed has two (FJALL10, 10 % off, on a tax-inclusive order; SOMMAR200, 200 kr off, on a
// tax-exclusive one, both with shipping), and its admin checkout places more. Every expected
// figure below is worked out from the BigCommerce order's own data (`assert_coupon_invoice`);
// the comments give today's numbers by hand.

/// `num / den` rounded half away from zero (amounts are in cents, never floats).
fn div_round(num: i64, den: i64) -> i64 {
    (2 * num + den * num.signum()) / (2 * den)
}

/// The VAT a VAT-inclusive amount (cents) contains at `rate` %, rounded to the cent.
fn vat_in(gross: i64, rate: i64) -> i64 {
    div_round(gross * rate, 100 + rate)
}

/// A decimal JSON number or string in ten-thousandths (Visma's unit prices carry 4 places).
fn ten_thousandths(v: &Value) -> i64 {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = format!("{frac:0<4}");
    assert!(
        frac[4..].bytes().all(|b| b == b'0'),
        "more than 4 places: {s}"
    );
    let v: i64 = format!("{}{}", int.trim_start_matches('-'), &frac[..4])
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    if s.starts_with('-') { -v } else { v }
}

/// A BigCommerce line's VAT rate in whole per cent, from its own ex- and inc-tax amounts.
fn rate_of(ex: &Value, tax: &Value) -> i64 {
    div_round(cents(tax) * 100, cents(ex))
}

fn swedish_vat_code(rate: i64) -> &'static str {
    match rate {
        25 => "SE25",
        12 => "SE12",
        6 => "SE06",
        0 => "SE00",
        other => panic!("no Swedish VAT rate of {other} %"),
    }
}

/// What BigCommerce says about one coupon order, read through its API.
struct CouponOrder {
    id: u64,
    order: Value,
    coupon: Value,
    products: Vec<Value>,
    shipping: Value,
}

async fn coupon_order(h: &Harness, id: u64) -> CouponOrder {
    let get = |path: String| async move { h.bc_send(Method::GET, &path, None).await.unwrap() };
    let coupons = get(format!("/v2/orders/{id}/coupons")).await;
    assert_eq!(coupons.as_array().map(Vec::len), Some(1), "{coupons:#}");
    CouponOrder {
        id,
        order: get(format!("/v2/orders/{id}")).await,
        coupon: coupons[0].clone(),
        products: get(format!("/v2/orders/{id}/products"))
            .await
            .as_array()
            .unwrap()
            .clone(),
        shipping: get(format!("/v2/orders/{id}/shipping_addresses")).await[0].clone(),
    }
}

/// The seeded orders that redeemed a coupon, found through the API as an integrator would:
/// their coupons are non-empty.
async fn seeded_coupon_orders(h: &Harness) -> Vec<CouponOrder> {
    let orders = h
        .bc_send(Method::GET, "/v2/orders?limit=250&sort=id:asc", None)
        .await
        .unwrap();
    let mut found = Vec::new();
    for o in orders.as_array().unwrap() {
        let id = o["id"].as_u64().unwrap();
        let coupons = h
            .bc_send(Method::GET, &format!("/v2/orders/{id}/coupons"), None)
            .await
            .unwrap();
        if coupons.as_array().is_some_and(|c| !c.is_empty()) {
            found.push(coupon_order(h, id).await);
        }
    }
    found
}

/// The cents of a BigCommerce amount on the store's entry basis (`is_tax_inclusive_pricing`).
fn entered(v: &Value, prefix: &str, inclusive: bool) -> i64 {
    cents(&v[format!("{prefix}_{}", if inclusive { "inc_tax" } else { "ex_tax" })])
}

/// Checks the coupon order against BigCommerce's own rules (the coupon's discount, its spread
/// over the lines, the totals), then its Visma invoice field by field: one net line per item
/// with the coupon as the line discount and named in the line note, the freight, a rounding
/// line when Visma's VAT per code would miss BigCommerce's total, VAT per code, totals to the
/// cent and the Swedish company's whole-krona rounding. Returns the invoice.
async fn assert_coupon_invoice(h: &Harness, c: &CouponOrder) -> Value {
    let (order, coupon, products, shipping) = (&c.order, &c.coupon, &c.products, &c.shipping);
    let inclusive = order["is_tax_inclusive_pricing"].as_bool().unwrap();
    assert_eq!(order["currency_code"], "SEK", "{order:#}");
    assert_eq!(
        cents(&order["subtotal_inc_tax"]),
        cents(&order["subtotal_ex_tax"]) + cents(&order["subtotal_tax"])
    );
    // The coupon took its share of the subtotal on the store's entry basis.
    let subtotal = entered(order, "subtotal", inclusive);
    let code = coupon["code"].as_str().unwrap();
    let coupon_discount = match coupon["type"].as_u64() {
        Some(1) => div_round(subtotal * cents(&coupon["amount"]), 100_00),
        Some(2) => cents(&coupon["amount"]).min(subtotal),
        other => panic!("coupon type {other:?} is not expected here: {coupon}"),
    };
    assert_eq!(cents(&coupon["discount"]), coupon_discount, "{coupon}");
    assert_eq!(cents(&order["coupon_discount"]), coupon_discount);
    let ship = entered(shipping, "cost", inclusive);
    assert!(ship > 0, "the coupon order pays shipping: {shipping:#}");
    assert_eq!(
        entered(order, "total", inclusive),
        subtotal - coupon_discount + ship,
        "{order:#}"
    );
    // Spread over the lines by their ex-tax totals (NOTES §6.4), the last taking the rest,
    // each share named by the coupon's code.
    let subtotal_ex: i64 = products.iter().map(|p| cents(&p["total_ex_tax"])).sum();
    let mut left = coupon_discount;
    let line_discounts: Vec<i64> = products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let applied = p["applied_discounts"].as_array().unwrap();
            assert_eq!(applied.len(), 1, "{p:#}");
            assert_eq!(applied[0]["id"], "coupon");
            assert_eq!(applied[0]["code"], code);
            let share = cents(&applied[0]["amount"]);
            let expected = if i + 1 == products.len() {
                left
            } else {
                div_round(coupon_discount * cents(&p["total_ex_tax"]), subtotal_ex)
            };
            assert_eq!(share, expected, "share of line {i}: {p:#}");
            left -= share;
            share
        })
        .collect();

    let inv = invoice_of(h, SE_TENANT, c.id).await;
    let docs = h
        .documents_ending(SE_TENANT, &format!(":{}", c.id))
        .await
        .unwrap();
    assert_eq!(docs.len(), 1, "one document for the order: {docs:#?}");
    assert_eq!(inv["currencyId"], "SEK");
    assert_eq!(cents(&inv["exchangeRate"]), 100);
    assert_eq!(inv["invoiceText"], format!("BigCommerce order {}", c.id));
    assert_eq!(inv["branchNumber"]["number"], "1");

    // Each item line, net (the document is posted ex VAT), the coupon as its line discount.
    let mut net_by_rate: std::collections::BTreeMap<i64, i64> = Default::default();
    let mut discount_total = 0;
    for (p, &disc) in products.iter().zip(&line_discounts) {
        let rate = rate_of(&p["total_ex_tax"], &p["total_tax"]);
        let l = line(&inv, "invoiceLines", p["name"].as_str().unwrap());
        let (unit, discount, amount) = if inclusive {
            let gross = cents(&p["total_inc_tax"]);
            (
                div_round(cents(&p["price_inc_tax"]) * 100 * 100, 100 + rate),
                disc - vat_in(disc, rate),
                (gross - disc) - vat_in(gross - disc, rate),
            )
        } else {
            (
                cents(&p["price_ex_tax"]) * 100,
                disc,
                cents(&p["total_ex_tax"]) - disc,
            )
        };
        assert_eq!(l["inventoryNumber"], p["sku"], "item of {l}");
        assert_eq!(
            cents(&l["quantity"]),
            p["quantity"].as_i64().unwrap() * 100,
            "quantity of {l}"
        );
        assert_eq!(l["uom"], "PCS", "UoM of {l}");
        assert_eq!(
            ten_thousandths(&l["unitPriceInCurrency"]),
            unit,
            "unit price of {l} (from {p})"
        );
        assert_eq!(
            cents(&l["discountAmountInCurrency"]),
            discount,
            "discount of {l}"
        );
        assert_eq!(cents(&l["amountInCurrency"]), amount, "amount of {l}");
        assert_eq!(
            l["vatCode"]["id"],
            swedish_vat_code(rate),
            "VAT code of {l}"
        );
        // The accountant sees which coupon the discount is.
        assert_eq!(l["note"], format!("Discount: {code}"), "note of {l}");
        *net_by_rate.entry(rate).or_default() += amount;
        discount_total += discount;
    }
    // Freight, not discounted.
    let ship_rate = rate_of(&shipping["cost_ex_tax"], &shipping["cost_tax"]);
    let freight = if inclusive {
        ship - vat_in(ship, ship_rate)
    } else {
        ship
    };
    assert_line(
        line(
            &inv,
            "invoiceLines",
            &format!(
                "Shipping: {}",
                shipping["shipping_method"].as_str().unwrap()
            ),
        ),
        None,
        1,
        None,
        freight,
        0,
        freight,
        swedish_vat_code(ship_rate),
    );
    *net_by_rate.entry(ship_rate).or_default() += freight;

    // Visma adds VAT per code on the net sums; where that misses BigCommerce's total (which
    // rounds tax per line) a VAT-free rounding line makes up the difference.
    let vat_of = |net_by_rate: &std::collections::BTreeMap<i64, i64>| -> i64 {
        net_by_rate
            .iter()
            .map(|(&rate, &net)| div_round(net * rate, 100))
            .sum()
    };
    let bc_total = cents(&order["total_inc_tax"]);
    let rounding = bc_total - (net_by_rate.values().sum::<i64>() + vat_of(&net_by_rate));
    let mut lines = products.len() + 1;
    if rounding != 0 {
        assert_line(
            line(&inv, "invoiceLines", "Rounding"),
            None,
            rounding.signum(),
            None,
            rounding.abs(),
            0,
            rounding,
            swedish_vat_code(0),
        );
        *net_by_rate.entry(0).or_default() += rounding;
        lines += 1;
    }
    assert_eq!(
        inv["invoiceLines"].as_array().unwrap().len(),
        lines,
        "one line per item, the freight{}: {inv:#}",
        if rounding != 0 {
            " and the rounding"
        } else {
            ""
        }
    );
    let details = inv["taxDetails"].as_array().unwrap();
    assert_eq!(details.len(), net_by_rate.len(), "{inv:#}");
    for (&rate, &net) in &net_by_rate {
        let d = details
            .iter()
            .find(|d| d["taxId"] == swedish_vat_code(rate))
            .unwrap_or_else(|| panic!("no VAT detail at {rate} %: {inv:#}"));
        assert_eq!(cents(&d["taxableAmount"]), net, "{d}");
        assert_eq!(cents(&d["vatAmount"]), div_round(net * rate, 100), "{d}");
    }
    let net_total: i64 = net_by_rate.values().sum();
    let vat_total = vat_of(&net_by_rate);
    assert_eq!(cents(&inv["detailTotalInCurrency"]), net_total);
    assert_eq!(cents(&inv["discountTotalInCurrency"]), discount_total);
    assert_eq!(cents(&inv["vatTotalInCurrency"]), vat_total);
    // BigCommerce's total to the cent; the Swedish company rounds invoices to whole kronor
    // and books the difference as the rounding difference.
    let total = net_total + vat_total;
    assert_eq!(total, bc_total);
    let whole = div_round(total, 100) * 100;
    assert_eq!(cents(&inv["amountInCurrency"]), whole);
    assert_eq!(cents(&inv["roundingDiff"]), whole - total);
    assert_eq!(inv["status"], "Open");
    inv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_seeded_tax_inclusive_coupon_order_with_shipping_reaches_visma_to_the_cent() {
    let h = Harness::start().await.unwrap();
    let mut found = seeded_coupon_orders(&h).await;
    assert_eq!(found.len(), 2, "the demo seed has two coupon orders");
    found.retain(|c| c.order["is_tax_inclusive_pricing"] == true);
    let c = found.pop().expect("a tax-inclusive one");
    assert_eq!(c.coupon["code"], "FJALL10");
    assert_eq!(c.coupon["type"], 1, "a percentage coupon: {}", c.coupon);
    // Today: 2 × Field Guide to Knots at 199.00 (6 % VAT) and 1 × Baseplate Compass at 349.00
    // (25 %): 747.00; FJALL10 takes 10 % of that, 74.70, spread by the net totals 375.47 and
    // 279.20: 42.84 and 31.86. 79.00 shipping at 25 %: 751.30. On the invoice, net:
    //   Knots   unit 199.00 / 1.06 = 187.7358; discount 42.84 − 2.42 VAT = 40.42;
    //           amount (398.00 − 42.84 = 355.16) − 20.10 VAT = 335.06; SE06.
    //   Compass unit 279.20; discount 31.86 − 6.37 = 25.49; amount 317.14 − 63.43 = 253.71.
    //   Freight 63.20. VAT 6 % of 335.06 = 20.10, 25 % of 316.91 = 79.23: 99.33, and
    //   651.97 + 99.33 = 751.30, rounded by the company to 751.00.
    let inv = assert_coupon_invoice(&h, &c).await;

    // The customer: the order's B2B buyer (Fjällguiden HB), a Visma customer of its own.
    let number = inv["customer"]["number"].as_str().unwrap().to_owned();
    assert_ne!(number, ledgerlink_sim::visma::GUEST_CUSTOMER);
    let customer = h
        .visma_send(
            SE_TENANT,
            Method::GET,
            &format!("v1/customer/{number}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        customer["name"], c.order["billing_address"]["company"],
        "{customer:#}"
    );
    // No credit-terms mapping for its group in the sandbox: the customer's own terms.
    assert_eq!(inv["creditTerms"]["id"], customer["creditTerms"]["id"]);
    assert_eq!(inv["paymentMethod"]["id"], "CARD", "Credit Card");
    assert_eq!(inv["customerRefNumber"], c.id.to_string());
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_seeded_tax_exclusive_coupon_order_with_shipping_reaches_visma_to_the_cent() {
    let h = Harness::start().await.unwrap();
    let mut found = seeded_coupon_orders(&h).await;
    assert_eq!(found.len(), 2, "the demo seed has two coupon orders");
    found.retain(|c| c.order["is_tax_inclusive_pricing"] == false);
    let c = found.pop().expect("a tax-exclusive one");
    assert_eq!(c.coupon["code"], "SOMMAR200");
    assert_eq!(
        c.coupon["type"], 2,
        "a fixed amount off the order: {}",
        c.coupon
    );
    // Today: 2 × Compact Gas Stove at 649.00 and 2 × Enamel Camp Mug at 149.00, net, 25 %:
    // 1596.00; SOMMAR200 takes 200.00, spread 162.66 / 37.34; 79.00 freight. Net lines
    // 1135.34 and 260.66 (discounts as line discounts), 1475.00 + 25 % = 1843.75, rounded by
    // the company to 1844.00.
    let inv = assert_coupon_invoice(&h, &c).await;
    let number = inv["customer"]["number"].as_str().unwrap().to_owned();
    assert_ne!(number, ledgerlink_sim::visma::GUEST_CUSTOMER);
    let customer = h
        .visma_send(
            SE_TENANT,
            Method::GET,
            &format!("v1/customer/{number}"),
            None,
        )
        .await
        .unwrap();
    let billing = &c.order["billing_address"];
    assert_eq!(
        customer["name"],
        format!(
            "{} {}",
            billing["first_name"].as_str().unwrap(),
            billing["last_name"].as_str().unwrap()
        ),
        "{customer:#}"
    );
    assert_eq!(inv["customerRefNumber"], c.id.to_string());
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_storefront_checkout_with_a_coupon_in_a_tax_exclusive_store() {
    let h = Harness::start().await.unwrap();
    h.bc_send(
        Method::PUT,
        "/v3/tax/settings",
        Some(json!({"tax_entered_with_prices": false})),
    )
    .await
    .unwrap();
    let knots = h.product_id("LL-BOOK-KNOTS").await.unwrap();
    let mug = h.product_id("LL-MUG-01").await.unwrap();
    let mut body = order_body(1, &[(knots, 3), (mug, 2)], Some("79.00"));
    body["payment_method"] = json!("Klarna");
    body["coupon_code"] = json!("FJALL10");
    // The storefront checkout (the simulator's admin endpoint: the v2 API cannot redeem
    // coupons).
    let r = h
        .http
        .post(format!(
            "http://{}/__admin/orders/checkout",
            h.bc.local_addr()
        ))
        .header("X-Auth-Token", &h.bc.info().auth_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let c = coupon_order(&h, id).await;
    assert_eq!(c.order["is_tax_inclusive_pricing"], false);
    assert_eq!(c.order["order_source"], "www");
    assert_eq!(c.coupon["code"], "FJALL10");
    // Net prices: 3 × 199.00 = 597.00 at 6 %, 2 × 149.00 = 298.00 at 25 %; FJALL10 takes
    // 89.50 of 895.00, spread 59.70 / 29.80; 79.00 freight at 25 %.
    //   Knots  537.30 net, VAT 6 %  32.24
    //   Mug    268.20 net, VAT 25 % 67.05; freight 79.00, 19.75
    // BigCommerce: 884.50 net + 119.04 tax = 1003.54; Visma 537.30 × 6 % = 32.24 and
    // 347.20 × 25 % = 86.80: the same 1003.54, rounded by the company to 1004.00.
    assert_eq!(cents(&c.order["total_inc_tax"]), 1003_54, "{:#}", c.order);
    let inv = assert_coupon_invoice(&h, &c).await;
    assert_eq!(
        inv["customer"]["number"],
        ledgerlink_sim::visma::GUEST_CUSTOMER
    );
    assert_eq!(inv["paymentMethod"]["id"], "KLARNA");
    assert_eq!(cents(&inv["amountInCurrency"]), 1004_00);
    h.shutdown().await.unwrap();
}
