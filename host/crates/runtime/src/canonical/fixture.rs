//! The fixture file format of `ledgerlink plugin test` and the golden tests (documented in
//! `tests/fixtures/README.md`): one call of one export with its context, mapping tables and
//! input as BigCommerce/Visma API JSON.

use super::CanonicalError;
use super::context::ContextSpec;
use super::order::{OrderBundle, OrderExtras, build_order, build_shipment};
use super::product::{ProductBundle, build_products};
use super::refund::{CreditKind, RefundBundle, RefundExtras, build_refund};
use super::stock::{StockBundle, build_stock_levels};
use crate::bindings::types::*;
use crate::error::CallError;
use crate::plugin::LoadedPlugin;
use crate::tables::MappingTables;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    #[serde(default)]
    description: String,
    call: String,
    context: ContextSpec,
    #[serde(default)]
    tables: MappingTables,
    input: Value,
}

/// Orders v2 payloads plus what the host adds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderInput {
    order: Value,
    #[serde(default)]
    products: Vec<Value>,
    #[serde(default)]
    shipping_addresses: Vec<Value>,
    #[serde(default)]
    coupons: Vec<Value>,
    #[serde(default)]
    taxes: Vec<Value>,
    #[serde(default)]
    extras: OrderExtras,
    /// For `map-order`: invoice only this shipment.
    #[serde(default)]
    shipment: Option<Value>,
}

impl OrderInput {
    fn bundle(&self) -> OrderBundle {
        OrderBundle {
            order: self.order.clone(),
            products: self.products.clone(),
            shipping_addresses: self.shipping_addresses.clone(),
            coupons: self.coupons.clone(),
            taxes: self.taxes.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditInput {
    #[serde(default)]
    refund: Value,
    order: OrderInput,
    #[serde(default)]
    kind: CreditKind,
    original_document: Option<DocumentRef>,
    #[serde(default)]
    already_credited: Vec<(u64, String)>,
    #[serde(default)]
    already_credited_total: Option<String>,
    #[serde(default)]
    restock: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemInput {
    product: Value,
    #[serde(default)]
    variants: Vec<Value>,
    #[serde(default)]
    price_records: Vec<Value>,
    #[serde(default)]
    price_lists: BTreeMap<String, String>,
    #[serde(default)]
    tax_classes: BTreeMap<String, String>,
    #[serde(default)]
    custom_fields: Vec<Value>,
    currency: String,
    /// Which SKU of the product to map (required when it has variants).
    #[serde(default)]
    sku: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct StockInput {
    levels: Vec<StockBundle>,
}

/// A loaded fixture: one call to make and the mapping tables to make it with.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// File name without `.json`: golden files are named after it.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub context: ContextSpec,
    pub tables: MappingTables,
    call: String,
    input: Value,
}

/// A fixture's typed call.
#[derive(Debug, Clone, PartialEq)]
pub enum FixtureCall {
    MapCustomer {
        ctx: Context,
        order: Order,
    },
    MapOrder {
        ctx: Context,
        order: Order,
        shipment: Option<Shipment>,
    },
    MapCreditNote {
        ctx: Context,
        refund: Refund,
    },
    MapItem {
        ctx: Context,
        product: Product,
    },
    MapStock {
        ctx: Context,
        levels: Vec<StockLevel>,
    },
}

/// What a call gave: the mapped record as JSON, or the plugin's mapping errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixtureOutcome {
    Ok(Value),
    MappingErrors(Vec<MappingError>),
}

const CALLS: &[&str] = &[
    "map-customer",
    "map-order",
    "map-credit-note",
    "map-item",
    "map-stock",
];

impl Fixture {
    pub fn load(path: &Path) -> Result<Fixture, CanonicalError> {
        let text = std::fs::read_to_string(path).map_err(|source| CanonicalError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut f = Fixture::parse(&name, &text).map_err(|e| match e {
            CanonicalError::Fixture { message, .. } => CanonicalError::Fixture {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })?;
        f.path = path.to_path_buf();
        Ok(f)
    }

    pub fn parse(name: &str, text: &str) -> Result<Fixture, CanonicalError> {
        let bad = |message: String| CanonicalError::Fixture {
            path: name.to_owned(),
            message,
        };
        let file: FixtureFile = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !CALLS.contains(&file.call.as_str()) {
            return Err(bad(format!(
                "call {:?} is not one of {}",
                file.call,
                CALLS.join(", ")
            )));
        }
        Ok(Fixture {
            name: name.to_owned(),
            path: PathBuf::from(name),
            description: file.description,
            context: file.context,
            tables: file.tables,
            call: file.call,
            input: file.input,
        })
    }

    /// `map-order`, `map-credit-note`, …
    pub fn call_name(&self) -> &str {
        &self.call
    }

    /// The typed call with its arguments, built from the API JSON exactly as the flows build it.
    pub fn input(&self) -> Result<FixtureCall, CanonicalError> {
        let bad = |e: serde_json::Error| CanonicalError::Fixture {
            path: self.path.display().to_string(),
            message: format!("input: {e}"),
        };
        let ctx = self.context.to_context();
        Ok(match self.call.as_str() {
            "map-customer" | "map-order" => {
                let input: OrderInput = serde_json::from_value(self.input.clone()).map_err(bad)?;
                let order = build_order(&input.bundle(), &input.extras)?;
                if self.call == "map-customer" {
                    FixtureCall::MapCustomer { ctx, order }
                } else {
                    let shipment = input.shipment.as_ref().map(build_shipment).transpose()?;
                    FixtureCall::MapOrder {
                        ctx,
                        order,
                        shipment,
                    }
                }
            }
            "map-credit-note" => {
                let input: CreditInput = serde_json::from_value(self.input.clone()).map_err(bad)?;
                let bundle = RefundBundle {
                    refund: input.refund.clone(),
                    order: input.order.bundle(),
                };
                let extras = RefundExtras {
                    kind: input.kind,
                    original_document: input.original_document.clone(),
                    already_credited: input.already_credited.clone(),
                    already_credited_total: input.already_credited_total.clone(),
                    restock: input.restock,
                    order: input.order.extras.clone(),
                };
                FixtureCall::MapCreditNote {
                    ctx,
                    refund: build_refund(&bundle, &extras)?,
                }
            }
            "map-item" => {
                let input: ItemInput = serde_json::from_value(self.input.clone()).map_err(bad)?;
                let bundle = ProductBundle {
                    product: input.product,
                    variants: input.variants,
                    price_records: input.price_records,
                    price_lists: input.price_lists,
                    tax_classes: input.tax_classes,
                    currency: input.currency,
                    custom_fields: input.custom_fields,
                };
                let mut products = build_products(&bundle)?;
                let product = match (&input.sku, products.len()) {
                    (None, 1) => products.remove(0),
                    (None, n) => {
                        return Err(CanonicalError::Fixture {
                            path: self.path.display().to_string(),
                            message: format!("the product has {n} SKUs: name one with input.sku"),
                        });
                    }
                    (Some(sku), _) => {
                        products
                            .into_iter()
                            .find(|p| &p.sku == sku)
                            .ok_or_else(|| CanonicalError::Fixture {
                                path: self.path.display().to_string(),
                                message: format!("the product has no SKU {sku:?}"),
                            })?
                    }
                };
                FixtureCall::MapItem { ctx, product }
            }
            _ => {
                let input: StockInput = serde_json::from_value(self.input.clone()).map_err(bad)?;
                FixtureCall::MapStock {
                    ctx,
                    levels: build_stock_levels(&input.levels)?,
                }
            }
        })
    }
}

fn outcome<T: Serialize>(
    r: Result<crate::plugin::Mapped<T>, CallError>,
) -> Result<FixtureOutcome, CallError> {
    match r {
        Ok(m) => Ok(FixtureOutcome::Ok(
            serde_json::to_value(&m.value).expect("WIT records serialize"),
        )),
        Err(CallError::Mapping(errors)) => Ok(FixtureOutcome::MappingErrors(errors)),
        Err(other) => Err(other),
    }
}

impl FixtureCall {
    /// Makes the call on `plugin` as the host does. Mapping errors are an outcome; the
    /// sandbox stopping the plugin is an error.
    pub fn run(
        &self,
        plugin: &LoadedPlugin,
        tables: &MappingTables,
    ) -> Result<FixtureOutcome, CallError> {
        match self {
            FixtureCall::MapCustomer { ctx, order } => {
                outcome(plugin.map_customer(ctx, tables, order))
            }
            FixtureCall::MapOrder {
                ctx,
                order,
                shipment,
            } => outcome(plugin.map_order(ctx, tables, order, shipment.as_ref())),
            FixtureCall::MapCreditNote { ctx, refund } => {
                outcome(plugin.map_credit_note(ctx, tables, refund))
            }
            FixtureCall::MapItem { ctx, product } => outcome(plugin.map_item(ctx, tables, product)),
            FixtureCall::MapStock { ctx, levels } => outcome(plugin.map_stock(ctx, tables, levels)),
        }
    }
}
