//! The BigCommerce simulator's state file (`Config::state_file`): the whole store (catalog,
//! stock, customers, orders, refunds, metafields, webhook registrations, id sequences). Rate
//! limit windows, fault settings, statistics and pending webhook deliveries are not kept.

use std::path::Path;

use crate::common::state_file::{self, StateFileError};

use super::state::Store;

const SIMULATOR: &str = "bigcommerce";

/// The bytes [`save`] writes.
pub(crate) fn encode(store: &Store) -> Result<Vec<u8>, StateFileError> {
    state_file::encode(SIMULATOR, store)
}

/// Write `store` to `path` (through a temp file and a rename).
pub(crate) fn save(store: &Store, path: &Path) -> Result<(), StateFileError> {
    state_file::write(path, &encode(store)?)
}

/// Read a store saved by [`save`] (by this version or an earlier one).
pub(crate) fn load(path: &Path) -> Result<Store, StateFileError> {
    let mut store: Store = state_file::read(path, SIMULATOR)?;
    store.fill_missing_applied();
    Ok(store)
}
