//! SalesOrders v3 (a separate service with plain JSON and zero-based paging).

use super::invoices::to_json;
use super::{Created, check_ref, pick_by_ref, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::dto::{
    NewSalesOrder, SalesOrder, SalesOrderFilter, SalesOrderPatch, Versioned, fmt_datetime,
};
use crate::error::VismaError;
use chrono::Utc;
use ledgerlink_core::{ExternalRef, LegalEntityId};
use reqwest::Method;

const PATH: &str = "api/v3/SalesOrders";

impl VismaClient {
    /// `GET /api/v3/SalesOrders/{type}/{orderId}`.
    pub async fn get_sales_order(
        &self,
        entity: &LegalEntityId,
        order_type: &str,
        order_id: &str,
    ) -> Result<SalesOrder, VismaError> {
        Ok(self
            .get_sales_order_versioned(entity, order_type, order_id)
            .await?
            .doc)
    }

    pub async fn get_sales_order_versioned(
        &self,
        entity: &LegalEntityId,
        order_type: &str,
        order_id: &str,
    ) -> Result<Versioned<SalesOrder>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.so_url(&format!("{PATH}/{}/{}", seg(order_type), seg(order_id)));
        let ent = self.entity(entity)?;
        let resp = self.execute(ent, &Req::get(url)).await?;
        Ok(Versioned {
            etag: resp.etag(),
            doc: resp.json()?,
        })
    }

    /// `GET /api/v3/SalesOrders` with filters, all pages (`pageIndex` from 0).
    pub async fn list_sales_orders(
        &self,
        entity: &LegalEntityId,
        f: &SalesOrderFilter,
    ) -> Result<Vec<SalesOrder>, VismaError> {
        let conn = self.connection(entity)?;
        let base = match &f.order_type {
            Some(t) => conn.so_url(&format!("{PATH}/{}", seg(t))),
            None => conn.so_url(PATH),
        };
        // With any expand the service caps pages at 100; we never expand, but stay at
        // that size so a future expand cannot silently truncate pages.
        let page_size = self.settings().page_size.clamp(1, 100) as usize;
        let mut out = Vec::new();
        for page_index in 0u32.. {
            let req = Req::get(base.clone())
                .query("pageIndex", page_index)
                .query("pageSize", page_size)
                .query("orderBy", "lastModified asc")
                .query_opt("customerId", f.customer_id.as_deref())
                .query_opt("status", f.status.as_deref())
                .query_opt("modifiedSince", f.modified_since.as_ref().map(fmt_datetime));
            let body: serde_json::Value = self.call_json(entity, req).await?;
            let (items, total) = page_items(body)?;
            let n = items.len();
            for item in items {
                out.push(
                    serde_json::from_value(item)
                        .map_err(|e| VismaError::Decode(format!("sales order: {e}")))?,
                );
            }
            if n == 0 || n < page_size || total.is_some_and(|t| out.len() as u64 >= t) {
                break;
            }
        }
        Ok(out)
    }

    /// Creates a v3 sales order at most once. The reference goes into `customer.refNo`; the
    /// service cannot filter on it, so a lost reply is confirmed by scanning the orders of
    /// the customer modified since just before the first attempt.
    pub async fn create_sales_order_once(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        order: &NewSalesOrder,
    ) -> Result<Created<SalesOrder>, VismaError> {
        let r = check_ref(reference)?.to_owned();
        let conn = self.connection(entity)?;
        let mut body = order.clone();
        body.customer.ref_no = Some(r.clone());
        if body.branch_id.is_none() {
            body.branch_id = conn.branch.clone();
        }
        let req = Req {
            method: Method::POST,
            url: conn.so_url(PATH),
            query: Vec::new(),
            body: Some(to_json(&body)?),
            if_match: None,
            kind: Kind::Create {
                what: "sales order",
                external_ref: r,
            },
        };
        let since = Utc::now() - chrono::Duration::minutes(10);
        let order_type = body.order_type.clone();
        let customer = body.customer.id.clone();
        let find = || {
            let filter = SalesOrderFilter {
                order_type: Some(order_type.clone()),
                customer_id: Some(customer.clone()),
                modified_since: Some(since),
                ..Default::default()
            };
            async move { self.find_sales_order_with(entity, reference, &filter).await }
        };
        let order_type = &order_type;
        self.create_once(entity, req, find, |key| async move {
            self.get_sales_order(entity, order_type, &key).await
        })
        .await
    }

    /// For a job that may have run before: looks for an order of this customer carrying the
    /// reference, modified since `since` (when the job first ran, minus clock skew), and
    /// creates it only if none is found.
    pub async fn ensure_sales_order(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        order: &NewSalesOrder,
        since: chrono::DateTime<Utc>,
    ) -> Result<Created<SalesOrder>, VismaError> {
        let filter = SalesOrderFilter {
            order_type: Some(order.order_type.clone()),
            customer_id: Some(order.customer.id.clone()),
            modified_since: Some(since),
            ..Default::default()
        };
        self.ensure(
            || self.find_sales_order_with(entity, reference, &filter),
            || self.create_sales_order_once(entity, reference, order),
        )
        .await
    }

    /// Cancels an order (`POST …/{type}/{orderId}/cancel`), releasing the stock it booked.
    /// `etag` guards against cancelling an order that changed since it was read. Cancelling
    /// an already cancelled order is not an error.
    pub async fn cancel_sales_order(
        &self,
        entity: &LegalEntityId,
        order_type: &str,
        order_id: &str,
        etag: Option<&str>,
    ) -> Result<SalesOrder, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.so_url(&format!(
            "{PATH}/{}/{}/cancel",
            seg(order_type),
            seg(order_id)
        ));
        let key = format!("{order_type}/{order_id}");
        let result = self
            .confirmed_action(
                entity,
                url,
                "sales order cancel",
                &key,
                etag.map(str::to_owned),
                || self.get_sales_order(entity, order_type, order_id),
                |o: &SalesOrder| o.status.as_deref() == Some("Cancelled"),
            )
            .await;
        self.with_current_etag(result, || {
            self.get_sales_order_versioned(entity, order_type, order_id)
        })
        .await
    }

    /// `PATCH …/{type}/{orderId}` with `If-Match` (required by the service). Returns the
    /// order as stored afterwards; on 412 [`VismaError::Conflict`] carries the current ETag.
    pub async fn update_sales_order(
        &self,
        entity: &LegalEntityId,
        order_type: &str,
        order_id: &str,
        patch: &SalesOrderPatch,
        etag: &str,
    ) -> Result<Versioned<SalesOrder>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.so_url(&format!("{PATH}/{}/{}", seg(order_type), seg(order_id)));
        self.update_with_etag(
            entity,
            Method::PATCH,
            url,
            to_json(patch)?,
            Some(etag),
            || self.get_sales_order_versioned(entity, order_type, order_id),
        )
        .await
    }

    /// The order whose `customer.refNo` is `reference` among orders matching `filter`.
    pub async fn find_sales_order_with(
        &self,
        entity: &LegalEntityId,
        reference: &ExternalRef,
        filter: &SalesOrderFilter,
    ) -> Result<Option<SalesOrder>, VismaError> {
        let r = check_ref(reference)?;
        let found = self.list_sales_orders(entity, filter).await?;
        Ok(pick_by_ref(
            found,
            r,
            |o| o.customer.as_ref().and_then(|c| c.ref_no.as_deref()),
            |o| format!("{}/{}", o.order_type, o.order_id),
        ))
    }
}

/// The items of a v3 list reply: a bare array, or an envelope with the items under one of
/// the names paged services use, plus the total when given.
fn page_items(
    body: serde_json::Value,
) -> Result<(Vec<serde_json::Value>, Option<u64>), VismaError> {
    match body {
        serde_json::Value::Array(a) => Ok((a, None)),
        serde_json::Value::Object(mut o) => {
            let total = ["totalCount", "total", "count"]
                .iter()
                .find_map(|k| o.get(*k).and_then(|v| v.as_u64()));
            for k in ["items", "value", "data", "records", "salesOrders"] {
                if let Some(serde_json::Value::Array(a)) = o.remove(k) {
                    return Ok((a, total));
                }
            }
            Err(VismaError::Decode(
                "sales order list without an items array".into(),
            ))
        }
        other => Err(VismaError::Decode(format!(
            "sales order list is not an array or object: {other}"
        ))),
    }
}
