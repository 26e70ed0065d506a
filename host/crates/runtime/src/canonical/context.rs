use crate::bindings::types::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A context as written in fixtures and configuration: settings as a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ContextSpec {
    pub legal_entity: String,
    pub store_hash: String,
    #[serde(default = "one")]
    pub channel_id: u64,
    pub currency: String,
    pub base_currency: String,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

fn one() -> u64 {
    1
}

impl ContextSpec {
    pub fn to_context(&self) -> Context {
        Context {
            legal_entity: self.legal_entity.clone(),
            store_hash: self.store_hash.clone(),
            channel_id: self.channel_id,
            currency: self.currency.clone(),
            base_currency: self.base_currency.clone(),
            branch: self.branch.clone(),
            settings: self
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}
