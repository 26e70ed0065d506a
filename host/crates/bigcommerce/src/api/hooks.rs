//! Webhooks v3 hook management endpoints.

use crate::client::{Client, Request};
use crate::error::Error;
use crate::models::*;
use reqwest::Method;

impl Client {
    /// Hooks of the calling API account.
    pub async fn hooks(&self) -> Result<Vec<Hook>, Error> {
        self.v3_collect("/v3/hooks", Vec::new(), 250).await
    }

    pub async fn get_hook(&self, id: u64) -> Result<Hook, Error> {
        self.v3_get(&format!("/v3/hooks/{id}"), Vec::new()).await
    }

    pub async fn create_hook(&self, hook: &HookWrite) -> Result<Hook, Error> {
        self.v3_send(Method::POST, "/v3/hooks", hook).await
    }

    pub async fn update_hook(&self, id: u64, hook: &HookWrite) -> Result<Hook, Error> {
        self.v3_send(Method::PUT, &format!("/v3/hooks/{id}"), hook)
            .await
    }

    pub async fn delete_hook(&self, id: u64) -> Result<(), Error> {
        let req = Request {
            method: Method::DELETE,
            path: format!("/v3/hooks/{id}"),
            query: Vec::new(),
            body: None,
            idempotent: true,
        };
        self.send_no_content(&req).await
    }
}
