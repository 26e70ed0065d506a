//! What the audit costs per synced order on SQLite: CPU (this process, the database thread
//! included) and database + WAL bytes, for the attempts one order makes in the e2e bench (the
//! sync job's six exchanges: the order fetched, its lines summarised, the Visma invoice sent
//! and answered, the release, two write-backs; then the echo job's fetch of the order).
//! Attempts are finished in batches of 16, as the engine's finisher does.
//!
//! The bodies follow the simulators' (the API's) key order.
//!
//! `cargo bench -p ledgerlink-store --bench audit_write` (`AUDIT_ORDERS`, default 3000;
//! `AUDIT_RUNS`, default 3). Prints one row per run and the median.

use chrono::Utc;
use ledgerlink_store::{Finish, FinishOutcome, Job, NewExchange, NewJob, Store};
use serde_json::json;
use std::time::{Duration, Instant};

const BATCH: usize = 16;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time of this process's live threads so far (the database threads included), from
/// the scheduler's nanosecond counters.
fn process_cpu() -> Duration {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.unwrap().path().join("schedstat");
        if let Ok(stat) = std::fs::read_to_string(path) {
            ns += stat.split(' ').next().unwrap().parse::<u64>().unwrap();
        }
    }
    Duration::from_nanos(ns)
}

fn order_json(id: usize, staff_notes: &str) -> String {
    format!(
        r#"{{"id":{id},"customer_id":0,"date_created":"Sat, 28 Nov 2026 02:55:53 +0000","date_modified":"Sat, 28 Nov 2026 02:55:53 +0000","date_shipped":"","status_id":11,"status":"Awaiting Fulfillment","custom_status":"Awaiting Fulfillment","subtotal_ex_tax":"119.2000","subtotal_inc_tax":"149.0000","subtotal_tax":"29.8000","base_shipping_cost":"0.0000","shipping_cost_ex_tax":"0.0000","shipping_cost_inc_tax":"0.0000","shipping_cost_tax":"0.0000","shipping_cost_tax_class_id":0,"base_handling_cost":"0.0000","handling_cost_ex_tax":"0.0000","handling_cost_inc_tax":"0.0000","handling_cost_tax":"0.0000","handling_cost_tax_class_id":2,"base_wrapping_cost":"0.0000","wrapping_cost_ex_tax":"0.0000","wrapping_cost_inc_tax":"0.0000","wrapping_cost_tax":"0.0000","wrapping_cost_tax_class_id":3,"total_ex_tax":"119.2000","total_inc_tax":"149.0000","total_tax":"29.8000","is_tax_inclusive_pricing":true,"items_total":1,"items_shipped":0,"payment_method":"Manual","payment_provider_id":"","payment_status":"captured","refunded_amount":"0.0000","order_is_digital":false,"store_credit_amount":"0.0000","gift_certificate_amount":"0.0000","ip_address":"","ip_address_v6":"","geoip_country":"Sweden","geoip_country_iso2":"SE","currency_id":1,"currency_code":"SEK","currency_exchange_rate":"1.0000000000","default_currency_id":1,"default_currency_code":"SEK","store_default_currency_code":"SEK","store_default_to_transactional_exchange_rate":"1.0000000000","staff_notes":"{staff_notes}","customer_message":"","discount_amount":"0.0000","coupon_discount":"0.0000","shipping_address_count":0,"is_deleted":false,"ebay_order_id":"0","cart_id":"","billing_address":{{"first_name":"Bench","last_name":"{id}","company":"","street_1":"Gatan 1","street_2":"","city":"Stockholm","state":"","zip":"11122","country":"Sweden","country_iso2":"SE","phone":"","email":"bench@example.com","form_fields":[]}},"is_email_opt_in":false,"credit_card_type":null,"order_source":"external","channel_id":1,"external_source":null,"external_id":null,"external_merchant_id":null,"external_order_id":"","tax_provider_id":"","customer_locale":"en","products":{{"url":"https://api.bigcommerce.com/stores/ab12cd34/v2/orders/{id}/products","resource":"/orders/{id}/products"}},"shipping_addresses":{{"url":"https://api.bigcommerce.com/stores/ab12cd34/v2/orders/{id}/shipping_addresses","resource":"/orders/{id}/shipping_addresses"}},"coupons":{{"url":"https://api.bigcommerce.com/stores/ab12cd34/v2/orders/{id}/coupons","resource":"/orders/{id}/coupons"}},"fees":[]}}"#
    )
}

fn invoice_request(id: usize) -> String {
    json!({
        "customerNumber": {"value": "10000"}, "documentDate": {"value": "2026-11-28T00:00:00Z"},
        "currencyId": {"value": "SEK"}, "paymentMethodId": {"value": "INVOICE"},
        "externalReference": {"value": format!("bc-o-ab12cd34:{id}")},
        "customerRefNumber": {"value": id.to_string()},
        "invoiceText": {"value": format!("BigCommerce order {id}")},
        "branchNumber": {"value": "1"},
        "billingAddress": {"value": {"addressLine1": {"value": "Gatan 1"},
            "postalCode": {"value": "11122"}, "city": {"value": "Stockholm"},
            "countryId": {"value": "SE"}}},
        "invoiceContact": {"value": {"name": {"value": format!("Bench {id}")},
            "email": {"value": "bench@example.com"}}},
        "invoiceLines": [{"operation": "Insert", "inventoryNumber": {"value": "LL-MUG-01"},
            "description": {"value": "Enamel Camp Mug"}, "quantity": {"value": 1},
            "unitPriceInCurrency": {"value": 119.2}, "manualAmountInCurrency": {"value": 119.2},
            "vatCodeId": {"value": "SE25"}, "uom": {"value": "PCS"}}]
    })
    .to_string()
}

fn invoice_response(id: usize, number: usize) -> String {
    json!({
        "referenceNumber": number.to_string(), "documentType": "Invoice", "status": "Balanced",
        "hold": false, "customer": {"number": "10000", "name": "Web shop guest"},
        "documentDate": "2026-11-28T00:00:00.000Z", "documentDueDate": "2026-11-28T00:00:00.000Z",
        "currencyId": "SEK", "exchangeRate": 1, "amount": 149, "amountInCurrency": 149,
        "balance": 149, "balanceInCurrency": 149, "vatTotal": 29.8, "vatTotalInCurrency": 29.8,
        "detailTotalInCurrency": 119.2, "discountTotalInCurrency": 0, "roundingDiff": 0,
        "externalReference": format!("bc-o-ab12cd34:{id}"), "customerRefNumber": id.to_string(),
        "paymentReference": null, "invoiceText": format!("BigCommerce order {id}"),
        "paymentMethod": {"id": "INVOICE", "description": "Invoice / bank transfer"},
        "creditTerms": {"id": "0D", "description": "Paid in advance"},
        "branchNumber": {"number": "1", "name": "Nordlys Stockholm"},
        "invoiceLines": [{"lineNumber": 1, "inventoryNumber": "LL-MUG-01",
            "description": "Enamel Camp Mug", "quantity": 1, "unitPriceInCurrency": 119.2,
            "amount": 119.2, "amountInCurrency": 119.2, "discountPercent": 0,
            "discountAmountInCurrency": 0,
            "vatCode": {"id": "SE25", "description": "Utgående moms 25 %"}, "uom": "PCS",
            "note": null, "soOrderType": null, "soOrderNbr": null}],
        "taxDetails": [{"taxId": "SE25", "vatRate": 25, "taxableAmount": 119.2, "vatAmount": 29.8}],
        "applications": [], "note": null, "lastModifiedDateTime": "2026-11-28T01:57:28.711Z",
        "createdDateTime": "2026-11-28T01:57:28.711Z", "errorInfo": null, "metadata": null
    })
    .to_string()
}

fn exchange(method: &str, url: String, request: Option<String>, response: &str) -> NewExchange {
    NewExchange {
        system: if url.starts_with('v') {
            "visma"
        } else {
            "bigcommerce"
        }
        .into(),
        method: method.into(),
        url,
        request_headers: vec![],
        request_body: request,
        status: Some(200),
        response_headers: vec![],
        response_body: Some(response.to_owned()),
        at: Utc::now(),
        duration: Duration::from_millis(2),
    }
}

/// The exchanges of order `id`'s sync attempt (`echo` false) or echo attempt.
fn exchanges(id: usize, echo: bool) -> Vec<NewExchange> {
    let number = 100_000 + id;
    if echo {
        let notes = format!("Visma invoice {number}");
        return vec![exchange(
            "GET",
            format!("/v2/orders/{id}"),
            None,
            &order_json(id, &notes),
        )];
    }
    vec![
        exchange("GET", format!("/v2/orders/{id}"), None, &order_json(id, "")),
        exchange(
            "GET",
            format!("/v2/orders/{id}/* (products, addresses, taxes)"),
            None,
            r#"{"products":1,"shipping_addresses":0,"coupons":0,"taxes":1,"shipments":0,"refunds":0}"#,
        ),
        exchange(
            "POST",
            "v2/customerinvoice".into(),
            Some(invoice_request(id)),
            &invoice_response(id, number),
        ),
        exchange(
            "POST",
            format!("v1/customerinvoice/{number}/action/release"),
            None,
            "null",
        ),
        exchange(
            "PUT",
            format!("/v3/orders/{id}/metafields"),
            Some(format!(
                r#"{{"permission_set":"app_only","namespace":"ledgerlink","key":"visma_invoice_number","value":"{number}","description":"Written by Ledgerlink"}}"#
            )),
            "null",
        ),
        exchange(
            "PUT",
            format!("/v2/orders/{id}"),
            Some(format!(r#"{{"staff_notes":"Visma invoice {number}"}}"#)),
            "null",
        ),
    ]
}

fn finish(job: &Job) -> Finish {
    let id: usize = job.subject.split_once(':').unwrap().1.parse().unwrap();
    let mut finish = ledgerlink_store::testing::finish(job, "bench", FinishOutcome::Done);
    finish.audit.exchanges = exchanges(id, job.kind == "order.echo");
    finish.audit.refs = vec![("bc_order".into(), id.to_string())];
    finish
}

fn disk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// (CPU µs per order, kB per order) of one run on a fresh database.
async fn run(orders: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("audit.db")).await.unwrap();
    let lease = Duration::from_secs(300);
    // The jobs first (not measured): two per order.
    for id in 0..orders {
        // Different subjects, so that both are leased at once (a subject's jobs run in turn).
        for (kind, subject) in [("order.sync", "order"), ("order.echo", "echo")] {
            store
                .enqueue(&NewJob::new(kind, format!("{subject}:{id}"), json!({})))
                .await
                .unwrap();
        }
    }
    let mut jobs = Vec::with_capacity(orders * 2);
    loop {
        let leased = store.lease("bench", 500, lease).await.unwrap();
        if leased.is_empty() {
            break;
        }
        jobs.extend(leased);
    }
    assert_eq!(jobs.len(), orders * 2);
    let before_bytes = disk_bytes(dir.path());

    // The attempts' records built beforehand: only the store's work is measured.
    let batches: Vec<Vec<Finish>> = jobs
        .chunks(BATCH)
        .map(|batch| batch.iter().map(finish).collect())
        .collect();

    let cpu = process_cpu();
    let started = Instant::now();
    for finishes in &batches {
        for result in store.finish_many(finishes).await.unwrap() {
            assert!(result.unwrap());
        }
    }
    let cpu = process_cpu() - cpu;
    let _wall = started.elapsed();
    let bytes = disk_bytes(dir.path()) - before_bytes;
    store.close().await;
    (
        cpu.as_secs_f64() * 1e6 / orders as f64,
        bytes as f64 / 1024.0 / orders as f64,
    )
}

fn main() {
    let orders = env_num("AUDIT_ORDERS", 3000);
    let runs = env_num("AUDIT_RUNS", 3).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("audit write, {orders} orders (2 attempts, 7 exchanges each), batches of {BATCH}");
    println!(
        "{:>5} {:>16} {:>16}",
        "run", "CPU µs/order", "disk kB/order"
    );
    let mut results = Vec::new();
    for i in 0..runs {
        let (cpu, kb) = rt.block_on(run(orders));
        println!("{:>5} {cpu:>16.1} {kb:>16.2}", i + 1);
        results.push((cpu, kb));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{:>5} {:>16.1} {:>16.2}",
        "med",
        median(results.iter().map(|r| r.0).collect()),
        median(results.iter().map(|r| r.1).collect())
    );
}
