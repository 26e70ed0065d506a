//! Shared test helpers: in-memory inbox and watermarks (the SQLite store implements the same
//! traits in production), and serving a router on 127.0.0.1:0.
#![allow(dead_code)]

use ledgerlink_bigcommerce::models::{BillingAddress, NewOrder, NewOrderProduct};
use ledgerlink_bigcommerce::{Client, ClientConfig};
use ledgerlink_core::Backoff;
use ledgerlink_core::{BoxFuture, EventSink, InboundEvent, SinkError, StoreOutcome, Watermarks};
use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::{Config, Running};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// An inbox that dedupes on (source, dedupe_key) like the real store.
#[derive(Default)]
pub struct MemorySink {
    pub events: Mutex<Vec<InboundEvent>>,
    pub keys: Mutex<HashMap<(String, String), usize>>,
    pub duplicates: Mutex<u64>,
    /// When set, `store` fails (to test that nothing is acknowledged).
    pub fail: AtomicBool,
}

impl MemorySink {
    pub fn events(&self) -> Vec<InboundEvent> {
        self.events.lock().unwrap().clone()
    }
    pub fn len(&self) -> usize {
        self.events.lock().unwrap().len()
    }
    pub fn duplicates(&self) -> u64 {
        *self.duplicates.lock().unwrap()
    }
}

impl EventSink for MemorySink {
    fn store(&self, event: InboundEvent) -> BoxFuture<'_, Result<StoreOutcome, SinkError>> {
        Box::pin(async move {
            if self.fail.load(Ordering::SeqCst) {
                return Err(SinkError("disk full (test)".into()));
            }
            let key = (event.source.clone(), event.dedupe_key.clone());
            let mut keys = self.keys.lock().unwrap();
            if keys.contains_key(&key) {
                *self.duplicates.lock().unwrap() += 1;
                return Ok(StoreOutcome::Duplicate);
            }
            let mut events = self.events.lock().unwrap();
            keys.insert(key, events.len());
            events.push(event);
            Ok(StoreOutcome::Stored)
        })
    }
}

#[derive(Default)]
pub struct MemoryWatermarks {
    pub marks: Mutex<HashMap<String, String>>,
}

impl Watermarks for MemoryWatermarks {
    fn get(&self, name: &str) -> BoxFuture<'_, Result<Option<String>, SinkError>> {
        let v = self.marks.lock().unwrap().get(name).cloned();
        Box::pin(async move { Ok(v) })
    }
    fn set(&self, name: &str, value: &str) -> BoxFuture<'_, Result<(), SinkError>> {
        self.marks
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
        Box::pin(async move { Ok(()) })
    }
}

/// Serves `router` on an ephemeral port of 127.0.0.1 for the rest of the test.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// An empty simulated store with the default quota (150) per `window`.
pub async fn start_sim(window: Duration) -> Running {
    ledgerlink_sim::bigcommerce::start(Config {
        seed: Seed::Empty,
        quota: Some(150),
        window,
        webhook_time_scale: 0.001,
        ..Config::default()
    })
    .await
    .expect("simulator starts")
}

/// A client for the simulator with short retry delays so fault tests stay fast.
pub fn client_for(sim: &Running) -> Client {
    Client::new(config_for(sim)).expect("client builds")
}

pub fn config_for(sim: &Running) -> ClientConfig {
    let info = sim.info();
    let mut cfg = ClientConfig::new(info.base_url.clone(), info.auth_token.clone());
    cfg.timeout = Duration::from_secs(10);
    cfg.max_retries = 6;
    cfg.backoff = Backoff {
        base: Duration::from_millis(5),
        max_delay: Duration::from_millis(100),
    };
    cfg
}

pub fn stat(sim: &Running, name: &str) -> u64 {
    sim.stats()[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no stat {name}: {}", sim.stats()))
}

/// A simple order of custom lines that the empty store accepts.
pub fn custom_order(n: u64) -> NewOrder {
    NewOrder {
        billing_address: BillingAddress {
            first_name: "Test".into(),
            last_name: format!("Buyer {n}"),
            street_1: "Storgatan 1".into(),
            city: "Stockholm".into(),
            zip: Some("11122".into()),
            country: "Sweden".into(),
            country_iso2: "SE".into(),
            email: format!("buyer{n}@example.com"),
            ..Default::default()
        },
        products: vec![NewOrderProduct {
            name: Some(format!("Custom item {n}")),
            sku: Some(format!("CUST-{n}")),
            quantity: 1 + n % 3,
            price_ex_tax: Some(Decimal::new(8000 + n as i64, 2)),
            price_inc_tax: Some(Decimal::new(10000 + n as i64, 2)),
            ..Default::default()
        }],
        status_id: Some(11),
        external_order_id: Some(format!("ext-{n}")),
        ..Default::default()
    }
}
