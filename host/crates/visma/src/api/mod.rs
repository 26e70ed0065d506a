//! The typed operations, one module per resource, and what they share: paging, path
//! escaping, and create-then-confirm.

mod credit_notes;
mod customers;
mod inventory;
mod invoices;
mod payments;
mod prices;
mod receipts;
mod reference;
mod sales_orders;

pub use receipts::{InventoryReceipt, ReceiptLine};

use crate::client::{Req, VismaClient};
use crate::dto::{DateFilter, Metadata, fmt_datetime};
use crate::error::VismaError;
use ledgerlink_core::{ExternalRef, LegalEntityId};
use serde::de::DeserializeOwned;
use std::future::Future;

/// How a `create_*_once` call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Created by this call; the ERP's reply arrived.
    Created,
    /// Created by this call, but the reply was lost (timeout, dropped connection, 5xx); the
    /// document was then found by its external reference instead of being created again.
    ConfirmedAfterLostReply,
    /// Already existed before this call (found by the lookup `ensure_*` makes first).
    AlreadyExisted,
}

/// A document a `create_*_once` / `ensure_*` call guarantees to exist exactly once.
#[derive(Debug, Clone, PartialEq)]
pub struct Created<T> {
    pub doc: T,
    pub origin: Origin,
}

impl<T> Created<T> {
    /// True when this call wrote the document (whether or not its reply was seen).
    pub fn created_now(&self) -> bool {
        self.origin != Origin::AlreadyExisted
    }

    pub fn into_doc(self) -> T {
        self.doc
    }
}

/// Percent-encodes one path segment (document numbers may hold `/`, spaces, `#`).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The last path segment of a `Location` header: the new document's key.
pub(crate) fn key_from_location(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next()?;
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    if last.is_empty() {
        return None;
    }
    Some(percent_decode(last))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn add_date_filter(req: Req, param: &str, f: Option<DateFilter>) -> Req {
    match f {
        Some(f) => req
            .query(param, fmt_datetime(&f.at))
            .query(&format!("{param}Condition"), f.condition.as_str()),
        None => req,
    }
}

/// External references are our idempotency keys; an empty or oversized one would make the
/// lookup useless, so it is refused before anything is sent.
pub(crate) fn check_ref(r: &ExternalRef) -> Result<&str, VismaError> {
    let s = r.as_str();
    if s.trim().is_empty() {
        return Err(VismaError::Validation {
            status: 0,
            message: "external reference is empty".into(),
            code: None,
        });
    }
    // SalesOrders v3 documents `customer.refNo` as ≤ 40 characters; the same cap is applied
    // to every document so a reference cut short by the ERP can never go unfound.
    if s.chars().count() > 40 {
        return Err(VismaError::Validation {
            status: 0,
            message: format!("external reference {s:?} is longer than 40 characters"),
            code: None,
        });
    }
    Ok(s)
}

impl VismaClient {
    /// Fetches every page of a v1 list (`pageNumber` from 1, `pageSize`), reading the
    /// server's `metadata` to know the real page size and the total.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        entity: &LegalEntityId,
        req: Req,
    ) -> Result<Vec<T>, VismaError> {
        let mut page_size = self.settings().page_size.max(1) as u64;
        let mut out: Vec<T> = Vec::new();
        let mut page_number = 1u64;
        loop {
            let page_req = req
                .clone()
                .query("pageNumber", page_number)
                .query("pageSize", page_size);
            let page: Vec<serde_json::Value> = self.call_json(entity, page_req).await?;
            let n = page.len() as u64;
            let meta: Option<Metadata> = page
                .first()
                .and_then(|v| v.get("metadata"))
                .and_then(|m| serde_json::from_value(m.clone()).ok());
            for item in page {
                out.push(
                    serde_json::from_value(item)
                        .map_err(|e| VismaError::Decode(format!("list item: {e}")))?,
                );
            }
            if let Some(max) = meta.and_then(|m| m.max_page_size).filter(|m| *m > 0) {
                page_size = page_size.min(max);
            }
            let total = meta.and_then(|m| m.total_count);
            let done = n == 0 || n < page_size || total.is_some_and(|t| out.len() as u64 >= t);
            if done {
                return Ok(out);
            }
            page_number += 1;
        }
    }

    /// Sends a create and guarantees at most one document results, however often the
    /// request has to be repeated. `find` looks the document up by the external reference
    /// the body carries; `fetch` reads the new document from the key in `Location`.
    pub(crate) async fn create_once<T, Find, FindFut, Fetch, FetchFut>(
        &self,
        entity: &LegalEntityId,
        req: Req,
        find: Find,
        fetch: Fetch,
    ) -> Result<Created<T>, VismaError>
    where
        T: DeserializeOwned,
        Find: Fn() -> FindFut,
        FindFut: Future<Output = Result<Option<T>, VismaError>>,
        Fetch: Fn(String) -> FetchFut,
        FetchFut: Future<Output = Result<T, VismaError>>,
    {
        let ent = self.entity(entity)?;
        let retry = self.settings().retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.execute(ent, &req).await {
                Ok(resp) => {
                    // SalesOrders v3 answers with the new order; the ERP with `{}`.
                    let echoed = serde_json::from_slice::<serde_json::Value>(&resp.body)
                        .ok()
                        .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
                        .and_then(|v| serde_json::from_value::<T>(v).ok());
                    if let Some(doc) = echoed {
                        return Ok(Created {
                            doc,
                            origin: Origin::Created,
                        });
                    }
                    let key = resp.location().as_deref().and_then(key_from_location);
                    let fetched = match key {
                        Some(k) => fetch(k).await,
                        None => Err(VismaError::Decode(
                            "201 Created without a usable Location header".into(),
                        )),
                    };
                    return match fetched {
                        Ok(doc) => Ok(Created {
                            doc,
                            origin: Origin::Created,
                        }),
                        // Created for sure; find it by reference instead.
                        Err(e) => match find().await? {
                            Some(doc) => Ok(Created {
                                doc,
                                origin: Origin::Created,
                            }),
                            None => Err(e),
                        },
                    };
                }
                Err(VismaError::OutcomeUnknown {
                    kind,
                    external_ref,
                    detail,
                }) => {
                    if attempt >= retry.max_attempts {
                        return Err(VismaError::OutcomeUnknown {
                            kind,
                            external_ref,
                            detail: format!("{detail} (after {attempt} attempts)"),
                        });
                    }
                    // Give a slow commit a moment to land before looking.
                    tokio::time::sleep(retry.backoff.delay(attempt, None)).await;
                    self.note_confirm_lookup();
                    match find().await {
                        Ok(Some(doc)) => {
                            tracing::info!(%entity, kind, external_ref, "create's reply was lost but the document exists; not creating again");
                            return Ok(Created {
                                doc,
                                origin: Origin::ConfirmedAfterLostReply,
                            });
                        }
                        Ok(None) => {
                            tracing::debug!(%entity, kind, external_ref, attempt, "create did not take effect; sending it again");
                        }
                        Err(e) => {
                            return Err(VismaError::OutcomeUnknown {
                                kind,
                                external_ref,
                                detail: format!("{detail}; confirming by reference failed: {e}"),
                            });
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `find` first; create only when nothing carries the reference yet. For a job that may
    /// have run before (a worker crash between create and bookkeeping).
    pub(crate) async fn ensure<T, Find, FindFut, Create, CreateFut>(
        &self,
        find: Find,
        create: Create,
    ) -> Result<Created<T>, VismaError>
    where
        Find: Fn() -> FindFut,
        FindFut: Future<Output = Result<Option<T>, VismaError>>,
        Create: FnOnce() -> CreateFut,
        CreateFut: Future<Output = Result<Created<T>, VismaError>>,
    {
        if let Some(doc) = find().await? {
            return Ok(Created {
                doc,
                origin: Origin::AlreadyExisted,
            });
        }
        create().await
    }
}

/// Picks the document carrying exactly `reference` from a filtered list (the server filter
/// is trusted only as a pre-selection). Several would mean duplicates made outside this
/// client; the oldest is returned and the rest reported.
pub(crate) fn pick_by_ref<T>(
    docs: Vec<T>,
    reference: &str,
    get_ref: impl Fn(&T) -> Option<&str>,
    describe: impl Fn(&T) -> String,
) -> Option<T> {
    let mut matching: Vec<T> = docs
        .into_iter()
        .filter(|d| get_ref(d) == Some(reference))
        .collect();
    if matching.len() > 1 {
        tracing::warn!(
            reference,
            documents = ?matching.iter().map(&describe).collect::<Vec<_>>(),
            "several Visma documents carry the same external reference"
        );
    }
    if matching.is_empty() {
        None
    } else {
        Some(matching.swap_remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_keys_and_segments() {
        assert_eq!(
            key_from_location("http://h/v1/customerinvoice/000123").as_deref(),
            Some("000123")
        );
        assert_eq!(
            key_from_location("https://salesorder.visma.net/api/v3/SalesOrders/SO/000223/")
                .as_deref(),
            Some("000223")
        );
        assert_eq!(
            key_from_location("/v1/inventory/A%2FB?x=1").as_deref(),
            Some("A/B")
        );
        assert_eq!(seg("A/B C"), "A%2FB%20C");
    }

    #[test]
    fn refs_are_checked() {
        assert!(check_ref(&ExternalRef::new("")).is_err());
        assert!(check_ref(&ExternalRef::new("x".repeat(41))).is_err());
        assert_eq!(
            check_ref(&ExternalRef::new("bc-1-100")).unwrap(),
            "bc-1-100"
        );
    }
}
