//! The one wasmtime `Engine` of the process, its linker, its epoch ticker and its compile
//! cache; `Runtime::load_*` turns component bytes into a `LoadedPlugin`.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{MappingPlugin, MappingPluginPre};
use crate::cache::{CacheOutcome, CompileCache};
use crate::config::{PluginLimits, RuntimeConfig};
use crate::error::LoadError;
use crate::plugin::{Exports, LoadedPlugin, Provenance};
use crate::policy;
use crate::sandbox::{self, CallState};
use crate::tables::MappingTables;

/// Bytes of each pooled linear memory kept mapped between calls (see `Runtime::new`).
const KEEP_RESIDENT_MEMORY: usize = 4 << 20;
/// Bytes of each pooled table kept mapped between calls.
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// Cheap to clone; all clones share the engine, linker, ticker and cache.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    pub(crate) config: RuntimeConfig,
    cache: Option<CompileCache>,
    engine_hash: String,
    compiles: AtomicU64,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Feeds `Hash` output into sha256 so the engine's compatibility hash is stable across
/// processes (std's `DefaultHasher` promises no such thing).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        unreachable!("only finalized through the digest")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Runtime, LoadError> {
        let engine_error = |e: wasmtime::Error| LoadError::Engine {
            message: format!("{e:#}"),
        };
        let slots = config.max_concurrent_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            // A Rust wasip2 component is a handful of core instances around one memory.
            .total_core_instances(slots * 8)
            .total_memories(slots * 2)
            .total_tables(slots * 4)
            .max_memory_size(config.max_memory_cap);
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            // Every call is a fresh instance, so by default each page the guest touches
            // (stack, data, heap) is a page fault on the next call, after an `madvise` on
            // this one. With PAGEMAP_SCAN (Linux 6.7+) the pool resets only the pages a
            // call dirtied, by copy, and keeps them mapped: no faults and no `madvise` for
            // the first MiBs, which hold a Rust guest's stack, data and a mapping's heap.
            // Without the scan the reset would `memset` the whole window every call, so the
            // default (decommit everything) stays.
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
                .table_keep_resident(KEEP_RESIDENT_TABLE);
        }
        let mut wasm_config = Config::new();
        wasm_config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm_config).map_err(engine_error)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_error)?;
        MappingPlugin::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(engine_error)?;
        // `lookup` again, over borrowed strings (see `sandbox::lookup_import`).
        linker.allow_shadowing(true);
        linker
            .instance(crate::policy::HOST_IMPORT)
            .and_then(|mut host| host.func_wrap("lookup", sandbox::lookup_import))
            .map_err(engine_error)?;
        linker.allow_shadowing(false);

        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_hash = hex::encode(&hasher.0.finalize()[..8]);
        let cache = config
            .cache_dir
            .clone()
            .map(|dir| CompileCache::new(dir, engine_hash.clone()));

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), config.epoch_tick, ticker_stop.clone()).map_err(
            |e| LoadError::Engine {
                message: format!("cannot start the epoch ticker: {e}"),
            },
        )?;

        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                cache,
                engine_hash,
                compiles: AtomicU64::new(0),
                ticker_stop,
            }),
        })
    }

    /// The engine's precompile-compatibility hash (shortened): part of every cache key.
    pub fn engine_hash(&self) -> &str {
        &self.inner.engine_hash
    }

    /// How many components this runtime has compiled (cache hits do not count).
    pub fn compile_count(&self) -> u64 {
        self.inner.compiles.load(Ordering::Relaxed)
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Where the compiled form of a component with this sha256 is cached, if caching is on.
    pub fn cache_path(&self, component_sha256: &str) -> Option<std::path::PathBuf> {
        self.inner
            .cache
            .as_ref()
            .map(|c| c.artifact_path(component_sha256))
    }

    pub fn load_file(&self, path: &Path, limits: PluginLimits) -> Result<LoadedPlugin, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(&bytes, limits)
    }

    /// Compiles (or takes from the cache), checks imports and exports against the mapping
    /// world, and asks the plugin for its name and version. Blocking: CPU-bound for a fraction
    /// of a second on a cache miss, so call it from a blocking thread in async code.
    pub fn load_bytes(
        &self,
        bytes: &[u8],
        limits: PluginLimits,
    ) -> Result<LoadedPlugin, LoadError> {
        if limits.memory_bytes > self.inner.config.max_memory_cap {
            return Err(LoadError::LimitTooLarge {
                requested: limits.memory_bytes,
                max: self.inner.config.max_memory_cap,
            });
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let (component, cache) = self.component(bytes, &sha256)?;

        let inner = &self.inner;
        let ty = component.component_type();
        let imports: Vec<String> = ty
            .imports(&inner.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let exports: Vec<String> = ty
            .exports(&inner.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let refused = policy::disallowed_imports(imports.iter().map(String::as_str));
        if !refused.is_empty() {
            return Err(LoadError::ImportNotAllowed { imports: refused });
        }
        let mismatch = |detail: String| LoadError::WitMismatch {
            detail,
            exports: exports.clone(),
            imports: imports.clone(),
        };
        let Some(wit_version) = policy::wit_version(exports.iter().map(String::as_str)) else {
            return Err(mismatch(format!(
                "it exports no {}<version> interface",
                policy::MAPPER_EXPORT_PREFIX
            )));
        };
        let instance_pre = inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| mismatch(format!("{e:#}")))?;
        let pre = MappingPluginPre::new(instance_pre).map_err(|e| mismatch(format!("{e:#}")))?;
        let exports = Exports::find(
            &component,
            &format!("{}{wit_version}", policy::MAPPER_EXPORT_PREFIX),
        )
        .map_err(mismatch)?;

        let mut plugin = LoadedPlugin::new(
            self.inner.clone(),
            pre,
            exports,
            Provenance {
                plugin: "(loading)".to_string(),
                version: String::new(),
                sha256,
            },
            wit_version,
            limits,
            cache,
        );
        let info = plugin
            .info(&MappingTables::default())
            .map_err(|e| LoadError::Info(Box::new(e)))?;
        if info.name.trim().is_empty() || info.version.trim().is_empty() {
            return Err(LoadError::BadInfo {
                name: info.name,
                version: info.version,
            });
        }
        plugin.set_identity(info.name, info.version);
        Ok(plugin)
    }

    fn component(
        &self,
        bytes: &[u8],
        sha256: &str,
    ) -> Result<(Component, CacheOutcome), LoadError> {
        let inner = &self.inner;
        let Some(cache) = &inner.cache else {
            return Ok((self.compile(bytes)?, CacheOutcome::Uncached));
        };
        let outcome = match cache.load(&inner.engine, sha256) {
            Ok(Some(component)) => return Ok((component, CacheOutcome::Hit)),
            Ok(None) => CacheOutcome::Compiled,
            Err(reason) => {
                tracing::warn!(%sha256, %reason, "compiled plugin cache entry refused; recompiling");
                CacheOutcome::Recompiled { reason }
            }
        };
        let component = self.compile(bytes)?;
        match component.serialize() {
            Ok(artifact) => {
                if let Err(e) = cache.store(sha256, &artifact) {
                    tracing::warn!(%sha256, error = %e, "cannot write the compiled plugin cache");
                }
            }
            Err(e) => {
                tracing::warn!(%sha256, error = %format!("{e:#}"), "cannot serialize a compiled plugin")
            }
        }
        Ok((component, outcome))
    }

    fn compile(&self, bytes: &[u8]) -> Result<Component, LoadError> {
        self.inner.compiles.fetch_add(1, Ordering::Relaxed);
        Component::new(&self.inner.engine, bytes).map_err(|e| LoadError::Malformed {
            message: format!("{e:#}"),
        })
    }
}

fn spawn_epoch_ticker(
    engine: Engine,
    tick: Duration,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("ledgerlink-epoch".to_string())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        })
        .map(|_| ())
}
