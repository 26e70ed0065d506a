//! The watched plugin directory. New versions arrive as `incoming/<entity>/<name>.wasm` (or
//! `incoming/<name>.wasm` for the default binding), published by writing a temporary file and
//! renaming it into place; `registry.json` is watched too, so `ledgerlink plugin push|activate|
//! rollback` from another process takes effect without a restart. The directory is watched,
//! not the files (a rename replaces the file a file watch would follow), and rescanned every
//! second in case an event was missed. Compiling happens on the watcher's own thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};

use super::{DEFAULT_ENTITY, PluginRegistry, RegistryError};
use crate::error::LoadError;

const RESCAN: Duration = Duration::from_secs(1);
/// A file younger than this that fails to load may still be being written (by a publisher that
/// does not rename): it is retried on the next scan instead of rejected.
const SETTLE: Duration = Duration::from_secs(2);
const SETTLE_BURST: Duration = Duration::from_millis(250);

/// What happened to one dropped file.
#[derive(Debug)]
pub enum IncomingOutcome {
    Activated {
        file: PathBuf,
        entity: String,
        label: String,
    },
    Rejected {
        file: PathBuf,
        entity: String,
        error: String,
        moved_to: PathBuf,
    },
    Deferred {
        file: PathBuf,
    },
}

/// Stops the watcher when dropped.
pub struct WatchHandle {
    stop: Arc<AtomicBool>,
    watcher: Option<notify::RecommendedWatcher>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the watcher closes the event channel, which wakes the thread.
        self.watcher.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl PluginRegistry {
    /// Starts watching the plugin directory; drop the handle to stop.
    pub fn watch(self: &Arc<Self>) -> Result<WatchHandle, RegistryError> {
        let root = self.store.root().to_path_buf();
        let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
        let mut watcher = notify::recommended_watcher(tx).map_err(|e| RegistryError::Watch {
            path: root.clone(),
            message: e.to_string(),
        })?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|e| RegistryError::Watch {
                path: root.clone(),
                message: e.to_string(),
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let registry = self.clone();
        let thread_stop = stop.clone();
        let incoming = self.store.incoming_dir();
        let registry_file = self.store.registry_path();
        let thread = std::thread::Builder::new()
            .name("ledgerlink-plugin-watch".to_string())
            .spawn(move || {
                // Pick up anything dropped while the host was down.
                registry.scan();
                while !thread_stop.load(Ordering::Relaxed) {
                    match rx.recv_timeout(RESCAN) {
                        Ok(Ok(event)) => {
                            // Reads (opening a directory to list it, mapping a cached artifact)
                            // are events too; only changes can bring a new version.
                            let relevant = !matches!(event.kind, notify::EventKind::Access(_))
                                && event
                                    .paths
                                    .iter()
                                    .any(|p| p.starts_with(&incoming) || p == &registry_file);
                            if !relevant {
                                continue;
                            }
                            // Let a burst of events (create, write, rename) settle into one scan,
                            // but never wait longer than SETTLE_BURST: a steady stream of
                            // unrelated events must not starve the scan.
                            let burst_started = std::time::Instant::now();
                            while burst_started.elapsed() < SETTLE_BURST
                                && rx.recv_timeout(Duration::from_millis(20)).is_ok()
                            {
                            }
                        }
                        Ok(Err(e)) => tracing::warn!(error = %e, "plugin directory watch error"),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    if thread_stop.load(Ordering::Relaxed) {
                        break;
                    }
                    registry.scan();
                }
            })
            .map_err(|e| RegistryError::Watch {
                path: root,
                message: e.to_string(),
            })?;
        Ok(WatchHandle {
            stop,
            watcher: Some(watcher),
            thread: Some(thread),
        })
    }

    fn scan(&self) {
        for outcome in self.process_incoming() {
            match outcome {
                IncomingOutcome::Activated { entity, label, .. } => {
                    tracing::info!(%entity, plugin = %label, "plugin dropped in the watched directory is active")
                }
                IncomingOutcome::Rejected {
                    file,
                    entity,
                    error,
                    moved_to,
                } => tracing::error!(
                    %entity, file = %file.display(), moved_to = %moved_to.display(), %error,
                    "plugin dropped in the watched directory was refused; the active version stays"
                ),
                IncomingOutcome::Deferred { .. } => {}
            }
        }
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "cannot apply the plugin registry");
        }
    }

    /// Registers every `.wasm` waiting in the incoming directory (see the module docs) and
    /// returns what became of each.
    pub fn process_incoming(&self) -> Vec<IncomingOutcome> {
        let mut outcomes = Vec::new();
        let incoming = self.store.incoming_dir();
        let mut candidates = Vec::new();
        collect_wasm(&incoming, DEFAULT_ENTITY, &mut candidates);
        if let Ok(entries) = std::fs::read_dir(&incoming) {
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() && !name.starts_with('.') {
                    collect_wasm(&path, &name, &mut candidates);
                }
            }
        }
        for (file, entity) in candidates {
            outcomes.push(self.take_incoming(file, entity));
        }
        outcomes
    }

    fn take_incoming(&self, file: PathBuf, entity: String) -> IncomingOutcome {
        // A new version keeps the limits the operator gave the entity's current one.
        let limits = self
            .store
            .read()
            .ok()
            .and_then(|registry| registry.active_for(&entity).map(|v| v.limits))
            .unwrap_or_default();
        let result = std::fs::read(&file)
            .map_err(|source| RegistryError::Io {
                path: file.clone(),
                source,
            })
            .and_then(|bytes| self.push(&bytes, &entity, limits));
        match result {
            Ok(record) => {
                if let Err(e) = std::fs::remove_file(&file) {
                    tracing::warn!(file = %file.display(), error = %e, "cannot remove a registered plugin from the incoming directory");
                }
                IncomingOutcome::Activated {
                    file,
                    entity,
                    label: record.label(),
                }
            }
            Err(RegistryError::Refused(LoadError::Malformed { .. }) | RegistryError::Io { .. })
                if is_fresh(&file) =>
            {
                IncomingOutcome::Deferred { file }
            }
            Err(error) => {
                let moved_to = self.reject(&file, &entity, &error);
                IncomingOutcome::Rejected {
                    file,
                    entity,
                    error: error.to_string(),
                    moved_to,
                }
            }
        }
    }

    fn reject(&self, file: &Path, entity: &str, error: &RegistryError) -> PathBuf {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entity = entity.replace(['/', '\\', '*'], "_");
        let moved_to = self
            .store
            .rejected_dir()
            .join(format!("{stamp}-{entity}-{name}"));
        if let Err(e) = std::fs::rename(file, &moved_to) {
            tracing::warn!(file = %file.display(), error = %e, "cannot move a refused plugin aside; deleting it");
            let _ = std::fs::remove_file(file);
        }
        let _ = std::fs::write(moved_to.with_extension("error.txt"), format!("{error}\n"));
        moved_to
    }
}

fn collect_wasm(dir: &Path, entity: &str, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|e| e == "wasm")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    // Oldest first, so the last file dropped ends up active.
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    out.extend(files.into_iter().map(|p| (p, entity.to_string())));
}

fn is_fresh(file: &Path) -> bool {
    std::fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .is_some_and(|age| age < SETTLE)
}
