//! The store against real databases: every test runs on SQLite and on PostgreSQL.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::access::Role;
use crate::model::{OrgId, TraceInput, TraceStatus};
use crate::seed::Generator;
use crate::store::ApiKeyRole;
use crate::testing::{on_both_backends, TestDb};
use crate::tiers::Cascade;

on_both_backends!(
    sign_ins_are_throttled_and_sessions_listed_and_ended,
    an_organization_keeps_an_owner,
    insert_is_idempotent_per_org,
    same_id_in_one_batch_is_a_duplicate,
    list_is_keyset_paginated_and_filtered,
    jobs_are_claimed_once_and_leases_expire,
    results_are_recorded_once,
    retries_are_rescheduled,
    api_keys_and_sessions,
    vault_policies_and_audit,
    costs_add_up_and_reviews_are_queued,
    search_finds_evaluated_traces_of_one_organization,
    rollups_agree_with_the_evaluations,
    search_pages_are_newest_first_with_few_or_many_matches,
    traces_with_and_without_latency_share_one_statement,
);

fn new_trace(org: &OrgId, input: &TraceInput, hash: &str) -> NewTrace {
    NewTrace {
        org_id: org.clone(),
        trace_id: input.trace_id.unwrap_or_else(Uuid::now_v7),
        application_id: input.application_id.clone(),
        ai_processing: input.ai_processing.clone(),
        steps_json: serde_json::to_string(&input.steps).unwrap(),
        metadata_json: serde_json::to_string(&input.metadata).unwrap(),
        domain: input.domain().map(str::to_string),
        timestamp: input.timestamp.unwrap_or_else(Utc::now),
        received_at: Utc::now(),
        content_hash: hash.into(),
        vault: vec![],
        second_pass: Default::default(),
        phi_replaced: "[]".into(),
    }
}

async fn org(store: &Store, name: &str) -> OrgId {
    store.create_organization(name).await.unwrap().id
}

async fn insert_is_idempotent_per_org(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, b) = (org(&db.store, "A").await, org(&db.store, "B").await);
    let mut input = Generator::new(1).healthcare();
    input.trace_id = Some(Uuid::new_v4());

    let first = db.store.insert_traces(&[new_trace(&a, &input, "h1")]).await.unwrap();
    assert_eq!(first, vec![InsertOutcome::Created]);
    let again = db.store.insert_traces(&[new_trace(&a, &input, "h1")]).await.unwrap();
    assert_eq!(again, vec![InsertOutcome::Duplicate(TraceStatus::Queued)]);
    let changed = db.store.insert_traces(&[new_trace(&a, &input, "h2")]).await.unwrap();
    assert_eq!(changed, vec![InsertOutcome::Conflict]);
    // The same id in another organization is another trace, and reveals nothing.
    let other = db.store.insert_traces(&[new_trace(&b, &input, "h1")]).await.unwrap();
    assert_eq!(other, vec![InsertOutcome::Created]);

    assert_eq!(db.store.queue_depth().await.unwrap(), 2, "one job per stored trace");
    let stored = db.store.get_trace(&a, input.trace_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.ai_processing, input.ai_processing);
    assert_eq!(stored.steps, input.steps);
    assert_eq!(stored.metadata, input.metadata);
    assert_eq!(stored.status, TraceStatus::Queued);
    assert!(db.store.get_trace(&org(&db.store, "C").await, input.trace_id.unwrap()).await.unwrap().is_none());
}

async fn same_id_in_one_batch_is_a_duplicate(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let mut input = Generator::new(2).trading();
    input.trace_id = Some(Uuid::new_v4());
    let out = db
        .store
        .insert_traces(&[new_trace(&a, &input, "h"), new_trace(&a, &input, "h"), new_trace(&a, &input, "x")])
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![InsertOutcome::Created, InsertOutcome::Duplicate(TraceStatus::Queued), InsertOutcome::Conflict]
    );
    assert_eq!(db.store.queue_depth().await.unwrap(), 1);
}

async fn list_is_keyset_paginated_and_filtered(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let mut g = Generator::new(3);
    let base = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let rows: Vec<NewTrace> = (0..25)
        .map(|i| {
            let mut t = if i % 5 == 0 { g.trading() } else { g.healthcare() };
            // Pairs share a timestamp, so the id must break ties.
            t.timestamp = Some(base + chrono::Duration::minutes(i / 2));
            new_trace(&a, &t, "h")
        })
        .collect();
    db.store.insert_traces(&rows).await.unwrap();

    let mut seen = Vec::new();
    let mut q = ListQuery { limit: 10, ..ListQuery::default() };
    loop {
        let page = db.store.list_traces(&a, &q).await.unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|t| (t.timestamp, t.trace_id)));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25, "every trace exactly once");
    let mut sorted = seen.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(seen, sorted, "newest first, id breaking ties");

    let trading = ListQuery { limit: 100, domain: Some("trading".into()), ..ListQuery::default() };
    assert_eq!(db.store.list_traces(&a, &trading).await.unwrap().items.len(), 5);
    let window = ListQuery {
        limit: 100,
        from: Some(base + chrono::Duration::minutes(2)),
        to: Some(base + chrono::Duration::minutes(4)),
        ..ListQuery::default()
    };
    assert_eq!(db.store.list_traces(&a, &window).await.unwrap().items.len(), 4);
    let failed = ListQuery { limit: 100, status: Some(TraceStatus::Fail), ..ListQuery::default() };
    assert!(db.store.list_traces(&a, &failed).await.unwrap().items.is_empty());
    let summaries = db.store.list_trace_summaries(&a, &ListQuery { limit: 3, ..ListQuery::default() }).await.unwrap();
    assert_eq!(summaries.items.len(), 3);
    assert!(summaries.items[0].input_preview.chars().count() <= 160);
    assert!(summaries.next_cursor.is_some());
}

async fn jobs_are_claimed_once_and_leases_expire(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let mut g = Generator::new(4);
    let rows: Vec<NewTrace> = (0..30).map(|_| new_trace(&a, &g.trace(), "h")).collect();
    db.store.insert_traces(&rows).await.unwrap();

    // Two workers claiming at the same time never get the same job.
    let (x, y) = tokio::join!(
        db.store.claim_jobs("w1", 20, Duration::from_secs(60)),
        db.store.claim_jobs("w2", 20, Duration::from_secs(60)),
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.len() + y.len(), 30);
    let mut ids: Vec<i64> = x.iter().chain(&y).map(|j| j.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30);
    assert!(db.store.claim_jobs("w3", 50, Duration::from_secs(60)).await.unwrap().is_empty(), "all leased");

    // A zero lease is one that has already run out: the jobs can be taken over.
    let db2 = TestDb::new(backend).await;
    let b = org(&db2.store, "B").await;
    db2.store.insert_traces(&[new_trace(&b, &g.trace(), "h")]).await.unwrap();
    let first = db2.store.claim_jobs("dying", 10, Duration::ZERO).await.unwrap();
    let second = db2.store.claim_jobs("rescuer", 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(second[0].attempts, 2);
}

async fn results_are_recorded_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let mut g = Generator::new(5);
    let mut input = g.healthcare();
    input.ai_processing.output = String::new();
    let row = new_trace(&a, &input, "h");
    let id = row.trace_id;
    db.store.insert_traces(&[row]).await.unwrap();
    assert_eq!(db.store.get_evaluation(&a, id).await.unwrap(), EvaluationLookup::Pending);

    let jobs = db.store.claim_jobs("w", 10, Duration::ZERO).await.unwrap();
    let trace = db.store.get_traces(&[(a.clone(), id)]).await.unwrap().remove(0).1;
    let evaluation = Cascade::default().evaluate(&trace, crate::tiers::Context::default()).await;
    assert_eq!(db.record(&[(jobs[0].clone(), evaluation.clone())]).await.unwrap().len(), 1);
    // The same job finishing twice (its lease ran out under a slow worker) changes nothing.
    let mut late = evaluation.clone();
    late.status = crate::model::EvaluationStatus::Pass;
    assert_eq!(db.record(&[(jobs[0].clone(), late)]).await.unwrap().len(), 0);

    match db.store.get_evaluation(&a, id).await.unwrap() {
        EvaluationLookup::Done(e) => {
            assert_eq!(e.status, evaluation.status);
            assert_eq!(e.issues, evaluation.issues);
            assert_eq!(e.modules, evaluation.modules);
        }
        other => panic!("{other:?}"),
    }
    let trace = db.store.get_trace(&a, id).await.unwrap().unwrap();
    assert_eq!(trace.status, TraceStatus::Fail);
    assert_eq!(db.store.queue_depth().await.unwrap(), 0);
    assert_eq!(db.store.get_evaluation(&org(&db.store, "B").await, id).await.unwrap(), EvaluationLookup::NotFound);
    let counts = db.store.count_evaluations_by_status(&a).await.unwrap();
    assert_eq!(counts, vec![(crate::model::EvaluationStatus::Fail, 1)]);
}

async fn retries_are_rescheduled(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    db.store.insert_traces(&[new_trace(&a, &Generator::new(6).trace(), "h")]).await.unwrap();
    let job = db.store.claim_jobs("w", 1, Duration::from_secs(60)).await.unwrap().remove(0);
    db.store.retry_job(&job, "judge timed out", Duration::ZERO).await.unwrap();
    let again = db.store.claim_jobs("w", 1, Duration::from_secs(60)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    // A stale worker's retry does not disturb the job's new owner.
    db.store.retry_job(&job, "stale", Duration::ZERO).await.unwrap();
    assert!(db.store.claim_jobs("w", 1, Duration::from_secs(60)).await.unwrap().is_empty());
}

async fn api_keys_and_sessions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "Acme Health").await;
    let key = db.store.create_api_key(&a, "ci", ApiKeyRole::Ingest, "tests").await.unwrap();
    let principal = db.store.authenticate_api_key(&key.plaintext).await.unwrap().unwrap();
    assert_eq!((principal.org_id, principal.key_id, principal.role), (a.clone(), key.key.id, ApiKeyRole::Ingest));
    assert_eq!(db.store.authenticate_api_key("aegis_sk_nope").await.unwrap(), None);
    let listed = db.store.list_api_keys(&a).await.unwrap();
    assert_eq!(
        listed.iter().map(|k| (k.id, k.prefix.as_str())).collect::<Vec<_>>(),
        [(key.key.id, key.key.prefix.as_str())]
    );
    let other = org(&db.store, "Other").await;
    assert!(!db.store.revoke_api_key(&other, key.key.id, "tests").await.unwrap(), "only the key's own organization");
    assert!(db.store.revoke_api_key(&a, key.key.id, "tests").await.unwrap());
    assert_eq!(db.store.authenticate_api_key(&key.plaintext).await.unwrap(), None);
    assert!(db.store.list_api_keys(&a).await.unwrap().is_empty(), "revoked keys are not listed");

    let user = db.store.create_user(&a, "Ana@Example.com", "long enough", Role::Owner, "tests").await.unwrap();
    assert_eq!(user.email, "ana@example.com");
    let users = db.store.list_users(&a).await.unwrap();
    assert_eq!(users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["ana@example.com"]);
    assert!(db.store.list_users(&other).await.unwrap().is_empty());
    assert!(matches!(
        db.store.create_user(&a, "ana@example.com", "long enough", Role::Admin, "tests").await,
        Err(crate::Error::Conflict(_))
    ));
    assert!(
        matches!(db.store.create_user(&a, "bob@example.com", "short", Role::Viewer, "tests").await, Err(crate::Error::Invalid(f)) if f.field == "password")
    );
    assert!(db.store.authenticate_user("ana@example.com", "wrong password").await.unwrap().is_none());
    assert!(db.store.authenticate_user("nobody@example.com", "long enough").await.unwrap().is_none());
    let found = db.store.authenticate_user(" ANA@example.com ", "long enough").await.unwrap().unwrap();
    let token = db.store.create_session(found.id, Duration::from_secs(3600)).await.unwrap();
    let session = db.store.session_user(&token).await.unwrap().unwrap();
    assert_eq!(session.org_id, a);
    assert_eq!(session.org_name, "Acme Health");
    assert_eq!(session.role, Role::Owner);
    db.store.delete_session(&token).await.unwrap();
    assert!(db.store.session_user(&token).await.unwrap().is_none());
}

async fn sign_ins_are_throttled_and_sessions_listed_and_ended(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let ana = db.store.create_user(&a, "ana@a.test", "long enough", Role::Owner, "tests").await.unwrap();
    for _ in 0..SIGN_IN_FAILURES {
        assert_eq!(db.store.sign_in("Ana@a.test", "guess", "10.0.0.1").await.unwrap(), SignIn::Refused);
        assert_eq!(db.store.sign_in("nobody@a.test", "guess", "10.0.0.2").await.unwrap(), SignIn::Refused);
    }
    // Locked: even the right password is not tried, and an unknown email answers the same.
    for email in ["ana@a.test", "nobody@a.test"] {
        match db.store.sign_in(email, "long enough", "10.0.0.3").await.unwrap() {
            SignIn::Throttled { retry_after } => assert!(retry_after <= SIGN_IN_WINDOW && retry_after.as_secs() > 60),
            other => panic!("{email}: {other:?}"),
        }
    }
    let other = db.store.create_user(&a, "bo@a.test", "long enough", Role::Viewer, "tests").await.unwrap();
    assert!(
        matches!(db.store.sign_in("bo@a.test", "long enough", "10.0.0.1").await.unwrap(), SignIn::Signed(u) if u.id == other.id)
    );
    let audited: Vec<String> = db.store.audit_log(&a, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in ["user.create", "user.sign_in", "user.sign_in_failed", "user.sign_in_throttled"] {
        assert!(audited.iter().any(|a| a == action), "{action} in {audited:?}");
    }

    // One address guessing across many emails is stopped too; other addresses are not.
    for n in 0..SIGN_IN_FAILURES_PER_CLIENT {
        let refused = db.store.sign_in(&format!("guess{n}@a.test"), "guess", "10.0.0.9").await.unwrap();
        assert_eq!(refused, SignIn::Refused);
    }
    let from_there = db.store.sign_in("bo@a.test", "long enough", "10.0.0.9").await.unwrap();
    assert!(matches!(from_there, SignIn::Throttled { .. }), "{from_there:?}");
    assert!(matches!(db.store.sign_in("bo@a.test", "long enough", "10.0.0.10").await.unwrap(), SignIn::Signed(_)));

    // Sessions: listed newest first with the browser, the current one marked, others ended.
    let laptop = db.store.create_session_from(ana.id, Duration::from_secs(3600), "Firefox on Linux").await.unwrap();
    let phone = db.store.create_session_from(ana.id, Duration::from_secs(3600), "Safari on iOS").await.unwrap();
    let tablet = db.store.create_session(ana.id, Duration::from_secs(3600)).await.unwrap();
    let listed = db.store.list_sessions(ana.id, Some(&laptop)).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| s.user_agent.as_str()).collect::<Vec<_>>(),
        ["", "Safari on iOS", "Firefox on Linux"]
    );
    assert_eq!(listed.iter().map(|s| s.current).collect::<Vec<_>>(), [false, false, true]);
    assert!(db.store.revoke_session(ana.id, &listed[1].id).await.unwrap());
    assert!(db.store.session_user(&phone).await.unwrap().is_none());
    assert!(!db.store.revoke_session(other.id, &listed[0].id).await.unwrap(), "only one's own sessions");
    assert!(matches!(db.store.revoke_session(ana.id, "%").await, Err(crate::Error::Invalid(_))));
    assert_eq!(db.store.revoke_other_sessions(ana.id, &laptop).await.unwrap(), 1);
    assert!(db.store.session_user(&tablet).await.unwrap().is_none());
    assert!(db.store.session_user(&laptop).await.unwrap().is_some());
}

async fn an_organization_keeps_an_owner(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let owner = db.store.create_user(&a, "owner@a.test", "long enough", Role::Owner, "tests").await.unwrap();
    let viewer = db.store.create_user(&a, "viewer@a.test", "long enough", Role::Viewer, "tests").await.unwrap();
    let last = |r: crate::Result<User>| matches!(r, Err(crate::Error::Conflict(m)) if m.contains("at least one owner"));
    assert!(last(db.store.set_user_role(&a, owner.id, Role::Admin, "tests").await), "the last owner stays an owner");
    assert!(last(db.store.remove_user(&a, owner.id, "tests").await), "and stays");
    assert_eq!(db.store.get_user(&a, owner.id).await.unwrap().unwrap().role, Role::Owner, "nothing half-changed");

    // Once there is a second owner, the first may step down or leave; their sessions end.
    let token = db.store.create_session(owner.id, Duration::from_secs(3600)).await.unwrap();
    assert_eq!(db.store.set_user_role(&a, viewer.id, Role::Owner, "tests").await.unwrap().role, Role::Owner);
    assert_eq!(db.store.set_user_role(&a, owner.id, Role::Reviewer, "tests").await.unwrap().role, Role::Reviewer);
    assert_eq!(db.store.session_user(&token).await.unwrap().unwrap().role, Role::Reviewer, "at once");
    db.store.remove_user(&a, owner.id, "tests").await.unwrap();
    assert!(db.store.session_user(&token).await.unwrap().is_none());
    let other = org(&db.store, "Other").await;
    assert!(matches!(
        db.store.set_user_role(&other, viewer.id, Role::Viewer, "tests").await,
        Err(crate::Error::NotFound(_))
    ));
    assert!(matches!(db.store.remove_user(&a, Uuid::now_v7(), "tests").await, Err(crate::Error::NotFound(_))));
    let audited: Vec<String> = db.store.audit_log(&a, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(audited.iter().filter(|a| *a == "user.role_change").count(), 2, "refused changes leave no entry");
    assert_eq!(audited.iter().filter(|a| *a == "user.remove").count(), 1, "{audited:?}");
}

async fn vault_policies_and_audit(backend: Backend) {
    use crate::phi::vault::VaultKey;
    use crate::phi::{PhiPolicy, PhiService, PhiType};

    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let key = VaultKey::from_bytes([1; 32]);
    let phi = PhiService::new(db.store.clone(), key.clone()).await.unwrap();
    // Another key on the same database is refused: its pseudonyms and vault would not match.
    let err = PhiService::new(db.store.clone(), VaultKey::from_bytes([2; 32])).await.err().unwrap();
    assert!(matches!(err, crate::Error::Config(m) if m.contains("AEGIS_VAULT_KEY")));

    let org_phi = phi.for_org(&a).await.unwrap();
    let mut input = Generator::new(8).healthcare();
    input.ai_processing.input = "Patient Maria Garcia, MRN: 00482913, asks about warfarin.".into();
    let vault = org_phi.deidentify_trace(&mut input).vault;
    let mut row = new_trace(&a, &input, "h");
    row.vault = vault.clone();
    db.store.insert_traces(&[row.clone(), row]).await.unwrap();

    let name = org_phi.pseudonymizer.token(PhiType::Name, "Maria Garcia");
    let found = phi
        .reidentify(&a, &[name.clone(), "[NAME_000000000000]".into()], None, "key:test", "care coordination")
        .await
        .unwrap();
    assert_eq!(found[&name].as_deref(), Some("Maria Garcia"));
    assert_eq!(found["[NAME_000000000000]"], None);
    // Another organization cannot open this one's tokens.
    let b = org(&db.store, "B").await;
    assert_eq!(phi.reidentify(&b, std::slice::from_ref(&name), None, "key:b", "curious").await.unwrap()[&name], None);

    let log = db.store.audit_log(&a, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "phi.reidentify");
    assert_eq!(log[0].detail["reason"], "care coordination");

    let policy = PhiPolicy { types: vec![PhiType::Mrn], ..PhiPolicy::default() };
    phi.set_policy(&a, policy.clone(), "key:test").await.unwrap();
    assert_eq!(phi.policy(&a).await.unwrap(), policy);
    assert_eq!(db.store.audit_log(&a, 10).await.unwrap()[0].action, "phi.policy.update");
    let mut again = Generator::new(8).healthcare();
    again.ai_processing.input = "Patient Maria Garcia, MRN: 00482913".into();
    phi.for_org(&a).await.unwrap().deidentify_trace(&mut again);
    assert!(again.ai_processing.input.contains("Maria Garcia"), "names are no longer scrubbed");
    assert!(!again.ai_processing.input.contains("00482913"));
}

async fn costs_add_up_and_reviews_are_queued(backend: Backend) {
    use crate::model::{ReviewRequest, TierCost};
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let mut generator = Generator::new(3);
    let rows: Vec<NewTrace> = (0..3).map(|i| new_trace(&a, &generator.trace(), &format!("h{i}"))).collect();
    db.store.insert_traces(&rows).await.unwrap();
    let jobs = db.store.claim_jobs("w", 10, Duration::from_secs(60)).await.unwrap();
    let done: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let mut e = Cascade::failed(job.trace_id, 1, "x");
            e.domain = Some("healthcare".into());
            e.cost_by_tier =
                vec![TierCost { tier: 2, cost_micro_usd: 0 }, TierCost { tier: 3, cost_micro_usd: 1_000 + i as i64 }];
            e.cost_micro_usd = 1_000 + i as i64;
            e.review = (i == 1).then(|| ReviewRequest { reason: "the judge is unsure".into(), priority: 2.5 });
            (job, e)
        })
        .collect();
    db.record(&done).await.unwrap();
    // A second recording of the same jobs adds nothing.
    db.record(&done).await.unwrap();

    assert_eq!(db.store.tier_cost_today(&a, 3).await.unwrap(), 3_003);
    assert_eq!(db.store.tier_cost_today(&a, 1).await.unwrap(), 0);
    use crate::model::{CostGroup, CostKey};
    let now = Utc::now();
    let day = now.format("%Y-%m-%d").to_string();
    let report = db
        .store
        .costs(&a, now - chrono::Duration::days(1), now, &[CostKey::Day, CostKey::Domain, CostKey::Tier])
        .await
        .unwrap();
    let group = |tier: u8, micro_usd: i64| CostGroup {
        tier: Some(tier),
        day: Some(day.clone()),
        hour: None,
        domain: Some("healthcare".into()),
        micro_usd,
        runs: 3,
    };
    assert_eq!(report.groups, vec![group(2, 0), group(3, 3_003)]);
    assert_eq!((report.total_micro_usd, report.runs), (3_003, 6));
    let by_tier = db.store.costs(&a, now - chrono::Duration::days(1), now, &[CostKey::Tier]).await.unwrap();
    assert_eq!(
        by_tier.groups.iter().map(|g| (g.tier, g.micro_usd)).collect::<Vec<_>>(),
        [(Some(2), 0), (Some(3), 3_003)]
    );
    assert_eq!(by_tier.groups[0].day, None);
    let queue = db.store.review_items(&a, None, "user:x", 10).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].domain.as_deref(), Some("healthcare"));
    assert_eq!(queue[0].reason, "the judge is unsure");
    assert_eq!(queue[0].priority, 2.5);
    assert_eq!(queue[0].reviews, 0);
}

async fn search_finds_evaluated_traces_of_one_organization(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (a, b) = (org(&db.store, "A").await, org(&db.store, "B").await);
    let mut generator = Generator::new(5);
    let mut text = |org: &OrgId, output: &str, hash: &str| {
        let mut input = generator.trace();
        input.ai_processing.output = output.to_string();
        input.application_id =
            if output.to_lowercase().contains("warfarin") { "anticoag".into() } else { "triage".into() };
        new_trace(org, &input, hash)
    };
    let rows = vec![
        text(&a, "Avoid ibuprofen with warfarin; acetaminophen is safer.", "1"),
        text(&a, "Metformin with meals, twice daily.", "2"),
        text(&a, "Warfarin needs INR checks; [NAME_3f9a1c2b7d4e] should call.", "3"),
        text(&b, "Warfarin for organization B.", "4"),
    ];
    db.store.insert_traces(&rows).await.unwrap();
    let search = |org: OrgId, q: &str| {
        let store = db.store.clone();
        let q = ListQuery { limit: 10, q: Some(q.to_string()), ..ListQuery::default() };
        async move { store.list_trace_summaries(&org, &q).await.unwrap().items.len() }
    };
    assert_eq!(search(a.clone(), "warfarin").await, 0, "a trace is searchable once evaluated");

    let jobs = db.store.claim_jobs("w", 10, Duration::from_secs(60)).await.unwrap();
    let done: Vec<_> = jobs
        .into_iter()
        .map(|j| {
            let e = Cascade::failed(j.trace_id, 1, "x");
            (j, e)
        })
        .collect();
    db.record(&done).await.unwrap();

    assert_eq!(search(a.clone(), "warfarin").await, 2);
    assert_eq!(search(a.clone(), "Warfarin INR").await, 1, "every word must match");
    assert_eq!(search(a.clone(), "NAME_3f9a1c2b7d4e").await, 1, "pseudonym tokens are searchable");
    assert_eq!(search(b.clone(), "warfarin").await, 1, "never another organization's");
    assert_eq!(search(a.clone(), "\"warfarin*\" (NEAR").await, 0, "syntax in a query is text: 'near' is a word");
    assert_eq!(search(a.clone(), "\"warfarin*\" ( -").await, 2, "and punctuation is dropped");
    let filtered = ListQuery {
        limit: 10,
        q: Some("warfarin".into()),
        application: Some("anticoag".into()),
        severity: Some(crate::model::Severity::None),
        ..ListQuery::default()
    };
    assert_eq!(db.store.list_trace_summaries(&a, &filtered).await.unwrap().items.len(), 2);
}

async fn rollups_agree_with_the_evaluations(backend: Backend) {
    use crate::model::{Bucket, EvaluationStatus, Issue, Severity, TierCost};
    let db = TestDb::new(backend).await;
    let (a, b) = (org(&db.store, "A").await, org(&db.store, "B").await);
    let mut generator = Generator::new(11);
    let mut rows: Vec<NewTrace> = (0..6).map(|i| new_trace(&a, &generator.trace(), &format!("a{i}"))).collect();
    rows.push(new_trace(&b, &generator.trace(), "b0"));
    db.store.insert_traces(&rows).await.unwrap();
    let jobs = db.store.claim_jobs("w", 10, Duration::from_secs(60)).await.unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 9, 15, 0).unwrap();
    let issue = |code: &str| Issue {
        code: code.into(),
        module: "m".into(),
        severity: Severity::High,
        message: "m".into(),
        evidence: None,
        subject: None,
    };
    let done: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let mut e = Cascade::failed(job.trace_id, 1, "x");
            // Four in the 09:00 hour, two at 11:00 (a day apart from none), org B's at 09:00.
            e.evaluated_at = t0 + chrono::Duration::minutes(if i < 4 || job.org_id == b { i as i64 } else { 120 });
            e.status = if i % 2 == 0 { EvaluationStatus::Pass } else { EvaluationStatus::Fail };
            e.domain = Some(if i == 5 { "trading" } else { "healthcare" }.into());
            e.latency_ms = (i + 1) as f64;
            e.cost_micro_usd = 10 * (i as i64 + 1);
            e.cost_by_tier =
                vec![TierCost { tier: 1, cost_micro_usd: 0 }, TierCost { tier: 3, cost_micro_usd: e.cost_micro_usd }];
            // The same type twice in one trace counts once.
            e.issues =
                if i % 2 == 1 { vec![issue("medication_overdose"), issue("medication_overdose")] } else { vec![] };
            e.facets =
                vec![crate::model::Facet { name: "meta.specialty".into(), value: "cardiology".into(), amount: 250 }];
            (job, e)
        })
        .collect();
    let events = db.record(&done).await.unwrap();
    assert_eq!(events.len(), 7);
    let (event_org, event) = events.iter().find(|(o, _)| *o == a).unwrap();
    assert_eq!(*event_org, a);
    assert!(!event.application_id.is_empty());
    assert!(db.record(&done).await.unwrap().is_empty(), "recorded once, counted once");

    let day_start = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
    let day_end = day_start + chrono::Duration::days(1);
    let overview = db.store.overview(&a, day_start, day_end, None).await.unwrap();
    let mine: Vec<_> = done.iter().filter(|(j, _)| j.org_id == a).map(|(_, e)| e).collect();
    assert_eq!(overview.total_traces, mine.len() as i64);
    let passed = mine.iter().filter(|e| e.status == EvaluationStatus::Pass).count() as i64;
    assert_eq!(overview.status_counts.pass, passed);
    assert_eq!(overview.total_cost_micro_usd, mine.iter().map(|e| e.cost_micro_usd).sum::<i64>());
    assert_eq!(overview.tier_distribution.len(), 2);
    assert_eq!(overview.tier_distribution[0].traces, mine.len() as i64);
    let failed = mine.iter().filter(|e| !e.issues.is_empty()).count() as i64;
    assert_eq!(overview.error_types[0].code, "medication_overdose");
    assert_eq!(overview.error_types[0].count, failed);
    let slowest = mine.iter().map(|e| e.latency_ms).fold(0.0, f64::max);
    let p99 = overview.p99_latency_ms.unwrap();
    assert!(p99 >= slowest && p99 <= slowest * 1.05, "{p99} vs {slowest}");

    let trading = db.store.overview(&a, day_start, day_end, Some("trading")).await.unwrap();
    assert_eq!(trading.total_traces, mine.iter().filter(|e| e.domain.as_deref() == Some("trading")).count() as i64);
    let empty = db.store.overview(&a, day_end, day_end + chrono::Duration::days(1), None).await.unwrap();
    assert_eq!((empty.total_traces, empty.pass_rate, empty.p95_latency_ms), (0, None, None));
    assert_eq!(db.store.overview(&b, day_start, day_end, None).await.unwrap().total_traces, 1);

    let hours = db.store.trend(&a, day_start, day_end, None, Bucket::Hour).await.unwrap();
    assert_eq!(hours.len(), 24, "empty hours are points too");
    assert_eq!(hours.iter().map(|p| p.status_counts.total()).sum::<i64>(), overview.total_traces);
    assert_eq!(hours[9].status_counts.total() + hours[11].status_counts.total(), overview.total_traces);
    assert_eq!(hours.iter().map(|p| p.cost_by_tier[3]).sum::<i64>(), overview.total_cost_micro_usd);
    let days = db.store.trend(&a, day_start, day_end, None, Bucket::Day).await.unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].issues["medication_overdose"], failed);

    let facets = db.store.facets(&a, day_start, day_end, "healthcare", 10).await.unwrap();
    let healthcare: Vec<_> = mine.iter().filter(|e| e.domain.as_deref() == Some("healthcare")).collect();
    assert_eq!(facets.len(), 1);
    assert_eq!((facets[0].traces, facets[0].amount), (healthcare.len() as i64, 250 * healthcare.len() as i64));
    let flagged = healthcare.iter().filter(|e| e.status == EvaluationStatus::Fail).count() as i64;
    assert_eq!(facets[0].flagged, flagged);

    // Rolling up from scratch (after the migration, on a database with evaluations) agrees.
    for table in ["rollup_hours", "rollup_latency", "rollup_tiers", "rollup_issues", "rollup_facets"] {
        sqlx::query(&format!("DELETE FROM {table}")).execute(db.store.pool()).await.unwrap();
    }
    db.store.backfill_rollups().await.unwrap();
    assert_eq!(db.store.overview(&a, day_start, day_end, None).await.unwrap(), overview);
    assert_eq!(db.store.facets(&a, day_start, day_end, "healthcare", 10).await.unwrap(), facets);
}

async fn search_pages_are_newest_first_with_few_or_many_matches(backend: Backend) {
    use crate::model::{EvaluationStatus, Severity};
    let db = TestDb::new(backend).await;
    let (a, b) = (org(&db.store, "A").await, org(&db.store, "B").await);
    let mut generator = Generator::new(21);
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    // 5,200 matches in A (more than are read through the index), out of time order; a few in B.
    let mut rows = Vec::new();
    for i in 0..5_200u32 {
        let mut input = generator.trace();
        input.ai_processing.output = format!("Warfarin check number {i}.");
        input.application_id = if i % 3 == 0 { "anticoag".into() } else { "triage".into() };
        input.timestamp = Some(t0 + chrono::Duration::seconds(i64::from((i * 7919) % 5_200)));
        rows.push(new_trace(&a, &input, &format!("a{i}")));
    }
    for i in 0..5 {
        let mut input = generator.trace();
        input.ai_processing.output = "Warfarin in B.".into();
        rows.push(new_trace(&b, &input, &format!("b{i}")));
    }
    db.store.insert_traces(&rows).await.unwrap();
    let jobs = db.store.claim_jobs("w", 10_000, Duration::from_secs(60)).await.unwrap();
    let done: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, j)| {
            let mut e = Cascade::failed(j.trace_id, 1, "x");
            e.status = EvaluationStatus::Pass;
            e.severity = if i % 10 == 0 { Severity::Critical } else { Severity::None };
            (j, e)
        })
        .collect();
    db.record(&done).await.unwrap();

    let all_pages = |q: ListQuery| {
        let store = db.store.clone();
        let org = a.clone();
        async move {
            let mut out = Vec::new();
            let mut q = q;
            loop {
                let page = store.list_trace_summaries(&org, &q).await.unwrap();
                out.extend(page.items.into_iter().map(|t| (t.timestamp, t.trace_id, t.application_id, t.severity)));
                match page.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break out,
                }
            }
        }
    };
    let many = all_pages(ListQuery { limit: 500, q: Some("warfarin".into()), ..ListQuery::default() }).await;
    assert_eq!(many.len(), 5_200, "every match in A, none of B's");
    assert!(many.windows(2).all(|w| (w[0].0, w[0].1) > (w[1].0, w[1].1)), "newest first across pages");
    let oldest =
        all_pages(ListQuery { limit: 700, q: Some("warfarin".into()), oldest_first: true, ..ListQuery::default() })
            .await;
    assert_eq!(oldest, many.iter().rev().cloned().collect::<Vec<_>>(), "oldest first is the same, reversed");
    let plain_oldest = all_pages(ListQuery { limit: 999, oldest_first: true, ..ListQuery::default() }).await;
    assert_eq!(plain_oldest.len(), 5_200);
    assert!(plain_oldest.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));

    let filtered = ListQuery {
        limit: 100,
        q: Some("warfarin".into()),
        application: Some("anticoag".into()),
        severity: Some(Severity::Critical),
        ..ListQuery::default()
    };
    let few = all_pages(filtered.clone()).await;
    let few_oldest = all_pages(ListQuery { oldest_first: true, ..filtered }).await;
    assert_eq!(few_oldest, few.iter().rev().cloned().collect::<Vec<_>>());
    assert!(!few.is_empty() && few.len() < 400, "{}", few.len());
    assert!(few.iter().all(|t| t.2 == "anticoag" && t.3 == Some(Severity::Critical)));
    assert!(few.windows(2).all(|w| (w[0].0, w[0].1) > (w[1].0, w[1].1)));
    let unfiltered_count = many.iter().filter(|t| t.2 == "anticoag" && t.3 == Some(Severity::Critical)).count();
    assert_eq!(few.len(), unfiltered_count, "filters through the index agree with the rows");

    // Filters without words, on a filter with no index of its own.
    let critical =
        all_pages(ListQuery { limit: 1_000, severity: Some(Severity::Critical), ..ListQuery::default() }).await;
    assert_eq!(critical.len(), many.iter().filter(|t| t.3 == Some(Severity::Critical)).count());
}

/// A trace without `latency_ms` after one with it, through the same cached statement: on
/// Postgres a null float once went out with the wrong type and broke every later insert.
async fn traces_with_and_without_latency_share_one_statement(backend: Backend) {
    let db = TestDb::new(backend).await;
    let a = org(&db.store, "A").await;
    let mut generator = Generator::new(5);
    for (i, latency) in [None, Some(840.5), None, Some(12.0), None, Some(0.1 + 0.2), Some(1e-7)].into_iter().enumerate()
    {
        let mut input = generator.trace();
        input.ai_processing.latency_ms = latency;
        // As a client that reports no usage at all sends it.
        if latency.is_none() {
            (input.ai_processing.prompt_tokens, input.ai_processing.completion_tokens) = (None, None);
        }
        let row = new_trace(&a, &input, &format!("l{i}"));
        let id = row.trace_id;
        db.store.insert_traces(&[row]).await.unwrap_or_else(|e| panic!("insert {i} ({latency:?}): {e}"));
        let stored = db.store.get_trace(&a, id).await.unwrap().unwrap();
        assert_eq!(stored.ai_processing.latency_ms, latency);
    }
}

/// The two backends' migrations are written twice; this keeps them one schema. Full-text search
/// is the one known difference: an FTS5 table on SQLite, a `tsvector` column and its index on
/// PostgreSQL.
#[tokio::test]
async fn both_backends_have_one_schema() {
    use sqlx::Row as _;
    use std::collections::BTreeSet;

    let (sqlite, postgres) = (TestDb::sqlite().await, TestDb::postgres().await);
    let class = |t: &str| {
        match t.to_lowercase().as_str() {
            "text" | "character varying" => "text",
            "integer" | "bigint" | "smallint" | "boolean" => "integer",
            "real" | "double precision" => "real",
            "blob" | "bytea" => "blob",
            other => panic!("a column type with no counterpart on the other backend: {other}"),
        }
        .to_string()
    };
    let search = |name: &str| name.starts_with("trace_search") || name == "traces.search" || name == "traces_search";

    let rows = sqlx::query(
        "SELECT m.name AS t, p.name AS c, p.type AS ty, p.\"notnull\" AS nn, p.pk AS pk FROM sqlite_master m \
         JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
         AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(sqlite.store.pool())
    .await
    .unwrap();
    let mut lite_columns = BTreeSet::new();
    let mut lite_keys = BTreeSet::new();
    for r in &rows {
        let (t, c): (String, String) = (r.try_get("t").unwrap(), r.try_get("c").unwrap());
        if search(&t) {
            continue;
        }
        // A primary key is not null on PostgreSQL whatever SQLite's table_info says.
        let pk = r.try_get::<i64, _>("pk").unwrap() > 0;
        let not_null = r.try_get::<i64, _>("nn").unwrap() == 1 || pk;
        lite_columns.insert(format!("{t}.{c} {} {}", class(&r.try_get::<String, _>("ty").unwrap()), not_null));
        if pk {
            lite_keys.insert(format!("{t}.{c}"));
        }
    }
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, is_nullable::text AS nullable \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(postgres.store.pool())
    .await
    .unwrap();
    let mut pg_columns = BTreeSet::new();
    for r in &rows {
        let (t, c): (String, String) = (r.try_get("t").unwrap(), r.try_get("c").unwrap());
        let ty: String = r.try_get("ty").unwrap();
        if search(&format!("{t}.{c}")) {
            continue;
        }
        let not_null = r.try_get::<String, _>("nullable").unwrap() == "NO";
        pg_columns.insert(format!("{t}.{c} {} {}", class(&ty), not_null));
    }
    assert!(pg_columns.len() > 150, "the introspection reads the schema: {} columns", pg_columns.len());
    assert_eq!(
        lite_columns.symmetric_difference(&pg_columns).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "tables, columns, types or nullability differ between migrations/sqlite and migrations/postgres"
    );

    let rows = sqlx::query(
        "SELECT k.table_name::text AS t, k.column_name::text AS c FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name \
         AND k.table_schema = tc.table_schema WHERE tc.constraint_type = 'PRIMARY KEY' \
         AND tc.table_schema = 'public' AND k.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(postgres.store.pool())
    .await
    .unwrap();
    let pg_keys: BTreeSet<String> = rows
        .iter()
        .map(|r| format!("{}.{}", r.try_get::<String, _>("t").unwrap(), r.try_get::<String, _>("c").unwrap()))
        .collect();
    assert_eq!(lite_keys, pg_keys, "primary keys differ");

    // The `name` column of `sql`'s rows, search indexes aside.
    let index_names = |store: &Store, sql: &'static str| {
        let pool = store.pool().clone();
        async move {
            let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
            rows.iter()
                .map(|r| r.try_get::<String, _>("name").unwrap())
                .filter(|n| !search(n))
                .collect::<BTreeSet<String>>()
        }
    };
    let lite_indexes =
        index_names(&sqlite.store, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").await;
    // PostgreSQL names the indexes behind primary keys and UNIQUE columns itself.
    let pg_indexes = index_names(
        &postgres.store,
        "SELECT i.indexname::text AS name FROM pg_indexes i WHERE i.schemaname = 'public' AND NOT EXISTS \
         (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
    )
    .await;
    assert!(pg_indexes.len() > 15, "{pg_indexes:?}");
    assert_eq!(lite_indexes, pg_indexes, "indexes differ");
}
