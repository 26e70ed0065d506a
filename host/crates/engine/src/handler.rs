use crate::context::JobContext;
use crate::error::JobError;
use ledgerlink_core::BoxFuture;
use ledgerlink_store::Job;

/// What a successful attempt amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Nothing to do (our own echo, an order not eligible for sync); the reason is kept.
    Skipped {
        reason: String,
    },
}

/// Runs jobs of one or more kinds. Registered on the [`crate::Engine`] per kind.
///
/// A handler must be safe to run again for the same job (a crash between its Visma call and
/// the job's completion means a second attempt): use the identity map and write intents in
/// [`JobContext`] around every write.
pub trait JobHandler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>>;
}

/// A handler from a function or closure, for small handlers and tests:
/// `handler_fn(|job, ctx| Box::pin(async move { Ok(JobOutcome::Done) }))`.
pub fn handler_fn<F>(f: F) -> impl JobHandler
where
    F: for<'a> Fn(&'a Job, &'a JobContext) -> BoxFuture<'a, Result<JobOutcome, JobError>>
        + Send
        + Sync
        + 'static,
{
    FnHandler(f)
}

struct FnHandler<F>(F);

impl<F> JobHandler for FnHandler<F>
where
    F: for<'a> Fn(&'a Job, &'a JobContext) -> BoxFuture<'a, Result<JobOutcome, JobError>>
        + Send
        + Sync
        + 'static,
{
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        ctx: &'a JobContext,
    ) -> BoxFuture<'a, Result<JobOutcome, JobError>> {
        (self.0)(job, ctx)
    }
}
