//! Ledgerlink's standard mapping plugin: a complete default mapping for every export, driven by
//! the legal entity's settings (posting rules) and mapping tables. See `README.md` for every
//! setting and table it reads.
//!
//! The mapping functions are plain Rust over [`ledgerlink_sdk::Host`], so they run natively in
//! `cargo test` with the SDK's fake host; the WIT exports below only pass [`WasmHost`].

mod common;
pub mod credit;
pub mod customer;
pub mod customer_account;
pub mod item;
pub mod order;
pub mod stock;

use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Guest, WasmHost};

/// The plugin's name as recorded with every mapping result.
pub const NAME: &str = "ledgerlink-standard";

pub struct Standard;

impl Guest for Standard {
    fn info() -> PluginInfo {
        PluginInfo {
            name: NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }

    fn map_customer(ctx: Context, order: Order) -> Result<VismaCustomer, Vec<MappingError>> {
        customer::map_customer(&WasmHost, &ctx, &order)
    }

    fn map_order(
        ctx: Context,
        order: Order,
        shipment: Option<Shipment>,
    ) -> Result<SalesDocument, Vec<MappingError>> {
        order::map_order(&WasmHost, &ctx, &order, shipment.as_ref())
    }

    fn map_credit_note(ctx: Context, refund: Refund) -> Result<CreditNote, Vec<MappingError>> {
        credit::map_credit_note(&WasmHost, &ctx, &refund)
    }

    fn map_item(ctx: Context, product: Product) -> Result<InventoryItem, Vec<MappingError>> {
        item::map_item(&WasmHost, &ctx, &product)
    }

    fn map_stock(
        ctx: Context,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<BcInventoryAdjustment>, Vec<MappingError>> {
        stock::map_stock(&WasmHost, &ctx, &levels)
    }
}

impl ledgerlink_sdk::CustomerGuest for Standard {
    fn map_customer_account(
        ctx: Context,
        customer: CustomerAccount,
    ) -> Result<VismaCustomer, Vec<MappingError>> {
        customer_account::map_customer_account(&WasmHost, &ctx, &customer)
    }
}

// Natively there are no component exports to register; the rlib is for tests.
#[cfg(target_arch = "wasm32")]
ledgerlink_sdk::export!(Standard);

// Each call gets a fresh instance, so a bump allocator (nothing freed) is enough and cheaper.
#[cfg(target_arch = "wasm32")]
ledgerlink_sdk::bump_allocator!();
