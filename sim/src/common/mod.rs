//! Logic both simulators share.

pub mod faults;
pub mod json;
pub mod pairs;
pub mod state_file;
pub mod window;
