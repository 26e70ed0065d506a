//! The host's BigCommerce side: a typed REST client (orders v2/v3, catalog, price lists,
//! inventory, customers, channels, currencies, tax, store, hooks) that shares the store's
//! request budget and retries only what is safe to retry; the webhook receiver; hook
//! registration and repair; and the order poller that backstops missed webhooks.

pub mod api;
pub mod client;
pub mod config;
pub mod de;
pub mod error;
pub mod models;
pub mod pagination;
pub mod poller;
pub mod webhooks;

pub use client::{Client, ClientStats, Query, RawResponse, Request};
pub use config::{ClientConfig, ResponseObserver, ResponseRecord};
pub use error::{ApiError, Error};
pub use poller::{OrderPoller, PollError, PollReport, PollerConfig, order_event};
pub use webhooks::{HookRepairReport, HookSpec, ReceiverConfig, webhook_router};
