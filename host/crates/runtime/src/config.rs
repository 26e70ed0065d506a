//! Settings for the runtime as a whole and the bounds of each plugin's calls.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Settings shared by every plugin the runtime loads.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where compiled components are cached (`<sha256>-<engine hash>.cwasm`). `None` compiles
    /// every load in memory (tests, `plugin test`).
    pub cache_dir: Option<PathBuf>,
    /// How often the epoch ticker advances; a deadline is enforced to within one tick.
    pub epoch_tick: Duration,
    /// How many plugin instances may exist at once (the pooling allocator's slots). Calls
    /// beyond it fail with `CallError::Instantiation` rather than wait.
    pub max_concurrent_instances: u32,
    /// The largest memory cap any plugin may ask for; sizes the pool's memory slots.
    pub max_memory_cap: usize,
    /// Bytes of guest stderr kept per call (a panic message); the rest is dropped.
    pub stderr_capture: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            epoch_tick: Duration::from_millis(5),
            max_concurrent_instances: 128,
            max_memory_cap: 512 << 20,
            stderr_capture: 8 << 10,
        }
    }
}

/// The bounds of one call into a plugin. Stored with each registered version so an operator can
/// give a heavy mapping more room without touching the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginLimits {
    /// Wall-clock budget of one call, instantiation included.
    #[serde(with = "millis")]
    pub deadline: Duration,
    /// Most linear memory the guest may hold, in bytes.
    pub memory_bytes: usize,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            deadline: Duration::from_millis(50),
            memory_bytes: 64 << 20,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
