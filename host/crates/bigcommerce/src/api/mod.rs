//! Endpoint methods on [`Client`](crate::Client), one module per API area.

pub mod catalog;
pub mod hooks;
pub mod inventory;
pub mod orders_v2;
pub mod orders_v3;
pub mod store;

pub use inventory::MAX_ADJUSTMENT_ITEMS;
pub use orders_v2::{ORDERS_PAGE_LIMIT, OrderBody};
