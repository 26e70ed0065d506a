//! # Ledgerlink plugin SDK
//!
//! Everything a plugin author needs to turn Ledgerlink's canonical BigCommerce records into
//! Visma documents inside a sandboxed WebAssembly component:
//!
//! - [`types`]: the WIT records (`Order`, `Refund`, `Product`, `CustomerInvoice`, …) generated
//!   from `wit/mapping.wit`, and [`Guest`], the trait a plugin implements;
//! - [`export!`]: registers your `Guest` implementation as the component's exports;
//! - [`Host`]: the two things the host offers (`lookup` in the legal entity's mapping tables and
//!   `log`) as a trait, so mapping code is plain Rust; [`WasmHost`] is the real one inside the
//!   component, [`testing::FakeHost`] an in-memory one for `cargo test`;
//! - [`decimal`], [`money`] and [`tax`]: exact conversions between WIT decimals, integer minor
//!   units and `rust_decimal::Decimal`, and VAT/rounding helpers that keep the lines of a document
//!   plus one rounding line equal to the source total;
//! - [`Errors`] to collect every problem of an input as a `mapping-error` list, and [`Settings`]
//!   to read the entity's posting rules.
//!
//! ```ignore
//! use ledgerlink_sdk::{Guest, WasmHost, types::*};
//!
//! struct MyPlugin;
//! impl Guest for MyPlugin {
//!     fn info() -> PluginInfo { PluginInfo { name: "acme".into(), version: "1.0.0".into() } }
//!     fn map_order(ctx: Context, order: Order, shipment: Option<Shipment>)
//!         -> Result<SalesDocument, Vec<MappingError>> {
//!         my_mapping::map_order(&WasmHost, &ctx, &order, shipment.as_ref())
//!     }
//!     // … the other exports
//! #   fn map_customer(_: Context, _: Order) -> Result<VismaCustomer, Vec<MappingError>> { todo!() }
//! }
//! ledgerlink_sdk::export!(MyPlugin);
//! ```
//!
//! See `sdk/README.md` for a ten-minute walk-through and `plugins/standard` for a complete plugin.

#[cfg(target_arch = "wasm32")]
pub mod alloc;
pub mod decimal;
mod errors;
mod host;
pub mod money;
mod settings;
pub mod tax;
pub mod testing;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        // The whole contract; the host also loads components of the base `mapping-plugin`.
        world: "mapping-plugin-full",
        pub_export_macro: true,
        default_bindings_module: "ledgerlink_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

/// The WIT records shared by host and plugin (`ledgerlink:mapping/types`).
pub use bindings::ledgerlink::mapping::types;

/// The trait a plugin implements: one method per export of `ledgerlink:mapping/mapper`.
pub use bindings::exports::ledgerlink::mapping::mapper::Guest;

/// The trait for `ledgerlink:mapping/customer-mapper` (customer accounts without an order);
/// [`export!`] needs the plugin type to implement it too.
pub use bindings::exports::ledgerlink::mapping::customer_mapper::Guest as CustomerGuest;

/// Severity of a [`Host::log`] message.
pub use bindings::ledgerlink::mapping::host::LogLevel;

/// Registers a [`Guest`] implementation as the component's exports:
/// `ledgerlink_sdk::export!(MyPlugin);` at the crate root of a `cdylib` plugin.
pub use bindings::export;

pub use errors::Errors;
pub use host::{Host, WasmHost};
pub use settings::Settings;

/// Re-exported so plugins use the same `Decimal` as the SDK's helpers.
pub use rust_decimal::Decimal;
