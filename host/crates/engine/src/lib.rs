//! ledgerlink-engine
