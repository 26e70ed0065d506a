//! Inventory v3 endpoints: items, adjustments, locations.

use crate::client::{Client, Request};
use crate::error::Error;
use crate::models::*;
use ledgerlink_core::LocationId;
use reqwest::Method;

/// BigCommerce accepts at most this many items per adjustment call.
pub const MAX_ADJUSTMENT_ITEMS: usize = 2000;

impl Client {
    pub async fn inventory_items(
        &self,
        filter: &InventoryFilter,
    ) -> Result<Vec<InventoryItem>, Error> {
        self.v3_collect("/v3/inventory/items", filter.to_query(), 250)
            .await
    }

    pub async fn location_items(&self, location: LocationId) -> Result<Vec<LocationItem>, Error> {
        self.v3_collect(
            format!("/v3/inventory/locations/{location}/items"),
            Vec::new(),
            250,
        )
        .await
    }

    /// Sets absolute stock levels, in chunks of at most 2000 items, one chunk after the other
    /// (the docs ask to wait for each answer). Idempotent, so each chunk is retried on
    /// transient failures. Returns one transaction id per chunk.
    pub async fn set_absolute_inventory(
        &self,
        reason: Option<&str>,
        items: &[AdjustmentItem],
    ) -> Result<Vec<String>, Error> {
        let mut sorted: Vec<&AdjustmentItem> = items.iter().collect();
        // Grouping by location is what the docs recommend for throughput.
        sorted.sort_by_key(|i| i.location_id);
        let mut ids = Vec::new();
        for chunk in sorted.chunks(MAX_ADJUSTMENT_ITEMS) {
            let body = AdjustmentRequest {
                reason: reason.map(str::to_owned),
                items: chunk.iter().map(|i| (*i).clone()).collect(),
            };
            let req = Request::with_json(Method::PUT, "/v3/inventory/adjustments/absolute", &body)?;
            let raw = self.execute(&req).await?;
            let tx: TransactionResponse = if raw.body.is_empty() {
                TransactionResponse::default()
            } else {
                crate::client::decode("PUT", &req.path, &raw.body)?
            };
            ids.extend(tx.transaction_id);
        }
        Ok(ids)
    }

    /// Relative (signed) adjustment of at most 2000 items. Not idempotent: never retried
    /// after it may have reached the server.
    pub async fn adjust_relative_inventory(
        &self,
        reason: Option<&str>,
        items: &[AdjustmentItem],
    ) -> Result<Option<String>, Error> {
        if items.len() > MAX_ADJUSTMENT_ITEMS {
            return Err(Error::Invalid(format!(
                "relative adjustment of {} items exceeds the limit of {MAX_ADJUSTMENT_ITEMS}; split it explicitly",
                items.len()
            )));
        }
        let body = AdjustmentRequest {
            reason: reason.map(str::to_owned),
            items: items.to_vec(),
        };
        let tx: TransactionResponse = self
            .send_json(Method::POST, "/v3/inventory/adjustments/relative", &body)
            .await?;
        Ok(tx.transaction_id)
    }

    pub async fn locations(&self) -> Result<Vec<Location>, Error> {
        self.v3_collect("/v3/inventory/locations", Vec::new(), 250)
            .await
    }
}
