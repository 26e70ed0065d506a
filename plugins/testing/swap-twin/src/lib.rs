//! A second valid mapping plugin (`swap-twin` 2.0.0) with the same mapping as the sandbox probe
//! but a different name, version and hash, so tests can swap to it and roll back.

wit_bindgen::generate!({ path: "../../../wit", world: "mapping-plugin" });

#[path = "../../sandbox-probe/src/normal.rs"]
mod normal;

use exports::ledgerlink::mapping::mapper::Guest;
use ledgerlink::mapping::types::*;

const NAME: &str = "swap-twin";
const VERSION: &str = "2.0.0";

struct Twin;

impl Guest for Twin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: NAME.to_string(),
            version: VERSION.to_string(),
        }
    }

    fn map_customer(ctx: Context, order: Order) -> Result<VismaCustomer, Vec<MappingError>> {
        normal::map_customer(&ctx, &order)
    }

    fn map_order(
        ctx: Context,
        order: Order,
        _shipment: Option<Shipment>,
    ) -> Result<SalesDocument, Vec<MappingError>> {
        normal::map_order(&ctx, &order, &format!("{NAME} {VERSION}"))
    }

    fn map_credit_note(ctx: Context, refund: Refund) -> Result<CreditNote, Vec<MappingError>> {
        normal::map_credit_note(&ctx, &refund, &format!("{NAME} {VERSION}"))
    }

    fn map_item(ctx: Context, product: Product) -> Result<InventoryItem, Vec<MappingError>> {
        normal::map_item(&ctx, &product)
    }

    fn map_stock(
        ctx: Context,
        levels: Vec<StockLevel>,
    ) -> Result<Vec<BcInventoryAdjustment>, Vec<MappingError>> {
        normal::map_stock(&ctx, &levels)
    }
}

export!(Twin);
