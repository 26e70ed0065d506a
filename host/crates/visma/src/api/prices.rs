//! Sales prices (`/v1/customerSalesPrice`).

use super::invoices::to_json;
use super::{Created, seg};
use crate::client::{Kind, Req, VismaClient};
use crate::dto::{SalesPrice, SalesPriceFilter, SalesPriceUpdate, Versioned, fmt_datetime};
use crate::error::VismaError;
use ledgerlink_core::LegalEntityId;
use reqwest::Method;

impl VismaClient {
    /// `GET /v1/customerSalesPrice` with filters, all pages.
    pub async fn list_sales_prices(
        &self,
        entity: &LegalEntityId,
        f: &SalesPriceFilter,
    ) -> Result<Vec<SalesPrice>, VismaError> {
        let conn = self.connection(entity)?;
        let req = Req::get(conn.erp_url("v1/customerSalesPrice"))
            .query(
                "priceType",
                f.price_type.map(|t| t.as_str()).unwrap_or("All"),
            )
            .query_opt("priceCode", f.price_code.as_deref())
            .query_opt("inventoryId", f.inventory_id.as_deref())
            .query_opt(
                "effectiveAsOf",
                f.effective_as_of.as_ref().map(fmt_datetime),
            );
        self.list_all(entity, req).await
    }

    /// `GET /v1/customerSalesPrice/{recordId}`.
    pub async fn get_sales_price(
        &self,
        entity: &LegalEntityId,
        record_id: i64,
    ) -> Result<Versioned<SalesPrice>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!(
            "v1/customerSalesPrice/{}",
            seg(&record_id.to_string())
        ));
        let ent = self.entity(entity)?;
        let resp = self.execute(ent, &Req::get(url)).await?;
        let doc: SalesPrice = resp.json()?;
        Ok(Versioned {
            etag: resp.etag().or_else(|| doc.time_stamp.clone()),
            doc,
        })
    }

    /// Creates a sales price row at most once. A row has no external reference; its natural
    /// key (type, code, item, currency, unit, break quantity) is what a lost reply is
    /// confirmed by.
    pub async fn create_sales_price_once(
        &self,
        entity: &LegalEntityId,
        price: &SalesPriceUpdate,
    ) -> Result<Created<SalesPrice>, VismaError> {
        let conn = self.connection(entity)?;
        let key = format!(
            "{}:{}:{}:{}",
            price.price_type.map(|t| t.as_str()).unwrap_or_default(),
            price.price_code.as_deref().unwrap_or_default(),
            price.inventory_id.as_deref().unwrap_or_default(),
            price.currency.as_deref().unwrap_or_default()
        );
        let req = Req {
            method: Method::POST,
            url: conn.erp_url("v1/customerSalesPrice"),
            query: Vec::new(),
            body: Some(to_json(price)?),
            if_match: None,
            kind: Kind::Create {
                what: "sales price",
                external_ref: key,
            },
        };
        let filter = SalesPriceFilter {
            price_type: price.price_type,
            price_code: price.price_code.clone(),
            inventory_id: price.inventory_id.clone(),
            effective_as_of: None,
        };
        self.create_once(
            entity,
            req,
            || {
                let filter = filter.clone();
                async move {
                    Ok(self
                        .list_sales_prices(entity, &filter)
                        .await?
                        .into_iter()
                        .find(|p| same_key(p, price)))
                }
            },
            |key| async move {
                let id = key.parse::<i64>().map_err(|_| {
                    VismaError::Decode(format!("sales price record id {key:?} is not a number"))
                })?;
                Ok(self.get_sales_price(entity, id).await?.doc)
            },
        )
        .await
    }

    /// `PUT /v1/customerSalesPrice/{recordId}` with `If-Match` when `etag` is given.
    pub async fn update_sales_price(
        &self,
        entity: &LegalEntityId,
        record_id: i64,
        price: &SalesPriceUpdate,
        etag: Option<&str>,
    ) -> Result<Versioned<SalesPrice>, VismaError> {
        let conn = self.connection(entity)?;
        let url = conn.erp_url(&format!("v1/customerSalesPrice/{record_id}"));
        self.update_with_etag(entity, Method::PUT, url, to_json(price)?, etag, || {
            self.get_sales_price(entity, record_id)
        })
        .await
    }
}

fn same_key(p: &SalesPrice, u: &SalesPriceUpdate) -> bool {
    let eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (_, None) => true,
        (a, Some(b)) => a.unwrap_or_default().eq_ignore_ascii_case(b),
    };
    eq(p.currency.as_deref(), u.currency.as_deref())
        && eq(p.uom.as_deref(), u.uom.as_deref())
        && p.break_qty.unwrap_or_default() == u.break_qty.unwrap_or_default()
        && eq(p.warehouse.as_deref(), u.warehouse.as_deref())
}
