//! The Visma.net ERP client: per-legal-entity connections and tokens, typed DTOs for the
//! ERP (v1/v2) and SalesOrders v3, create-then-confirm so no document is ever written
//! twice, ETag/If-Match updates, a rate budget per company + client, and retries with
//! backoff for transient failures only.
//!
//! ```no_run
//! # async fn demo(client: ledgerlink_visma::VismaClient) -> Result<(), ledgerlink_visma::VismaError> {
//! use ledgerlink_core::{ExternalRef, LegalEntityId};
//! use ledgerlink_visma::dto::InvoiceUpdate;
//! let entity = LegalEntityId::new("se");
//! let created = client
//!     .create_invoice_once(&entity, &ExternalRef::new("bc-1001"), &InvoiceUpdate::default())
//!     .await?;
//! println!("{} ({:?})", created.doc.reference_number, created.origin);
//! # Ok(()) }
//! ```

mod api;
mod client;
pub mod config;
pub mod dto;
mod error;
mod token;
pub mod wrap;

pub use api::{Created, InventoryReceipt, Origin, ReceiptLine};
pub use client::{ClientStats, VismaClient};
pub use config::{ClientSettings, EntityConnection, RetryPolicy};
pub use error::VismaError;
