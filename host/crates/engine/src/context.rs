//! What a handler can reach while it runs one attempt: the store (identity map, write
//! intents, echo markers), the audit recorder, follow-up jobs and the snapshot.

use crate::error::JobError;
use chrono::Utc;
use ledgerlink_core::{BcOrderId, ExternalRef, VismaDocumentNo};
use ledgerlink_store::{
    EchoMarker, IdentityKey, IdentityWrite, Job, JobId, NewExchange, NewJob, PluginInfo,
    REF_BC_ORDER, REF_VISMA_DOCUMENT, ReplayMode, Store, WriteStart,
};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Gathered during an attempt and written with its result in one transaction.
#[derive(Debug, Default)]
pub(crate) struct AttemptLog {
    pub exchanges: Vec<NewExchange>,
    pub plugin: Option<PluginInfo>,
    pub follow_ups: Vec<NewJob>,
    pub echoes: Vec<EchoMarker>,
    /// Mappings learnt (and intents completed), written with the result whatever it is.
    pub identities: Vec<IdentityWrite>,
    pub snapshot: Option<serde_json::Value>,
    pub refs: Vec<(String, String)>,
}

pub struct JobContext {
    store: Store,
    job_id: JobId,
    attempt: u32,
    replay_mode: ReplayMode,
    stored_snapshot: Option<serde_json::Value>,
    log: Mutex<AttemptLog>,
    pinned: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
}

impl JobContext {
    pub(crate) fn new(store: Store, job: &Job) -> Self {
        Self {
            store,
            job_id: job.id,
            attempt: job.attempts,
            replay_mode: job.replay_mode,
            stored_snapshot: job.snapshot.clone(),
            log: Mutex::new(AttemptLog::default()),
            pinned: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn take_log(&self) -> AttemptLog {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AttemptLog> {
        // A handler that panicked while holding the lock left plain data behind: still usable.
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn job_id(&self) -> JobId {
        self.job_id
    }

    /// This attempt's number, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn replay_mode(&self) -> ReplayMode {
        self.replay_mode
    }

    /// The snapshot to use instead of fetching the source: `Some` only when an operator
    /// replayed this job in snapshot mode.
    pub fn replay_snapshot(&self) -> Option<&serde_json::Value> {
        match self.replay_mode {
            ReplayMode::Snapshot => self.stored_snapshot.as_ref(),
            ReplayMode::Refetch => None,
        }
    }

    /// Keeps the source as fetched with the job, for a later "replay the snapshot".
    pub fn save_snapshot(&self, source: serde_json::Value) {
        self.lock().snapshot = Some(source);
    }

    /// Reads the snapshot saved by [`Self::save_snapshot`] in this attempt: the source
    /// already as JSON, so a converter that reads JSON need not serialise the source again.
    pub fn with_saved_snapshot<R>(&self, f: impl FnOnce(Option<&serde_json::Value>) -> R) -> R {
        f(self.lock().snapshot.as_ref())
    }

    /// The value this attempt chose for `key` (e.g. the plugin version it started with):
    /// the first call stores what `choose` returns, later calls of the same attempt get that
    /// value again, whatever changed meanwhile.
    pub fn pinned<T, E>(
        &self,
        key: &str,
        choose: impl FnOnce() -> Result<Arc<T>, E>,
    ) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
    {
        let mut pinned = self.pinned.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = pinned.get(key).and_then(|v| v.clone().downcast::<T>().ok()) {
            return Ok(v);
        }
        let v = choose()?;
        pinned.insert(key.to_owned(), v.clone());
        Ok(v)
    }

    // --- audit ---------------------------------------------------------------------------

    /// Records one HTTP exchange of this attempt. Secrets are redacted when stored.
    #[allow(clippy::too_many_arguments)]
    pub fn record_exchange(
        &self,
        system: &str,
        method: &str,
        url: &str,
        request_body: Option<&str>,
        status: Option<u16>,
        response_body: Option<&str>,
        duration: Duration,
    ) {
        self.record(NewExchange {
            system: system.to_owned(),
            method: method.to_owned(),
            url: url.to_owned(),
            request_headers: Vec::new(),
            request_body: request_body.map(str::to_owned),
            status,
            response_headers: Vec::new(),
            response_body: response_body.map(str::to_owned),
            at: Utc::now() - duration,
            duration,
        });
    }

    /// Records one HTTP exchange with headers.
    pub fn record(&self, exchange: NewExchange) {
        self.lock().exchanges.push(exchange);
    }

    /// The mapping plugin this attempt used.
    pub fn set_plugin(&self, name: &str, version: &str, hash: &str) {
        self.lock().plugin = Some(PluginInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            hash: hash.to_owned(),
        });
    }

    /// Makes this attempt findable by a BigCommerce order id (jobs with subject `order:<id>`
    /// are tagged automatically).
    pub fn tag_order(&self, order: BcOrderId) {
        self.tag(REF_BC_ORDER, &order.to_string());
    }

    /// Makes this attempt findable by a Visma document number.
    pub fn tag_document(&self, document: &VismaDocumentNo) {
        self.tag(REF_VISMA_DOCUMENT, document.as_str());
    }

    pub fn tag(&self, kind: &str, value: &str) {
        self.lock().refs.push((kind.to_owned(), value.to_owned()));
    }

    // --- follow-up work ------------------------------------------------------------------

    /// Queues a job to add when this attempt succeeds (dropped if it fails, so a retried
    /// attempt does not queue it twice).
    pub fn enqueue(&self, job: NewJob) {
        self.lock().follow_ups.push(job);
    }

    // --- identity map and write intents --------------------------------------------------
    //
    // Mappings this attempt learns are written with its result (one commit for a batch of
    // attempts, instead of one each), whatever the outcome; until then this attempt reads
    // them from its log and other jobs do not see them. The write intent stays open until
    // then too, so a crash before the result is written leaves what any crash after a Visma
    // write leaves: an open intent, and a next attempt that looks the record up by its
    // reference before creating.

    /// The Visma id mapped to `key`: learnt earlier in this attempt, else from the store.
    pub async fn identity(&self, key: &IdentityKey) -> Result<Option<String>, JobError> {
        if let Some(visma_id) = self.learnt(key) {
            return Ok(Some(visma_id));
        }
        Ok(self.store.identity(key).await?)
    }

    /// The mapping of `key` this attempt learnt, if any (the first, as the store keeps it).
    fn learnt(&self, key: &IdentityKey) -> Option<String> {
        self.lock()
            .identities
            .iter()
            .find(|w| w.key == *key)
            .map(|w| w.visma_id.clone())
    }

    fn learn(&self, key: &IdentityKey, visma_id: &str, completes_intent: bool) {
        let mut log = self.lock();
        // The same pair again changes nothing; a different one is kept too, so that writing
        // the result reports the conflict as `put_identity` would.
        match log
            .identities
            .iter_mut()
            .find(|w| w.key == *key && w.visma_id == visma_id)
        {
            Some(w) => w.completes_intent |= completes_intent,
            None => log.identities.push(IdentityWrite {
                key: key.clone(),
                visma_id: visma_id.to_owned(),
                completes_intent,
                learned_at: Utc::now(),
            }),
        }
    }

    /// Before a Visma write; see [`WriteStart`]. `AlreadyDone` also for a record this
    /// attempt wrote already.
    pub async fn begin_write(
        &self,
        key: &IdentityKey,
        external_ref: &ExternalRef,
    ) -> Result<WriteStart, JobError> {
        if let Some(visma_id) = self.learnt(key) {
            return Ok(WriteStart::AlreadyDone { visma_id });
        }
        Ok(self
            .store
            .begin_write(key, external_ref, Some(self.job_id))
            .await?)
    }

    /// After the Visma write (or a lookup that found it): records the mapping and closes the
    /// intent with this attempt's result (see above), and tags this attempt with the Visma
    /// id. A mapping that conflicts with the map fails the attempt (`identity_conflict`)
    /// when the result is written.
    pub async fn complete_write(&self, key: &IdentityKey, visma_id: &str) -> Result<(), JobError> {
        self.learn(key, visma_id, true);
        self.tag(REF_VISMA_DOCUMENT, visma_id);
        Ok(())
    }

    /// Records a mapping with this attempt's result, whatever it is (no write intent
    /// involved, e.g. a marker kept as a mapping). [`Self::identity`] sees it at once.
    pub fn put_identity_on_finish(&self, key: &IdentityKey, visma_id: &str) {
        self.learn(key, visma_id, false);
    }

    /// The write was rejected and certainly had no effect.
    pub async fn abandon_write(&self, key: &IdentityKey) -> Result<(), JobError> {
        Ok(self.store.abandon_write(key).await?)
    }

    // --- echo suppression ----------------------------------------------------------------

    pub async fn record_echo(
        &self,
        target: &str,
        resource: &str,
        content_hash: &str,
    ) -> Result<(), JobError> {
        Ok(self
            .store
            .record_echo(target, resource, content_hash)
            .await?)
    }

    /// Like [`Self::record_echo`], but written with this attempt's result, in the same
    /// transaction, and only if it succeeds: no separate commit. Enough when the webhook
    /// the write causes is handled by a job of the same subject (it runs after this one
    /// finished); use [`Self::record_echo`] when another subject's job may see it first.
    pub fn record_echo_on_success(&self, target: &str, resource: &str, content_hash: &str) {
        self.lock().echoes.push(EchoMarker {
            target: target.to_owned(),
            resource: resource.to_owned(),
            content_hash: content_hash.to_owned(),
        });
    }

    pub async fn is_echo(
        &self,
        target: &str,
        resource: &str,
        content_hash: Option<&str>,
        within: Duration,
    ) -> Result<bool, JobError> {
        Ok(self
            .store
            .is_echo(target, resource, content_hash, within)
            .await?)
    }
}
