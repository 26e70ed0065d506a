//! ledgerlink-visma
