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
        .wait_for("the write-back metafield", Duration::from_secs(10), || {
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
const WAIT_WRITE_BACK: std::time::Duration = std::time::Duration::from_secs(20);

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
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    let notes = order["staff_notes"].as_str().unwrap_or_default();
    assert_eq!(
        notes
            .matches(&format!("Visma sales order {number}"))
            .count(),
        1,
        "{notes:?}"
    );

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
        .wait_for("the totals mismatch", Duration::from_secs(10), || {
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

// --- the demo store's coupon order -----------------------------------------------------------
//
// BigCommerce's `POST /v2/orders` takes no coupons, so the goldens above stand a coupon in with
// an order discount. The simulator's demo seed has a real one: an order that redeemed FJALL10
// (10 % off) in the storefront, with shipping. Every expected figure below is worked out from
// that order's own BigCommerce data; the comments give today's numbers by hand.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_seeded_coupon_order_with_shipping_reaches_visma_to_the_cent() {
    let h = Harness::start().await.unwrap();
    // Find the coupon order through the API, as an integrator would: its coupons are non-empty.
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
            found.push((id, coupons));
        }
    }
    assert_eq!(
        found.len(),
        1,
        "the demo seed has one coupon order: {found:?}"
    );
    let (id, coupons) = found.pop().unwrap();
    let order = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}"), None)
        .await
        .unwrap();
    let products = h
        .bc_send(Method::GET, &format!("/v2/orders/{id}/products"), None)
        .await
        .unwrap();
    let products = products.as_array().unwrap();
    let shipping = h
        .bc_send(
            Method::GET,
            &format!("/v2/orders/{id}/shipping_addresses"),
            None,
        )
        .await
        .unwrap();
    let shipping = &shipping[0];

    // The order as BigCommerce has it: a VAT-inclusive Swedish order (today: 2 × Field Guide to
    // Knots at 199.00, 6 % VAT, and 1 × Baseplate Compass at 349.00, 25 %: 747.00), FJALL10
    // taking 10 % of that (74.70), 79.00 shipping at 25 %: 751.30.
    assert_eq!(order["currency_code"], "SEK", "{order:#}");
    assert_eq!(
        cents(&order["subtotal_inc_tax"]),
        cents(&order["subtotal_ex_tax"]) + cents(&order["subtotal_tax"])
    );
    let coupon = &coupons[0];
    assert_eq!(coupon["code"], "FJALL10");
    assert_eq!(coupon["type"], 1, "a percentage coupon: {coupon}");
    let subtotal = cents(&order["subtotal_inc_tax"]);
    let coupon_discount = div_round(subtotal * cents(&coupon["amount"]), 100_00);
    assert_eq!(cents(&coupon["discount"]), coupon_discount);
    assert_eq!(cents(&order["coupon_discount"]), coupon_discount);
    let ship_gross = cents(&shipping["cost_inc_tax"]);
    assert!(
        ship_gross > 0,
        "the coupon order pays shipping: {shipping:#}"
    );
    assert_eq!(
        cents(&order["total_inc_tax"]),
        subtotal - coupon_discount + ship_gross,
        "{order:#}"
    );
    // The coupon is spread over the lines (39.80 and 34.90 today) and adds up.
    let line_discount = |p: &Value| -> i64 {
        p["applied_discounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| cents(&d["amount"]))
            .sum()
    };
    assert_eq!(
        products.iter().map(line_discount).sum::<i64>(),
        coupon_discount,
        "{products:#?}"
    );

    let inv = invoice_of(&h, SE_TENANT, id).await;
    let docs = h
        .documents_ending(SE_TENANT, &format!(":{id}"))
        .await
        .unwrap();
    assert_eq!(docs.len(), 1, "one document for the order: {docs:#?}");

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
        customer["name"], order["billing_address"]["company"],
        "{customer:#}"
    );
    // No credit-terms mapping for its group in the sandbox: the customer's own terms.
    assert_eq!(inv["creditTerms"]["id"], customer["creditTerms"]["id"]);
    assert_eq!(inv["currencyId"], "SEK");
    assert_eq!(cents(&inv["exchangeRate"]), 100);
    assert_eq!(inv["paymentMethod"]["id"], "CARD", "Credit Card");
    assert_eq!(inv["customerRefNumber"], id.to_string());
    assert_eq!(inv["invoiceText"], format!("BigCommerce order {id}"));
    assert_eq!(inv["branchNumber"]["number"], "1");
    assert_eq!(
        inv["invoiceLines"].as_array().unwrap().len(),
        products.len() + 1,
        "one line per item and the freight, the coupon on the item lines: {inv:#}"
    );

    // Each item line, net (the document is posted ex VAT), the coupon as its line discount:
    //   Knots   unit 199.00 / 1.06 = 187.7358; discount 39.80 − 2.25 VAT = 37.55;
    //           amount (398.00 − 39.80 = 358.20) − 20.28 VAT = 337.92; SE06.
    //   Compass unit 349.00 / 1.25 = 279.20; discount 34.90 − 6.98 = 27.92;
    //           amount (349.00 − 34.90 = 314.10) − 62.82 = 251.28; SE25.
    let mut net_by_rate: std::collections::BTreeMap<i64, i64> = Default::default();
    let mut discount_total = 0;
    for p in products {
        let rate = rate_of(&p["total_ex_tax"], &p["total_tax"]);
        let l = line(&inv, "invoiceLines", p["name"].as_str().unwrap());
        let qty = p["quantity"].as_i64().unwrap();
        let gross = cents(&p["total_inc_tax"]);
        let disc = line_discount(p);
        let discount = disc - vat_in(disc, rate);
        let amount = (gross - disc) - vat_in(gross - disc, rate);
        assert_eq!(l["inventoryNumber"], p["sku"], "item of {l}");
        assert_eq!(cents(&l["quantity"]), qty * 100, "quantity of {l}");
        assert_eq!(l["uom"], "PCS", "UoM of {l}");
        assert_eq!(
            ten_thousandths(&l["unitPriceInCurrency"]),
            div_round(cents(&p["price_inc_tax"]) * 100 * 100, 100 + rate),
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
        *net_by_rate.entry(rate).or_default() += amount;
        discount_total += discount;
    }
    // Freight: 79.00 gross at 25 % → 63.20 net, not discounted.
    let ship_rate = rate_of(&shipping["cost_ex_tax"], &shipping["cost_tax"]);
    let freight = ship_gross - vat_in(ship_gross, ship_rate);
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

    // VAT per code on the net sums, as Visma adds it: 6 % of 337.92 = 20.28, 25 % of
    // (251.28 + 63.20 = 314.48) = 78.62; 98.90 in all, BigCommerce's total tax.
    let details = inv["taxDetails"].as_array().unwrap();
    assert_eq!(details.len(), net_by_rate.len(), "{inv:#}");
    let mut vat_total = 0;
    for (&rate, &net) in &net_by_rate {
        let vat = div_round(net * rate, 100);
        let d = details
            .iter()
            .find(|d| d["taxId"] == swedish_vat_code(rate))
            .unwrap_or_else(|| panic!("no VAT detail at {rate} %: {inv:#}"));
        assert_eq!(cents(&d["taxableAmount"]), net, "{d}");
        assert_eq!(cents(&d["vatAmount"]), vat, "{d}");
        vat_total += vat;
    }
    let net_total: i64 = net_by_rate.values().sum();
    assert_eq!(cents(&inv["detailTotalInCurrency"]), net_total);
    assert_eq!(cents(&inv["discountTotalInCurrency"]), discount_total);
    assert_eq!(cents(&inv["vatTotalInCurrency"]), vat_total);
    assert_eq!(vat_total, cents(&order["total_tax"]));
    // 652.40 + 98.90 = 751.30, BigCommerce's total to the cent; the Swedish company rounds
    // invoices to whole kronor (751.00) and books the −0.30 as the rounding difference.
    let total = net_total + vat_total;
    assert_eq!(total, cents(&order["total_inc_tax"]));
    let whole = div_round(total, 100) * 100;
    assert_eq!(cents(&inv["amountInCurrency"]), whole);
    assert_eq!(cents(&inv["roundingDiff"]), whole - total);
    assert_eq!(inv["status"], "Open");
    h.shutdown().await.unwrap();
}
