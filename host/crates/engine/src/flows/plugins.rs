//! Which plugin version a job maps with: the runtime's [`PluginRegistry`] resolves a legal
//! entity to its active version (its own binding, else the default `*`), and the attempt pins
//! the `Arc` it got first, so every call of one attempt (customer, invoice, credit note) runs
//! on the same version even if a push, activation, rollback or a file dropped in the watched
//! directory swaps it meanwhile. The next attempt or job sees the new version.

use crate::context::JobContext;
use crate::error::JobError;
use ledgerlink_core::LegalEntityId;
use ledgerlink_runtime::{LoadedPlugin, PluginRegistry};
use std::sync::Arc;
use std::time::Duration;

/// How long a job without any active plugin waits before it tries again: long enough not to
/// spin, short enough that a push is picked up soon.
const NO_PLUGIN_RETRY: Duration = Duration::from_secs(30);

/// The plugin `entity`'s calls use for the rest of this attempt.
pub fn plugin_for_attempt(
    registry: &PluginRegistry,
    ctx: &JobContext,
    entity: &LegalEntityId,
) -> Result<Arc<LoadedPlugin>, JobError> {
    ctx.pinned(&format!("plugin:{entity}"), || {
        registry.plugin_for(entity.as_str()).ok_or_else(|| {
            JobError::transient(
                "no_active_plugin",
                format!(
                    "no plugin version is active for legal entity {entity} (nor a default one); \
                     push one with `ledgerlink plugin push <file.wasm> --entity {entity}`"
                ),
                Some(NO_PLUGIN_RETRY),
            )
        })
    })
}
