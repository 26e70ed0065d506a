//! ledgerlink-bigcommerce
