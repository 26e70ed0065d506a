//! Catalog v3 endpoints: products, variants, price lists.

use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::*;
use futures::stream::BoxStream;
use ledgerlink_core::{BcProductId, BcVariantId};
use reqwest::Method;

impl Client {
    pub fn products(
        &self,
        filter: &ProductFilter,
        limit: u32,
    ) -> BoxStream<'static, Result<Vec<Product>, Error>> {
        self.v3_pages("/v3/catalog/products", filter.to_query(), limit)
    }

    pub async fn list_products(&self, filter: &ProductFilter) -> Result<Vec<Product>, Error> {
        self.v3_collect("/v3/catalog/products", filter.to_query(), 250)
            .await
    }

    pub async fn get_product(
        &self,
        id: BcProductId,
        include_variants: bool,
    ) -> Result<Product, Error> {
        let mut q: Query = Vec::new();
        if include_variants {
            q.push(("include".into(), "variants".into()));
        }
        self.v3_get(&format!("/v3/catalog/products/{id}"), q).await
    }

    pub async fn create_product(&self, product: &ProductWrite) -> Result<Product, Error> {
        self.v3_send(Method::POST, "/v3/catalog/products", product)
            .await
    }

    pub async fn update_product(
        &self,
        id: BcProductId,
        product: &ProductWrite,
    ) -> Result<Product, Error> {
        self.v3_send(Method::PUT, &format!("/v3/catalog/products/{id}"), product)
            .await
    }

    pub async fn product_variants(&self, id: BcProductId) -> Result<Vec<Variant>, Error> {
        self.v3_collect(
            format!("/v3/catalog/products/{id}/variants"),
            Vec::new(),
            250,
        )
        .await
    }

    pub async fn get_variant(
        &self,
        product: BcProductId,
        variant: BcVariantId,
    ) -> Result<Variant, Error> {
        self.v3_get(
            &format!("/v3/catalog/products/{product}/variants/{variant}"),
            Vec::new(),
        )
        .await
    }

    pub async fn create_variant(
        &self,
        product: BcProductId,
        variant: &VariantWrite,
    ) -> Result<Variant, Error> {
        self.v3_send(
            Method::POST,
            &format!("/v3/catalog/products/{product}/variants"),
            variant,
        )
        .await
    }

    pub async fn update_variant(
        &self,
        product: BcProductId,
        id: BcVariantId,
        variant: &VariantWrite,
    ) -> Result<Variant, Error> {
        self.v3_send(
            Method::PUT,
            &format!("/v3/catalog/products/{product}/variants/{id}"),
            variant,
        )
        .await
    }

    /// Variants by SKU across all products (`GET /v3/catalog/variants?sku=`).
    pub async fn variants_by_sku(&self, sku: &str) -> Result<Vec<Variant>, Error> {
        self.v3_collect(
            "/v3/catalog/variants",
            vec![("sku".into(), sku.to_owned())],
            250,
        )
        .await
    }

    pub async fn price_lists(&self) -> Result<Vec<PriceList>, Error> {
        self.v3_collect("/v3/pricelists", Vec::new(), 250).await
    }

    pub async fn create_price_list(&self, list: &PriceListWrite) -> Result<PriceList, Error> {
        self.v3_send(Method::POST, "/v3/pricelists", list).await
    }

    pub async fn price_list_records(&self, list_id: u64) -> Result<Vec<PriceRecord>, Error> {
        self.v3_collect(format!("/v3/pricelists/{list_id}/records"), Vec::new(), 250)
            .await
    }

    /// Batch upsert of records (one bulk upsert per store at a time; a concurrent one is
    /// answered 429 and waited out like any other).
    pub async fn upsert_price_list_records(
        &self,
        list_id: u64,
        records: &[PriceRecordWrite],
    ) -> Result<(), Error> {
        let req = crate::client::Request::with_json(
            Method::PUT,
            format!("/v3/pricelists/{list_id}/records"),
            records,
        )?;
        self.send_no_content(&req).await
    }
}
