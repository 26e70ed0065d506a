//! Customers, customer groups, channels, currencies, tax and store information endpoints.

use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::*;
use futures::stream::BoxStream;
use ledgerlink_core::{BcCustomerId, ChannelId};

impl Client {
    pub fn customers(
        &self,
        filter: &CustomerFilter,
        limit: u32,
    ) -> BoxStream<'static, Result<Vec<Customer>, Error>> {
        self.v3_pages("/v3/customers", filter.to_query(), limit)
    }

    pub async fn list_customers(&self, filter: &CustomerFilter) -> Result<Vec<Customer>, Error> {
        self.v3_collect("/v3/customers", filter.to_query(), 250)
            .await
    }

    /// One customer (v3 has no single-customer GET; this filters by id).
    pub async fn get_customer(
        &self,
        id: BcCustomerId,
        include_addresses: bool,
    ) -> Result<Option<Customer>, Error> {
        let filter = CustomerFilter {
            ids: vec![id],
            include_addresses,
            ..Default::default()
        };
        let (mut page, _) = self
            .v3_page::<Customer>("/v3/customers", &filter.to_query(), 1, 1)
            .await?;
        Ok(page.pop())
    }

    pub async fn customer_addresses(
        &self,
        customer: BcCustomerId,
    ) -> Result<Vec<CustomerAddress>, Error> {
        let q: Query = vec![("customer_id:in".into(), customer.to_string())];
        self.v3_collect("/v3/customers/addresses", q, 250).await
    }

    pub async fn customer_groups(&self) -> Result<Vec<CustomerGroup>, Error> {
        self.v2_collect("/v2/customer_groups", Vec::new(), 250)
            .await
    }

    pub async fn channels(&self, include_currencies: bool) -> Result<Vec<Channel>, Error> {
        let mut q: Query = Vec::new();
        if include_currencies {
            q.push(("include".into(), "currencies".into()));
        }
        self.v3_collect("/v3/channels", q, 250).await
    }

    pub async fn get_channel(&self, id: ChannelId) -> Result<Channel, Error> {
        self.v3_get(&format!("/v3/channels/{id}"), Vec::new()).await
    }

    pub async fn currency_assignments(&self) -> Result<Vec<CurrencyAssignment>, Error> {
        self.v3_get("/v3/channels/currency-assignments", Vec::new())
            .await
    }

    pub async fn channel_currency_assignment(
        &self,
        id: ChannelId,
    ) -> Result<CurrencyAssignment, Error> {
        self.v3_get(
            &format!("/v3/channels/{id}/currency-assignments"),
            Vec::new(),
        )
        .await
    }

    pub async fn currencies(&self) -> Result<Vec<Currency>, Error> {
        self.v2_collect("/v2/currencies", Vec::new(), 250).await
    }

    pub async fn tax_classes(&self) -> Result<Vec<TaxClass>, Error> {
        self.v2_collect("/v2/tax_classes", Vec::new(), 250).await
    }

    pub async fn tax_settings(&self) -> Result<TaxSettings, Error> {
        self.v3_get("/v3/tax/settings", Vec::new()).await
    }

    pub async fn store_info(&self) -> Result<StoreInfo, Error> {
        self.get_json("/v2/store", Vec::new()).await
    }

    pub async fn store_time(&self) -> Result<StoreTime, Error> {
        self.get_json("/v2/time", Vec::new()).await
    }
}
