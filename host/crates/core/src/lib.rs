//! Types and small mechanisms every Ledgerlink crate shares: identifier and money newtypes,
//! the per-API request budget that keeps us under a rate limit, and the retry classification
//! that decides whether a failure is worth another attempt.

pub mod budget;
pub mod ids;
pub mod inbox;
pub mod money;
pub mod retry;

pub use budget::{Grant, RateLimitSnapshot, RequestBudget};
pub use ids::*;
pub use inbox::{BoxFuture, EventSink, InboundEvent, SinkError, StoreOutcome, Watermarks};
pub use money::{CurrencyCode, CurrencyError, Money};
pub use retry::{Backoff, ErrorClass};
