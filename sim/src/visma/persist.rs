//! The Visma simulator's state file (`Config::state_file`): every company with its master
//! data, documents, stock and number series. Access tokens, rate-limit windows, fault
//! settings and statistics are not kept (clients fetch a new token after a restart).

use std::path::Path;

use crate::common::state_file::{self, StateFileError};

use super::state::State;

const SIMULATOR: &str = "visma";

/// The bytes [`save`] writes.
pub(crate) fn encode(state: &State) -> Result<Vec<u8>, StateFileError> {
    state_file::encode(SIMULATOR, state)
}

/// Write `state` to `path` (through a temp file and a rename).
pub(crate) fn save(state: &State, path: &Path) -> Result<(), StateFileError> {
    state_file::write(path, &encode(state)?)
}

/// Read a state saved by [`save`].
pub(crate) fn load(path: &Path) -> Result<State, StateFileError> {
    state_file::read(path, SIMULATOR)
}
