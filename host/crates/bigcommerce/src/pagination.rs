//! Paging through collections. v2 pages by `page`/`limit` and signals the end with a short
//! page or a 204; v3 reports `meta.pagination`. Both come as streams of pages (so callers can
//! store progress between pages) and as collect helpers.

use crate::client::{Client, Query};
use crate::error::Error;
use crate::models::common::{Pagination, V3Response};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

/// BigCommerce's maximum page size for most collections.
pub const MAX_LIMIT: u32 = 250;

fn with_page(query: &Query, page: u32, limit: u32) -> Query {
    let mut q: Query = query
        .iter()
        .filter(|(k, _)| k != "page" && k != "limit")
        .cloned()
        .collect();
    q.push(("page".into(), page.to_string()));
    q.push(("limit".into(), limit.to_string()));
    q
}

impl Client {
    /// One v2 page (empty on 204).
    pub async fn v2_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        page: u32,
        limit: u32,
    ) -> Result<Vec<T>, Error> {
        self.get_v2_list(path, with_page(query, page, limit)).await
    }

    /// All pages of a v2 collection as a stream of pages. Ends after a short or empty page.
    pub fn v2_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl Into<String>,
        query: Query,
        limit: u32,
    ) -> BoxStream<'static, Result<Vec<T>, Error>> {
        let client = self.clone();
        let path = path.into();
        let limit = limit.clamp(1, MAX_LIMIT);
        stream::try_unfold(Some(1u32), move |page| {
            let client = client.clone();
            let path = path.clone();
            let query = query.clone();
            async move {
                let Some(page) = page else { return Ok(None) };
                let items: Vec<T> = client.v2_page(&path, &query, page, limit).await?;
                if items.is_empty() {
                    return Ok(None);
                }
                let next = (items.len() as u32 >= limit).then_some(page + 1);
                Ok(Some((items, next)))
            }
        })
        .boxed()
    }

    pub async fn v2_collect<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl Into<String>,
        query: Query,
        limit: u32,
    ) -> Result<Vec<T>, Error> {
        let pages: Vec<Vec<T>> = self.v2_pages(path, query, limit).try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// One v3 page with its pagination.
    pub async fn v3_page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Query,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<T>, Option<Pagination>), Error> {
        let raw = self
            .execute(&crate::client::Request::get(
                path,
                with_page(query, page, limit),
            ))
            .await?;
        // Some v3 collections (transactions) answer 204 when empty.
        if raw.status == 204 || raw.body.iter().all(u8::is_ascii_whitespace) {
            return Ok((Vec::new(), None));
        }
        let resp: V3Response<Vec<T>> = crate::client::decode("GET", path, &raw.body)?;
        Ok((resp.data, resp.meta.pagination))
    }

    /// All pages of a v3 collection, following `meta.pagination`.
    pub fn v3_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl Into<String>,
        query: Query,
        limit: u32,
    ) -> BoxStream<'static, Result<Vec<T>, Error>> {
        let client = self.clone();
        let path = path.into();
        let limit = limit.clamp(1, MAX_LIMIT);
        stream::try_unfold(Some(1u32), move |page| {
            let client = client.clone();
            let path = path.clone();
            let query = query.clone();
            async move {
                let Some(page) = page else { return Ok(None) };
                let (items, pagination) = client.v3_page::<T>(&path, &query, page, limit).await?;
                if items.is_empty() {
                    return Ok(None);
                }
                let next = match pagination {
                    Some(p) if p.total_pages > 0 => {
                        (u64::from(page) < p.total_pages).then_some(page + 1)
                    }
                    // No pagination block: keep going while pages are full.
                    _ => (items.len() as u32 >= limit).then_some(page + 1),
                };
                Ok(Some((items, next)))
            }
        })
        .boxed()
    }

    pub async fn v3_collect<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl Into<String>,
        query: Query,
        limit: u32,
    ) -> Result<Vec<T>, Error> {
        let pages: Vec<Vec<T>> = self.v3_pages(path, query, limit).try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// GET a single v3 resource and unwrap `data`.
    pub async fn v3_get<T: DeserializeOwned>(&self, path: &str, query: Query) -> Result<T, Error> {
        let resp: V3Response<T> = self.get_json(path, query).await?;
        Ok(resp.data)
    }

    /// Sends a JSON body to a v3 endpoint and unwraps `data`.
    pub async fn v3_send<B: serde::Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let resp: V3Response<T> = self.send_json(method, path, body).await?;
        Ok(resp.data)
    }
}

/// Flattens a stream of pages into a stream of items.
pub fn items<T: Send + 'static>(
    pages: BoxStream<'static, Result<Vec<T>, Error>>,
) -> BoxStream<'static, Result<T, Error>> {
    pages
        .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}
