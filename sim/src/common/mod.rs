//! Logic both simulators share.

pub mod faults;
pub mod window;
