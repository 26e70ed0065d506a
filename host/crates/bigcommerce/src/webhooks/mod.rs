//! Webhooks: registration and repair (`manage`) and the receiver (`receiver`).

pub mod manage;
pub mod receiver;

pub use manage::{DEFAULT_SCOPES, HOOK_SETTLE, HookRepairReport, HookSpec, RETIRED_SCOPES};
pub use receiver::{DEFAULT_MAX_BODY, ReceiverConfig, webhook_router};
