//! The plugin runtime: one wasmtime `Engine`, components compiled once and cached by content
//! hash, a fresh sandboxed instance per call with CPU and memory bounds, and a registry of
//! plugin versions per legal entity that can be swapped while calls run.

pub mod bindings;
