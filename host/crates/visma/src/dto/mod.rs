//! Typed bodies of the Visma.net ERP API (v1/v2, `{"value": …}`-wrapped update DTOs) and of
//! the SalesOrders v3 service (plain JSON). Update DTOs hold plain Rust values; the wrapping
//! lives in `crate::wrap`. Read DTOs keep the fields a connector needs; unknown fields are
//! ignored. Money is `rust_decimal::Decimal`.

pub mod common;
pub mod credit_note;
pub mod customer;
pub mod inventory;
pub mod invoice;
pub mod payment;
pub mod price;
pub mod reference;
pub mod sales_order;

pub use common::*;
pub use credit_note::*;
pub use customer::*;
pub use inventory::*;
pub use invoice::*;
pub use payment::*;
pub use price::*;
pub use reference::*;
pub use sales_order::*;
