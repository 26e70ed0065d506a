//! Standard mapping plugin.
