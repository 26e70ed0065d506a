//! Orders v3 endpoints: refunds, transactions, order metafields.

use crate::client::{Client, Query, Request};
use crate::error::Error;
use crate::models::*;
use futures::stream::BoxStream;
use ledgerlink_core::{BcOrderId, BcRefundId};
use reqwest::Method;

impl Client {
    pub async fn refund_quote(
        &self,
        order: BcOrderId,
        req: &RefundQuoteRequest,
    ) -> Result<RefundQuote, Error> {
        self.v3_send(
            Method::POST,
            &format!("/v3/orders/{order}/payment_actions/refund_quotes"),
            req,
        )
        .await
    }

    /// Creates a refund. Never retried once it may have reached the server (a repeat would
    /// refund twice); on `ErrorClass::Unknown` list the order's refunds before trying again.
    pub async fn create_refund(
        &self,
        order: BcOrderId,
        req: &RefundRequest,
    ) -> Result<Refund, Error> {
        self.v3_send(
            Method::POST,
            &format!("/v3/orders/{order}/payment_actions/refunds"),
            req,
        )
        .await
    }

    pub async fn order_refunds(&self, order: BcOrderId) -> Result<Vec<Refund>, Error> {
        self.v3_collect(
            format!("/v3/orders/{order}/payment_actions/refunds"),
            Vec::new(),
            250,
        )
        .await
    }

    /// Pages of refunds across all orders (for polling refunds into credit notes).
    pub fn refunds(
        &self,
        filter: &RefundFilter,
        limit: u32,
    ) -> BoxStream<'static, Result<Vec<Refund>, Error>> {
        self.v3_pages(
            "/v3/orders/payment_actions/refunds",
            filter.to_query(),
            limit,
        )
    }

    pub async fn get_refund(&self, id: BcRefundId) -> Result<Refund, Error> {
        self.v3_get(
            &format!("/v3/orders/payment_actions/refunds/{id}"),
            Vec::new(),
        )
        .await
    }

    /// Payment transactions of an order (empty on 204).
    pub async fn order_transactions(&self, order: BcOrderId) -> Result<Vec<Transaction>, Error> {
        self.v3_collect(format!("/v3/orders/{order}/transactions"), Vec::new(), 250)
            .await
    }

    pub async fn order_metafields(
        &self,
        order: BcOrderId,
        namespace: Option<&str>,
    ) -> Result<Vec<Metafield>, Error> {
        let mut q: Query = Vec::new();
        if let Some(ns) = namespace {
            q.push(("namespace".into(), ns.to_owned()));
        }
        self.v3_collect(format!("/v3/orders/{order}/metafields"), q, 250)
            .await
    }

    pub async fn create_order_metafield(
        &self,
        order: BcOrderId,
        field: &NewMetafield,
    ) -> Result<Metafield, Error> {
        self.v3_send(
            Method::POST,
            &format!("/v3/orders/{order}/metafields"),
            field,
        )
        .await
    }

    pub async fn update_order_metafield(
        &self,
        order: BcOrderId,
        metafield_id: u64,
        field: &NewMetafield,
    ) -> Result<Metafield, Error> {
        self.v3_send(
            Method::PUT,
            &format!("/v3/orders/{order}/metafields/{metafield_id}"),
            field,
        )
        .await
    }

    pub async fn delete_order_metafield(
        &self,
        order: BcOrderId,
        metafield_id: u64,
    ) -> Result<(), Error> {
        let req = Request {
            method: Method::DELETE,
            path: format!("/v3/orders/{order}/metafields/{metafield_id}"),
            query: Vec::new(),
            body: None,
            idempotent: true,
        };
        self.send_no_content(&req).await
    }

    /// Creates or updates the metafield `namespace`/`key` on an order: the idempotent way to
    /// write back an ERP reference.
    pub async fn upsert_order_metafield(
        &self,
        order: BcOrderId,
        field: &NewMetafield,
    ) -> Result<Metafield, Error> {
        // Most write-backs are first writes: create, and only when BigCommerce answers 409
        // (this app already has the field on the order) read and update it. One request
        // instead of two in the common case; a repeated write still ends in one field.
        match self.create_order_metafield(order, field).await {
            Err(e) if e.status() == Some(409) => {}
            created => return created,
        }
        let existing = self.order_metafields(order, Some(&field.namespace)).await?;
        match existing
            .iter()
            .find(|m| m.namespace == field.namespace && m.key == field.key)
        {
            Some(m) if m.value == field.value => Ok(m.clone()),
            Some(m) => self.update_order_metafield(order, m.id, field).await,
            None => self.create_order_metafield(order, field).await,
        }
    }
}
