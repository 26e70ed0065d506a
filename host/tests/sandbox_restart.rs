//! `ledgerlink sandbox` stopped and started again on the same data directory resumes the
//! same world: the simulators come back from their state files, so a Visma document posted
//! before the restart is still there, and an order created after the restart gets a new id
//! and its own document (before the state files it could reuse an old id and be taken for
//! already synced).
//!
//! Needs the standard plugin: `scripts/wasm-plugins.sh`.

use ledgerlink::cli::sandbox::{Sandbox, SandboxArgs, bigcommerce_state_file, visma_state_file};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SKU: &str = "LL-GIFTCARD-500";
const WAIT: Duration = Duration::from_secs(60);

fn standard_plugin() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    let path = target.join("wasm32-wasip2/release/ledgerlink_standard.wasm");
    assert!(
        path.exists(),
        "{} is missing: run scripts/wasm-plugins.sh",
        path.display()
    );
    path
}

fn args(data_dir: PathBuf) -> SandboxArgs {
    let any = "127.0.0.1:0".parse().unwrap();
    SandboxArgs {
        listen: any,
        bigcommerce_listen: any,
        visma_listen: any,
        data_dir,
        plugin: standard_plugin(),
        reset: false,
        workers: 4,
    }
}

async fn bc(
    http: &reqwest::Client,
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let info = sb.bigcommerce.info();
    let mut req = http
        .request(method, format!("{}{path}", info.base_url))
        .header("X-Auth-Token", &info.auth_token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn create_order(http: &reqwest::Client, sb: &Sandbox) -> u64 {
    let products = bc(
        http,
        sb,
        reqwest::Method::GET,
        &format!("/v3/catalog/products?sku={SKU}"),
        None,
    )
    .await;
    let product = products["data"][0]["id"].as_u64().unwrap();
    let body = json!({
        "status_id": 11,
        "channel_id": 1,
        "customer_id": 0,
        "billing_address": {
            "first_name": "Ada", "last_name": "Lovelace", "street_1": "Storgatan 1",
            "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE",
            "email": "ada@example.com"
        },
        "products": [{"product_id": product, "quantity": 1}],
    });
    bc(http, sb, reqwest::Method::POST, "/v2/orders", Some(body)).await["id"]
        .as_u64()
        .unwrap()
}

/// The Swedish company's documents whose external reference names order `id`.
async fn documents_of(http: &reqwest::Client, sb: &Sandbox, id: u64) -> Vec<Value> {
    let url = format!(
        "{}/__admin/documents?tenant_id={}",
        sb.visma.info().erp_base_url,
        ledgerlink_sim::visma::SE_TENANT
    );
    let all: Value = http.get(url).send().await.unwrap().json().await.unwrap();
    let suffix = format!(":{id}");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["external_reference"]
                .as_str()
                .is_some_and(|r| r.ends_with(&suffix))
        })
        .cloned()
        .collect()
}

async fn wait_document(http: &reqwest::Client, sb: &Sandbox, id: u64) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let docs = documents_of(http, sb, id).await;
        if !docs.is_empty() {
            return docs;
        }
        assert!(started.elapsed() < WAIT, "order {id} never reached Visma");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_restart_keeps_documents_and_continues_order_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ledgerlink-data");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let sb = Sandbox::start(&args(data.clone())).await.unwrap();
    let first = create_order(&http, &sb).await;
    let before = wait_document(&http, &sb, first).await;
    assert_eq!(before.len(), 1, "{before:?}");
    sb.stop().await.unwrap();
    assert!(bigcommerce_state_file(&data).exists());
    assert!(visma_state_file(&data).exists());

    let sb = Sandbox::start(&args(data.clone())).await.unwrap();
    // Posted before the restart, still in Visma.
    let kept = documents_of(&http, &sb, first).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["number"], before[0]["number"]);
    let second = create_order(&http, &sb).await;
    assert!(second > first, "order ids continue: {first} then {second}");
    let after = wait_document(&http, &sb, second).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after[0]["number"], before[0]["number"]);
    // Let the host settle, then check nothing was posted twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(documents_of(&http, &sb, first).await.len(), 1);
    assert_eq!(documents_of(&http, &sb, second).await.len(), 1);
    sb.stop().await.unwrap();
}
