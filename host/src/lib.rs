//! Ledgerlink host: the library behind the `ledgerlink` binary. The work lives in the crates
//! under `host/crates/`; this crate wires them into the command-line interface.

pub mod alloc;
pub mod app;
pub mod cli;
pub mod config;

pub use ledgerlink_bigcommerce as bigcommerce;
pub use ledgerlink_core as core;
pub use ledgerlink_engine as engine;
pub use ledgerlink_runtime as runtime;
pub use ledgerlink_store as store;
pub use ledgerlink_visma as visma;
