//! ledgerlink-store
