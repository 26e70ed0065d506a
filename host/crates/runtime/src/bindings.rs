//! Host-side bindings generated from `wit/mapping.wit`. Every other module uses these types;
//! nothing else in the host re-declares the WIT records.

wasmtime::component::bindgen!({
    path: "../../../wit",
    world: "mapping-plugin",
    // Serde on the records lets fixtures, golden files, the audit log and `plugin test` speak
    // JSON without a second set of types.
    additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
});

pub use exports::ledgerlink::mapping::mapper;
pub use ledgerlink::mapping::host;
pub use ledgerlink::mapping::types;
