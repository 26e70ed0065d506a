//! State files: a simulator started with `state_file` comes back after a shutdown with the
//! same objects, the same ids and id sequences that continue after them; a file it cannot
//! read stops the start with an error naming the file (and the file is left alone).

mod bigcommerce_common;
mod visma_common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ledgerlink_sim::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("ll-sim-persist-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bc_config(state_file: PathBuf, seed: Seed) -> ledgerlink_sim::bigcommerce::Config {
    ledgerlink_sim::bigcommerce::Config {
        seed,
        auth_token: Some("persist-test-token".into()),
        state_file: Some(state_file),
        ..Default::default()
    }
}

async fn bc_customer(sim: &bigcommerce_common::Sim, email: &str) -> u64 {
    let r = sim
        .post(
            "/v3/customers",
            json!([{"email": email, "first_name": "Persisted", "last_name": "Buyer"}]),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["data"][0]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn bigcommerce_resumes_from_its_state_file() {
    let dir = TempDir::new();
    let file = dir.file("sim/bigcommerce.json");
    let sim = bigcommerce_common::Sim::start(bc_config(file.clone(), Seed::Demo)).await;
    assert!(file.exists(), "the state file is written on start");
    let seeded_orders = sim.get_json("/v2/orders/count").await["count"].clone();
    let customer = bc_customer(&sim, "kept@example.se").await;
    let order = sim.create_custom_order(11).await;
    let order_id = order["id"].as_u64().unwrap();
    sim.running.shutdown().await;

    // Seed `empty` on the second start: what comes back can only come from the file.
    let sim = bigcommerce_common::Sim::start(bc_config(file.clone(), Seed::Empty)).await;
    assert_eq!(
        sim.get_json("/v2/orders/count").await["count"],
        json!(seeded_orders.as_u64().unwrap() + 1)
    );
    let again = sim.get_json(&format!("/v2/orders/{order_id}")).await;
    assert_eq!(again["id"], order_id);
    assert_eq!(again["total_inc_tax"], order["total_inc_tax"]);
    assert_eq!(again["status_id"], 11);
    assert_eq!(again["date_created"], order["date_created"]);
    let customers = sim
        .get_json(&format!("/v3/customers?id:in={customer}"))
        .await;
    assert_eq!(customers["data"][0]["email"], "kept@example.se");

    // The id sequences continue after the saved objects.
    let next_order = sim.create_custom_order(11).await["id"].as_u64().unwrap();
    assert_eq!(next_order, order_id + 1);
    assert_eq!(bc_customer(&sim, "next@example.se").await, customer + 1);
    sim.running.shutdown().await;
}

#[tokio::test]
async fn bigcommerce_saves_periodically_so_a_kill_loses_only_seconds() {
    let dir = TempDir::new();
    let file = dir.file("bigcommerce.json");
    let sim = bigcommerce_common::Sim::start(bc_config(file.clone(), Seed::Empty)).await;
    let order_id = sim.create_custom_order(11).await["id"].as_u64().unwrap();
    // No shutdown: wait for the autosave (every 5 s) to write the order.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(&file).unwrap();
        let saved: Value = serde_json::from_str(&text).unwrap();
        let has_order = saved["state"]["orders"]
            .as_object()
            .is_some_and(|o| o.contains_key(&order_id.to_string()));
        if has_order {
            break;
        }
        assert!(Instant::now() < deadline, "order never autosaved: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(sim);
    let sim = bigcommerce_common::Sim::start(bc_config(file, Seed::Empty)).await;
    assert_eq!(
        sim.get(&format!("/v2/orders/{order_id}")).await.status(),
        200
    );
    sim.running.shutdown().await;
}

#[tokio::test]
async fn unreadable_state_files_stop_the_start_and_are_left_alone() {
    let dir = TempDir::new();
    let bc_file = dir.file("bigcommerce.json");
    let visma_file = dir.file("visma.json");
    std::fs::write(
        &bc_file,
        "{\"simulator\": \"bigcommerce\", \"format\": 1, \"state\": {",
    )
    .unwrap();
    let err = ledgerlink_sim::bigcommerce::start(bc_config(bc_file.clone(), Seed::Demo))
        .await
        .err()
        .expect("a corrupt file is an error");
    let msg = format!("{err:#}");
    assert!(msg.contains(&bc_file.display().to_string()), "{msg}");
    assert!(msg.contains("--reset"), "{msg}");
    assert_eq!(
        std::fs::read_to_string(&bc_file).unwrap(),
        "{\"simulator\": \"bigcommerce\", \"format\": 1, \"state\": {"
    );

    // A Visma state file handed to the BigCommerce simulator says whose it is.
    let visma = ledgerlink_sim::visma::start(ledgerlink_sim::visma::Config {
        state_file: Some(visma_file.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    visma.shutdown().await;
    let err = ledgerlink_sim::bigcommerce::start(bc_config(visma_file.clone(), Seed::Demo))
        .await
        .err()
        .expect("another simulator's file is an error");
    assert!(format!("{err:#}").contains("visma simulator"), "{err:#}");

    std::fs::write(&visma_file, "not json").unwrap();
    let err = ledgerlink_sim::visma::start(ledgerlink_sim::visma::Config {
        state_file: Some(visma_file.clone()),
        ..Default::default()
    })
    .await
    .err()
    .expect("a corrupt file is an error");
    let msg = format!("{err:#}");
    assert!(msg.contains(&visma_file.display().to_string()), "{msg}");
    assert!(msg.contains("--reset"), "{msg}");
    assert_eq!(std::fs::read_to_string(&visma_file).unwrap(), "not json");
}

#[tokio::test]
async fn visma_resumes_from_its_state_file() {
    use visma_common::{invoice_body, line, v};
    let dir = TempDir::new();
    let file = dir.file("sim/visma.json");
    let config = |seed| ledgerlink_sim::visma::Config {
        seed,
        state_file: Some(file.clone()),
        ..Default::default()
    };
    let h = visma_common::start(config(Seed::Demo)).await;
    let se = h.session(0).await;
    let created = se
        .post("/v1/customer", &json!({"name": v("Persisted AB")}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let customer = created.location_key();
    let created = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                &customer,
                "BC-PERSIST-1",
                vec![line("LL-MUG-01", 2.0, 100.0)],
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let invoice = created.location_key();
    let before = se.get(&format!("/v1/customerinvoice/{invoice}")).await.body;
    drop(se);
    h.sim.shutdown().await;

    let h = visma_common::start(config(Seed::Empty)).await;
    assert_eq!(
        h.sim.info().tenants.len(),
        2,
        "companies come from the file"
    );
    let se = h.session(0).await;
    let read = se.get(&format!("/v1/customer/{customer}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["name"], "Persisted AB");
    let after = se.get(&format!("/v1/customerinvoice/{invoice}")).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body["amount"], before["amount"]);
    assert_eq!(after.body["customer"], before["customer"]);
    assert_eq!(after.body["externalReference"], "BC-PERSIST-1");
    let by_ref = se
        .get("/v1/customerinvoice?externalReference=BC-PERSIST-1")
        .await;
    assert_eq!(by_ref.body.as_array().map(Vec::len), Some(1));

    // Number series continue after the saved documents.
    let next = se
        .post(
            "/v2/customerinvoice",
            &invoice_body(
                &customer,
                "BC-PERSIST-2",
                vec![line("LL-MUG-01", 1.0, 100.0)],
            ),
        )
        .await;
    assert_eq!(next.status, StatusCode::CREATED, "{:?}", next.body);
    let n = |s: &str| s.parse::<u64>().unwrap();
    assert_eq!(n(&next.location_key()), n(&invoice) + 1);
    let next_customer = se
        .post("/v1/customer", &json!({"name": v("Second AB")}))
        .await;
    assert_eq!(n(&next_customer.location_key()), n(&customer) + 1);
    drop(se);
    h.sim.shutdown().await;
}
