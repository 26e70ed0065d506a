//! Starting a simulator and pointing a client at its two companies.

use chrono::{TimeZone, Utc};
use ledgerlink_core::{Backoff, ExternalRef, LegalEntityId, VismaTenantId};
use ledgerlink_sim::visma::{self, FI_TENANT, GUEST_CUSTOMER, SE_TENANT};
use ledgerlink_visma::dto::{InvoiceLineUpdate, InvoiceUpdate};
use ledgerlink_visma::{ClientSettings, EntityConnection, RetryPolicy, VismaClient};
use rust_decimal::Decimal;
use serde_json::Value;
use std::time::Duration;

pub const SE: &str = "se";
pub const FI: &str = "fi";

pub fn se() -> LegalEntityId {
    LegalEntityId::new(SE)
}

pub fn fi() -> LegalEntityId {
    LegalEntityId::new(FI)
}

pub struct Harness {
    pub sim: visma::Running,
    pub admin: reqwest::Client,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(visma::Config::default()).await
    }

    pub async fn with(config: visma::Config) -> Self {
        let sim = visma::start(config).await.expect("start simulator");
        Self {
            sim,
            admin: reqwest::Client::new(),
        }
    }

    pub fn base(&self) -> String {
        self.sim.info().erp_base_url.clone()
    }

    pub fn connection(&self, entity: &str, tenant: &str) -> EntityConnection {
        let info = self.sim.info();
        EntityConnection {
            entity: LegalEntityId::new(entity),
            tenant_id: VismaTenantId::new(tenant),
            client_id: info.client_id.clone(),
            client_secret: info.client_secret.clone(),
            token_url: info.token_url.clone(),
            scope: String::new(),
            erp_base_url: info.erp_base_url.clone(),
            salesorder_base_url: info.salesorder_base_url.clone(),
            branch: None,
        }
    }

    /// A client for both demo companies with fast retries.
    pub fn client(&self) -> VismaClient {
        self.client_with(fast_settings())
    }

    pub fn client_with(&self, settings: ClientSettings) -> VismaClient {
        VismaClient::new(
            settings,
            [
                self.connection(SE, SE_TENANT),
                self.connection(FI, FI_TENANT),
            ],
        )
        .expect("client")
    }

    pub async fn set_faults(&self, faults: Value) {
        let r = self
            .admin
            .post(format!("{}/__admin/faults", self.base()))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "set faults: {}",
            r.text().await.unwrap()
        );
    }

    pub async fn clear_faults(&self) {
        let r = self
            .admin
            .delete(format!("{}/__admin/faults", self.base()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    pub async fn stats(&self) -> Value {
        self.admin
            .get(format!("{}/__admin/stats", self.base()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Requests the simulator has seen so far (token requests excluded).
    pub async fn requests(&self) -> u64 {
        self.stats().await["requests"].as_u64().unwrap()
    }

    pub async fn documents(&self, tenant: &str) -> Vec<Value> {
        self.admin
            .get(format!("{}/__admin/documents", self.base()))
            .query(&[("tenant_id", tenant)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub fn fast_settings() -> ClientSettings {
    ClientSettings {
        retry: RetryPolicy {
            max_attempts: 6,
            backoff: Backoff {
                base: Duration::from_millis(5),
                max_delay: Duration::from_millis(100),
            },
        },
        request_timeout: Duration::from_secs(5),
        ..ClientSettings::default()
    }
}

/// A stocked demo SKU with the standard VAT rate (25 % in Sweden).
pub fn demo_sku() -> &'static str {
    visma::demo_skus()
        .into_iter()
        .find(|s| s.stocked && s.vat_category == "HIGH")
        .expect("a stocked standard-rate demo SKU")
        .sku
}

/// A one-line invoice for the guest customer of the Swedish demo company.
pub fn se_invoice(qty: i64, price: Decimal) -> InvoiceUpdate {
    InvoiceUpdate {
        customer_number: Some(GUEST_CUSTOMER.into()),
        document_date: Some(Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()),
        currency_id: Some("SEK".into()),
        invoice_text: Some("Web order".into()),
        invoice_lines: vec![InvoiceLineUpdate {
            inventory_number: Some(demo_sku().into()),
            quantity: Some(Decimal::from(qty)),
            unit_price_in_currency: Some(price),
            vat_code_id: Some("SE25".into()),
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn r(s: impl Into<String>) -> ExternalRef {
    ExternalRef::new(s)
}

pub fn json_pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

impl Harness {
    /// A raw bearer token for `tenant`, for test set-up the client has no operation for
    /// (registering a payment).
    pub async fn raw_token(&self, tenant: &str) -> String {
        let info = self.sim.info();
        let v: Value = self
            .admin
            .post(&info.token_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", info.client_id.as_str()),
                ("client_secret", info.client_secret.as_str()),
                ("tenant_id", tenant),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }

    /// Registers and releases a customer payment of `amount` against `invoice`, as the
    /// bank reconciliation in the ERP would.
    pub async fn pay_invoice(&self, tenant: &str, customer: &str, invoice: &str, amount: Decimal) {
        let token = self.raw_token(tenant).await;
        let amount: f64 = amount.to_string().parse().unwrap();
        let body = serde_json::json!({
            "type": {"value": "Payment"},
            "customer": {"value": customer},
            "paymentAmount": {"value": amount},
            "paymentLines": [{
                "documentType": {"value": "Invoice"},
                "refNbr": {"value": invoice},
                "amountPaid": {"value": amount},
            }],
        });
        let resp = self
            .admin
            .post(format!("{}/v1/customerPayment", self.base()))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        let resp = self
            .admin
            .post(format!("{location}/action/release"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }
}
