//! Shared harness for the end-to-end tests in `tests/tests/`: both simulators and the host on
//! 127.0.0.1 ephemeral ports, wired like the sandbox, with helpers to drive BigCommerce and
//! read what reached Visma.

use anyhow::Context;
use ledgerlink::app::{App, AppOptions};
use ledgerlink::cli::sandbox::sandbox_config;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The standard plugin, built by `scripts/wasm-plugins.sh`.
pub fn standard_plugin() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let p = std::env::var("LEDGERLINK_STANDARD_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/wasm32-wasip2/release/ledgerlink_standard.wasm"));
    assert!(
        p.exists(),
        "the standard plugin {} is missing: run scripts/wasm-plugins.sh first",
        p.display()
    );
    p
}

pub struct Harness {
    pub bc: ledgerlink_sim::bigcommerce::Running,
    pub visma: ledgerlink_sim::visma::Running,
    pub app: Option<App>,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> anyhow::Result<Harness> {
        Self::start_with(standard_plugin()).await
    }

    pub async fn start_with(plugin: PathBuf) -> anyhow::Result<Harness> {
        Self::start_configured(plugin, |_| {}).await
    }

    /// Like [`Self::start`], with a chance to change the configuration (posting rules …).
    pub async fn start_configured(
        plugin: PathBuf,
        adjust: impl FnOnce(&mut ledgerlink::config::Config),
    ) -> anyhow::Result<Harness> {
        let bc = ledgerlink_sim::bigcommerce::start(ledgerlink_sim::bigcommerce::Config {
            quota: None,
            webhook_time_scale: 0.001,
            ..Default::default()
        })
        .await?;
        let visma = ledgerlink_sim::visma::start(ledgerlink_sim::visma::Config::default()).await?;
        let dir = tempfile::tempdir()?;
        let mut config = sandbox_config(
            bc.info(),
            visma.info(),
            dir.path(),
            &plugin,
            "127.0.0.1:0".parse()?,
            4,
        );
        config.host.poll_interval_secs = 1;
        config.host.stock_interval_secs = 0;
        config.host.payment_interval_secs = 1;
        adjust(&mut config);
        // Fast retries so storms and waits stay within a test's seconds.
        let engine = ledgerlink::engine::EngineConfig {
            poll_interval: Duration::from_millis(50),
            retry: ledgerlink::engine::RetryPolicy {
                backoff: ledgerlink::core::Backoff {
                    base: Duration::from_millis(50),
                    max_delay: Duration::from_millis(500),
                },
                max_attempts: 10_000,
            },
            ..Default::default()
        };
        let app = App::start(
            config,
            AppOptions {
                engine: Some(engine),
                ..Default::default()
            },
        )
        .await?;
        Ok(Harness {
            bc,
            visma,
            app: Some(app),
            http: reqwest::Client::new(),
            dir,
        })
    }

    pub fn app(&self) -> &App {
        self.app.as_ref().expect("app running")
    }

    fn bc_url(&self, path: &str) -> String {
        format!("{}{}", self.bc.info().base_url, path)
    }

    /// The order's metafields named `key` (any namespace): what a write-back left.
    pub async fn order_metafields(&self, order: u64, key: &str) -> anyhow::Result<Vec<Value>> {
        let v = self
            .bc_send(
                reqwest::Method::GET,
                &format!("/v3/orders/{order}/metafields"),
                None,
            )
            .await?;
        Ok(v["data"]
            .as_array()
            .map(|a| a.iter().filter(|m| m["key"] == key).cloned().collect())
            .unwrap_or_default())
    }

    pub async fn bc_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), self.bc_url(path))
            .header("X-Auth-Token", &self.bc.info().auth_token)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status}: {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// Creates an order through the BigCommerce API (as a storefront would); returns its id.
    pub async fn create_order(&self, body: Value) -> anyhow::Result<u64> {
        let v = self
            .bc_send(reqwest::Method::POST, "/v2/orders", Some(body))
            .await?;
        v["id"].as_u64().context("order id in the reply")
    }

    /// Every document in the Visma simulator for one tenant.
    pub async fn visma_documents(&self, tenant: &str) -> anyhow::Result<Vec<Value>> {
        let url = format!(
            "{}/__admin/documents?tenant_id={tenant}",
            self.visma.info().erp_base_url
        );
        let v: Value = self.http.get(url).send().await?.json().await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let app = self.app();
        let mut req = self
            .http
            .request(method, format!("http://{}{path}", app.admin_addr))
            .bearer_auth(&app.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let v: Value = resp.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status}: {v}");
        Ok(v)
    }

    /// Polls `check` until it returns `Some`, or fails after `limit` with the last state.
    pub async fn wait_for<T, F, Fut>(
        &self,
        what: &str,
        limit: Duration,
        mut check: F,
    ) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
    {
        let start = Instant::now();
        loop {
            if let Some(v) = check().await? {
                return Ok(v);
            }
            if start.elapsed() > limit {
                let errors = self
                    .admin(reqwest::Method::GET, "/api/errors", None)
                    .await
                    .ok();
                let recent = self
                    .admin(reqwest::Method::GET, "/api/jobs?limit=12", None)
                    .await
                    .ok()
                    .and_then(|v| v["jobs"].as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .map(|j| {
                        format!(
                            "{} {} {} {} {}",
                            j["kind"],
                            j["subject"],
                            j["state"],
                            j["resolution"],
                            j["error"]["message"]
                        )
                    })
                    .collect::<Vec<_>>();
                anyhow::bail!(
                    "timed out waiting for {what}; recent jobs: {recent:#?}; error queue: {errors:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The Visma document carrying `external_ref` in tenant `tenant`, once it exists.
    pub async fn wait_document(
        &self,
        tenant: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let pred = &pred;
        self.wait_for("a Visma document", Duration::from_secs(60), || async move {
            Ok(self
                .visma_documents(tenant)
                .await?
                .into_iter()
                .find(|d| pred(d)))
        })
        .await
    }

    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(app) = self.app.take() {
            app.shutdown().await?;
        }
        self.bc.shutdown().await;
        self.visma.shutdown().await;
        Ok(())
    }
}

/// An order body for the BigCommerce simulator: catalogue products by id, guest buyer.
pub fn order_body(channel: u64, lines: &[(u64, u64)], shipping_ex: Option<&str>) -> Value {
    let products: Vec<Value> = lines
        .iter()
        .map(|(product_id, qty)| serde_json::json!({"product_id": product_id, "quantity": qty}))
        .collect();
    let mut body = serde_json::json!({
        "status_id": 11,
        "channel_id": channel,
        "customer_id": 0,
        "billing_address": {
            "first_name": "Ada", "last_name": "Lovelace", "street_1": "Storgatan 1",
            "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE",
            "email": "ada@example.com"
        },
        "products": products,
    });
    if channel == 2 {
        body["default_currency_code"] = "EUR".into();
    }
    if let Some(ship) = shipping_ex {
        body["shipping_addresses"] = serde_json::json!([{
            "first_name": "Ada", "last_name": "Lovelace", "street_1": "Storgatan 1",
            "city": "Stockholm", "zip": "11122", "country": "Sweden", "country_iso2": "SE",
            "email": "ada@example.com"
        }]);
        body["shipping_cost_ex_tax"] = serde_json::json!(ship);
    }
    body
}

impl Harness {
    /// The catalogue product id of a (simple) demo SKU.
    pub async fn product_id(&self, sku: &str) -> anyhow::Result<u64> {
        let v = self
            .bc_send(
                reqwest::Method::GET,
                &format!("/v3/catalog/products?sku={sku}"),
                None,
            )
            .await?;
        v["data"][0]["id"]
            .as_u64()
            .with_context(|| format!("no product with SKU {sku}: {v}"))
    }
}

impl Harness {
    /// The order's product lines (`/v2/orders/{id}/products`).
    pub async fn order_lines(&self, order: u64) -> anyhow::Result<Vec<Value>> {
        let v = self
            .bc_send(
                reqwest::Method::GET,
                &format!("/v2/orders/{order}/products"),
                None,
            )
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// Refunds `items` (`[{"item_type": "PRODUCT", "item_id": …, "quantity": …}]`) through the
    /// quote → refund flow a merchant's admin uses, paid back offline. Returns the refund.
    pub async fn refund(&self, order: u64, items: Value) -> anyhow::Result<Value> {
        let quote = self
            .bc_send(
                reqwest::Method::POST,
                &format!("/v3/orders/{order}/payment_actions/refund_quotes"),
                Some(serde_json::json!({"items": items.clone()})),
            )
            .await?;
        let q = if quote.get("data").is_some() {
            &quote["data"]
        } else {
            &quote
        };
        let total = q["total_refund_amount"].clone();
        let body = serde_json::json!({
            "items": items,
            "payments": [{"provider_id": "custom", "amount": total, "offline": true}],
        });
        let r = self
            .bc_send(
                reqwest::Method::POST,
                &format!("/v3/orders/{order}/payment_actions/refunds"),
                Some(body),
            )
            .await?;
        Ok(if r.get("data").is_some() {
            r["data"].clone()
        } else {
            r
        })
    }

    /// Documents of a tenant whose external reference ends with `suffix`.
    pub async fn documents_ending(&self, tenant: &str, suffix: &str) -> anyhow::Result<Vec<Value>> {
        Ok(self
            .visma_documents(tenant)
            .await?
            .into_iter()
            .filter(|d| {
                d["external_reference"]
                    .as_str()
                    .is_some_and(|r| r.ends_with(suffix))
            })
            .collect())
    }
}

impl Harness {
    /// A Visma client for one legal entity of the sandbox configuration (`se` or `fi`), for
    /// reading what reached the ERP through its API.
    pub fn visma_client(
        &self,
        entity: &str,
    ) -> (
        ledgerlink::visma::VismaClient,
        ledgerlink::core::LegalEntityId,
    ) {
        use ledgerlink::core::{LegalEntityId, VismaTenantId};
        use ledgerlink::visma::{ClientSettings, EntityConnection, VismaClient};
        let info = self.visma.info();
        let tenant = match entity {
            "fi" => ledgerlink_sim::visma::FI_TENANT,
            _ => ledgerlink_sim::visma::SE_TENANT,
        };
        let id = LegalEntityId::new(entity);
        let conn = EntityConnection {
            entity: id.clone(),
            tenant_id: VismaTenantId::new(tenant),
            client_id: info.client_id.clone(),
            client_secret: info.client_secret.clone(),
            token_url: info.token_url.clone(),
            scope: String::new(),
            erp_base_url: info.erp_base_url.clone(),
            salesorder_base_url: info.salesorder_base_url.clone(),
            branch: None,
        };
        (
            VismaClient::new(ClientSettings::default(), [conn]).expect("visma client"),
            id,
        )
    }

    /// Jobs of the host's queue (admin API), newest first.
    pub async fn jobs(&self, query: &str) -> anyhow::Result<Vec<Value>> {
        let v = self
            .admin(reqwest::Method::GET, &format!("/api/jobs?{query}"), None)
            .await?;
        Ok(v["jobs"].as_array().cloned().unwrap_or_default())
    }
}

impl Harness {
    /// The `[[stores]]` section of the sandbox configuration, for library calls that take it
    /// (backfill).
    pub fn store_sections(&self) -> Vec<ledgerlink::config::StoreSection> {
        let info = self.bc.info();
        vec![ledgerlink::config::StoreSection {
            hash: info.store_hash.clone(),
            base_url: info.base_url.clone(),
            auth_token: Some(info.auth_token.clone()),
            auth_token_env: None,
            webhook_secret: None,
            webhook_secret_env: None,
            register_hooks: false,
            stock_from: None,
        }]
    }
}

impl Harness {
    /// Calls the Visma simulator's ERP API as another integration would (its own token), for
    /// changes the host must notice (stock receipts, payments).
    pub async fn visma_erp(
        &self,
        entity: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let info = self.visma.info();
        let tenant = match entity {
            "fi" => ledgerlink_sim::visma::FI_TENANT,
            _ => ledgerlink_sim::visma::SE_TENANT,
        };
        let token: Value = self
            .http
            .post(&info.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("tenant_id", tenant),
            ])
            .send()
            .await?
            .json()
            .await?;
        let token = token["access_token"]
            .as_str()
            .context("access_token in the token reply")?
            .to_owned();
        let mut req = self
            .http
            .request(method, format!("{}{path}", info.erp_base_url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        anyhow::ensure!(resp.status().is_success(), "{path}: {}", resp.status());
        Ok(resp)
    }

    /// Moves Visma stock of `item` in `warehouse` by `quantity` (a released inventory receipt
    /// for more, an issue for less), as a warehouse clerk would.
    pub async fn visma_move_stock(
        &self,
        entity: &str,
        item: &str,
        warehouse: &str,
        quantity: i64,
    ) -> anyhow::Result<()> {
        let (path, lines) = if quantity >= 0 {
            ("/v1/inventoryReceipt", "receiptLines")
        } else {
            ("/v1/inventoryissue", "issueLines")
        };
        let body = serde_json::json!({
            "hold": {"value": false},
            "description": {"value": "test stock move"},
            lines: [{
                "operation": "Insert",
                "inventoryNumber": {"value": item},
                "warehouseId": {"value": warehouse},
                "quantity": {"value": quantity.abs()},
            }],
        });
        let resp = self
            .visma_erp(entity, reqwest::Method::POST, path, Some(body))
            .await?;
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .context("Location of the new stock document")?
            .to_owned();
        let number = location.rsplit('/').next().unwrap_or_default().to_owned();
        self.visma_erp(
            entity,
            reqwest::Method::POST,
            &format!("{path}/{number}/action/release"),
            None,
        )
        .await?;
        Ok(())
    }

    /// BigCommerce's on-hand stock of `sku` per location id.
    pub async fn bc_stock(
        &self,
        sku: &str,
    ) -> anyhow::Result<std::collections::BTreeMap<u64, i64>> {
        let v = self
            .bc_send(
                reqwest::Method::GET,
                &format!("/v3/inventory/items?sku:in={sku}"),
                None,
            )
            .await?;
        Ok(v["data"][0]["locations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| {
                        Some((
                            l["location_id"].as_u64()?,
                            l["total_inventory_onhand"].as_i64()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Queues a stock sync through the admin API and waits until it has finished; returns the
    /// job (its `state` is `done`, or `skipped` when there was nothing to send).
    pub async fn stock_sync(&self, full: bool) -> anyhow::Result<Value> {
        let v = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/sync/stock?full={full}"),
                None,
            )
            .await?;
        let id = v["job"].as_i64().context("job id")?;
        self.wait_for("the stock sync", Duration::from_secs(30), || async move {
            let jobs = self.jobs("kind=ledgerlink/stock/sync&limit=50").await?;
            Ok(jobs
                .into_iter()
                .find(|j| j["id"].as_i64() == Some(id))
                .filter(|j| {
                    matches!(
                        j["state"].as_str(),
                        Some("done") | Some("skipped") | Some("failed")
                    )
                }))
        })
        .await
    }
}

impl Harness {
    /// A token for one Visma tenant, from the simulator's token endpoint (as the host gets it).
    pub async fn visma_token(&self, tenant: &str) -> anyhow::Result<String> {
        let info = self.visma.info();
        let v: Value = self
            .http
            .post(&info.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("tenant_id", tenant),
            ])
            .send()
            .await?
            .json()
            .await?;
        v["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no access token: {v}"))
    }

    /// `method` on the Visma ERP API of one tenant (`path` like `v1/customerinvoice/100001`),
    /// the body as JSON (`Null` when empty).
    pub async fn visma_send(
        &self,
        tenant: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/{}", self.visma.info().erp_base_url, path);
        self.visma_call(tenant, method, url, body).await
    }

    /// `GET` on the SalesOrders v3 service of one tenant (`path` like `api/v3/SalesOrders/SO/000001`).
    pub async fn visma_so_get(&self, tenant: &str, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}/{}", self.visma.info().salesorder_base_url, path);
        self.visma_call(tenant, reqwest::Method::GET, url, None)
            .await
    }

    async fn visma_call(
        &self,
        tenant: &str,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let token = self.visma_token(tenant).await?;
        let mut req = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(token)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {url}: {status}: {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    /// The full Visma invoice (`GET v1/customerinvoice/{number}`).
    pub async fn visma_invoice(&self, tenant: &str, number: &str) -> anyhow::Result<Value> {
        self.visma_send(
            tenant,
            reqwest::Method::GET,
            &format!("v1/customerinvoice/{number}"),
            None,
        )
        .await
    }

    /// The order's jobs (`/api/jobs?subject=order:<id>`).
    pub async fn order_jobs(&self, order: u64) -> anyhow::Result<Vec<Value>> {
        let v = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/jobs?subject=order:{order}"),
                None,
            )
            .await?;
        Ok(v["jobs"].as_array().cloned().unwrap_or_default())
    }
}

/// Exact cents of a JSON amount (number or string), without going through floats.
pub fn cents(v: &Value) -> i64 {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let neg = s.starts_with('-');
    let s = s.trim_start_matches('-');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = format!("{frac:0<2}");
    assert!(
        frac[2..].chars().all(|c| c == '0'),
        "{v} has more than two decimals"
    );
    let c: i64 = format!("{int}{}", &frac[..2])
        .parse()
        .unwrap_or_else(|e| panic!("{v} is not an amount: {e}"));
    if neg { -c } else { c }
}
