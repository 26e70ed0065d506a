//! Shared helpers for the BigCommerce simulator tests.
#![allow(dead_code)]

use ledgerlink_sim::Seed;
use ledgerlink_sim::bigcommerce::{self, Config, Running};
use serde_json::{Value, json};

pub struct Sim {
    pub running: Running,
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub fn empty() -> Config {
    Config {
        seed: Seed::Empty,
        ..Config::default()
    }
}

pub fn demo() -> Config {
    Config {
        seed: Seed::Demo,
        ..Config::default()
    }
}

impl Sim {
    pub async fn start(config: Config) -> Sim {
        let running = bigcommerce::start(config).await.expect("simulator starts");
        let info = running.info().clone();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Sim {
            running,
            http,
            base: info.base_url,
            token: info.auth_token,
        }
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("x-auth-token", &self.token)
            .send()
            .await
            .unwrap()
    }
    /// GET and parse the body as JSON, whatever the status.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }
    /// The ids of an order's first product line and first shipping address.
    pub async fn first_line_and_address(&self, order_id: u64) -> (u64, u64) {
        let lines = self
            .get_json(&format!("/v2/orders/{order_id}/products"))
            .await;
        let addrs = self
            .get_json(&format!("/v2/orders/{order_id}/shipping_addresses"))
            .await;
        (
            lines[0]["id"].as_u64().unwrap(),
            addrs[0]["id"].as_u64().unwrap(),
        )
    }
    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .header("x-auth-token", &self.token)
            .send()
            .await
            .unwrap()
    }
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("x-auth-token", &self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub async fn put(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .header("x-auth-token", &self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{}", self.running.local_addr(), path)
    }
    /// Replaces the fault settings (`POST /__admin/faults`).
    pub async fn set_faults(&self, faults: Value) -> reqwest::Response {
        self.http
            .post(self.admin_url("/__admin/faults"))
            .header("x-auth-token", &self.token)
            .json(&faults)
            .send()
            .await
            .unwrap()
    }
    pub async fn stats(&self) -> Value {
        self.http
            .get(self.admin_url("/__admin/stats"))
            .header("x-auth-token", &self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
    /// An order of 3 × a custom product (price 100 in the store's basis) with one address.
    pub async fn create_custom_order(&self, status_id: u8) -> Value {
        let r = self
            .post(
                "/v2/orders",
                json!({
                    "status_id": status_id,
                    "billing_address": billing(),
                    "shipping_addresses": [shipping()],
                    "products": [{"name": "Custom", "quantity": 3, "price_inc_tax": 100, "price_ex_tax": 80}],
                    "shipping_cost_inc_tax": 50, "shipping_cost_ex_tax": 40,
                }),
            )
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}

pub fn billing() -> Value {
    json!({"first_name": "Anna", "last_name": "Berg", "street_1": "Storgatan 1", "city": "Uppsala",
           "zip": "75320", "country": "Sweden", "country_iso2": "SE", "email": "anna@example.com"})
}

pub fn shipping() -> Value {
    json!({"first_name": "Anna", "last_name": "Berg", "street_1": "Storgatan 1", "city": "Uppsala",
           "zip": "75320", "country": "Sweden", "country_iso2": "SE", "email": "anna@example.com",
           "shipping_method": "PostNord"})
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
