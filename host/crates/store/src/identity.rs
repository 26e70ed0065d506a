//! The identity map and write intents: how a Visma write stays exactly-once in effect.
//!
//! A handler calls [`Store::begin_write`] before creating something in Visma. `Proceed` means
//! no earlier attempt started this write; `LookUpFirst` means one did and its outcome is
//! unknown, so the handler must search Visma by the external reference before creating;
//! `AlreadyDone` means the mapping exists and nothing must be written. After the call,
//! [`Store::complete_write`] records the mapping (and closes the intent) in one transaction,
//! or an [`IdentityWrite`] carried by the attempt's [`crate::Finish`] does the same in the
//! transaction that records the attempt (no commit of its own). Until that commits the intent
//! stays open, so an attempt that dies before it is followed by one that looks the document
//! up by its reference first: still exactly one document, and then its mapping.

use chrono::{DateTime, Utc};
use ledgerlink_core::{ExternalRef, LegalEntityId};
use serde::{Deserialize, Serialize};

/// What a mapping is keyed by on the BigCommerce side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdentityKey {
    pub legal_entity: LegalEntityId,
    /// e.g. `invoice`, `sales_order`, `credit_note`, `customer`, `item`.
    pub kind: String,
    /// The BigCommerce id (order id, refund id, customer id, SKU) as text.
    pub bc_id: String,
}

impl IdentityKey {
    pub fn new(legal_entity: LegalEntityId, kind: impl Into<String>, bc_id: impl ToString) -> Self {
        Self {
            legal_entity,
            kind: kind.into(),
            bc_id: bc_id.to_string(),
        }
    }
}

/// A mapping an attempt learnt, written with its result ([`crate::Finish::identities`])
/// whatever the outcome (the record exists in Visma either way), also when the lease was lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityWrite {
    pub key: IdentityKey,
    pub visma_id: String,
    /// Also close the key's open write intent, as [`crate::Store::complete_write`] does.
    pub completes_intent: bool,
    /// When the attempt learned the Visma id: the row's `created_at`, so the map tells when
    /// the document became known, not when the batch holding the result committed.
    pub learned_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteStart {
    /// No earlier attempt: write now.
    Proceed { intent_id: i64 },
    /// An earlier attempt started this write and never completed it: look the record up in
    /// Visma by `external_ref` first; complete with what is found or write if nothing is.
    LookUpFirst {
        intent_id: i64,
        external_ref: ExternalRef,
    },
    /// Already written: this is the Visma id.
    AlreadyDone { visma_id: String },
}
