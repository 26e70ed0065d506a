//! Orders v2 endpoints.

use crate::client::{Client, Query, Request, decode};
use crate::error::Error;
use crate::models::*;
use futures::stream::BoxStream;
use ledgerlink_core::BcOrderId;
use reqwest::Method;

/// An order's body as `GET /v2/orders/{id}` answered it, decoded on demand: an echo check
/// needs only the [`OrderState`], and the audit keeps the text as it came.
#[derive(Debug, Clone)]
pub struct OrderBody {
    path: String,
    body: bytes::Bytes,
}

impl OrderBody {
    /// The whole order.
    pub fn order(&self) -> Result<Order, Error> {
        decode("GET", &self.path, &self.body)
    }

    /// Only the fields that tell the order's states apart (and its staff notes).
    pub fn state(&self) -> Result<OrderState, Error> {
        decode("GET", &self.path, &self.body)
    }

    /// The body as text (lossy only if BigCommerce sent bytes that are not UTF-8, which no
    /// decode would accept either).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// BigCommerce's maximum page size for `GET /v2/orders`.
pub const ORDERS_PAGE_LIMIT: u32 = 250;

impl Client {
    /// Pages of orders matching `filter` (`sort` defaults to `id:asc`).
    pub fn orders(
        &self,
        filter: &OrderFilter,
        limit: u32,
    ) -> BoxStream<'static, Result<Vec<Order>, Error>> {
        self.v2_pages("/v2/orders", filter.to_query(), limit)
    }

    pub async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<Order>, Error> {
        self.v2_collect("/v2/orders", filter.to_query(), ORDERS_PAGE_LIMIT)
            .await
    }

    pub async fn orders_count(&self, filter: &OrderFilter) -> Result<u64, Error> {
        let c: OrdersCount = self.get_json("/v2/orders/count", filter.to_query()).await?;
        Ok(c.count)
    }

    pub async fn get_order(&self, id: BcOrderId) -> Result<Order, Error> {
        self.get_json(&format!("/v2/orders/{id}"), Vec::new()).await
    }

    /// `GET /v2/orders/{id}` undecoded: the body as BigCommerce sent it, to decode whole or
    /// only as far as a caller needs (see [`OrderBody`]).
    pub async fn get_order_body(&self, id: BcOrderId) -> Result<OrderBody, Error> {
        let path = format!("/v2/orders/{id}");
        let raw = self
            .execute(&Request::get(path.as_str(), Vec::new()))
            .await?;
        Ok(OrderBody {
            path,
            body: raw.body,
        })
    }

    /// Creates an order. Not retried after it may have reached the server: on
    /// `ErrorClass::Unknown` look it up (e.g. by `external_order_id`) before trying again.
    pub async fn create_order(&self, order: &NewOrder) -> Result<Order, Error> {
        self.send_json(Method::POST, "/v2/orders", order).await
    }

    /// Updates only the fields set in `update` (fires `store/order/updated`).
    pub async fn update_order(&self, id: BcOrderId, update: &OrderUpdate) -> Result<Order, Error> {
        self.send_json(Method::PUT, &format!("/v2/orders/{id}"), update)
            .await
    }

    /// [`Self::update_order`] for a caller that needs only the order's state afterwards.
    pub async fn update_order_state(
        &self,
        id: BcOrderId,
        update: &OrderUpdate,
    ) -> Result<OrderState, Error> {
        self.send_json(Method::PUT, &format!("/v2/orders/{id}"), update)
            .await
    }

    /// Archives an order (204; fires `store/order/archived`).
    pub async fn archive_order(&self, id: BcOrderId) -> Result<(), Error> {
        let req = Request {
            method: Method::DELETE,
            path: format!("/v2/orders/{id}"),
            query: Vec::new(),
            body: None,
            idempotent: true,
        };
        self.send_no_content(&req).await
    }

    /// All lines of an order (paged, 50 per page by default server-side).
    pub async fn order_products(&self, id: BcOrderId) -> Result<Vec<OrderProduct>, Error> {
        self.v2_collect(format!("/v2/orders/{id}/products"), Vec::new(), 250)
            .await
    }

    pub async fn order_shipping_addresses(
        &self,
        id: BcOrderId,
    ) -> Result<Vec<ShippingAddress>, Error> {
        self.v2_collect(
            format!("/v2/orders/{id}/shipping_addresses"),
            Vec::new(),
            250,
        )
        .await
    }

    pub async fn order_coupons(&self, id: BcOrderId) -> Result<Vec<OrderCoupon>, Error> {
        self.v2_collect(format!("/v2/orders/{id}/coupons"), Vec::new(), 250)
            .await
    }

    /// Tax rows with `details=true`, so each row names its order product and line type.
    pub async fn order_taxes(&self, id: BcOrderId) -> Result<Vec<OrderTax>, Error> {
        let q: Query = vec![("details".into(), "true".into())];
        self.v2_collect(format!("/v2/orders/{id}/taxes"), q, 250)
            .await
    }

    pub async fn order_shipments(&self, id: BcOrderId) -> Result<Vec<Shipment>, Error> {
        self.v2_collect(format!("/v2/orders/{id}/shipments"), Vec::new(), 250)
            .await
    }

    pub async fn create_shipment(
        &self,
        id: BcOrderId,
        shipment: &NewShipment,
    ) -> Result<Shipment, Error> {
        self.send_json(
            Method::POST,
            &format!("/v2/orders/{id}/shipments"),
            shipment,
        )
        .await
    }

    pub async fn order_statuses(&self) -> Result<Vec<OrderStatus>, Error> {
        self.get_v2_list("/v2/order_statuses", Vec::new()).await
    }
}
