//! Mappings written with an attempt's result (`Finish::identities`) instead of on their own:
//! recorded whatever the outcome and also when the lease was lost, intents closed with them,
//! a conflict failing the attempt and leaving its intent open. Each test runs on SQLite and on
//! PostgreSQL (`LEDGERLINK_TEST_PG_URL`).

use chrono::{Duration as ChronoDuration, Utc};
use ledgerlink_core::{ExternalRef, LegalEntityId};
use ledgerlink_store::{
    ErrorRecord, Finish, FinishOutcome, IdentityKey, IdentityWrite, Job, JobState, NewJob,
    WriteStart,
};
use serde_json::json;
use std::time::Duration;

#[macro_use]
mod common;
use common::{Backend, open};

fn finish(
    job: &Job,
    owner: &str,
    outcome: FinishOutcome,
    identities: Vec<IdentityWrite>,
) -> Finish {
    Finish {
        identities,
        ..ledgerlink_store::testing::finish(job, owner, outcome)
    }
}

fn completes(key: &IdentityKey, visma_id: &str) -> IdentityWrite {
    IdentityWrite {
        key: key.clone(),
        visma_id: visma_id.into(),
        completes_intent: true,
        // Learned well before the result is written: the row must keep this time.
        learned_at: Utc::now() - ChronoDuration::minutes(10),
    }
}

fn key(kind: &str, n: u32) -> IdentityKey {
    IdentityKey::new(LegalEntityId::new("se-ab"), kind, n)
}

fn reference(n: u32) -> ExternalRef {
    ExternalRef::new(format!("bc-o-{n}"))
}

on_both_backends!(
    #[tokio::test]
    mappings_are_recorded_with_any_outcome_in_one_batch
);

/// A batch of results, each with the mapping its attempt made after opening an intent: done,
/// retry, failed and lease-lost alike record it and close the intent; a plain mapping (no
/// intent) is recorded too; `begin_write` then answers `AlreadyDone` for each.
async fn mappings_are_recorded_with_any_outcome_in_one_batch(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "mappings_are_recorded_with_any_outcome_in_one_batch",
    )
    .await
    else {
        return;
    };
    for n in 1..=4 {
        store
            .enqueue(&NewJob::new("k", format!("order:{n}"), json!({})))
            .await
            .unwrap();
    }
    let jobs = store.lease("w", 4, Duration::from_secs(30)).await.unwrap();
    assert_eq!(jobs.len(), 4);
    for (n, job) in (1..).zip(&jobs) {
        assert!(matches!(
            store
                .begin_write(&key("invoice", n), &reference(n), Some(job.id))
                .await
                .unwrap(),
            WriteStart::Proceed { .. }
        ));
    }
    assert_eq!(store.open_intent_count().await.unwrap(), 4);
    let error = ErrorRecord {
        class: "permanent".into(),
        code: "totals_mismatch".into(),
        message: "held for review".into(),
        field_path: None,
        payloads: json!({}),
        exhausted: false,
    };
    let done = finish(
        &jobs[0],
        "w",
        FinishOutcome::Done,
        vec![
            completes(&key("invoice", 1), "INV-1"),
            IdentityWrite {
                key: key("invoice_verified", 1),
                visma_id: "INV-1".into(),
                completes_intent: false,
                learned_at: chrono::Utc::now(),
            },
        ],
    );
    let retry = finish(
        &jobs[1],
        "w",
        FinishOutcome::Retry {
            at: Utc::now() + ChronoDuration::seconds(60),
            error: ErrorRecord {
                class: "transient".into(),
                ..error.clone()
            },
        },
        vec![completes(&key("invoice", 2), "INV-2")],
    );
    let failed = finish(
        &jobs[2],
        "w",
        FinishOutcome::Failed {
            error: error.clone(),
        },
        vec![completes(&key("invoice", 3), "INV-3")],
    );
    // The document exists in Visma even though this worker lost the lease.
    let stale = finish(
        &jobs[3],
        "other",
        FinishOutcome::Done,
        vec![completes(&key("invoice", 4), "INV-4")],
    );
    let results: Vec<bool> = store
        .finish_many(&[done, retry, failed, stale])
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results, vec![true, true, true, false]);
    // Each row tells when its attempt learned the Visma id, not when the batch committed.
    let recorded = store.identities_of_kind("invoice").await.unwrap();
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    for (bc_id, _, at) in &recorded {
        assert!(
            *at < Utc::now() - ChronoDuration::minutes(9),
            "{bc_id} recorded at {at}"
        );
    }

    assert_eq!(store.open_intent_count().await.unwrap(), 0);
    for n in 1..=4 {
        assert_eq!(
            store.identity(&key("invoice", n)).await.unwrap(),
            Some(format!("INV-{n}"))
        );
        assert_eq!(
            store
                .begin_write(&key("invoice", n), &reference(n), None)
                .await
                .unwrap(),
            WriteStart::AlreadyDone {
                visma_id: format!("INV-{n}")
            }
        );
    }
    assert_eq!(
        store.identity(&key("invoice_verified", 1)).await.unwrap(),
        Some("INV-1".into())
    );
    assert_eq!(store.job(jobs[0].id).await.unwrap().state, JobState::Done);
    assert_eq!(store.job(jobs[2].id).await.unwrap().state, JobState::Failed);
}

on_both_backends!(
    #[tokio::test]
    a_conflicting_mapping_fails_its_attempt_and_keeps_its_intent_open
);

/// A mapping that conflicts with the map (its Visma id already stands for another record)
/// fails its own attempt with `identity_conflict` and leaves its intent open; the other
/// results of the batch, and the same pair recorded again, are written as usual.
async fn a_conflicting_mapping_fails_its_attempt_and_keeps_its_intent_open(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "a_conflicting_mapping_fails_its_attempt_and_keeps_its_intent_open",
    )
    .await
    else {
        return;
    };
    store
        .put_identity(&key("invoice", 9), "INV-9", None)
        .await
        .unwrap();
    for n in 1..=3 {
        store
            .enqueue(&NewJob::new("k", format!("order:{n}"), json!({})))
            .await
            .unwrap();
    }
    let jobs = store.lease("w", 3, Duration::from_secs(30)).await.unwrap();
    for (n, job) in (1..).zip(&jobs) {
        store
            .begin_write(&key("invoice", n), &reference(n), Some(job.id))
            .await
            .unwrap();
    }
    let ok = finish(
        &jobs[0],
        "w",
        FinishOutcome::Done,
        vec![completes(&key("invoice", 1), "INV-1")],
    );
    let conflicting = finish(
        &jobs[1],
        "w",
        FinishOutcome::Done,
        vec![completes(&key("invoice", 2), "INV-9")],
    );
    // Recorded before by hand: the same pair again is fine.
    store
        .put_identity(&key("invoice", 3), "INV-3", None)
        .await
        .unwrap();
    let again = finish(
        &jobs[2],
        "w",
        FinishOutcome::Done,
        vec![completes(&key("invoice", 3), "INV-3")],
    );
    let results: Vec<bool> = store
        .finish_many(&[ok, conflicting, again])
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results, vec![true, true, true]);

    let failed = store.job(jobs[1].id).await.unwrap();
    assert_eq!(failed.state, JobState::Failed);
    let error = failed.error.unwrap();
    assert_eq!(error.code, "identity_conflict");
    assert_eq!(error.class, "permanent");
    assert!(error.message.contains("INV-9"), "{}", error.message);
    assert_eq!(store.identity(&key("invoice", 2)).await.unwrap(), None);
    // Its intent is still open: a replay looks the document up first.
    assert_eq!(store.open_intent_count().await.unwrap(), 1);
    assert!(matches!(
        store
            .begin_write(&key("invoice", 2), &reference(2), None)
            .await
            .unwrap(),
        WriteStart::LookUpFirst { .. }
    ));
    assert_eq!(store.job(jobs[0].id).await.unwrap().state, JobState::Done);
    assert_eq!(store.job(jobs[2].id).await.unwrap().state, JobState::Done);
    assert_eq!(
        store.identity(&key("invoice", 1)).await.unwrap(),
        Some("INV-1".into())
    );
}

on_both_backends!(
    #[tokio::test]
    concurrent_begin_writes_stay_exact
);

/// Many jobs' `begin_write` at once: each new record gets its own intent, a record asked for
/// twice gets one intent and a look-up for the second, a mapped record is already done.
async fn concurrent_begin_writes_stay_exact(backend: Backend) {
    let Some((_dir, store)) = open(backend, "concurrent_begin_writes_stay_exact").await else {
        return;
    };
    store
        .put_identity(&key("invoice", 99), "INV-99", None)
        .await
        .unwrap();
    let mut asks: Vec<u32> = (1..=40).collect();
    asks.push(7);
    asks.push(99);
    let keys: Vec<(IdentityKey, ExternalRef)> = asks
        .iter()
        .map(|&n| (key("invoice", n), reference(n)))
        .collect();
    let starts =
        futures::future::join_all(keys.iter().map(|(k, r)| store.begin_write(k, r, None))).await;
    let starts: Vec<WriteStart> = starts.into_iter().map(Result::unwrap).collect();
    // Record 7 was asked for twice: whichever call came first (on PostgreSQL they run on
    // separate connections) opened the intent, the other looks up first.
    let mut ids = std::collections::HashSet::new();
    let mut look_ups = Vec::new();
    for (n, start) in asks.iter().zip(&starts).take(41) {
        match start {
            WriteStart::Proceed { intent_id } => assert!(ids.insert(*intent_id), "{n}"),
            WriteStart::LookUpFirst { external_ref, .. } => look_ups.push(external_ref.clone()),
            other => panic!("{n}: {other:?}"),
        }
    }
    assert_eq!(ids.len(), 40);
    assert_eq!(look_ups, vec![reference(7)]);
    assert_eq!(
        starts[41],
        WriteStart::AlreadyDone {
            visma_id: "INV-99".into()
        }
    );
    assert_eq!(store.open_intent_count().await.unwrap(), 40);
    // Each intent is the one its record's next begin_write finds.
    for n in [1, 20, 40] {
        assert!(matches!(
            store
                .begin_write(&key("invoice", n), &reference(n), None)
                .await
                .unwrap(),
            WriteStart::LookUpFirst { .. }
        ));
    }
}
