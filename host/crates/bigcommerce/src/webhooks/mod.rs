//! Webhooks: registration and repair (`manage`) and the receiver (`receiver`).

pub mod manage;
pub mod receiver;

pub use manage::{DEFAULT_SCOPES, HookRepairReport, HookSpec};
pub use receiver::{DEFAULT_MAX_BODY, ReceiverConfig, webhook_router};
