use crate::LogLevel;

/// What the Ledgerlink host offers a plugin: the legal entity's mapping tables and a log.
///
/// Write mapping functions against `&impl Host` (or `&dyn Host`) rather than calling the WIT
/// imports directly: inside the component pass [`WasmHost`], in `cargo test` pass
/// [`crate::testing::FakeHost`].
pub trait Host {
    /// The value for `key` in mapping table `table` (e.g. `vat-category`, `payment-method`,
    /// `warehouse`), or `None` when the entity has no such entry.
    fn lookup(&self, table: &str, key: &str) -> Option<String>;

    /// A message for the operator's log, attributed to the call.
    fn log(&self, level: LogLevel, message: &str);
}

/// The real host, through the component's imports. Only usable inside the WebAssembly
/// component: natively the imports do not exist and calling them panics.
#[derive(Debug, Clone, Copy, Default)]
pub struct WasmHost;

impl Host for WasmHost {
    fn lookup(&self, table: &str, key: &str) -> Option<String> {
        crate::bindings::ledgerlink::mapping::host::lookup(table, key)
    }

    fn log(&self, level: LogLevel, message: &str) {
        crate::bindings::ledgerlink::mapping::host::log(level, message)
    }
}

impl<H: Host + ?Sized> Host for &H {
    fn lookup(&self, table: &str, key: &str) -> Option<String> {
        (**self).lookup(table, key)
    }

    fn log(&self, level: LogLevel, message: &str) {
        (**self).log(level, message)
    }
}
