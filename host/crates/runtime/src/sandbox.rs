//! The per-call store data: an empty WASI context (no files, env, network or inherited stdio),
//! a memory limiter that remembers when it said no, a bounded stderr capture, and the host
//! imports `log` and `lookup`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime::StoreContextMut;
use wasmtime::component::{ResourceTable, WasmStr};
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::host::{self, LogLevel};
use crate::bindings::types;
use crate::tables::MappingTables;

/// Store data of one call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: CappedMemory,
    pub(crate) stderr: CapturedOutput,
    tables: MappingTables,
    plugin: Arc<str>,
}

impl CallState {
    pub(crate) fn new(
        plugin: Arc<str>,
        tables: MappingTables,
        memory_bytes: usize,
        stderr_capture: usize,
    ) -> Self {
        let stderr = CapturedOutput::new(stderr_capture);
        // Nothing is granted: the builder starts with no preopens, no env and no args; stdin is
        // empty, stdout is discarded, and every socket address is refused.
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .stdout(CapturedOutput::new(0))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        CallState {
            wasi,
            table: ResourceTable::new(),
            limiter: CappedMemory::new(memory_bytes),
            stderr,
            tables,
            plugin,
        }
    }
}

impl CallState {
    /// The answer to the guest's `lookup(table, key)`.
    pub(crate) fn lookup_value(&self, table: &str, key: &str) -> Option<String> {
        self.tables.lookup(table, key).map(str::to_string)
    }
}

/// The `lookup` host import over the guest's own memory: the generated binding lifts `table`
/// and `key` into two owned `String`s per call only to read them (a 20-line order makes ~65
/// lookups).
pub(crate) fn lookup_import(
    store: StoreContextMut<'_, CallState>,
    (table, key): (WasmStr, WasmStr),
) -> wasmtime::Result<(Option<String>,)> {
    let table = table.to_str(&store)?;
    let key = key.to_str(&store)?;
    Ok((store.data().lookup_value(&table, &key),))
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for CallState {}

impl host::Host for CallState {
    fn log(&mut self, level: LogLevel, message: String) {
        let plugin = &*self.plugin;
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    // `Runtime::new` redefines the import over borrowed strings (`lookup_import`); this is the
    // generated binding's entry, kept for the trait.
    fn lookup(&mut self, table: String, key: String) -> Option<String> {
        self.lookup_value(&table, &key)
    }
}

/// `StoreLimits` (which traps on a refused grow, so a Rust guest fails with a clear message
/// instead of `unreachable`) plus a flag saying it refused, so the call can report
/// `MemoryExceeded` rather than a generic trap.
pub(crate) struct CappedMemory {
    inner: StoreLimits,
    pub(crate) refused: bool,
}

impl CappedMemory {
    fn new(memory_bytes: usize) -> Self {
        CappedMemory {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            refused: false,
        }
    }
}

impl ResourceLimiter for CappedMemory {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let verdict = self.inner.memory_growing(current, desired, maximum);
        if !matches!(verdict, Ok(true)) {
            self.refused = true;
        }
        verdict
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// A guest output stream that keeps the first `capacity` bytes and silently drops the rest, so
/// a chatty guest is never failed for writing and the operator still sees how it began.
#[derive(Clone)]
pub(crate) struct CapturedOutput {
    capacity: usize,
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl CapturedOutput {
    fn new(capacity: usize) -> Self {
        CapturedOutput {
            capacity,
            buffer: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) fn text(&self) -> String {
        let buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&buffer).into_owned()
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.capacity.saturating_sub(buffer.len());
        buffer.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
