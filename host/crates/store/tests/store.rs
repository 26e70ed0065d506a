//! Store behaviour, each test run on both backends: a real SQLite file and a fresh
//! PostgreSQL database (`LEDGERLINK_TEST_PG_URL`, see `ledgerlink_store::testing`). Test names
//! are `<behaviour>::sqlite` and `<behaviour>::postgres`.

use chrono::{Duration as ChronoDuration, Utc};
use ledgerlink_core::{
    EventSink, ExternalRef, InboundEvent, LegalEntityId, StoreOutcome, Watermarks,
};
use ledgerlink_store::{
    ErrorRecord, FinishOutcome, IdentityKey, JobFilter, JobId, JobState, NewExchange, NewJob,
    PluginInfo, ReplayMode, ReplaySelector, Store, StoreError, WriteStart,
};
use serde_json::json;
use std::time::Duration;

#[macro_use]
mod common;
use common::{Backend, open};

fn event(key: &str, subject: &str) -> InboundEvent {
    InboundEvent {
        source: "bigcommerce:abc".into(),
        dedupe_key: key.into(),
        scope: "store/order/created".into(),
        subject: subject.into(),
        payload: json!({"data": {"id": 1}}),
        received_at: Utc::now(),
    }
}

use ledgerlink_store::testing::finish;

fn permanent(code: &str) -> ErrorRecord {
    ErrorRecord {
        class: "permanent".into(),
        code: code.into(),
        message: "no VAT category for rate 7%".into(),
        field_path: Some("lines[0].vat".into()),
        payloads: json!({"order": {"id": 5}, "client_secret": "s"}),
        exhausted: false,
    }
}

const LEASE: Duration = Duration::from_secs(30);

on_both_backends!(
    #[tokio::test]
    inbox_dedupes_and_creates_one_job_per_event
);

async fn inbox_dedupes_and_creates_one_job_per_event(backend: Backend) {
    let Some((dir, store)) = open(backend, "inbox_dedupes_and_creates_one_job_per_event").await
    else {
        return;
    };
    let sink: &dyn EventSink = &store;
    assert_eq!(
        sink.store(event("h1", "order:1")).await.unwrap(),
        StoreOutcome::Stored
    );
    assert_eq!(
        sink.store(event("h1", "order:1")).await.unwrap(),
        StoreOutcome::Duplicate
    );
    let mut other_source = event("h1", "order:1");
    other_source.source = "bigcommerce:other".into();
    assert_eq!(
        sink.store(other_source).await.unwrap(),
        StoreOutcome::Stored
    );
    let batch = store
        .store_events(&[
            event("h2", "order:2"),
            event("h2", "order:2"),
            event("h3", "order:3"),
        ])
        .await
        .unwrap();
    assert_eq!(
        batch,
        vec![
            StoreOutcome::Stored,
            StoreOutcome::Duplicate,
            StoreOutcome::Stored
        ]
    );
    assert_eq!(store.event_count().await.unwrap(), 4);
    assert_eq!(store.state_counts().await.unwrap().pending, 4);
    assert_eq!(store.unprocessed_event_count().await.unwrap(), 4);
    let jobs = store.lease("w", 10, LEASE).await.unwrap();
    assert_eq!(jobs[0].kind, "store/order/created");
    assert_eq!(jobs[0].source.as_deref(), Some("bigcommerce:abc"));
    assert_eq!(jobs[0].payload, json!({"data": {"id": 1}}));

    let marks: &dyn Watermarks = &store;
    assert_eq!(marks.get("orders").await.unwrap(), None);
    marks.set("orders", "2026-01-01T00:00:00Z").await.unwrap();
    marks.set("orders", "2026-01-02T00:00:00Z").await.unwrap();
    assert_eq!(
        marks.get("orders").await.unwrap().as_deref(),
        Some("2026-01-02T00:00:00Z")
    );

    // Reopening the same file keeps everything and does not re-run migrations.
    let path = store.path().to_path_buf();
    store.close().await;
    let again = Store::open(&path).await.unwrap();
    assert_eq!(again.event_count().await.unwrap(), 4);
    assert_eq!(
        again.watermark("orders").await.unwrap().as_deref(),
        Some("2026-01-02T00:00:00Z")
    );
    drop(dir);
}

on_both_backends!(
    #[tokio::test]
    lease_keeps_subject_order_and_failed_jobs_block_their_subject
);

async fn lease_keeps_subject_order_and_failed_jobs_block_their_subject(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "lease_keeps_subject_order_and_failed_jobs_block_their_subject",
    )
    .await
    else {
        return;
    };
    let a1 = store
        .enqueue(&NewJob::new("k", "order:A", json!(1)))
        .await
        .unwrap();
    let a2 = store
        .enqueue(&NewJob::new("k", "order:A", json!(2)))
        .await
        .unwrap();
    let b1 = store
        .enqueue(&NewJob::new("k", "order:B", json!(1)))
        .await
        .unwrap();
    let a3 = store
        .enqueue(&NewJob::new("k", "order:A", json!(3)))
        .await
        .unwrap();

    let first = store.lease("w", 10, LEASE).await.unwrap();
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a1, b1]);
    assert!(
        first
            .iter()
            .all(|j| j.state == JobState::Running && j.attempts == 1)
    );
    assert!(
        store.lease("w", 10, LEASE).await.unwrap().is_empty(),
        "A2 waits for A1"
    );

    // A1 fails permanently: A2 and A3 stay blocked behind it.
    assert!(
        store
            .finish(&finish(
                &first[0],
                "w",
                FinishOutcome::Failed {
                    error: permanent("mapping_error")
                }
            ))
            .await
            .unwrap()
    );
    assert!(
        store
            .finish(&finish(&first[1], "w", FinishOutcome::Done))
            .await
            .unwrap()
    );
    assert!(store.lease("w", 10, LEASE).await.unwrap().is_empty());

    // Skipping A1 lets A2 run, and only A2.
    let report = store
        .skip(
            &ReplaySelector::Job(a1),
            "handled by hand in Visma",
            "alice",
        )
        .await
        .unwrap();
    assert_eq!(report.changed, vec![a1]);
    let next = store.lease("w", 10, LEASE).await.unwrap();
    assert_eq!(next.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a2]);

    // Replaying A1 while A2 runs must not run A1 beside it.
    store
        .replay(&ReplaySelector::Job(a1), ReplayMode::Refetch, "alice")
        .await
        .unwrap();
    assert!(store.lease("w", 10, LEASE).await.unwrap().is_empty());
    store
        .finish(&finish(&next[0], "w", FinishOutcome::Done))
        .await
        .unwrap();
    let after = store.lease("w", 10, LEASE).await.unwrap();
    assert_eq!(
        after.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a1],
        "the replayed older job goes first"
    );
    store
        .finish(&finish(&after[0], "w", FinishOutcome::Done))
        .await
        .unwrap();
    assert_eq!(store.lease("w", 10, LEASE).await.unwrap()[0].id, a3);
}

on_both_backends!(
    #[tokio::test]
    retry_waits_for_next_run_at_and_expired_leases_are_taken_again
);

async fn retry_waits_for_next_run_at_and_expired_leases_are_taken_again(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "retry_waits_for_next_run_at_and_expired_leases_are_taken_again",
    )
    .await
    else {
        return;
    };
    let id = store
        .enqueue(&NewJob::new("k", "order:1", json!({})))
        .await
        .unwrap();
    let job = store.lease("w1", 1, LEASE).await.unwrap().remove(0);
    let mut err = permanent("visma_503");
    err.class = "transient".into();
    let at = Utc::now() + ChronoDuration::milliseconds(150);
    store
        .finish(&finish(&job, "w1", FinishOutcome::Retry { at, error: err }))
        .await
        .unwrap();
    assert!(
        store.lease("w1", 1, LEASE).await.unwrap().is_empty(),
        "not due yet"
    );
    let kept = store.job(id).await.unwrap();
    assert_eq!(kept.state, JobState::Pending);
    assert_eq!(kept.error.unwrap().code, "visma_503");
    tokio::time::sleep(Duration::from_millis(170)).await;

    // Crash: w1 leases for a short time and never finishes.
    let crashed = store
        .lease("w1", 1, Duration::from_millis(100))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(crashed.attempts, 2);
    assert!(
        store.lease("w2", 1, LEASE).await.unwrap().is_empty(),
        "lease still valid"
    );
    tokio::time::sleep(Duration::from_millis(130)).await;
    let taken = store.lease("w2", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(
        (taken.id, taken.attempts, taken.lease_owner.as_deref()),
        (id, 3, Some("w2"))
    );

    // The old owner's late result is refused and only audited.
    assert!(
        !store
            .finish(&finish(&crashed, "w1", FinishOutcome::Done))
            .await
            .unwrap()
    );
    assert_eq!(store.job(id).await.unwrap().state, JobState::Running);
    assert!(
        store
            .finish(&finish(&taken, "w2", FinishOutcome::Done))
            .await
            .unwrap()
    );
    let attempts = store.attempts_of(&[id]).await.unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["retry", "lease_lost", "done"]);
    assert_eq!(store.unprocessed_event_count().await.unwrap(), 0);
}

on_both_backends!(
    #[tokio::test]
    release_returns_jobs_uncounted_and_follow_ups_only_on_success
);

async fn release_returns_jobs_uncounted_and_follow_ups_only_on_success(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "release_returns_jobs_uncounted_and_follow_ups_only_on_success",
    )
    .await
    else {
        return;
    };
    let id = store
        .enqueue(&NewJob::new("k", "order:1", json!({})))
        .await
        .unwrap();
    let job = store.lease("w", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(store.release_leases("w", &[id]).await.unwrap(), 1);
    let back = store.job(id).await.unwrap();
    assert_eq!((back.state, back.attempts), (JobState::Pending, 0));
    assert!(
        !store
            .finish(&finish(&job, "w", FinishOutcome::Done))
            .await
            .unwrap()
    );

    let job = store.lease("w", 1, LEASE).await.unwrap().remove(0);
    let mut f = finish(
        &job,
        "w",
        FinishOutcome::Failed {
            error: permanent("x"),
        },
    );
    f.follow_ups = vec![NewJob::new("writeback", "order:1", json!({"n": 1}))];
    f.snapshot = Some(json!({"order": 1}));
    store.finish(&f).await.unwrap();
    assert_eq!(
        store.state_counts().await.unwrap().pending,
        0,
        "no follow-up from a failure"
    );
    assert_eq!(
        store.job(id).await.unwrap().snapshot,
        Some(json!({"order": 1}))
    );

    store
        .replay(&ReplaySelector::AllFailed, ReplayMode::Snapshot, "op")
        .await
        .unwrap();
    let job = store.lease("w", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(job.replay_mode, ReplayMode::Snapshot);
    let mut f = finish(&job, "w", FinishOutcome::Done);
    f.follow_ups = vec![NewJob::new("writeback", "order:1", json!({"n": 1}))];
    store.finish(&f).await.unwrap();
    let follow = store.lease("w", 1, LEASE).await.unwrap().remove(0);
    assert_eq!(
        (follow.kind.as_str(), follow.parent_job_id),
        ("writeback", Some(id))
    );
}

on_both_backends!(
    #[tokio::test]
    errors_list_replay_and_skip_by_filter
);

async fn errors_list_replay_and_skip_by_filter(backend: Backend) {
    let Some((_dir, store)) = open(backend, "errors_list_replay_and_skip_by_filter").await else {
        return;
    };
    let mut ids = Vec::new();
    for (i, code) in ["mapping_error", "visma_validation", "mapping_error"]
        .iter()
        .enumerate()
    {
        let id = store
            .enqueue(&NewJob::new(
                "order.sync",
                format!("order:{i}"),
                json!({"i": i}),
            ))
            .await
            .unwrap();
        let job = store.lease("w", 1, LEASE).await.unwrap().remove(0);
        store
            .finish(&finish(
                &job,
                "w",
                FinishOutcome::Failed {
                    error: permanent(code),
                },
            ))
            .await
            .unwrap();
        ids.push(id);
    }
    let errors = store.errors_list(&JobFilter::default()).await.unwrap();
    assert_eq!(errors.len(), 3);
    let e = errors
        .iter()
        .find(|j| j.id == ids[1])
        .unwrap()
        .error
        .clone()
        .unwrap();
    assert_eq!(
        (e.code.as_str(), e.field_path.as_deref()),
        ("visma_validation", Some("lines[0].vat"))
    );
    assert_eq!(e.payloads["order"]["id"], 5);
    assert_eq!(e.payloads["client_secret"], "[REDACTED]");
    let mapping = JobFilter {
        error_code: Some("mapping_error".into()),
        ..Default::default()
    };
    assert_eq!(store.errors_list(&mapping).await.unwrap().len(), 2);
    let future = JobFilter {
        since: Some(Utc::now() + ChronoDuration::hours(1)),
        ..Default::default()
    };
    assert!(store.errors_list(&future).await.unwrap().is_empty());

    let snap = store
        .replay(
            &ReplaySelector::Filter(mapping.clone()),
            ReplayMode::Snapshot,
            "op",
        )
        .await
        .unwrap();
    assert!(
        snap.changed.is_empty() && snap.refused.len() == 2,
        "no snapshot stored: {snap:?}"
    );
    let replayed = store
        .replay(&ReplaySelector::Filter(mapping), ReplayMode::Refetch, "op")
        .await
        .unwrap();
    assert_eq!(replayed.changed, vec![ids[0], ids[2]]);
    let job = store.job(ids[0]).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Pending, 0));

    let refused = store
        .skip(&ReplaySelector::Job(ids[1]), "  ", "op")
        .await
        .unwrap();
    assert!(refused.changed.is_empty() && refused.refused[0].1.contains("reason"));
    store
        .skip(
            &ReplaySelector::Job(ids[1]),
            "customer deleted the order",
            "bob",
        )
        .await
        .unwrap();
    let skipped = store.job(ids[1]).await.unwrap();
    assert_eq!(
        (skipped.state, skipped.resolution.as_deref()),
        (JobState::Skipped, Some("customer deleted the order"))
    );
    let actions = store.job_actions(ids[1]).await.unwrap();
    assert_eq!(
        (actions[0].action.as_str(), actions[0].actor.as_str()),
        ("skip", "bob")
    );
    assert!(
        store
            .errors_list(&JobFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .replay(&ReplaySelector::Job(JobId(999)), ReplayMode::Refetch, "op")
            .await,
        Err(StoreError::JobNotFound(_))
    ));
}

on_both_backends!(
    #[tokio::test]
    identity_map_is_unique_on_both_sides
);

async fn identity_map_is_unique_on_both_sides(backend: Backend) {
    let Some((_dir, store)) = open(backend, "identity_map_is_unique_on_both_sides").await else {
        return;
    };
    let e1 = LegalEntityId::new("se-ab");
    let k1 = IdentityKey::new(e1.clone(), "invoice", 100);
    store.put_identity(&k1, "INV-1", None).await.unwrap();
    store.put_identity(&k1, "INV-1", None).await.unwrap();
    assert!(matches!(
        store.put_identity(&k1, "INV-2", None).await,
        Err(StoreError::IdentityConflict(_))
    ));
    let k2 = IdentityKey::new(e1.clone(), "invoice", 101);
    assert!(matches!(
        store.put_identity(&k2, "INV-1", None).await,
        Err(StoreError::IdentityConflict(_))
    ));
    // Other kinds and other entities are separate namespaces.
    store
        .put_identity(
            &IdentityKey::new(e1.clone(), "credit_note", 100),
            "INV-1",
            None,
        )
        .await
        .unwrap();
    store
        .put_identity(
            &IdentityKey::new(LegalEntityId::new("no-as"), "invoice", 100),
            "INV-1",
            None,
        )
        .await
        .unwrap();
    assert_eq!(store.identity(&k1).await.unwrap().as_deref(), Some("INV-1"));
    assert_eq!(store.identity(&k2).await.unwrap(), None);
    assert_eq!(
        store
            .identity_by_visma(&e1, "invoice", "INV-1")
            .await
            .unwrap()
            .as_deref(),
        Some("100")
    );
}

on_both_backends!(
    #[tokio::test]
    write_intents_signal_unknown_outcomes
);

async fn write_intents_signal_unknown_outcomes(backend: Backend) {
    let Some((_dir, store)) = open(backend, "write_intents_signal_unknown_outcomes").await else {
        return;
    };
    let key = IdentityKey::new(LegalEntityId::new("se-ab"), "invoice", 7);
    let r = ExternalRef::new("BC-abc-7");
    assert!(matches!(
        store.begin_write(&key, &r, None).await.unwrap(),
        WriteStart::Proceed { .. }
    ));
    // The attempt died after its Visma call: the retry must look up first.
    match store.begin_write(&key, &r, None).await.unwrap() {
        WriteStart::LookUpFirst { external_ref, .. } => assert_eq!(external_ref, r),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.open_intent_count().await.unwrap(), 1);
    store.complete_write(&key, "INV-7", None).await.unwrap();
    assert_eq!(
        store.begin_write(&key, &r, None).await.unwrap(),
        WriteStart::AlreadyDone {
            visma_id: "INV-7".into()
        }
    );
    assert_eq!(store.open_intent_count().await.unwrap(), 0);

    let key8 = IdentityKey::new(LegalEntityId::new("se-ab"), "invoice", 8);
    store
        .begin_write(&key8, &ExternalRef::new("BC-abc-8"), None)
        .await
        .unwrap();
    store.abandon_write(&key8).await.unwrap();
    assert!(matches!(
        store
            .begin_write(&key8, &ExternalRef::new("BC-abc-8"), None)
            .await
            .unwrap(),
        WriteStart::Proceed { .. }
    ));
}

on_both_backends!(
    #[tokio::test]
    echo_markers_match_target_resource_hash_and_window
);

async fn echo_markers_match_target_resource_hash_and_window(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "echo_markers_match_target_resource_hash_and_window",
    )
    .await
    else {
        return;
    };
    store
        .record_echo("bigcommerce:abc", "order:5", "h1")
        .await
        .unwrap();
    let w = Duration::from_secs(60);
    assert!(
        store
            .is_echo("bigcommerce:abc", "order:5", Some("h1"), w)
            .await
            .unwrap()
    );
    assert!(
        store
            .is_echo("bigcommerce:abc", "order:5", None, w)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_echo("bigcommerce:abc", "order:5", Some("h2"), w)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_echo("bigcommerce:abc", "order:6", None, w)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_echo("bigcommerce:other", "order:5", None, w)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(
        !store
            .is_echo(
                "bigcommerce:abc",
                "order:5",
                Some("h1"),
                Duration::from_millis(10)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.prune_echoes(Duration::from_millis(10)).await.unwrap(),
        1
    );
}

on_both_backends!(
    #[tokio::test]
    audit_is_searchable_redacted_and_append_only
);

async fn audit_is_searchable_redacted_and_append_only(backend: Backend) {
    let Some((_dir, store)) = open(backend, "audit_is_searchable_redacted_and_append_only").await
    else {
        return;
    };
    let id = store
        .enqueue(&NewJob::new("order.sync", "order:123", json!({})))
        .await
        .unwrap();
    let job = store.lease("w", 1, LEASE).await.unwrap().remove(0);
    let mut f = finish(&job, "w", FinishOutcome::Done);
    f.audit.plugin = Some(PluginInfo {
        name: "standard".into(),
        version: "1.2.0".into(),
        hash: "sha256:ab".into(),
    });
    f.audit.refs = vec![
        ("bc_order".into(), "123".into()),
        ("visma_document".into(), "100045".into()),
    ];
    f.audit.exchanges = vec![NewExchange {
        system: "visma".into(),
        method: "POST".into(),
        url: "https://visma.example/api/v1/salesorder?access_token=zzz".into(),
        request_headers: vec![
            ("Authorization".into(), "Bearer sekrit".into()),
            ("ipp-company-id".into(), "1".into()),
        ],
        request_body: Some(r#"{"orderNo":"123","client_secret":"s3cr3t"}"#.into()),
        status: Some(201),
        response_headers: vec![],
        response_body: Some(r#"{"number":"100045"}"#.into()),
        at: Utc::now(),
        duration: Duration::from_millis(40),
    }];
    store.finish(&f).await.unwrap();

    for query in ["123", "100045"] {
        let trail = store.audit_search(query).await.unwrap();
        assert_eq!(trail.job_ids, vec![id], "{query}");
        let a = &trail.attempts[0];
        assert_eq!(a.plugin.as_ref().unwrap().version, "1.2.0");
        let x = &a.exchanges[0];
        assert_eq!(x.status, Some(201));
        assert!(!x.url.contains("zzz"));
        assert_eq!(x.request_headers[0].1, "[REDACTED]");
        assert_eq!(x.request_headers[1].1, "1");
        let body = x.request_body.as_deref().unwrap();
        assert!(
            body.contains("\"orderNo\":\"123\"") && !body.contains("s3cr3t"),
            "{body}"
        );
    }
    assert!(store.audit_search("999").await.unwrap().attempts.is_empty());

    let other = store
        .enqueue(&NewJob::new("order.sync", "order:124", json!({})))
        .await
        .unwrap();
    store
        .skip(&ReplaySelector::Job(other), "test order", "op")
        .await
        .unwrap();

    // Nothing, not even a direct SQL statement, may change or remove audit rows.
    let mut statements = vec![
        "UPDATE audit_attempts SET outcome = 'failed'",
        "DELETE FROM audit_attempts",
        "UPDATE audit_exchanges SET request_body = 'x'",
        "DELETE FROM audit_exchanges",
        "DELETE FROM audit_refs",
        "UPDATE job_actions SET reason = 'x'",
        "DELETE FROM job_actions",
    ];
    let location = store.path().to_str().unwrap().to_owned();
    let errors: Vec<(&str, String)> = match backend {
        Backend::Sqlite => {
            let conn = sqlx::SqlitePool::connect(&format!("sqlite://{location}"))
                .await
                .unwrap();
            let mut errors = Vec::new();
            for sql in &statements {
                let err = sqlx::query(sql).execute(&conn).await.expect_err(sql);
                errors.push((*sql, err.to_string()));
            }
            errors
        }
        Backend::Postgres => {
            // TRUNCATE skips row triggers; the schema refuses it separately.
            statements.extend(["TRUNCATE audit_refs", "TRUNCATE job_actions CASCADE"]);
            let conn = sqlx::PgPool::connect(&location).await.unwrap();
            let mut errors = Vec::new();
            for sql in &statements {
                let err = sqlx::query(sql).execute(&conn).await.expect_err(sql);
                errors.push((*sql, err.to_string()));
            }
            errors
        }
    };
    assert_eq!(errors.len(), statements.len());
    for (sql, err) in errors {
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(
        store.audit_search("123").await.unwrap().attempts[0].outcome,
        "done"
    );
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    concurrent_events_share_commits_and_stay_deduplicated
);

async fn concurrent_events_share_commits_and_stay_deduplicated(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "concurrent_events_share_commits_and_stay_deduplicated",
    )
    .await
    else {
        return;
    };
    // 100 distinct events, each delivered twice, all at once (webhook retries racing).
    let mut calls = Vec::new();
    for i in 0..200u32 {
        let store = store.clone();
        calls.push(tokio::spawn(async move {
            store
                .store_event(&event(
                    &format!("h{}", i % 100),
                    &format!("order:{}", i % 100),
                ))
                .await
        }));
    }
    let mut stored = 0;
    for c in calls {
        if c.await.unwrap().unwrap() == StoreOutcome::Stored {
            stored += 1;
        }
    }
    assert_eq!(stored, 100);
    assert_eq!(store.event_count().await.unwrap(), 100);
    assert_eq!(store.state_counts().await.unwrap().pending, 100);
}

on_both_backends!(
    #[tokio::test]
    a_write_another_running_job_has_open_is_in_flight_until_its_lease_ends
);

/// An order's job and its customer's own job can both create one Visma customer. While the
/// first holds a live lease with the write open, the second is told to come back (its lookup
/// by reference would find nothing yet and create a duplicate); once that lease is gone, the
/// second looks up first as after any unknown outcome.
async fn a_write_another_running_job_has_open_is_in_flight_until_its_lease_ends(backend: Backend) {
    let Some((_dir, store)) = open(
        backend,
        "a_write_another_running_job_has_open_is_in_flight_until_its_lease_ends",
    )
    .await
    else {
        return;
    };
    let a = store
        .enqueue(&NewJob::new("k", "order:1", json!({})))
        .await
        .unwrap();
    let b = store
        .enqueue(&NewJob::new("k", "customer:9", json!({})))
        .await
        .unwrap();
    let leased = store
        .lease("w1", 2, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    let key = IdentityKey::new(LegalEntityId::new("se-ab"), "customer", "s:9");
    let r = ExternalRef::new("bc-c-s:9");
    assert!(matches!(
        store.begin_write(&key, &r, Some(a)).await.unwrap(),
        WriteStart::Proceed { .. }
    ));
    match store.begin_write(&key, &r, Some(b)).await {
        Err(StoreError::WriteInFlight { job, .. }) => assert_eq!(job, a),
        other => panic!("expected WriteInFlight, got {other:?}"),
    }
    // The owner itself (a retry of the same job) still looks up first.
    assert!(matches!(
        store.begin_write(&key, &r, Some(a)).await.unwrap(),
        WriteStart::LookUpFirst { .. }
    ));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(matches!(
        store.begin_write(&key, &r, Some(b)).await.unwrap(),
        WriteStart::LookUpFirst { .. }
    ));
}

on_both_backends!(
    #[tokio::test]
    a_batch_of_results_is_written_like_each_alone
);

/// `finish_many` writes a mixed batch in a few statements: each result must land as if
/// written alone (state, snapshot, reason, follow-ups in order, echo markers only on
/// success, an audit row per attempt with its exchanges and refs, lease_lost for a stale one).
async fn a_batch_of_results_is_written_like_each_alone(backend: Backend) {
    let Some((_dir, store)) = open(backend, "a_batch_of_results_is_written_like_each_alone").await
    else {
        return;
    };
    for n in 1..=5 {
        store
            .enqueue(&NewJob::new("k", format!("order:{n}"), json!({})))
            .await
            .unwrap();
    }
    let jobs = store.lease("w", 5, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 5);
    let exchange = |n: u16| NewExchange {
        system: "visma".into(),
        method: "POST".into(),
        url: format!("/v1/thing/{n}"),
        request_headers: vec![],
        request_body: Some(format!("{{\"n\":{n}}}")),
        status: Some(200 + n),
        response_headers: vec![],
        response_body: Some("{}".into()),
        at: Utc::now(),
        duration: Duration::from_millis(1),
    };
    let marker = |r: &str| ledgerlink_store::EchoMarker {
        target: "bigcommerce".into(),
        resource: r.into(),
        content_hash: "h".into(),
    };

    let mut done = finish(&jobs[0], "w", FinishOutcome::Done);
    done.follow_ups = vec![
        NewJob::new("writeback", "order:1", json!({"n": 1})),
        NewJob::new("writeback", "order:1", json!({"n": 2})),
    ];
    done.echoes = vec![marker("order:1")];
    done.snapshot = Some(json!({"order": 1}));
    done.audit.exchanges = vec![exchange(1), exchange(2)];
    done.audit.refs = vec![
        ("bc_order".into(), "1".into()),
        ("visma_document".into(), "INV-1".into()),
    ];
    let skipped = finish(
        &jobs[1],
        "w",
        FinishOutcome::Skipped {
            reason: "our own write-back".into(),
        },
    );
    let retry = finish(
        &jobs[2],
        "w",
        FinishOutcome::Retry {
            at: Utc::now() + ChronoDuration::seconds(60),
            error: permanent("later"),
        },
    );
    // Another owner's result: its lease is not held, so only its audit row is written.
    let mut stale = finish(&jobs[3], "other", FinishOutcome::Done);
    stale.echoes = vec![marker("order:4")];
    stale.follow_ups = vec![NewJob::new("writeback", "order:4", json!({}))];
    let mut done2 = finish(&jobs[4], "w", FinishOutcome::Done);
    done2.audit.exchanges = vec![exchange(3)];
    done2.audit.refs = vec![("visma_document".into(), "INV-5".into())];

    let results = store
        .finish_many(&[done, skipped, retry, stale, done2])
        .await
        .unwrap();
    let results: Vec<bool> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(results, vec![true, true, true, false, true]);

    let states: Vec<JobState> = {
        let mut v = Vec::new();
        for j in &jobs {
            v.push(store.job(j.id).await.unwrap().state);
        }
        v
    };
    assert_eq!(
        states,
        vec![
            JobState::Done,
            JobState::Skipped,
            JobState::Pending,
            JobState::Running,
            JobState::Done
        ]
    );
    let first = store.job(jobs[0].id).await.unwrap();
    assert_eq!(first.snapshot, Some(json!({"order": 1})));
    assert!(first.finished_at.is_some() && first.lease_owner.is_none());
    assert_eq!(
        store.job(jobs[1].id).await.unwrap().resolution.as_deref(),
        Some("our own write-back")
    );
    assert_eq!(
        store.job(jobs[2].id).await.unwrap().error.unwrap().code,
        "later"
    );

    // The follow-ups of the successful one only, in order, with their parent.
    let follow = store.lease("w", 10, LEASE).await.unwrap();
    let payloads: Vec<(serde_json::Value, Option<JobId>)> = follow
        .iter()
        .filter(|j| j.kind == "writeback")
        .map(|j| (j.payload.clone(), j.parent_job_id))
        .collect();
    assert_eq!(payloads, vec![(json!({"n": 1}), Some(jobs[0].id))]);
    assert_eq!(
        store.state_counts().await.unwrap().pending,
        2,
        "the second follow-up waits its turn, the retry its time"
    );

    let window = Duration::from_secs(60);
    assert!(
        store
            .is_echo("bigcommerce", "order:1", Some("h"), window)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_echo("bigcommerce", "order:4", None, window)
            .await
            .unwrap()
    );

    let attempts = store
        .attempts_of(&jobs.iter().map(|j| j.id).collect::<Vec<_>>())
        .await
        .unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        vec!["done", "skipped", "retry", "lease_lost", "done"]
    );
    let urls: Vec<Vec<(i64, &str)>> = attempts
        .iter()
        .map(|a| {
            a.exchanges
                .iter()
                .map(|x| (x.seq, x.url.as_str()))
                .collect()
        })
        .collect();
    assert_eq!(
        urls,
        vec![
            vec![(0, "/v1/thing/1"), (1, "/v1/thing/2")],
            vec![],
            vec![],
            vec![],
            vec![(0, "/v1/thing/3")]
        ]
    );
    let trail = store.audit_search("INV-5").await.unwrap();
    assert_eq!(trail.job_ids, vec![jobs[4].id]);
    let trail = store.audit_search("INV-1").await.unwrap();
    assert_eq!(trail.job_ids, vec![jobs[0].id]);
    assert_eq!(trail.attempts[0].refs.len(), 2);
}
