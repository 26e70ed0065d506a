//! A loaded plugin version and the typed call API the flows and golden tests use. Every call
//! gets a fresh store and instance (from the pre-instantiated component), its own deadline and
//! memory cap, and returns the value with the provenance of the exact plugin that produced it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasmtime::component::{ComponentExportIndex, ComponentNamedList, Lift, Lower, TypedFunc};
use wasmtime::{Store, Trap};

use crate::bindings::MappingPluginPre;
use crate::bindings::types::{
    BcInventoryAdjustment, Context, CreditNote, CustomerAccount, InventoryItem, MappingError,
    Order, PluginInfo, Product, Refund, SalesDocument, Shipment, StockLevel, VismaCustomer,
};
use crate::cache::CacheOutcome;
use crate::config::PluginLimits;
use crate::engine::RuntimeInner;
use crate::error::CallError;
use crate::sandbox::CallState;
use crate::tables::MappingTables;

/// Which plugin produced a result: recorded with every mapping so an audit can say exactly
/// which code made a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Provenance {
    pub plugin: String,
    pub version: String,
    /// sha256 of the component file, hex.
    pub sha256: String,
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = self.sha256.get(..12).unwrap_or(&self.sha256);
        write!(f, "{}@{} ({short})", self.plugin, self.version)
    }
}

/// A mapping result and the plugin version that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapped<T> {
    pub value: T,
    pub provenance: Provenance,
}

type MappingResult<T> = Result<T, Vec<MappingError>>;

/// Where each mapper export sits in the component, looked up once at load. The generated
/// `MappingPluginPre::instantiate` looks up and type-checks all six exports on every fresh
/// instance (about 5 % of a 20-line map-order call); a call needs one, by index.
#[derive(Debug, Clone)]
pub(crate) struct Exports {
    map_customer: ComponentExportIndex,
    map_order: ComponentExportIndex,
    map_credit_note: ComponentExportIndex,
    map_item: ComponentExportIndex,
    map_stock: ComponentExportIndex,
    /// `customer-mapper.map-customer-account`: optional (added after `mapper` shipped); a
    /// component without it loads with the customer-account flow off.
    map_customer_account: Option<ComponentExportIndex>,
}

impl Exports {
    /// The mapper's functions in the interface `interface` (`ledgerlink:mapping/mapper@0.1.0`),
    /// or the name of the first one missing.
    pub(crate) fn find(
        component: &wasmtime::component::Component,
        interface: &str,
    ) -> Result<Exports, String> {
        let mapper = component
            .get_export_index(None, interface)
            .ok_or_else(|| format!("it does not export {interface}"))?;
        let func = |name: &str| {
            component
                .get_export_index(Some(&mapper), name)
                .ok_or_else(|| format!("{interface} has no function {name}"))
        };
        Ok(Exports {
            map_customer: func("map-customer")?,
            map_order: func("map-order")?,
            map_credit_note: func("map-credit-note")?,
            map_item: func("map-item")?,
            map_stock: func("map-stock")?,
            map_customer_account: interface
                .split_once("/mapper@")
                .map(|(package, version)| format!("{package}/customer-mapper@{version}"))
                .and_then(|name| component.get_export_index(None, &name))
                .and_then(|customers| {
                    component.get_export_index(Some(&customers), "map-customer-account")
                }),
        })
    }
}

/// One compiled, checked plugin version. Share it as `Arc<LoadedPlugin>`; calls on it are
/// independent and may run on any number of threads at once.
pub struct LoadedPlugin {
    runtime: Arc<RuntimeInner>,
    pre: MappingPluginPre<CallState>,
    exports: Exports,
    provenance: Provenance,
    label: Arc<str>,
    wit_version: String,
    limits: PluginLimits,
    cache: CacheOutcome,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("provenance", &self.provenance)
            .field("wit_version", &self.wit_version)
            .field("limits", &self.limits)
            .finish()
    }
}

impl LoadedPlugin {
    pub(crate) fn new(
        runtime: Arc<RuntimeInner>,
        pre: MappingPluginPre<CallState>,
        exports: Exports,
        provenance: Provenance,
        wit_version: String,
        limits: PluginLimits,
        cache: CacheOutcome,
    ) -> Self {
        let label = provenance.to_string().into();
        LoadedPlugin {
            runtime,
            pre,
            exports,
            provenance,
            label,
            wit_version,
            limits,
            cache,
        }
    }

    pub(crate) fn set_identity(&mut self, name: String, version: String) {
        self.provenance.plugin = name;
        self.provenance.version = version;
        self.label = self.provenance.to_string().into();
    }

    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    pub fn name(&self) -> &str {
        &self.provenance.plugin
    }

    pub fn version(&self) -> &str {
        &self.provenance.version
    }

    pub fn sha256(&self) -> &str {
        &self.provenance.sha256
    }

    /// The mapping contract version the component exports (`0.1.0`).
    pub fn wit_version(&self) -> &str {
        &self.wit_version
    }

    pub fn limits(&self) -> PluginLimits {
        self.limits
    }

    /// Whether loading this plugin compiled it or took it from the cache.
    pub fn cache_outcome(&self) -> &CacheOutcome {
        &self.cache
    }

    /// The plugin's name and version. Goes through the generated bindings, which type-check
    /// every export of the fresh instance against the mapping world: `Runtime::load_*` calls
    /// this before handing out a plugin, and the other calls rely on that check.
    pub fn info(&self, tables: &MappingTables) -> Result<PluginInfo, CallError> {
        let mut store = self.store(tables);
        let world = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.instantiation_error(&store, e))?;
        world
            .ledgerlink_mapping_mapper()
            .call_info(&mut store)
            .map_err(|e| self.classify(&store, e))
    }

    pub fn map_customer(
        &self,
        ctx: &Context,
        tables: &MappingTables,
        order: &Order,
    ) -> Result<Mapped<VismaCustomer>, CallError> {
        self.call(tables, &self.exports.map_customer, (ctx, order))
    }

    /// Whether the component exports `customer-mapper` (see [`Self::map_customer_account`]).
    pub fn maps_customer_accounts(&self) -> bool {
        self.exports.map_customer_account.is_some()
    }

    /// The Visma customer for a customer account. A component without the export answers
    /// with [`CallError::Instantiation`]; ask [`Self::maps_customer_accounts`] first.
    pub fn map_customer_account(
        &self,
        ctx: &Context,
        tables: &MappingTables,
        customer: &CustomerAccount,
    ) -> Result<Mapped<VismaCustomer>, CallError> {
        let Some(export) = &self.exports.map_customer_account else {
            return Err(CallError::Instantiation {
                plugin: self.label.to_string(),
                message: "it does not export ledgerlink:mapping/customer-mapper".to_string(),
            });
        };
        self.call_checked(tables, export, (ctx, customer))
    }

    pub fn map_order(
        &self,
        ctx: &Context,
        tables: &MappingTables,
        order: &Order,
        shipment: Option<&Shipment>,
    ) -> Result<Mapped<SalesDocument>, CallError> {
        self.call(tables, &self.exports.map_order, (ctx, order, shipment))
    }

    pub fn map_credit_note(
        &self,
        ctx: &Context,
        tables: &MappingTables,
        refund: &Refund,
    ) -> Result<Mapped<CreditNote>, CallError> {
        self.call(tables, &self.exports.map_credit_note, (ctx, refund))
    }

    pub fn map_item(
        &self,
        ctx: &Context,
        tables: &MappingTables,
        product: &Product,
    ) -> Result<Mapped<InventoryItem>, CallError> {
        self.call(tables, &self.exports.map_item, (ctx, product))
    }

    pub fn map_stock(
        &self,
        ctx: &Context,
        tables: &MappingTables,
        levels: &[StockLevel],
    ) -> Result<Mapped<Vec<BcInventoryAdjustment>>, CallError> {
        self.call(tables, &self.exports.map_stock, (ctx, levels))
    }

    /// Runs `f` with this plugin on tokio's blocking pool. Calls are synchronous and may take
    /// up to the deadline of CPU, so async code must not make them on a worker thread (WASI's
    /// sync adapter also refuses to run there).
    pub async fn run_blocking<R, F>(self: &Arc<Self>, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&LoadedPlugin) -> R + Send + 'static,
    {
        let plugin = self.clone();
        match tokio::task::spawn_blocking(move || f(&plugin)).await {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// A fresh store: its own WASI context, memory cap, deadline and stderr capture.
    fn store(&self, tables: &MappingTables) -> Store<CallState> {
        let runtime = &*self.runtime;
        let state = CallState::new(
            self.label.clone(),
            tables.clone(),
            self.limits.memory_bytes,
            runtime.config.stderr_capture,
        );
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(self.deadline_ticks());
        store.epoch_deadline_trap();
        store
    }

    /// One call of the mapper export at `export` on a fresh instance. `Params` must be the
    /// export's parameters and `T` its `ok` type, as in the WIT world; the public wrappers
    /// above are the only callers.
    fn call<Params, T>(
        &self,
        tables: &MappingTables,
        export: &ComponentExportIndex,
        params: Params,
    ) -> Result<Mapped<T>, CallError>
    where
        Params: ComponentNamedList + Lower,
        (MappingResult<T>,): ComponentNamedList + Lift,
    {
        let mut store = self.store(tables);
        let instance = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| self.instantiation_error(&store, e))?;
        let func =
            instance
                .get_func(&mut store, export)
                .ok_or_else(|| CallError::Instantiation {
                    plugin: self.label.to_string(),
                    message: "the instance lacks an export its component has".to_string(),
                })?;
        // SAFETY: `Runtime::load_*` type-checked every mapper export of this component
        // against the mapping world (through `info`) before this plugin existed, and each
        // wrapper passes the parameter and result types of its export in that world.
        let typed = unsafe { TypedFunc::<Params, (MappingResult<T>,)>::new_unchecked(func) };
        match typed.call(&mut store, params).map(|(outcome,)| outcome) {
            Ok(Ok(value)) => Ok(Mapped {
                value,
                provenance: self.provenance.clone(),
            }),
            Ok(Err(errors)) => Err(CallError::Mapping(errors)),
            Err(e) => Err(self.classify(&store, e)),
        }
    }

    /// [`Self::call`] for an optional export, which the load-time check through `info` does
    /// not cover: its type is checked on each call (a mismatch is a permanent error).
    fn call_checked<Params, T>(
        &self,
        tables: &MappingTables,
        export: &ComponentExportIndex,
        params: Params,
    ) -> Result<Mapped<T>, CallError>
    where
        Params: ComponentNamedList + Lower,
        (MappingResult<T>,): ComponentNamedList + Lift,
    {
        let mut store = self.store(tables);
        let instance = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| self.instantiation_error(&store, e))?;
        let typed = instance
            .get_func(&mut store, export)
            .ok_or_else(|| CallError::Instantiation {
                plugin: self.label.to_string(),
                message: "the instance lacks an export its component has".to_string(),
            })?
            .typed::<Params, (MappingResult<T>,)>(&store)
            .map_err(|e| CallError::Trap {
                plugin: self.label.to_string(),
                message: format!("its export does not match the mapping world: {e:#}"),
                stderr: String::new(),
            })?;
        match typed.call(&mut store, params).map(|(outcome,)| outcome) {
            Ok(Ok(value)) => Ok(Mapped {
                value,
                provenance: self.provenance.clone(),
            }),
            Ok(Err(errors)) => Err(CallError::Mapping(errors)),
            Err(e) => Err(self.classify(&store, e)),
        }
    }

    fn instantiation_error(&self, store: &Store<CallState>, error: wasmtime::Error) -> CallError {
        match self.classify(store, error) {
            CallError::Trap {
                plugin, message, ..
            } => CallError::Instantiation { plugin, message },
            other => other,
        }
    }

    /// At least the deadline, at most one tick more (the ticker may advance right after we
    /// read the epoch).
    fn deadline_ticks(&self) -> u64 {
        let tick = self.runtime.config.epoch_tick.as_nanos().max(1);
        let ticks = self.limits.deadline.as_nanos().div_ceil(tick);
        u64::try_from(ticks).unwrap_or(u64::MAX - 1).max(1) + 1
    }

    fn classify(&self, store: &Store<CallState>, error: wasmtime::Error) -> CallError {
        let plugin = self.label.to_string();
        let state = store.data();
        if state.limiter.refused {
            return CallError::MemoryExceeded {
                plugin,
                cap_bytes: self.limits.memory_bytes,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallError::Timeout {
                plugin,
                deadline: self.limits.deadline,
            },
            Some(trap) => CallError::Trap {
                plugin,
                message: trap.to_string(),
                stderr: state.stderr.text(),
            },
            None => CallError::Trap {
                plugin,
                message: format!("{error:#}"),
                stderr: state.stderr.text(),
            },
        }
    }
}
