//! Webhook subjects over real HTTP: the BigCommerce simulator delivers price-list events
//! (whose `data` has no `type`/`id`) to the real receiver, the real store turns them into
//! jobs, and the real engine runs them. One failing event of a kind must not hold up the next
//! event of that kind about another resource, while a later event about the failed resource
//! still waits behind it.

use ledgerlink::bigcommerce::webhooks::{ReceiverConfig, webhook_router};
use ledgerlink::core::EventSink;
use ledgerlink::engine::{
    Engine, EngineConfig, Job, JobContext, JobError, JobFilter, JobOutcome, JobState, RetryPolicy,
    Store, handler_fn,
};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HEADER: &str = "x-ledgerlink-secret";
const SECRET: &str = "subject-test-secret-0123456789";

struct Sim {
    bc: ledgerlink_sim::bigcommerce::Running,
    http: reqwest::Client,
}

impl Sim {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.bc.info().base_url))
            .header("X-Auth-Token", &self.bc.info().auth_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Sets one price of one variant on a price list: BigCommerce fires
    /// `store/priceList/record/updated` with `{price_list_id, variant_id, currency}`.
    async fn set_price(&self, list: u64, variant: u64, price: &str) {
        self.send(
            Method::PUT,
            &format!("/v3/pricelists/{list}/records/{variant}/SEK"),
            Some(json!({"price": price})),
        )
        .await;
    }
}

async fn jobs(store: &Store) -> Vec<Job> {
    store
        .list_jobs(&JobFilter {
            kind: Some("store/priceList/record/updated".into()),
            ..JobFilter::default()
        })
        .await
        .unwrap()
}

async fn wait_jobs(store: &Store, what: &str, done: impl Fn(&[Job]) -> bool) -> Vec<Job> {
    let start = Instant::now();
    loop {
        let list = jobs(store).await;
        if done(&list) {
            return list;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}: {:#?}",
            list.iter()
                .map(|j| (j.id, &j.subject, j.state, &j.payload["data"]))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_price_list_event_holds_up_only_its_own_record() {
    let bc = ledgerlink_sim::bigcommerce::start(ledgerlink_sim::bigcommerce::Config {
        quota: None,
        webhook_time_scale: 0.001,
        ..Default::default()
    })
    .await
    .unwrap();
    let sim = Sim {
        bc,
        http: reqwest::Client::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("ledgerlink.db")).await.unwrap();

    // The receiver, on its own port, as the host serves it.
    let sink: Arc<dyn EventSink> = Arc::new(store.clone());
    let cfg = ReceiverConfig::new(HEADER, SECRET, "bigcommerce:ledgerlink01");
    let path = cfg.path.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, webhook_router(cfg, sink))
            .await
            .unwrap()
    });
    sim.send(
        Method::POST,
        "/v3/hooks",
        Some(
            json!({"scope": "store/priceList/*", "destination": format!("http://{addr}{path}"),
                    "is_active": true, "headers": {HEADER: SECRET}}),
        ),
    )
    .await;

    // Two variants with a price on the Wholesale list (2).
    let records = sim
        .send(Method::GET, "/v3/pricelists/2/records?limit=2", None)
        .await;
    let variant = |i: usize| records["data"][i]["variant_id"].as_u64().unwrap();
    let (broken, fine) = (variant(0), variant(1));

    // A handler that cannot map the first variant (a permanent error, as a missing mapping
    // would be) and syncs everything else.
    let handler = handler_fn(move |job: &Job, _ctx: &JobContext| {
        Box::pin(async move {
            if job.payload["data"]["variant_id"].as_u64() == Some(broken) {
                Err(JobError::permanent(
                    "missing_mapping",
                    "no Visma item for this variant",
                ))
            } else {
                Ok(JobOutcome::Done)
            }
        })
    });
    let engine = Engine::new(
        store.clone(),
        EngineConfig {
            poll_interval: Duration::from_millis(20),
            retry: RetryPolicy {
                max_attempts: 3,
                ..RetryPolicy::default()
            },
            ..EngineConfig::default()
        },
    )
    .with_handler("store/priceList/record/updated", handler)
    .start();

    sim.set_price(2, broken, "101.00").await;
    let failed = wait_jobs(&store, "the broken record's job to fail", |j| {
        j.iter().any(|j| j.state == JobState::Failed)
    })
    .await;
    assert_eq!(failed.len(), 1);
    let failed = &failed[0];
    assert_eq!(failed.payload["data"]["variant_id"], broken);

    // Same kind, another record: it runs although the first one sits in the error queue.
    sim.set_price(2, fine, "102.00").await;
    let list = wait_jobs(&store, "the next record's job to run", |j| {
        j.iter()
            .any(|j| j.payload["data"]["variant_id"] == fine && j.state == JobState::Done)
    })
    .await;
    let done = list
        .iter()
        .find(|j| j.payload["data"]["variant_id"] == fine)
        .unwrap();
    assert_ne!(done.subject, failed.subject);

    // The broken record's next event keeps its order: it waits behind the failed one.
    sim.set_price(2, broken, "103.00").await;
    let list = wait_jobs(&store, "the broken record's second event", |j| j.len() == 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = store
        .job(list.iter().map(|j| j.id).max().unwrap())
        .await
        .unwrap();
    assert_eq!(later.subject, failed.subject);
    assert_eq!(later.state, JobState::Pending, "{later:?}");
    assert_eq!(later.attempts, 0);

    engine.shutdown().await.unwrap();
    server.abort();
    sim.bc.shutdown().await;
}
