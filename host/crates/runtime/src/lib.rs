//! The plugin runtime: one wasmtime `Engine`, components compiled once and cached by content
//! hash, a fresh sandboxed instance per call with CPU and memory bounds, and a registry of
//! plugin versions per legal entity that can be swapped while calls run.
//!
//! Calls are synchronous (a mapping is tens of microseconds of CPU); from async code run them
//! with `LoadedPlugin::run_blocking` or `tokio::task::spawn_blocking`.

pub mod bindings;
mod cache;
pub mod canonical;
mod config;
mod engine;
mod error;
mod plugin;
pub mod policy;
pub mod registry;
mod sandbox;
mod tables;

pub use bindings::types;
pub use cache::CacheOutcome;
pub use config::{PluginLimits, RuntimeConfig};
pub use engine::Runtime;
pub use error::{CallError, LoadError};
pub use plugin::{LoadedPlugin, Mapped, Provenance};
pub use registry::{PluginRegistry, RegistryError, RegistryStore, VersionRecord};
pub use tables::MappingTables;
