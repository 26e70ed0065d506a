//! Helpers shared by the Visma simulator tests: start a simulator on 127.0.0.1:0, get tokens,
//! and send requests the way a client would.
#![allow(dead_code)]

use std::time::Duration;

use ledgerlink_sim::visma::{self, Config, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct Harness {
    pub sim: Running,
    pub http: reqwest::Client,
}

pub struct Session<'a> {
    pub h: &'a Harness,
    pub token: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The error body's `ExceptionMessage` (panics when there is none).
    pub fn message(&self) -> &str {
        self.body["ExceptionMessage"].as_str().unwrap()
    }

    /// The last path segment of `Location`: the new document's key.
    pub fn location_key(&self) -> String {
        let loc = self.header("location").expect("Location header");
        loc.rsplit('/').next().unwrap().to_string()
    }
}

pub async fn start(config: Config) -> Harness {
    let sim = visma::start(config).await.expect("simulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Harness { sim, http }
}

pub async fn demo() -> Harness {
    start(Config::default()).await
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.sim.info().erp_base_url, path)
    }

    pub fn tenant(&self, i: usize) -> String {
        self.sim.info().tenants[i].tenant_id.clone()
    }

    pub async fn token_response(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(&self.sim.info().token_url)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn token_for(&self, tenant: &str) -> String {
        let info = self.sim.info();
        let resp = self
            .token_response(&[
                ("grant_type", "client_credentials"),
                ("client_id", &info.client_id),
                ("client_secret", &info.client_secret),
                ("tenant_id", tenant),
            ])
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn session(&self, company: usize) -> Session<'_> {
        let token = self.token_for(&self.tenant(company)).await;
        Session { h: self, token }
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        assert!(
            resp.status().is_success(),
            "admin {path}: {}",
            resp.status()
        );
        resp.json().await.unwrap_or(Value::Null)
    }

    /// Replaces the fault configuration (`POST /__admin/faults`).
    pub async fn set_faults(&self, faults: Value) -> Value {
        self.admin(Method::POST, "/__admin/faults", Some(faults))
            .await
    }
}

impl Session<'_> {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, reqwest::Error> {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.h.url(path)
        };
        let mut req = self.h.http.request(method, url).bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, &[]).await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, Some(body), &[])
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: &Value, if_match: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> =
            if_match.map(|m| vec![("if-match", m)]).unwrap_or_default();
        self.send(Method::PUT, path, Some(body), &headers)
            .await
            .unwrap()
    }
}

/// `{"value": v}`.
pub fn v(value: impl Into<Value>) -> Value {
    json!({ "value": value.into() })
}

/// An invoice line for `inventory` with quantity and unit price.
pub fn line(inventory: &str, quantity: f64, price: f64) -> Value {
    json!({
        "operation": "Insert",
        "inventoryNumber": v(inventory),
        "quantity": v(quantity),
        "unitPriceInCurrency": v(price),
    })
}

pub fn invoice_body(customer: &str, external_ref: &str, lines: Vec<Value>) -> Value {
    json!({
        "customerNumber": v(customer),
        "externalReference": v(external_ref),
        "invoiceLines": lines,
    })
}
