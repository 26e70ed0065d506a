//! Compiled components on disk, keyed by (sha256 of the component, the engine's
//! precompile-compatibility hash). A compiled artifact is native code the engine maps and runs
//! without further checks, so each file carries a sha256 sidecar written with it: a file that
//! does not match its sidecar (a torn write, a disk error, tampering) is recompiled, not loaded.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// How a component came to be in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded from a verified cache file; no compilation.
    Hit,
    /// Not cached yet: compiled and written to the cache.
    Compiled,
    /// A cache file existed but was refused (`reason`) and the component was recompiled.
    Recompiled { reason: String },
    /// The runtime has no cache directory; compiled in memory.
    Uncached,
}

pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_hash: String,
}

impl CompileCache {
    pub(crate) fn new(dir: PathBuf, engine_hash: String) -> Self {
        CompileCache { dir, engine_hash }
    }

    pub(crate) fn artifact_path(&self, component_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{component_sha256}-{}.cwasm", self.engine_hash))
    }

    fn sidecar_path(artifact: &Path) -> PathBuf {
        artifact.with_extension("cwasm.sha256")
    }

    /// The cached component, `Ok(None)` when there is none, `Err(reason)` when the file is
    /// there but must not be trusted.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        component_sha256: &str,
    ) -> Result<Option<Component>, String> {
        let artifact = self.artifact_path(component_sha256);
        let bytes = match fs::read(&artifact) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", artifact.display())),
        };
        let expected = fs::read_to_string(Self::sidecar_path(&artifact))
            .map_err(|e| format!("no checksum for {}: {e}", artifact.display()))?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if expected.trim() != actual {
            return Err(format!(
                "{} does not match its checksum (expected {}, found {actual})",
                artifact.display(),
                expected.trim()
            ));
        }
        // SAFETY: the file is one this cache wrote (its checksum matches what we recorded
        // right after compiling) for an engine with this exact compatibility hash.
        let component = unsafe { Component::deserialize_file(engine, &artifact) }
            .map_err(|e| format!("{} was refused by the engine: {e:#}", artifact.display()))?;
        Ok(Some(component))
    }

    /// Writes a compiled component; failures only cost a recompile next time, so they are
    /// reported to the caller for a warning rather than failing the load.
    pub(crate) fn store(
        &self,
        component_sha256: &str,
        artifact_bytes: &[u8],
    ) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let artifact = self.artifact_path(component_sha256);
        let sidecar = Self::sidecar_path(&artifact);
        write_atomically(&artifact, artifact_bytes)?;
        write_atomically(
            &sidecar,
            hex::encode(Sha256::digest(artifact_bytes)).as_bytes(),
        )
    }
}

/// Writes `path` through a temporary file in the same directory and a rename, so a reader sees
/// the old content or the new, never half of it.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}
