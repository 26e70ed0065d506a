//! The durable side of the registry: `<data>/plugins/registry.json` (versions and per-entity
//! bindings) and the content-addressed components beside it. Every change is a locked
//! read-modify-write and an atomic replace, so the CLI and a running host can both write it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RegistryError;
use crate::cache::write_atomically;
use crate::config::PluginLimits;

/// The binding every legal entity without one of its own uses.
pub const DEFAULT_ENTITY: &str = "*";

/// One registered plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub wit_version: String,
    /// RFC 3339, UTC.
    pub added_at: String,
    pub limits: PluginLimits,
}

impl VersionRecord {
    pub fn label(&self) -> String {
        format!("{}@{} ({})", self.name, self.version, &self.sha256[..12])
    }
}

/// Which version a legal entity uses, and the ones it used before (latest last) for rollback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub active: String,
    #[serde(default)]
    pub history: Vec<String>,
    /// The version the host's configuration (`[[plugins]]`) last bound here. A host start
    /// re-binds the configured version only when the configuration names a different one, so
    /// a push, activation or rollback made since survives restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured: Option<String>,
}

/// The content of `registry.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryFile {
    #[serde(default)]
    pub versions: Vec<VersionRecord>,
    #[serde(default)]
    pub bindings: BTreeMap<String, Binding>,
}

impl RegistryFile {
    pub fn version(&self, sha256: &str) -> Option<&VersionRecord> {
        self.versions.iter().find(|v| v.sha256 == sha256)
    }

    /// The version a legal entity uses: its own binding, else the default one.
    pub fn active_for(&self, entity: &str) -> Option<&VersionRecord> {
        let binding = self
            .bindings
            .get(entity)
            .or_else(|| self.bindings.get(DEFAULT_ENTITY))?;
        self.version(&binding.active)
    }

    /// Finds a version by full sha256, a sha256 prefix of at least 8 hex digits, or
    /// `name@version`.
    pub fn select(&self, selector: &str) -> Result<&VersionRecord, RegistryError> {
        let matches: Vec<&VersionRecord> = if let Some((name, version)) = selector.split_once('@') {
            self.versions
                .iter()
                .filter(|v| v.name == name && v.version == version)
                .collect()
        } else if selector.len() >= 8 {
            self.versions
                .iter()
                .filter(|v| v.sha256.starts_with(&selector.to_ascii_lowercase()))
                .collect()
        } else {
            Vec::new()
        };
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(RegistryError::UnknownVersion {
                selector: selector.to_string(),
            }),
            many => Err(RegistryError::AmbiguousVersion {
                selector: selector.to_string(),
                matches: many.iter().map(|v| v.label()).collect(),
            }),
        }
    }
}

/// The registry's directory under the data dir.
#[derive(Debug, Clone)]
pub struct RegistryStore {
    root: PathBuf,
}

impl RegistryStore {
    /// Opens (creating if needed) `<data_dir>/plugins`.
    pub fn open(data_dir: &Path) -> Result<RegistryStore, RegistryError> {
        let store = RegistryStore {
            root: data_dir.join("plugins"),
        };
        for dir in [
            store.root.clone(),
            store.components_dir(),
            store.incoming_dir(),
            store.rejected_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(|source| RegistryError::Io { path: dir, source })?;
        }
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn registry_path(&self) -> PathBuf {
        self.root.join("registry.json")
    }

    pub fn components_dir(&self) -> PathBuf {
        self.root.join("components")
    }

    /// Compiled-component cache for the runtime (`RuntimeConfig::cache_dir`).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// The watched directory: `incoming/<entity>/<any>.wasm` (or `incoming/<any>.wasm` for the
    /// default binding), published by writing a temporary file and renaming it into place. A
    /// dropped version gets the limits of the entity's current version (defaults if none).
    pub fn incoming_dir(&self) -> PathBuf {
        self.root.join("incoming")
    }

    /// Where refused drops go, each with a `.error.txt` saying why.
    pub fn rejected_dir(&self) -> PathBuf {
        self.root.join("rejected")
    }

    pub fn component_path(&self, sha256: &str) -> PathBuf {
        self.components_dir().join(format!("{sha256}.wasm"))
    }

    pub fn read(&self) -> Result<RegistryFile, RegistryError> {
        let path = self.registry_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::Corrupt {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RegistryFile::default()),
            Err(source) => Err(RegistryError::Io { path, source }),
        }
    }

    /// Runs `change` on the current registry under an exclusive lock and writes the result if
    /// it succeeded. A failed change writes nothing.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut RegistryFile) -> Result<R, RegistryError>,
    ) -> Result<R, RegistryError> {
        let lock_path = self.root.join("registry.lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| RegistryError::Io {
                path: lock_path.clone(),
                source,
            })?;
        lock.lock().map_err(|source| RegistryError::Io {
            path: lock_path,
            source,
        })?;
        let mut file = self.read()?;
        let result = change(&mut file)?;
        let json = serde_json::to_vec_pretty(&file).expect("registry serializes");
        let path = self.registry_path();
        write_atomically(&path, &json).map_err(|source| RegistryError::Io { path, source })?;
        Ok(result)
        // The lock is released when `lock` drops.
    }

    /// Stores a component under its sha256 (once; the content never changes).
    pub fn store_component(&self, sha256: &str, bytes: &[u8]) -> Result<PathBuf, RegistryError> {
        let path = self.component_path(sha256);
        if !path.exists() {
            write_atomically(&path, bytes).map_err(|source| RegistryError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(path)
    }

    /// Makes `sha256` the active version for `entity`, keeping the previous one for rollback.
    pub fn activate(&self, entity: &str, selector: &str) -> Result<VersionRecord, RegistryError> {
        self.update(|file| {
            let record = file.select(selector)?.clone();
            activate_in(file, entity, &record.sha256);
            Ok(record)
        })
    }

    /// Goes back to the version `entity` used before the current one.
    pub fn rollback(&self, entity: &str) -> Result<VersionRecord, RegistryError> {
        self.update(|file| {
            let binding = file
                .bindings
                .get_mut(entity)
                .ok_or_else(|| RegistryError::NotBound {
                    entity: entity.to_string(),
                })?;
            let previous = binding
                .history
                .pop()
                .ok_or_else(|| RegistryError::NoHistory {
                    entity: entity.to_string(),
                })?;
            binding.active = previous.clone();
            file.version(&previous)
                .cloned()
                .ok_or(RegistryError::UnknownVersion { selector: previous })
        })
    }
}

pub(crate) fn activate_in(file: &mut RegistryFile, entity: &str, sha256: &str) {
    let binding = file.bindings.entry(entity.to_string()).or_default();
    if binding.active == sha256 {
        return;
    }
    if !binding.active.is_empty() {
        let previous = std::mem::take(&mut binding.active);
        binding.history.push(previous);
    }
    binding.active = sha256.to_string();
}
