//! Customer accounts end to end, on their own: a BigCommerce account reaches the Visma
//! company of its channel as a customer (field by field), once, and follows its changes;
//! `backfill customers` is resumable and one bad account is a clear error that stops no
//! other; a guest has no account to sync; a plugin built before the `customer-mapper` export
//! still loads and skips account jobs.

use ledgerlink::cli::backfill::{BackfillOptions, What, backfill, watermark_name};
use ledgerlink::store::NewJob;
use ledgerlink::visma::VismaClient;
use ledgerlink::visma::dto::{Customer, CustomerFilter};
use ledgerlink_tests::{Harness, standard_plugin};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// Visma customers carrying our reference for BigCommerce customer `id`.
async fn customers_of(h: &Harness, visma: &VismaClient, entity: &str, id: u64) -> Vec<Customer> {
    let store = &h.bc.info().store_hash;
    let reference = format!("bc-c-{store}:{id}");
    visma
        .list_customers(
            &ledgerlink::core::LegalEntityId::new(entity),
            &CustomerFilter::default(),
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.account_reference.as_deref() == Some(reference.as_str()))
        .collect()
}

async fn create_customer(h: &Harness, body: Value) -> u64 {
    let v = h
        .bc_send(Method::POST, "/v3/customers", Some(json!([body])))
        .await
        .unwrap();
    v["data"][0]["id"].as_u64().unwrap()
}

/// The jobs of one kind, as the admin API lists them.
async fn jobs_of_subject(h: &Harness, subject: &str) -> Vec<Value> {
    h.jobs(&format!("subject={subject}&limit=500"))
        .await
        .unwrap()
}

/// The jobs of `subject` (newest first) once there are `at_least` and none is unfinished.
async fn settled_jobs(h: &Harness, subject: &str, at_least: usize) -> Vec<Value> {
    h.wait_for(&format!("the jobs of {subject}"), WAIT, || async {
        let jobs = jobs_of_subject(h, subject).await;
        Ok((jobs.len() >= at_least
            && jobs
                .iter()
                .all(|j| j["state"] != "pending" && j["state"] != "running"))
        .then_some(jobs))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_account_reaches_its_channels_company_once_and_follows_changes() {
    let h = Harness::start_configured(standard_plugin(), |c| {
        for e in &mut c.entities {
            e.tables
                .entry("credit-terms".into())
                .or_default()
                .insert("2".into(), "30D".into());
            e.tables
                .entry("vat-zone".into())
                .or_default()
                .insert("FI".into(), "FI".into());
        }
    })
    .await
    .unwrap();
    let (fi, _) = h.visma_client("fi");
    let (se, _) = h.visma_client("se");
    // A Finnish wholesale customer of the EU storefront (channel 2) only.
    let id = create_customer(
        &h,
        json!({
            "email": "tilaukset@pohjoisen-kauppa.fi", "first_name": "Aino", "last_name": "Virtanen",
            "company": "Pohjoisen Kauppa Oy", "phone": "+358 40 123 4567", "customer_group_id": 2,
            "origin_channel_id": 2, "channel_ids": [2],
            "addresses": [
                {"first_name": "Aino", "last_name": "Virtanen", "company": "Pohjoisen Kauppa Oy",
                 "address1": "Mannerheimintie 5", "address2": "B 12", "city": "Helsinki",
                 "postal_code": "00100", "country_code": "FI", "country": "Finland",
                 "address_type": "commercial"},
            ],
        }),
    )
    .await;
    let created = h
        .wait_for("the customer in the Finnish company", WAIT, || async {
            let found = customers_of(&h, &fi, "fi", id).await;
            Ok((!found.is_empty()).then_some(found))
        })
        .await
        .unwrap();
    assert_eq!(created.len(), 1, "{created:?}");
    let c = &created[0];
    assert_eq!(c.name.as_deref(), Some("Pohjoisen Kauppa Oy"));
    assert_eq!(c.currency_id.as_deref(), Some("EUR"));
    assert_eq!(
        c.credit_terms.as_ref().and_then(|t| t.id.as_deref()),
        Some("30D")
    );
    assert_eq!(
        c.vat_zone.as_ref().and_then(|z| z.id.as_deref()),
        Some("FI")
    );
    let a = c.main_address.as_ref().expect("main address");
    assert_eq!(a.address_line1.as_deref(), Some("Mannerheimintie 5"));
    assert_eq!(a.address_line2.as_deref(), Some("B 12"));
    assert_eq!(a.postal_code.as_deref(), Some("00100"));
    assert_eq!(a.city.as_deref(), Some("Helsinki"));
    assert_eq!(a.country.as_ref().and_then(|c| c.id.as_deref()), Some("FI"));
    let contact = c.main_contact.as_ref().expect("main contact");
    assert_eq!(contact.name.as_deref(), Some("Aino Virtanen"));
    assert_eq!(
        contact.email.as_deref(),
        Some("tilaukset@pohjoisen-kauppa.fi")
    );
    assert_eq!(contact.phone1.as_deref(), Some("+358 40 123 4567"));
    // Channel 2 routes to the Finnish company only.
    let subject = format!("customer:{id}");
    // The account's created and address-created events: one creates, the other finds it.
    let jobs = settled_jobs(&h, &subject, 2).await;
    assert_eq!(
        jobs.iter().filter(|j| j["state"] == "done").count(),
        1,
        "{jobs:?}"
    );
    assert!(jobs.iter().all(|j| j["state"] != "failed"), "{jobs:?}");
    assert!(customers_of(&h, &se, "se", id).await.is_empty());

    // The merchant renames the company and changes the phone: the same customer follows.
    h.bc_send(
        Method::PUT,
        "/v3/customers",
        Some(json!([{"id": id, "company": "Pohjoisen Kauppa Ab", "phone": "+358 9 555 0100"}])),
    )
    .await
    .unwrap();
    let updated = h
        .wait_for("the renamed customer", WAIT, || async {
            let found = customers_of(&h, &fi, "fi", id).await;
            Ok(found
                .iter()
                .any(|c| c.name.as_deref() == Some("Pohjoisen Kauppa Ab"))
                .then_some(found))
        })
        .await
        .unwrap();
    assert_eq!(updated.len(), 1, "still one customer: {updated:?}");
    assert_eq!(updated[0].number, c.number);
    let contact = updated[0].main_contact.as_ref().unwrap();
    assert_eq!(contact.phone1.as_deref(), Some("+358 9 555 0100"));
    // The address the update did not touch is still there.
    assert_eq!(
        updated[0]
            .main_address
            .as_ref()
            .and_then(|a| a.city.as_deref()),
        Some("Helsinki")
    );

    // An update that changes nothing Visma holds (the notes) writes nothing.
    let before = settled_jobs(&h, &subject, 3).await.len();
    h.bc_send(
        Method::PUT,
        "/v3/customers",
        Some(json!([{"id": id, "notes": "prefers e-mail"}])),
    )
    .await
    .unwrap();
    let jobs = settled_jobs(&h, &subject, before + 1).await;
    assert_eq!(jobs[0]["kind"], "store/customer/updated", "{:?}", jobs[0]);
    assert_eq!(jobs[0]["state"], "skipped", "{:?}", jobs[0]);
    assert!(
        jobs[0]["resolution"]
            .as_str()
            .is_some_and(|r| r.contains("already holds")),
        "{:?}",
        jobs[0]
    );
    assert_eq!(customers_of(&h, &fi, "fi", id).await.len(), 1);

    // An order of this customer books on the same Visma customer.
    let mut body =
        ledgerlink_tests::order_body(2, &[(h.product_id("LL-MUG-01").await.unwrap(), 1)], None);
    body["customer_id"] = json!(id);
    body["billing_address"]["email"] = json!("tilaukset@pohjoisen-kauppa.fi");
    let order = h.create_order(body).await.unwrap();
    let doc = h
        .wait_for("the order's invoice", WAIT, || async {
            let docs = h
                .documents_ending(ledgerlink_sim::visma::FI_TENANT, &format!(":{order}"))
                .await?;
            Ok(docs.into_iter().next())
        })
        .await
        .unwrap();
    assert_eq!(doc["customer"].as_str(), Some(c.number.as_str()), "{doc}");
    assert_eq!(customers_of(&h, &fi, "fi", id).await.len(), 1);
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_customers_resumes_and_one_bad_account_stops_no_other() {
    let h = Harness::start_configured(standard_plugin(), |c| {
        // Only the backfill brings customers in.
        c.host.poll_interval_secs = 0;
        c.host.payment_interval_secs = 0;
        for s in &mut c.stores {
            s.register_hooks = false;
        }
    })
    .await
    .unwrap();
    // An account whose address has no usable country: the plugin refuses it, with the field.
    let bad = create_customer(
        &h,
        json!({
            "email": "no-country@example.com", "first_name": "Nils", "last_name": "Holm",
            "channel_ids": [1],
            "addresses": [{"first_name": "Nils", "last_name": "Holm", "address1": "Storgatan 1",
                           "city": "Umeå", "country_code": "Sverige"}],
        }),
    )
    .await;
    let listed = h
        .bc_send(Method::GET, "/v3/customers?limit=250", None)
        .await
        .unwrap();
    let mut ids: Vec<u64> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    assert!(ids.len() > 5, "the demo store has customers: {ids:?}");
    let since = chrono::Utc::now() - chrono::Duration::days(400);
    let stores = h.store_sections();
    let opts = |limit| BackfillOptions {
        what: What::Customers,
        since,
        restart: false,
        limit,
        progress: false,
    };

    // Interrupted after 4 accounts, then resumed after the watermark.
    let first = backfill(&h.app().store, &stores, &opts(Some(4)))
        .await
        .unwrap();
    assert_eq!(first.stores[0].queued, 4);
    assert!(first.stores[0].more);
    let mark = watermark_name(What::Customers, &stores[0].hash, since);
    assert_eq!(
        h.app().store.watermark(&mark).await.unwrap(),
        Some(ids[3].to_string())
    );
    let second = backfill(&h.app().store, &stores, &opts(None))
        .await
        .unwrap();
    assert_eq!(second.stores[0].resumed_after, ids[3]);
    assert_eq!(second.stores[0].queued, (ids.len() - 4) as u64);
    assert!(!second.stores[0].more);
    let third = backfill(&h.app().store, &stores, &opts(None))
        .await
        .unwrap();
    assert_eq!(third.stores[0].queued, 0);

    // A guest has no account: a job naming customer 0 is a clear error.
    h.app()
        .store
        .enqueue(&NewJob {
            kind: "ledgerlink/customer/sync".into(),
            subject: "customer:0".into(),
            payload: json!({"store": stores[0].hash, "customer_id": 0}),
            source: Some(format!("bigcommerce:{}", stores[0].hash)),
        })
        .await
        .unwrap();

    let jobs = h
        .wait_for(
            "every customer job to finish",
            Duration::from_secs(90),
            || async {
                let jobs: Vec<Value> = h.jobs("kind=ledgerlink/customer/sync&limit=500").await?;
                let finished = jobs
                    .iter()
                    .filter(|j| j["state"] == "done" || j["state"] == "failed")
                    .count();
                Ok((jobs.len() == ids.len() + 1 && finished == jobs.len()).then_some(jobs))
            },
        )
        .await
        .unwrap();
    let state = |subject: &str| {
        jobs.iter()
            .find(|j| j["subject"] == subject)
            .map(|j| j["state"].as_str().unwrap_or_default().to_owned())
    };
    for id in &ids {
        let expected = if *id == bad { "failed" } else { "done" };
        assert_eq!(
            state(&format!("customer:{id}")).as_deref(),
            Some(expected),
            "customer {id}"
        );
    }
    assert_eq!(state("customer:0").as_deref(), Some("failed"));
    let errors = h.admin(Method::GET, "/api/errors", None).await.unwrap();
    let errors = errors["errors"].as_array().cloned().unwrap_or_default();
    let error_of = |subject: &str| {
        errors
            .iter()
            .find(|e| e["subject"] == subject)
            .cloned()
            .unwrap_or_else(|| panic!("no error for {subject}: {errors:?}"))
    };
    let e = error_of(&format!("customer:{bad}"));
    assert_eq!(e["error"]["code"], "mapping_error", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("addresses[0].country-iso2"),
        "{e}"
    );
    let e = error_of("customer:0");
    assert_eq!(e["error"]["code"], "guest_customer", "{e}");

    // Every good account is one customer in each company of its channels (the demo's
    // accounts may use both storefronts); the bad one is in neither.
    let (se, _) = h.visma_client("se");
    let (fi, _) = h.visma_client("fi");
    for id in &ids {
        let n = if *id == bad { 0 } else { 1 };
        assert_eq!(customers_of(&h, &se, "se", *id).await.len(), n, "se {id}");
        let in_fi = if *id == bad { 0 } else { 1 };
        assert_eq!(
            customers_of(&h, &fi, "fi", *id).await.len(),
            in_fi,
            "fi {id}"
        );
    }
    h.shutdown().await.unwrap();
}

/// A component built for the base `mapping-plugin` world (before `customer-mapper`).
fn plugin_without_customer_export() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/release/ledgerlink_test_swap_twin.wasm")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_without_the_customer_export_loads_and_skips_account_jobs() {
    let plugin = plugin_without_customer_export();
    assert!(
        plugin.exists(),
        "{} is missing: run scripts/wasm-plugins.sh",
        plugin.display()
    );
    let h = Harness::start_with(plugin).await.unwrap();
    let id = create_customer(
        &h,
        json!({"email": "old-plugin@example.se", "first_name": "Olle", "last_name": "Berg",
               "channel_ids": [1]}),
    )
    .await;
    let subject = format!("customer:{id}");
    let job = h
        .wait_for("the skipped customer job", WAIT, || async {
            let jobs = jobs_of_subject(&h, &subject).await;
            Ok(jobs.into_iter().find(|j| j["state"] == "skipped"))
        })
        .await
        .unwrap();
    assert!(
        job["resolution"]
            .as_str()
            .is_some_and(|r| r.contains("customer-mapper")),
        "{job}"
    );
    let (se, _) = h.visma_client("se");
    assert!(customers_of(&h, &se, "se", id).await.is_empty());
    h.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_the_merchant_already_has_in_visma_is_found_by_e_mail_not_duplicated() {
    let h = Harness::start().await.unwrap();
    let (se, _) = h.visma_client("se");
    let email = "inkop@gamla-kunden.se";
    // The merchant's customer from before Ledgerlink: same e-mail, no reference of ours.
    let resp = h
        .visma_erp(
            "se",
            Method::POST,
            "/v1/customer",
            Some(json!({
                "name": {"value": "Gamla Kunden AB"},
                "mainContact": {"value": {"email": {"value": email}}},
            })),
        )
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let existing = location.rsplit('/').next().unwrap().to_owned();
    let with_email = |cs: Vec<Customer>| -> Vec<Customer> {
        cs.into_iter()
            .filter(|c| {
                c.main_contact
                    .as_ref()
                    .and_then(|m| m.email.as_deref())
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .collect()
    };
    let entity = ledgerlink::core::LegalEntityId::new("se");
    let before = with_email(
        se.list_customers(&entity, &CustomerFilter::default())
            .await
            .unwrap(),
    );
    assert_eq!(before.len(), 1, "{before:?}");

    // The same buyer registers in the Swedish storefront and orders.
    let id = create_customer(
        &h,
        json!({
            "email": email, "first_name": "Karin", "last_name": "Berg",
            "company": "Gamla Kunden AB", "origin_channel_id": 1, "channel_ids": [1],
        }),
    )
    .await;
    let mut body =
        ledgerlink_tests::order_body(1, &[(h.product_id("LL-MUG-01").await.unwrap(), 1)], None);
    body["customer_id"] = json!(id);
    body["billing_address"]["email"] = json!(email);
    let order = h.create_order(body).await.unwrap();
    let doc = h
        .wait_for("the order's invoice", WAIT, || async {
            let docs = h
                .documents_ending(ledgerlink_sim::visma::SE_TENANT, &format!(":{order}"))
                .await?;
            Ok(docs.into_iter().next())
        })
        .await
        .unwrap();
    assert_eq!(doc["customer"].as_str(), Some(existing.as_str()), "{doc}");
    let after = with_email(
        se.list_customers(&entity, &CustomerFilter::default())
            .await
            .unwrap(),
    );
    assert_eq!(
        after.len(),
        1,
        "no second customer with the e-mail: {after:?}"
    );
    assert_eq!(after[0].number, existing);
    // It now carries our reference, so it stands for this BigCommerce customer only.
    assert_eq!(customers_of(&h, &se, "se", id).await.len(), 1);
    h.shutdown().await.unwrap();
}
