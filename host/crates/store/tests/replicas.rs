//! Several hosts on one PostgreSQL database: two `Store`s (separate pools, as two processes
//! would have) storing the same webhooks and leasing the same queue at once. Every job must
//! run exactly once, jobs of one subject one at a time and in order, and each Visma write
//! must be started by one host only.

use chrono::Utc;
use ledgerlink_core::{ExternalRef, InboundEvent, LegalEntityId, StoreOutcome};
use ledgerlink_store::{Finish, FinishOutcome, IdentityKey, Job, JobId, Store, WriteStart};
use parking_lot::Mutex;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(30);

async fn two_replicas(test: &str) -> Option<(Store, Store)> {
    let url = ledgerlink_store::testing::pg_test_database(test).await?;
    // Opened at once: both run the migrations, which must not collide.
    let (a, b) = tokio::join!(Store::open(&url), Store::open(&url));
    Some((a.unwrap(), b.unwrap()))
}

fn event(key: &str, subject: &str) -> InboundEvent {
    InboundEvent {
        source: "bigcommerce:abc".into(),
        dedupe_key: key.into(),
        scope: "store/order/updated".into(),
        subject: subject.into(),
        payload: json!({"key": key}),
        received_at: Utc::now(),
    }
}

fn done(job: &Job, owner: &str) -> Finish {
    ledgerlink_store::testing::finish(job, owner, FinishOutcome::Done)
}

/// What the workers saw, checked as they go and at the end.
#[derive(Default)]
struct Ledger {
    /// Subjects some worker is running now.
    running: HashSet<String>,
    /// Jobs finished per subject, in the order they finished.
    finished: BTreeMap<String, Vec<JobId>>,
    /// Times each job was handed to a worker.
    runs: HashMap<JobId, u32>,
    /// Jobs per host.
    by_host: HashMap<String, u32>,
    violations: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_run_every_job_exactly_once_in_subject_order() {
    let Some((a, b)) = two_replicas("two_replicas_run_every_job_exactly_once").await else {
        return;
    };
    const SUBJECTS: usize = 60;
    const PER_SUBJECT: usize = 5;
    let total = SUBJECTS * PER_SUBJECT;

    // Producers: every webhook delivered to both replicas (as a load balancer retrying on the
    // other host would), interleaved with the workers below.
    let producer = |store: Store, reverse: bool| {
        tokio::spawn(async move {
            let mut stored = 0usize;
            let mut keys: Vec<(usize, usize)> = (0..PER_SUBJECT)
                .flat_map(|n| (0..SUBJECTS).map(move |s| (n, s)))
                .collect();
            if reverse {
                // The same order within each subject (a subject's events arrive in order),
                // but the subjects the other way round.
                keys.sort_by_key(|&(n, s)| (n, std::cmp::Reverse(s)));
            }
            for chunk in keys.chunks(10) {
                let mut calls = Vec::new();
                for &(n, s) in chunk {
                    let store = store.clone();
                    calls.push(async move {
                        store
                            .store_event(&event(&format!("s{s}-e{n}"), &format!("order:{s}")))
                            .await
                    });
                }
                for outcome in futures::future::join_all(calls).await {
                    if outcome.unwrap() == StoreOutcome::Stored {
                        stored += 1;
                    }
                }
            }
            stored
        })
    };
    let produced = [producer(a.clone(), false), producer(b.clone(), true)];

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut workers = Vec::new();
    for (host, store) in [("host-a", &a), ("host-b", &b)] {
        for w in 0..3 {
            let store = store.clone();
            let ledger = ledger.clone();
            let owner = format!("{host}/w{w}");
            let host = host.to_owned();
            workers.push(tokio::spawn(async move {
                let mut idle_rounds = 0;
                loop {
                    let jobs = store.lease(&owner, 4, LEASE).await.unwrap();
                    if jobs.is_empty() {
                        let finished: usize = ledger.lock().finished.values().map(Vec::len).sum();
                        if finished >= total || idle_rounds > 400 {
                            return;
                        }
                        idle_rounds += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    idle_rounds = 0;
                    {
                        let mut l = ledger.lock();
                        for job in &jobs {
                            *l.runs.entry(job.id).or_default() += 1;
                            *l.by_host.entry(host.clone()).or_default() += 1;
                            if !l.running.insert(job.subject.clone()) {
                                l.violations.push(format!(
                                    "{} leased job {} while another job of {} was running",
                                    owner, job.id, job.subject
                                ));
                            }
                        }
                    }
                    // Some work, so that leases of the two hosts overlap.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    for job in &jobs {
                        {
                            let mut l = ledger.lock();
                            l.running.remove(&job.subject);
                            l.finished
                                .entry(job.subject.clone())
                                .or_default()
                                .push(job.id);
                        }
                        assert!(store.finish(&done(job, &owner)).await.unwrap());
                    }
                }
            }));
        }
    }
    let mut stored = 0;
    for p in produced {
        stored += p.await.unwrap();
    }
    for w in workers {
        w.await.unwrap();
    }

    // Each event stored once although both replicas received it.
    assert_eq!(stored, total);
    assert_eq!(a.event_count().await.unwrap(), total as u64);
    let l = std::mem::take(&mut *ledger.lock());
    assert!(l.violations.is_empty(), "{:#?}", l.violations);
    let duplicates: Vec<_> = l.runs.iter().filter(|&(_, &n)| n > 1).collect();
    assert!(duplicates.is_empty(), "jobs run twice: {duplicates:?}");
    assert_eq!(l.runs.len(), total, "jobs run");
    // In each subject, jobs ran in the order their events were stored.
    for (subject, ids) in &l.finished {
        assert_eq!(ids.len(), PER_SUBJECT, "{subject}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{subject}: {ids:?}");
        for (n, id) in ids.iter().enumerate() {
            let job = b.job(*id).await.unwrap();
            assert_eq!(job.payload["key"], format!("s{}-e{n}", &subject[6..]));
        }
    }
    // Both hosts did work (the test would prove little otherwise).
    assert!(
        l.by_host.get("host-a").copied().unwrap_or(0) > 0
            && l.by_host.get("host-b").copied().unwrap_or(0) > 0,
        "{:?}",
        l.by_host
    );
    let counts = a.state_counts().await.unwrap();
    assert_eq!(
        (counts.done, counts.pending, counts.running),
        (total as u64, 0, 0)
    );
    // One attempt recorded per job: nothing was done twice.
    let attempts = a
        .attempts_of(&l.runs.keys().copied().collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(attempts.len(), total);
    println!(
        "two replicas: {total} jobs, {} duplicates, by host {:?}",
        duplicates.len(),
        l.by_host
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_one_replica_starts_a_visma_write() {
    let Some((a, b)) = two_replicas("only_one_replica_starts_a_visma_write").await else {
        return;
    };
    let entity = LegalEntityId::new("se");
    for order in 0..20 {
        let key = IdentityKey::new(entity.clone(), "invoice", order);
        let reference = ExternalRef::new(format!("BC-{order}"));
        let mut calls = Vec::new();
        for store in [&a, &b, &a, &b] {
            let (store, key, reference) = (store.clone(), key.clone(), reference.clone());
            calls.push(tokio::spawn(async move {
                store.begin_write(&key, &reference, None).await.unwrap()
            }));
        }
        let mut proceed = 0;
        for c in calls {
            match c.await.unwrap() {
                WriteStart::Proceed { .. } => proceed += 1,
                WriteStart::LookUpFirst { external_ref, .. } => {
                    assert_eq!(external_ref, reference)
                }
                WriteStart::AlreadyDone { visma_id } => panic!("nothing written yet: {visma_id}"),
            }
        }
        assert_eq!(proceed, 1, "order {order}: writes started");
        // Two hosts recording different documents for one order: one wins, one is refused.
        let (doc_a, doc_b) = (format!("A-{order}"), format!("B-{order}"));
        let (ra, rb) = tokio::join!(
            a.complete_write(&key, &doc_a, None),
            b.complete_write(&key, &doc_b, None),
        );
        assert!(ra.is_ok() != rb.is_ok(), "order {order}: {ra:?} / {rb:?}");
        let mapped = a.identity(&key).await.unwrap().unwrap();
        assert!(mapped == doc_a || mapped == doc_b);
        assert_eq!(b.identity(&key).await.unwrap(), Some(mapped));
    }
    assert_eq!(a.open_intent_count().await.unwrap(), 0);
}

/// Job ids come from a sequence when a job is inserted, but a job becomes visible when its
/// transaction commits: another host's insert still in flight may hold a lower id than a job
/// already committed for the same subject. A lease must wait for it rather than run the later
/// job first. Here a raw connection plays that host, following the store's protocol (the
/// shared advisory lock first, see `postgres.rs`), and keeps its transaction open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_waits_for_earlier_jobs_still_being_inserted() {
    use sqlx::Connection;
    let Some((a, b)) = two_replicas("a_lease_waits_for_earlier_jobs").await else {
        return;
    };
    let url = a.path().to_str().unwrap().to_owned();
    let mut other_host = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut in_flight = other_host.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock_shared(7431001)")
        .execute(&mut *in_flight)
        .await
        .unwrap();
    let first: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (kind, subject, payload, state, next_run_at, created_at, updated_at)
         VALUES ('k', 'order:7', '\"first\"', 'pending', 0, 0, 0) RETURNING id",
    )
    .fetch_one(&mut *in_flight)
    .await
    .unwrap();

    // The second job of the subject, committed while the first is not.
    let second = b
        .enqueue(&ledgerlink_store::NewJob::new(
            "k",
            "order:7",
            json!("second"),
        ))
        .await
        .unwrap();
    assert!(second.0 > first);

    let lease = tokio::spawn(async move { a.lease("host-a", 10, LEASE).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !lease.is_finished(),
        "the lease went ahead while an earlier job of its subject was being inserted"
    );
    in_flight.commit().await.unwrap();
    let leased = lease.await.unwrap();
    let ids: Vec<i64> = leased.iter().map(|j| j.id.0).collect();
    assert_eq!(ids, vec![first], "the first job, and only it");
}
