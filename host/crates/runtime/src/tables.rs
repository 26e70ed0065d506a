//! A legal entity's mapping tables, the data behind the `lookup` host import.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Table name → key → value, e.g. `tax-class→vat-category` → `1` → `03`. Cheap to clone: every
/// call shares one copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BTreeMap<String, BTreeMap<String, String>>")]
#[serde(into = "BTreeMap<String, BTreeMap<String, String>>")]
pub struct MappingTables(Arc<BTreeMap<String, BTreeMap<String, String>>>);

impl MappingTables {
    pub fn new(tables: BTreeMap<String, BTreeMap<String, String>>) -> Self {
        MappingTables(Arc::new(tables))
    }

    pub fn lookup(&self, table: &str, key: &str) -> Option<&str> {
        self.0.get(table)?.get(key).map(String::as_str)
    }

    pub fn tables(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.0
    }
}

impl From<BTreeMap<String, BTreeMap<String, String>>> for MappingTables {
    fn from(tables: BTreeMap<String, BTreeMap<String, String>>) -> Self {
        MappingTables::new(tables)
    }
}

impl From<MappingTables> for BTreeMap<String, BTreeMap<String, String>> {
    fn from(tables: MappingTables) -> Self {
        Arc::unwrap_or_clone(tables.0)
    }
}

impl<const N: usize> From<[(&str, &[(&str, &str)]); N]> for MappingTables {
    fn from(tables: [(&str, &[(&str, &str)]); N]) -> Self {
        MappingTables::new(
            tables
                .into_iter()
                .map(|(name, rows)| {
                    let rows = rows
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    (name.to_string(), rows)
                })
                .collect(),
        )
    }
}
