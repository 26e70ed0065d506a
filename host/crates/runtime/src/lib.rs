//! ledgerlink-runtime
