//! Canonical input building: BigCommerce (and Visma) API JSON as fetched → the WIT input records
//! a mapping plugin takes, plus the fixture file format of `ledgerlink plugin test`.
//!
//! Money becomes integer minor units of the document currency, rounded half away from zero
//! exactly (no floats anywhere). Reading is lenient where the APIs are (money as a string or a
//! number, `null` or `""` for an absent amount or id) and strict where it matters: an amount
//! that is not a number is an error naming the field, never a zero.
//!
//! The sync flows call [`build_order`], [`build_refund`], [`build_shipment`],
//! [`build_products`] and [`build_stock_levels`] with what they fetched; [`Fixture`] reads a
//! fixture file into the same records.

mod context;
mod fixture;
mod json;
mod order;
mod product;
mod refund;
mod stock;

pub use context::ContextSpec;
pub use fixture::{Fixture, FixtureCall, FixtureOutcome};
pub use order::{OrderBundle, OrderExtras, build_order, build_shipment};
pub use product::{ProductBundle, build_products};
pub use refund::{CreditKind, RefundBundle, RefundExtras, build_refund};
pub use stock::{StockBundle, Tracking, build_stock_levels};

/// Why an API payload could not become a canonical record.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("{field} is missing")]
    Missing { field: String },
    #[error("{field} is {value}: {reason}")]
    Invalid {
        field: String,
        value: String,
        reason: String,
    },
    #[error("cannot read fixture {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("fixture {path} is not valid: {message}")]
    Fixture { path: String, message: String },
}

impl CanonicalError {
    pub(crate) fn invalid(
        field: &str,
        value: &serde_json::Value,
        reason: impl Into<String>,
    ) -> Self {
        CanonicalError::Invalid {
            field: field.to_owned(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests;
