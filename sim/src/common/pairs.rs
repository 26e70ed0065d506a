//! Serde helpers for the simulators' state files: JSON object keys must be strings, so maps
//! keyed by tuples are written as `[[key, value], …]`.

use std::collections::HashMap;

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

pub fn serialize<'a, M, K, V, S>(map: &'a M, s: S) -> Result<S::Ok, S::Error>
where
    &'a M: IntoIterator<Item = (&'a K, &'a V)>,
    K: Serialize + 'a,
    V: Serialize + 'a,
    S: Serializer,
{
    s.collect_seq(map)
}

pub fn deserialize<'de, M, K, V, D>(d: D) -> Result<M, D::Error>
where
    M: FromIterator<(K, V)>,
    K: Deserialize<'de>,
    V: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
}

/// A map keyed by `&'static str` (the BigCommerce simulator's id sequences, keyed by resource
/// kind). The kinds are a handful of short names read once per start, so leaking them is
/// cheaper than changing every `next_id("order", …)` call site to owned keys.
pub fn static_keys<'de, D>(d: D) -> Result<HashMap<&'static str, u64>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(HashMap::<String, u64>::deserialize(d)?
        .into_iter()
        .map(|(k, v)| (&*Box::leak(k.into_boxed_str()), v))
        .collect())
}
