//! What can go wrong loading a plugin or calling it. Every failure is a value for that one load
//! or call; nothing here brings the host down.

use std::path::PathBuf;
use std::time::Duration;

use ledgerlink_core::ErrorClass;

use crate::bindings::types::MappingError;

/// A component could not become a loaded plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a valid WebAssembly component: {message}")]
    Malformed { message: String },
    #[error(
        "the component imports {} which the host does not provide; a mapping plugin may import \
         only wasi:io, wasi:cli, wasi:clocks, wasi:random, wasi:filesystem, wasi:sockets (all \
         0.2.x, granted no files, environment or network) and {}",
        .imports.join(", "), crate::policy::HOST_IMPORT
    )]
    ImportNotAllowed { imports: Vec<String> },
    #[error(
        "the component does not implement the {} world ({detail}); it exports [{}] and imports [{}]; \
         rebuild it against this host's wit/mapping.wit",
        crate::policy::WORLD, .exports.join(", "), .imports.join(", ")
    )]
    WitMismatch {
        detail: String,
        exports: Vec<String>,
        imports: Vec<String>,
    },
    #[error("the plugin's info() failed: {0}")]
    Info(#[source] Box<CallError>),
    #[error("the plugin reports an empty name or version ({name:?} {version:?})")]
    BadInfo { name: String, version: String },
    #[error("memory cap of {requested} bytes exceeds the runtime's maximum of {max} bytes")]
    LimitTooLarge { requested: usize, max: usize },
    #[error("cannot start the plugin engine: {message}")]
    Engine { message: String },
}

/// One call into a plugin failed. `Mapping` is the plugin's own verdict on the input; the rest
/// are the sandbox stopping or failing to run the plugin.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("mapping failed: {}", describe_mapping_errors(.0))]
    Mapping(Vec<MappingError>),
    #[error("plugin {plugin} ran past its deadline of {} ms and was stopped", .deadline.as_millis())]
    Timeout { plugin: String, deadline: Duration },
    #[error(
        "plugin {plugin} tried to use more than its memory cap of {cap_bytes} bytes and was stopped"
    )]
    MemoryExceeded { plugin: String, cap_bytes: usize },
    #[error("plugin {plugin} crashed: {message}{}", stderr_suffix(.stderr))]
    Trap {
        plugin: String,
        message: String,
        /// What the guest wrote to stderr (bounded): a Rust panic message lands here.
        stderr: String,
    },
    #[error("plugin {plugin} could not be instantiated: {message}")]
    Instantiation { plugin: String, message: String },
}

impl CallError {
    /// How the engine should treat the job that made this call.
    pub fn class(&self) -> ErrorClass {
        match self {
            // A busy machine can make a sound mapping late, and a full instance pool empties.
            CallError::Timeout { .. } | CallError::Instantiation { .. } => {
                ErrorClass::Transient { retry_after: None }
            }
            CallError::Mapping(_) | CallError::MemoryExceeded { .. } | CallError::Trap { .. } => {
                ErrorClass::Permanent
            }
        }
    }

    /// The plugin's mapping errors, if that is what this is.
    pub fn mapping_errors(&self) -> Option<&[MappingError]> {
        match self {
            CallError::Mapping(errors) => Some(errors),
            _ => None,
        }
    }
}

fn describe_mapping_errors(errors: &[MappingError]) -> String {
    if errors.is_empty() {
        return "the plugin returned an error without details".to_string();
    }
    errors
        .iter()
        .map(|e| format!("{}: {} ({})", e.path, e.message, e.code))
        .collect::<Vec<_>>()
        .join("; ")
}

fn stderr_suffix(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; guest stderr: {stderr}")
    }
}
