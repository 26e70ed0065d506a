//! Logic both simulators share.

pub mod window;
