//! Plugin versions bound per legal entity, activated, rolled back and hot-swapped. The durable
//! state is `RegistryStore`; `PluginRegistry` is a running host's live view of it: one loaded
//! plugin per entity behind a lock, swapped as a whole `Arc` so calls already running finish on
//! the version they started with.

mod store;
mod watch;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

pub use store::{Binding, DEFAULT_ENTITY, RegistryFile, RegistryStore, VersionRecord};
pub use watch::{IncomingOutcome, WatchHandle};

use crate::config::PluginLimits;
use crate::engine::Runtime;
use crate::error::LoadError;
use crate::plugin::LoadedPlugin;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid registry file: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// The component was refused; nothing was changed and the active version stays.
    #[error("refused, the active version stays: {0}")]
    Refused(#[source] LoadError),
    #[error(
        "{name}@{version} is already registered with a different component (sha256 {existing}); \
         give the new build a new version"
    )]
    VersionConflict {
        name: String,
        version: String,
        existing: String,
    },
    #[error(
        "no registered plugin version matches {selector:?} (use a sha256, a prefix of 8+ hex digits, or name@version)"
    )]
    UnknownVersion { selector: String },
    #[error("{selector:?} matches several versions: {}", .matches.join(", "))]
    AmbiguousVersion {
        selector: String,
        matches: Vec<String>,
    },
    #[error("legal entity {entity:?} has no plugin binding")]
    NotBound { entity: String },
    #[error("legal entity {entity:?} has no earlier version to roll back to")]
    NoHistory { entity: String },
    #[error("registered version {sha256} cannot be loaded: {source}")]
    StoredVersion {
        sha256: String,
        #[source]
        source: LoadError,
    },
    #[error("cannot watch {path}: {message}")]
    Watch { path: PathBuf, message: String },
}

/// Validates a component exactly as the host will run it (compile, import allow-list, WIT
/// check, `info()`), then stores it content-addressed, registers the version and makes it the
/// active one for `entity`. On any failure the registry is left as it was.
pub fn push(
    runtime: &Runtime,
    store: &RegistryStore,
    bytes: &[u8],
    entity: &str,
    limits: PluginLimits,
) -> Result<(VersionRecord, LoadedPlugin), RegistryError> {
    let plugin = runtime
        .load_bytes(bytes, limits)
        .map_err(RegistryError::Refused)?;
    debug_assert_eq!(plugin.sha256(), hex::encode(Sha256::digest(bytes)));
    store.store_component(plugin.sha256(), bytes)?;
    let record = store.update(|file| {
        let record = register_in(file, &plugin, limits)?;
        store::activate_in(file, entity, &record.sha256);
        Ok(record)
    })?;
    Ok((record, plugin))
}

/// Adds `plugin` to the registered versions (a known sha256 only gets `limits`); refuses a
/// different component under a name@version already registered.
fn register_in(
    file: &mut RegistryFile,
    plugin: &LoadedPlugin,
    limits: PluginLimits,
) -> Result<VersionRecord, RegistryError> {
    if let Some(existing) = file
        .versions
        .iter()
        .find(|v| v.name == plugin.name() && v.version == plugin.version())
        && existing.sha256 != plugin.sha256()
    {
        return Err(RegistryError::VersionConflict {
            name: existing.name.clone(),
            version: existing.version.clone(),
            existing: existing.sha256.clone(),
        });
    }
    match file
        .versions
        .iter_mut()
        .find(|v| v.sha256 == plugin.sha256())
    {
        // Re-pushing a known component only changes its limits.
        Some(known) => {
            known.limits = limits;
            Ok(known.clone())
        }
        None => {
            let record = VersionRecord {
                name: plugin.name().to_string(),
                version: plugin.version().to_string(),
                sha256: plugin.sha256().to_string(),
                wit_version: plugin.wit_version().to_string(),
                added_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                limits,
            };
            file.versions.push(record.clone());
            Ok(record)
        }
    }
}

/// What a host start did with one plugin named by its configuration.
#[derive(Debug, Clone)]
pub struct Configured {
    pub record: VersionRecord,
    /// Entities bound to it now: new ones, and ones whose configuration named another version.
    pub bound: Vec<String>,
    /// Entities that keep the version an operator chose since the configuration last bound
    /// this one (by push, activate, rollback or the watched directory), with that version.
    pub kept: Vec<(String, String)>,
}

/// A running host's registry: resolves a legal entity to its active plugin.
pub struct PluginRegistry {
    runtime: Runtime,
    store: RegistryStore,
    /// Entity (or `*`) → the plugin its calls use now.
    active: RwLock<HashMap<String, Arc<LoadedPlugin>>>,
    /// Versions already in memory, by (sha256, limits), so a rollback swaps instantly.
    loaded: Mutex<HashMap<(String, PluginLimits), Arc<LoadedPlugin>>>,
    /// Serializes reconciliations (watcher, push, activate) so they apply in order.
    sync_lock: Mutex<()>,
}

impl PluginRegistry {
    /// Opens the registry under `data_dir` and loads every bound version. A version that fails
    /// to load is logged and its entities have no plugin until fixed; the others work.
    pub fn open(runtime: Runtime, data_dir: &Path) -> Result<PluginRegistry, RegistryError> {
        let store = RegistryStore::open(data_dir)?;
        let registry = PluginRegistry {
            runtime,
            store,
            active: RwLock::new(HashMap::new()),
            loaded: Mutex::new(HashMap::new()),
            sync_lock: Mutex::new(()),
        };
        registry.sync()?;
        Ok(registry)
    }

    /// A runtime configured for a registry under `data_dir` (compile cache inside it).
    pub fn runtime_config(data_dir: &Path) -> crate::RuntimeConfig {
        crate::RuntimeConfig {
            cache_dir: Some(data_dir.join("plugins").join("cache")),
            ..crate::RuntimeConfig::default()
        }
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    pub fn store(&self) -> &RegistryStore {
        &self.store
    }

    /// The plugin `entity`'s calls use now: its own binding, else the default (`*`). Hold the
    /// `Arc` for the duration of one call: a swap meanwhile does not affect it.
    pub fn plugin_for(&self, entity: &str) -> Option<Arc<LoadedPlugin>> {
        let active = self.active.read();
        active
            .get(entity)
            .or_else(|| active.get(DEFAULT_ENTITY))
            .cloned()
    }

    /// Registers and activates a component for `entity` without a restart.
    pub fn push(
        &self,
        bytes: &[u8],
        entity: &str,
        limits: PluginLimits,
    ) -> Result<VersionRecord, RegistryError> {
        let (record, plugin) = push(&self.runtime, &self.store, bytes, entity, limits)?;
        self.loaded
            .lock()
            .insert((record.sha256.clone(), limits), Arc::new(plugin));
        self.sync()?;
        Ok(record)
    }

    /// Registers a component named by the host's configuration (idempotent by sha256) and
    /// binds it to `entities`, except where the configuration bound this same version before
    /// and an operator has chosen another since: that choice survives the restart. A changed
    /// configuration (another component) always wins. `limits: None` keeps a known version's
    /// limits (defaults for a new one).
    pub fn configure(
        &self,
        bytes: &[u8],
        entities: &[String],
        limits: Option<PluginLimits>,
    ) -> Result<Configured, RegistryError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let limits = match limits {
            Some(l) => l,
            None => self
                .store
                .read()?
                .version(&sha256)
                .map(|v| v.limits)
                .unwrap_or_default(),
        };
        let plugin = self
            .runtime
            .load_bytes(bytes, limits)
            .map_err(RegistryError::Refused)?;
        self.store.store_component(plugin.sha256(), bytes)?;
        let configured = self.store.update(|file| {
            let record = register_in(file, &plugin, limits)?;
            let mut bound = Vec::new();
            let mut kept = Vec::new();
            for entity in entities {
                let binding = file.bindings.get(entity);
                match binding {
                    Some(b)
                        if b.configured.as_deref() == Some(&record.sha256)
                            && b.active != record.sha256 =>
                    {
                        let label = file
                            .version(&b.active)
                            .map(|v| v.label())
                            .unwrap_or_else(|| b.active.clone());
                        kept.push((entity.clone(), label));
                    }
                    _ => {
                        store::activate_in(file, entity, &record.sha256);
                        if let Some(b) = file.bindings.get_mut(entity) {
                            b.configured = Some(record.sha256.clone());
                        }
                        bound.push(entity.clone());
                    }
                }
            }
            Ok(Configured {
                record,
                bound,
                kept,
            })
        })?;
        self.loaded
            .lock()
            .insert((configured.record.sha256.clone(), limits), Arc::new(plugin));
        self.sync()?;
        Ok(configured)
    }

    pub fn push_file(
        &self,
        path: &Path,
        entity: &str,
        limits: PluginLimits,
    ) -> Result<VersionRecord, RegistryError> {
        let bytes = std::fs::read(path).map_err(|source| RegistryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.push(&bytes, entity, limits)
    }

    pub fn activate(&self, entity: &str, selector: &str) -> Result<VersionRecord, RegistryError> {
        let record = self.store.activate(entity, selector)?;
        self.sync()?;
        Ok(record)
    }

    pub fn rollback(&self, entity: &str) -> Result<VersionRecord, RegistryError> {
        let record = self.store.rollback(entity)?;
        self.sync()?;
        Ok(record)
    }

    /// Brings the live bindings in line with `registry.json` (after this or another process
    /// changed it). An entity whose new version cannot be loaded keeps its current plugin.
    pub fn sync(&self) -> Result<(), RegistryError> {
        let _serial = self.sync_lock.lock();
        let file = self.store.read()?;
        let mut next = HashMap::new();
        for (entity, binding) in &file.bindings {
            let Some(record) = file.version(&binding.active) else {
                tracing::error!(%entity, sha256 = %binding.active, "binding names an unregistered plugin version");
                continue;
            };
            match self.loaded_version(record) {
                Ok(plugin) => {
                    next.insert(entity.clone(), plugin);
                }
                Err(e) => {
                    tracing::error!(%entity, version = %record.label(), error = %e, "cannot load the bound plugin version; keeping the current one");
                    if let Some(current) = self.active.read().get(entity) {
                        next.insert(entity.clone(), current.clone());
                    }
                }
            }
        }
        let mut active = self.active.write();
        for (entity, plugin) in &next {
            let changed = active.get(entity).is_none_or(|old| {
                old.sha256() != plugin.sha256() || old.limits() != plugin.limits()
            });
            if changed {
                tracing::info!(%entity, plugin = %plugin.provenance(), "plugin version active");
            }
        }
        *active = next;
        Ok(())
    }

    fn loaded_version(&self, record: &VersionRecord) -> Result<Arc<LoadedPlugin>, RegistryError> {
        let key = (record.sha256.clone(), record.limits);
        if let Some(plugin) = self.loaded.lock().get(&key) {
            return Ok(plugin.clone());
        }
        let path = self.store.component_path(&record.sha256);
        let plugin = self
            .runtime
            .load_file(&path, record.limits)
            .map_err(|source| RegistryError::StoredVersion {
                sha256: record.sha256.clone(),
                source,
            })?;
        if plugin.sha256() != record.sha256 {
            return Err(RegistryError::StoredVersion {
                sha256: record.sha256.clone(),
                source: LoadError::Malformed {
                    message: format!("{} does not hash to its name", path.display()),
                },
            });
        }
        let plugin = Arc::new(plugin);
        self.loaded.lock().insert(key, plugin.clone());
        Ok(plugin)
    }
}
