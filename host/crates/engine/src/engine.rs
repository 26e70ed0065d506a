//! The engine: one dispatcher that leases jobs in batches and runs each on its own task, at
//! most `workers` at a time; lease renewal while jobs run; graceful shutdown.

use crate::context::JobContext;
use crate::error::JobError;
use crate::handler::{JobHandler, JobOutcome};
use crate::retry::{RetryDecision, RetryPolicy};
use chrono::Utc;
use futures::FutureExt;
use ledgerlink_store::{
    AttemptRecord, Finish, FinishOutcome, Job, JobId, REF_BC_ORDER, Store, StoreError,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Jobs run at the same time (of different subjects).
    pub workers: usize,
    /// Most jobs leased by one query.
    pub lease_batch: usize,
    /// How long a lease lasts; renewed every third of it while the job runs. A crashed
    /// worker's jobs are leased again this long after its last renewal.
    pub lease_duration: Duration,
    /// How often to look for due jobs when nothing signalled new work (retries coming due,
    /// jobs added by other processes).
    pub poll_interval: Duration,
    /// An attempt running longer is abandoned and retried as an unknown outcome.
    pub attempt_timeout: Option<Duration>,
    /// On shutdown, how long running attempts may take to finish before their leases are
    /// released for the next start.
    pub shutdown_grace: Duration,
    pub retry: RetryPolicy,
    /// Lease owner name; defaults to `<host>-<pid>-<random>`.
    pub worker_id: Option<String>,
    /// How long the result writer waits, after a result arrives, for others to share its
    /// transaction: fewer commits and statements per job under load, for that much more time
    /// until a job's result (and the next job of its subject) is committed. Zero writes
    /// whatever is waiting at once. (e2e at 300 orders/s: 2 ms cut the SQLite thread's CPU
    /// by ~8 % and the host's by ~5 %.)
    pub finish_gather: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            lease_batch: 64,
            lease_duration: Duration::from_secs(60),
            poll_interval: Duration::from_millis(250),
            attempt_timeout: Some(Duration::from_secs(300)),
            shutdown_grace: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            worker_id: None,
            finish_gather: Duration::from_millis(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("engine task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run of the engine did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineReport {
    pub attempts: u64,
    /// Leases given back at shutdown because their attempts did not finish in time.
    pub released: u64,
}

/// The finisher's answer: whether the lease still held, or the error and the result back
/// (for another try without having kept a copy).
type FinishReply = oneshot::Sender<Result<bool, (String, Finish)>>;

struct Shared {
    store: Store,
    /// Attempt results go through one task that writes them in batches, one commit each.
    finisher: mpsc::Sender<(Finish, FinishReply)>,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    config: EngineConfig,
    owner: String,
    inflight: Mutex<HashSet<JobId>>,
}

impl Shared {
    fn inflight(&self) -> std::sync::MutexGuard<'_, HashSet<JobId>> {
        self.inflight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Engine {
    store: Store,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    config: EngineConfig,
}

impl Engine {
    pub fn new(store: Store, config: EngineConfig) -> Self {
        Self {
            store,
            handlers: HashMap::new(),
            config,
        }
    }

    /// Registers the handler for a job kind (replacing any earlier one). Jobs of a kind with
    /// no handler go to the error queue with code `no_handler`.
    pub fn register(&mut self, kind: impl Into<String>, handler: Arc<dyn JobHandler>) -> &mut Self {
        self.handlers.insert(kind.into(), handler);
        self
    }

    pub fn with_handler(mut self, kind: impl Into<String>, handler: impl JobHandler) -> Self {
        self.register(kind, Arc::new(handler));
        self
    }

    /// Starts the workers on the current runtime.
    pub fn start(self) -> EngineHandle {
        let owner = self.config.worker_id.clone().unwrap_or_else(default_owner);
        let (finish_tx, finish_rx) = mpsc::channel(1024);
        let shared = Arc::new(Shared {
            finisher: finish_tx,
            store: self.store,
            handlers: self.handlers,
            config: self.config,
            owner: owner.clone(),
            inflight: Mutex::new(HashSet::new()),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let task = tokio::spawn(dispatch(shared, stop_rx, finish_rx));
        EngineHandle {
            stop: stop_tx,
            task,
            owner,
        }
    }

    /// Runs until `signal` completes (e.g. `tokio::signal::ctrl_c()`), then shuts down
    /// gracefully.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()>,
    ) -> Result<EngineReport, EngineError> {
        let handle = self.start();
        signal.await;
        handle.shutdown().await
    }
}

pub struct EngineHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<EngineReport, EngineError>>,
    owner: String,
}

impl EngineHandle {
    /// The lease owner name of this engine's workers.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Stops leasing, lets running attempts finish within the grace period, releases the
    /// leases of those that did not.
    pub async fn shutdown(self) -> Result<EngineReport, EngineError> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| EngineError::Task(e.to_string()))?
    }

    /// Stops everything at once without touching the database, as a crash would: running
    /// jobs stay leased until their leases expire. For tests.
    pub fn abort(self) {
        self.task.abort();
    }
}

fn default_owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Aborts the task when dropped, so an aborted dispatcher takes its helper tasks with it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn dispatch(
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    finish_rx: mpsc::Receiver<(Finish, FinishReply)>,
) -> Result<EngineReport, EngineError> {
    let _finisher = AbortOnDrop(tokio::spawn(finisher(
        shared.store.clone(),
        finish_rx,
        shared.config.finish_gather,
    )));
    let cfg = &shared.config;
    let workers = cfg.workers.max(1);
    let ready = shared.store.job_ready();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut heartbeat =
        tokio::time::interval((cfg.lease_duration / 3).max(Duration::from_millis(10)));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut report = EngineReport::default();
    // Expired leases (crashed workers) are looked for this often, not on every lease.
    let reclaim_every = (cfg.lease_duration / 4).max(cfg.poll_interval);
    let mut next_reclaim = Instant::now();
    tracing::info!(owner = %shared.owner, workers, "engine started");

    // Jobs leased but not started yet. Leasing ahead in batches (instead of one job per
    // freed worker) keeps the lease queries few under load; an idle engine still leases as
    // soon as anything arrives. Queued jobs are renewed and released like running ones.
    let batch = cfg.lease_batch.max(1);
    let capacity = workers + batch;
    let mut queue: VecDeque<Job> = VecDeque::new();

    while !*stop.borrow() {
        let room = capacity.saturating_sub(tasks.len() + queue.len());
        let mut got_all = false;
        if room > 0 && (queue.is_empty() || room >= batch.div_ceil(2)) {
            let want = room.min(batch);
            let reclaim = Instant::now() >= next_reclaim;
            if reclaim {
                next_reclaim = Instant::now() + reclaim_every;
            }
            match shared
                .store
                .lease_with(&shared.owner, want, cfg.lease_duration, reclaim)
                .await
            {
                Ok(jobs) => {
                    got_all = jobs.len() == want;
                    let mut inflight = shared.inflight();
                    for job in jobs {
                        inflight.insert(job.id);
                        queue.push_back(job);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "leasing jobs failed; trying again shortly"),
            }
        }
        while tasks.len() < workers
            && let Some(job) = queue.pop_front()
        {
            report.attempts += 1;
            tasks.spawn(run_job(shared.clone(), job));
        }
        // More may be waiting and there is room: lease again at once.
        if got_all && tasks.len() + queue.len() < capacity {
            continue;
        }
        tokio::select! {
            _ = ready.notified() => {}
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = tokio::time::sleep(cfg.poll_interval) => {}
            _ = heartbeat.tick() => renew(&shared).await,
            _ = stop.changed() => {}
        }
        while tasks.try_join_next().is_some() {}
    }

    tracing::info!(owner = %shared.owner, running = tasks.len(), "engine stopping");
    let deadline = tokio::time::sleep(cfg.shutdown_grace);
    tokio::pin!(deadline);
    while !tasks.is_empty() {
        tokio::select! {
            _ = tasks.join_next() => {}
            _ = heartbeat.tick() => renew(&shared).await,
            _ = &mut deadline => break,
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    let left: Vec<JobId> = shared.inflight().drain().collect();
    if !left.is_empty() {
        report.released = shared.store.release_leases(&shared.owner, &left).await?;
        tracing::info!(released = report.released, "released unfinished leases");
    }
    Ok(report)
}

/// Most results written in one transaction.
const FINISH_BATCH: usize = 256;

async fn finisher(store: Store, mut rx: mpsc::Receiver<(Finish, FinishReply)>, gather: Duration) {
    let mut finishes = Vec::with_capacity(FINISH_BATCH);
    let mut replies = Vec::with_capacity(FINISH_BATCH);
    while let Some((finish, reply)) = rx.recv().await {
        finishes.push(finish);
        replies.push(reply);
        if !gather.is_zero() {
            tokio::time::sleep(gather).await;
        }
        while finishes.len() < FINISH_BATCH {
            match rx.try_recv() {
                Ok((finish, reply)) => {
                    finishes.push(finish);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match store.finish_many(&finishes).await {
            Ok(results) => {
                for ((reply, finish), result) in
                    replies.drain(..).zip(finishes.drain(..)).zip(results)
                {
                    let _ = reply.send(result.map_err(|e| (e.to_string(), finish)));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for (reply, finish) in replies.drain(..).zip(finishes.drain(..)) {
                    let _ = reply.send(Err((msg.clone(), finish)));
                }
            }
        }
    }
}

async fn renew(shared: &Shared) {
    let ids: Vec<JobId> = shared.inflight().iter().copied().collect();
    if ids.is_empty() {
        return;
    }
    match shared
        .store
        .renew_leases(&shared.owner, &ids, shared.config.lease_duration)
        .await
    {
        Ok(held) if (held as usize) < ids.len() => {
            tracing::warn!(
                held,
                running = ids.len(),
                "some leases were lost; their results will be discarded"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "renewing leases failed"),
    }
}

async fn run_job(shared: Arc<Shared>, job: Job) {
    let started_at = Utc::now();
    let clock = Instant::now();
    let ctx = JobContext::new(shared.store.clone(), &job);
    let result = match shared.handlers.get(&job.kind) {
        None => Err(JobError::permanent(
            "no_handler",
            format!("no handler is registered for job kind {:?}", job.kind),
        )),
        Some(handler) => attempt(handler.as_ref(), &job, &ctx, shared.config.attempt_timeout).await,
    };
    let duration = clock.elapsed();
    let log = ctx.take_log();

    let outcome = match result {
        Ok(JobOutcome::Done) => FinishOutcome::Done,
        Ok(JobOutcome::Skipped { reason }) => FinishOutcome::Skipped { reason },
        Err(e) => match shared.config.retry.decide(job.attempts, e.class) {
            RetryDecision::RetryAfter(delay) => FinishOutcome::Retry {
                at: Utc::now() + delay,
                error: e.to_record(false),
            },
            RetryDecision::Fail => FinishOutcome::Failed {
                error: e.to_record(false),
            },
            RetryDecision::Exhausted => {
                let mut error = e.to_record(true);
                error.message = format!(
                    "retries exhausted after {} attempts; last error: {}",
                    job.attempts, error.message
                );
                FinishOutcome::Failed { error }
            }
        },
    };
    match &outcome {
        FinishOutcome::Failed { error } => {
            tracing::warn!(job = %job.id, kind = %job.kind, subject = %job.subject,
            code = %error.code, field = ?error.field_path, "job moved to the error queue: {}", error.message)
        }
        FinishOutcome::Retry { at, error } => {
            tracing::info!(job = %job.id, attempt = job.attempts, code = %error.code,
            retry_at = %at, "attempt failed, will retry: {}", error.message)
        }
        _ => tracing::debug!(job = %job.id, "job finished"),
    }

    let mut refs = log.refs;
    if let Some(order) = job.subject.strip_prefix("order:") {
        refs.push((REF_BC_ORDER.to_owned(), order.to_owned()));
    }
    let finish = Finish {
        job_id: job.id,
        owner: shared.owner.clone(),
        attempt: job.attempts,
        outcome,
        follow_ups: log.follow_ups,
        echoes: log.echoes,
        identities: log.identities,
        snapshot: log.snapshot,
        audit: AttemptRecord {
            kind: job.kind.clone(),
            subject: job.subject.clone(),
            worker: shared.owner.clone(),
            started_at,
            duration,
            replay_mode: job.replay_mode,
            plugin: log.plugin,
            exchanges: log.exchanges,
            refs,
        },
    };
    // If the database is briefly unavailable, try a few times; if it stays so, the lease
    // runs out and the job is attempted again: slower, but nothing is lost.
    let mut pause = Duration::from_millis(50);
    let mut finish = finish;
    for _ in 0..6 {
        let (reply, answer) = oneshot::channel();
        if shared.finisher.send((finish, reply)).await.is_err() {
            tracing::warn!(job = %job.id, "the result writer stopped; the attempt is not recorded");
            break;
        }
        let error = match answer.await {
            Ok(Ok(true)) => break,
            Ok(Ok(false)) => {
                tracing::warn!(job = %job.id, "lease lost before the attempt finished; result discarded");
                break;
            }
            Ok(Err((error, back))) => {
                finish = back;
                error
            }
            Err(_) => {
                tracing::warn!(job = %job.id, "the result writer stopped; the attempt is not recorded");
                break;
            }
        };
        tracing::warn!(job = %job.id, error = %error, "recording the attempt failed; trying again");
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
    shared.inflight().remove(&job.id);
}

async fn attempt(
    handler: &dyn JobHandler,
    job: &Job,
    ctx: &JobContext,
    timeout: Option<Duration>,
) -> Result<JobOutcome, JobError> {
    let run = AssertUnwindSafe(handler.handle(job, ctx)).catch_unwind();
    let caught = match timeout {
        Some(limit) => match tokio::time::timeout(limit, run).await {
            Ok(caught) => caught,
            Err(_) => {
                return Err(JobError::unknown(
                    "attempt_timeout",
                    format!("the attempt did not finish within {limit:?}"),
                ));
            }
        },
        None => run.await,
    };
    caught.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(JobError::permanent(
            "handler_panic",
            format!("the handler panicked: {what}"),
        ))
    })
}
