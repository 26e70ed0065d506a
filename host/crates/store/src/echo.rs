//! Echo suppression: a handler that writes to BigCommerce records what it wrote; when the
//! webhook caused by that write arrives, the handler asks whether it is our own echo.

/// "We wrote content with hash `content_hash` to `resource` on `target`": recorded with an
/// attempt's result (see [`crate::Finish::echoes`]) or at once with [`Store::record_echo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoMarker {
    pub target: String,
    pub resource: String,
    pub content_hash: String,
}
