//! What one synced order costs the two simulators: the requests the e2e bench's host makes per
//! order (BigCommerce: create, 3 × get, products, coupons, taxes, metafield, update and the
//! webhooks they fire; Visma: create invoice, read it, release it), replayed by a plain client
//! with 16 orders in flight, quota off. The figure that matters is **CPU per order** of this
//! process (simulators + the driving client + the webhook receiver), because the simulators
//! share the e2e bench's cores with the host.
//!
//! Run: `cargo bench -p ledgerlink-sim --bench order_cycle` (`-- --quick` for a short run;
//! `ORDER_CYCLE_ORDERS=<n>` orders per round, default 1000). Prints a table of medians over
//! rounds, with p50/p99 latency of one whole order cycle.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledgerlink_sim::{Seed, bigcommerce, visma};
use serde_json::{Value, json};

const IN_FLIGHT: usize = 16;

/// User + system CPU time of this process so far (`/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

struct World {
    http: reqwest::Client,
    bc_base: String,
    bc_token: String,
    product_id: u64,
    erp_base: String,
    bearer: String,
}

impl World {
    async fn bc(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.bc_base))
            .header("x-auth-token", &self.bc_token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("BigCommerce request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let bytes = r.bytes().await.expect("body");
        if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("JSON")
        }
    }

    async fn erp(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.erp_base))
            .bearer_auth(&self.bearer);
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.expect("Visma request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r
    }

    /// One order, as the host syncs it.
    async fn cycle(&self, i: usize) {
        use reqwest::Method;
        let order = self
            .bc(
                Method::POST,
                "/v2/orders",
                Some(&json!({
                    "status_id": 11, "channel_id": 1, "customer_id": 0,
                    "billing_address": {"first_name": "Bench", "last_name": format!("{i}"), "street_1": "Gatan 1",
                        "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE", "email": "bench@example.com"},
                    "products": [{"product_id": self.product_id, "quantity": 1}],
                })),
            )
            .await;
        let id = order["id"].as_u64().expect("order id");
        let o = self
            .bc(Method::GET, &format!("/v2/orders/{id}"), None)
            .await;
        self.bc(Method::GET, &format!("/v2/orders/{id}/products"), None)
            .await;
        if o["shipping_address_count"].as_u64().unwrap_or(0) > 0 {
            self.bc(
                Method::GET,
                &format!("/v2/orders/{id}/shipping_addresses"),
                None,
            )
            .await;
        }
        self.bc(Method::GET, &format!("/v2/orders/{id}/coupons"), None)
            .await;
        self.bc(Method::GET, &format!("/v2/orders/{id}/taxes"), None)
            .await;
        let v = |x: Value| json!({ "value": x });
        let invoice = json!({
            "customerNumber": v(json!(visma::GUEST_CUSTOMER)), "documentDate": v(json!("2026-11-27T00:00:00Z")),
            "currencyId": v(json!("SEK")), "paymentMethodId": v(json!("INVOICE")),
            "externalReference": v(json!(format!("bc-o-bench:{id}"))), "customerRefNumber": v(json!(id.to_string())),
            "invoiceText": v(json!(format!("BigCommerce order {id}"))), "branchNumber": v(json!("1")),
            "billingAddress": v(json!({"addressLine1": v(json!("Gatan 1")), "postalCode": v(json!("11122")),
                                      "city": v(json!("Stockholm")), "countryId": v(json!("SE"))})),
            "invoiceContact": v(json!({"name": v(json!(format!("Bench {i}"))), "email": v(json!("bench@example.com"))})),
            "invoiceLines": [{"operation": "Insert", "inventoryNumber": v(json!("LL-MUG-01")),
                "description": v(json!("Enamel Camp Mug")), "quantity": v(json!(1)),
                "unitPriceInCurrency": v(json!(119.2)), "manualAmountInCurrency": v(json!(119.2)),
                "vatCodeId": v(json!("SE25")), "uom": v(json!("PCS"))}],
        });
        let created = self
            .erp(Method::POST, "/v2/customerinvoice", Some(&invoice))
            .await;
        let location = created
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("Location")
            .to_string();
        let number = location.rsplit('/').next().expect("number").to_string();
        self.erp(Method::GET, &format!("/v1/customerinvoice/{number}"), None)
            .await
            .bytes()
            .await
            .expect("invoice");
        self.erp(
            Method::POST,
            &format!("/v1/customerinvoice/{number}/action/release"),
            None,
        )
        .await
        .bytes()
        .await
        .expect("release");
        self.bc(
            Method::POST,
            &format!("/v3/orders/{id}/metafields"),
            Some(&json!({"permission_set": "app_only", "namespace": "ledgerlink", "key": "visma_invoice_number",
                         "value": number, "description": "Written by Ledgerlink"})),
        )
        .await;
        self.bc(
            Method::PUT,
            &format!("/v2/orders/{id}"),
            Some(&json!({ "staff_notes": format!("Visma invoice {number}") })),
        )
        .await;
        // The host reads the order again for each webhook the write-backs cause.
        for _ in 0..2 {
            self.bc(Method::GET, &format!("/v2/orders/{id}"), None)
                .await;
        }
    }
}

struct Round {
    cpu_per_order: Duration,
    orders_per_sec: f64,
    latencies: Vec<Duration>,
}

async fn round(
    world: &Arc<World>,
    bc: &bigcommerce::Running,
    first: usize,
    orders: usize,
) -> Round {
    let delivered_before = bc.stats()["webhooks_delivered"].as_u64().unwrap_or(0);
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (world, next) = (world.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= orders {
                    return lat;
                }
                let t = Instant::now();
                world.cycle(first + i).await;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("worker"));
    }
    // Each order fires 3 webhooks (created, metafield created, updated): wait for them so
    // their cost lands in this round.
    let want = delivered_before + 3 * orders as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while bc.stats()["webhooks_delivered"].as_u64().unwrap_or(0) < want && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let wall = t0.elapsed();
    Round {
        cpu_per_order: (cpu_time() - cpu0) / orders as u32,
        orders_per_sec: orders as f64 / wall.as_secs_f64(),
        latencies,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn receiver() -> (String, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |_body: axum::body::Bytes| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), hits)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let quick = std::env::args().any(|a| a == "--quick");
    let orders: usize = std::env::var("ORDER_CYCLE_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 300 } else { 1000 });
    let rounds = if quick { 3 } else { 5 };
    let bc = bigcommerce::start(bigcommerce::Config {
        quota: None,
        seed: Seed::Empty,
        webhook_time_scale: 0.001,
        ..Default::default()
    })
    .await
    .expect("BigCommerce simulator");
    let erp = visma::start(visma::Config::default())
        .await
        .expect("Visma simulator");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let (hook_url, hits) = receiver().await;
    let bc_info = bc.info().clone();
    let erp_info = erp.info().clone();
    let token: Value = http
        .post(&erp_info.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", erp_info.client_id.as_str()),
            ("client_secret", erp_info.client_secret.as_str()),
            ("tenant_id", visma::SE_TENANT),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let mut world = World {
        http,
        bc_base: bc_info.base_url.clone(),
        bc_token: bc_info.auth_token.clone(),
        product_id: 0,
        erp_base: erp_info.erp_base_url.clone(),
        bearer: token["access_token"].as_str().expect("access token").into(),
    };
    let product = world
        .bc(
            reqwest::Method::POST,
            "/v3/catalog/products",
            Some(&json!({"name": "Enamel Camp Mug", "type": "physical", "sku": "LL-MUG-01",
                         "price": 149, "weight": 0.3, "tax_class_id": 0, "inventory_tracking": "none"})),
        )
        .await;
    world.product_id = product["data"]["id"].as_u64().expect("product id");
    world
        .bc(
            reqwest::Method::POST,
            "/v3/hooks",
            Some(&json!({"scope": "store/order/*", "destination": hook_url, "is_active": true})),
        )
        .await;
    let world = Arc::new(world);

    println!(
        "Simulators, one order cycle = 12 requests + 3 webhooks, {IN_FLIGHT} orders in flight, {rounds} rounds × {orders} orders, quota off"
    );
    round(&world, &bc, 0, orders.min(200)).await; // warm-up
    let mut cpu = Vec::new();
    let mut rate = Vec::new();
    let mut lat = Vec::new();
    for r in 0..rounds {
        let res = round(&world, &bc, (r + 1) * orders, orders).await;
        cpu.push(res.cpu_per_order.as_secs_f64() * 1e6);
        rate.push(res.orders_per_sec);
        lat.extend(res.latencies);
    }
    let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
    println!("{:<34} {:>10} {:>10} {:>10}", "", "median", "min", "max");
    let row = |name: &str, v: &[f64], unit: &str| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        println!(
            "{:<34} {:>8.0}{unit} {:>8.0}{unit} {:>8.0}{unit}",
            name,
            median(v.to_vec()),
            min,
            max
        );
    };
    row("CPU per order (µs)", &cpu, "  ");
    row("orders/s", &rate, "  ");
    println!(
        "order cycle latency: p50 {:.2} ms, p99 {:.2} ms; webhooks received: {}",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        hits.load(Ordering::Relaxed)
    );
    bc.shutdown().await;
    erp.shutdown().await;
}
