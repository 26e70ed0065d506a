//! Typed models of the BigCommerce resources the connector reads and writes. Unknown fields
//! are kept in `extra` so a later mapping can still reach them.

pub mod catalog;
pub mod channels;
pub mod common;
pub mod currencies;
pub mod customers;
pub mod hooks;
pub mod inventory;
pub mod orders_v2;
pub mod orders_v3;
pub mod price_lists;
pub mod store;
pub mod tax;

pub use catalog::*;
pub use channels::*;
pub use common::*;
pub use currencies::*;
pub use customers::*;
pub use hooks::*;
pub use inventory::*;
pub use orders_v2::*;
pub use orders_v3::*;
pub use price_lists::*;
pub use store::*;
pub use tax::*;
