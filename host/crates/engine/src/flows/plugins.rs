//! The active plugin version per plugin name, swappable while jobs run: a job takes the
//! `Arc` active when it starts and keeps it for the whole attempt.

use ledgerlink_runtime::LoadedPlugin;
use parking_lot::RwLock;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Default)]
pub struct PluginSet {
    active: RwLock<BTreeMap<String, Arc<LoadedPlugin>>>,
}

/// What the admin API lists.
#[derive(Debug, Clone, Serialize)]
pub struct ActivePlugin {
    pub name: String,
    pub plugin: String,
    pub version: String,
    pub sha256: String,
}

impl PluginSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `plugin` the version used for `name` from the next job on; returns the previous.
    pub fn activate(&self, name: &str, plugin: Arc<LoadedPlugin>) -> Option<Arc<LoadedPlugin>> {
        tracing::info!(name, plugin = %plugin.provenance(), "plugin activated");
        self.active.write().insert(name.to_owned(), plugin)
    }

    pub fn get(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.active.read().get(name).cloned()
    }

    pub fn list(&self) -> Vec<ActivePlugin> {
        self.active
            .read()
            .iter()
            .map(|(name, p)| ActivePlugin {
                name: name.clone(),
                plugin: p.name().to_owned(),
                version: p.version().to_owned(),
                sha256: p.sha256().to_owned(),
            })
            .collect()
    }
}
