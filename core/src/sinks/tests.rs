//! Webhooks and alerts against real databases and real local receivers: an HTTP server that
//! checks the Slack, PagerDuty and Standard Webhooks shapes, and aiosmtpd for email.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;
use uuid::Uuid;

use super::webhook::signing;
use super::Dispatcher;
use crate::model::{
    AlertStatus, ChannelTarget, DeliveryStatus, EvaluationStatus, EventType, Issue, OrgId, Severity, TraceInput,
};
use crate::seed::Generator;
use crate::sinks::config::SinksConfig;
use crate::store::{Backend, EndpointUpdate, NewAlertRule, NewTrace, Store};
use crate::testing::receivers::{Mode, Receiver, SmtpServer};
use crate::testing::{on_both_backends, TestDb};
use crate::tiers::Cascade;

on_both_backends!(
    webhooks_are_signed_and_sent_once_per_event,
    a_flaky_receiver_gets_nearly_every_event,
    pending_deliveries_survive_a_restart,
    endpoints_that_are_gone_or_failing_for_days_are_switched_off,
    identical_alerts_are_grouped_and_counted,
    pagerduty_incidents_trigger_and_resolve,
    alert_email_reaches_a_real_smtp_server,
    failed_evaluations_are_an_event_of_their_own,
);

/// Settings for fast tests: retries after milliseconds instead of seconds, and loopback allowed.
fn config(pagerduty_url: Option<String>) -> SinksConfig {
    let mut config = SinksConfig { allow_private: true, ..Default::default() };
    config.first_retry_ms = 10;
    config.max_retry_delay_ms = 60;
    config.poll_interval_ms = 10;
    config.timeout_secs = 5;
    if let Some(url) = pagerduty_url {
        config.pagerduty_url = url;
    }
    config
}

/// Stores `n` traces and records an evaluation of each with `issue` (none: a pass).
async fn evaluate(store: &Store, org: &OrgId, n: usize, issue: Option<(&str, Severity)>) -> Vec<Uuid> {
    let mut generator = Generator::new(n as u64);
    let rows: Vec<NewTrace> = (0..n).map(|_| new_trace(org, &generator.trace())).collect();
    store.insert_traces(&rows).await.unwrap();
    let jobs = store.claim_jobs("w", n + 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(jobs.len(), n);
    let done: Vec<_> = jobs
        .into_iter()
        .map(|job| {
            let mut e = Cascade::failed(job.trace_id, 1, "x");
            e.domain = Some("healthcare".into());
            e.tiers_run = vec![1];
            (e.status, e.severity, e.issues) = match issue {
                Some((code, severity)) => (
                    EvaluationStatus::Fail,
                    severity,
                    vec![Issue {
                        code: code.into(),
                        module: "max_daily_dose".into(),
                        severity,
                        message: "acetaminophen 6000 mg/day exceeds the maximum adult daily dose of 4000 mg".into(),
                        evidence: None,
                        subject: Some("acetaminophen".into()),
                    }],
                ),
                None => (EvaluationStatus::Pass, Severity::None, vec![]),
            };
            (job, e)
        })
        .collect();
    let ids = done.iter().map(|(job, _)| job.trace_id).collect();
    crate::pipeline::record(store, &crate::testing::test_links(), &done).await.unwrap();
    ids
}

fn new_trace(org: &OrgId, input: &TraceInput) -> NewTrace {
    NewTrace {
        org_id: org.clone(),
        trace_id: Uuid::now_v7(),
        application_id: input.application_id.clone(),
        ai_processing: input.ai_processing.clone(),
        steps_json: "[]".into(),
        metadata_json: "{}".into(),
        domain: Some("healthcare".into()),
        timestamp: Utc::now(),
        received_at: Utc::now(),
        content_hash: Uuid::new_v4().to_string(),
        vault: vec![],
        second_pass: Default::default(),
        phi_replaced: "[]".into(),
    }
}

/// Runs delivery rounds until nothing is pending (or `limit` passes).
async fn drain(dispatcher: &Dispatcher, store: &Store, limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        crate::sinks::alerts::flush_groups(store, &crate::testing::test_links()).await.unwrap();
        dispatcher.round().await.unwrap();
        if store.outbox_pending().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn webhooks_are_signed_and_sent_once_per_event(backend: Backend) {
    let db = TestDb::new(backend).await;
    let receiver = Receiver::start(Mode::Accept).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    let other = db.store.create_organization("B").await.unwrap().id;
    let (endpoint, secret) = db
        .store
        .create_webhook(&org, "test", &receiver.url("/hooks"), "", &[EventType::EvaluationCompleted])
        .await
        .unwrap();
    let dispatcher = Dispatcher::new(db.store.clone(), &config(None), crate::testing::test_links()).unwrap();

    let traces = evaluate(&db.store, &org, 3, None).await;
    evaluate(&db.store, &other, 2, None).await; // no endpoint there: nothing sent
    drain(&dispatcher, &db.store, Duration::from_secs(10)).await;

    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "one message per evaluation of the subscribed organization");
    let mut seen = HashSet::new();
    for r in &got {
        let id = r.headers["webhook-id"].to_str().unwrap();
        let ts: i64 = r.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        let signature = r.headers["webhook-signature"].to_str().unwrap();
        assert!(id.starts_with("msg_") && seen.insert(id.to_string()));
        assert!((Utc::now().timestamp() - ts).abs() < 60);
        assert!(signature.starts_with("v1,"));
        assert!(signing::verify(&secret, id, ts, r.body.as_bytes(), signature), "signed with the endpoint's secret");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["type"], "evaluation.completed");
        assert_eq!(body["data"]["status"], "pass");
        let trace: Uuid = body["data"]["trace_id"].as_str().unwrap().parse().unwrap();
        assert!(traces.contains(&trace));
        assert_eq!(body["data"]["url"], format!("http://127.0.0.1:3000/traces/{trace}"));
    }

    // The delivery log has each message, its attempt and the answer.
    let log = db.store.deliveries(&org, &endpoint.id, None, None, 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d.status == DeliveryStatus::Delivered && d.attempts == 1));
    let detail = db.store.delivery(&org, &endpoint.id, &log[0].id).await.unwrap().unwrap();
    assert_eq!(detail.attempt_log.len(), 1);
    assert_eq!(detail.attempt_log[0].status_code, Some(200));
    assert!(db.store.delivery(&other, &endpoint.id, &log[0].id).await.unwrap().is_none(), "another org's");

    // A replay sends the same message again, with the same id.
    let replayed = db.store.replay_delivery(&org, &endpoint.id, &log[0].id, "test").await.unwrap().unwrap();
    assert_eq!(replayed.status, DeliveryStatus::Pending);
    drain(&dispatcher, &db.store, Duration::from_secs(10)).await;
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].headers["webhook-id"].to_str().unwrap(), log[0].id);

    // After a rotation both secrets sign, for a day.
    let new_secret = db.store.rotate_webhook_secret(&org, "test", &endpoint.id).await.unwrap().unwrap();
    assert_ne!(new_secret, secret);
    evaluate(&db.store, &org, 1, None).await;
    drain(&dispatcher, &db.store, Duration::from_secs(10)).await;
    let last = receiver.got.lock().unwrap().last().cloned().unwrap();
    let (id, ts) = (last.headers["webhook-id"].to_str().unwrap(), last.headers["webhook-timestamp"].to_str().unwrap());
    let signature = last.headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signature.split(' ').count(), 2);
    for s in [&secret, &new_secret] {
        assert!(signing::verify(s, id, ts.parse().unwrap(), last.body.as_bytes(), signature));
    }

    // Finished messages are pruned after the retention period, pending ones never.
    assert_eq!(db.store.prune_outbox(Utc::now() - chrono::Duration::days(1)).await.unwrap(), 0);
    assert_eq!(db.store.prune_outbox(Utc::now()).await.unwrap(), 4);
    assert!(db.store.deliveries(&org, &endpoint.id, None, None, 10).await.unwrap().is_empty());

    // Unsubscribed events are not sent; an endpoint switched off gets nothing.
    let update = EndpointUpdate { enabled: Some(false), ..Default::default() };
    let off = db.store.update_webhook(&org, "test", &endpoint.id, &update).await.unwrap().unwrap();
    assert!(!off.enabled && off.disabled_reason.is_some());
    evaluate(&db.store, &org, 2, None).await;
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), 5, "nothing more");
}

async fn a_flaky_receiver_gets_nearly_every_event(backend: Backend) {
    const EVENTS: usize = 1000;
    let db = TestDb::new(backend).await;
    let receiver = Receiver::start(Mode::Flaky(0.3)).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    let (endpoint, secret) = db
        .store
        .create_webhook(&org, "test", &receiver.url("/flaky"), "", &[EventType::EvaluationCompleted])
        .await
        .unwrap();
    let dispatcher = Dispatcher::new(db.store.clone(), &config(None), crate::testing::test_links()).unwrap();
    for _ in 0..(EVENTS / 250) {
        evaluate(&db.store, &org, 250, None).await;
    }
    drain(&dispatcher, &db.store, Duration::from_secs(120)).await;

    let got = receiver.got.lock().unwrap().clone();
    let failed_requests = got.len() - EVENTS.min(got.len());
    let mut delivered = HashSet::new();
    for r in &got {
        let id = r.headers["webhook-id"].to_str().unwrap().to_string();
        let ts = r.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        assert!(signing::verify(&secret, &id, ts, r.body.as_bytes(), r.headers["webhook-signature"].to_str().unwrap()));
        delivered.insert(id);
    }
    let log = db.store.deliveries(&org, &endpoint.id, Some(DeliveryStatus::Delivered), None, 5000).await.unwrap();
    let rate = log.len() as f64 / EVENTS as f64;
    assert!(rate >= 0.999, "{} of {EVENTS} delivered", log.len());
    assert!(failed_requests > 200, "the receiver really failed about 30% ({failed_requests} failures)");
    assert_eq!(delivered.len(), EVENTS, "every message id reached the receiver");
}

async fn pending_deliveries_survive_a_restart(backend: Backend) {
    let db = TestDb::new(backend).await;
    let receiver = Receiver::start(Mode::Status(503)).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    db.store.create_webhook(&org, "test", &receiver.url("/down"), "", &[EventType::EvaluationCompleted]).await.unwrap();
    {
        let dispatcher = Dispatcher::new(db.store.clone(), &config(None), crate::testing::test_links()).unwrap();
        evaluate(&db.store, &org, 20, None).await;
        dispatcher.round().await.unwrap();
        assert_eq!(db.store.outbox_pending().await.unwrap(), 20, "failed, not lost");
        // A sender that claimed messages and died: their lease runs out and they are sent.
        db.store.claim_messages(5, Duration::from_millis(200)).await.unwrap();
    }
    // A new process on the same database, the receiver back.
    receiver.set(Mode::Accept);
    let store = Store::connect(&db.url, 4).await.unwrap();
    let dispatcher = Dispatcher::new(store.clone(), &config(None), crate::testing::test_links()).unwrap();
    drain(&dispatcher, &store, Duration::from_secs(15)).await;
    assert_eq!(store.outbox_pending().await.unwrap(), 0);
    let ids: HashSet<String> = receiver
        .got
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.headers.contains_key("webhook-id"))
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 20);
}

async fn endpoints_that_are_gone_or_failing_for_days_are_switched_off(backend: Backend) {
    let db = TestDb::new(backend).await;
    let gone = Receiver::start(Mode::Status(410)).await;
    let failing = Receiver::start(Mode::Status(500)).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    let events = [EventType::EvaluationCompleted];
    let (a, _) = db.store.create_webhook(&org, "t", &gone.url("/a"), "", &events).await.unwrap();
    let (b, _) = db.store.create_webhook(&org, "t", &failing.url("/b"), "", &events).await.unwrap();
    let mut config = config(None);
    // "Days" shortened to two seconds.
    config.retry_for_secs = 2;
    let dispatcher = Dispatcher::new(db.store.clone(), &config, crate::testing::test_links()).unwrap();
    evaluate(&db.store, &org, 3, None).await;
    drain(&dispatcher, &db.store, Duration::from_secs(20)).await;

    let a = db.store.webhook(&org, &a.id).await.unwrap().unwrap();
    assert!(!a.enabled);
    assert!(a.disabled_reason.unwrap().contains("410"));
    let log = db.store.deliveries(&org, &a.id, None, None, 10).await.unwrap();
    assert!(log.iter().all(|d| d.status == DeliveryStatus::Failed), "its other messages are given up");

    let b = db.store.webhook(&org, &b.id).await.unwrap().unwrap();
    assert!(!b.enabled, "switched off after failing for the whole retry window");
    assert!(b.disabled_reason.unwrap().contains("every delivery failed"));
    let log = db.store.deliveries(&org, &b.id, None, None, 10).await.unwrap();
    assert!(log.iter().all(|d| d.status == DeliveryStatus::Failed && d.attempts > 2), "retried, then given up");
    let audit = db.store.audit_log(&org, 50).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "webhook.disabled").count(), 2, "with a notice");
}

async fn alert_setup(store: &Store, org: &OrgId, slack: &Receiver, cooldown_secs: u64) -> Vec<String> {
    let s = store
        .create_alert_channel(org, "t", "oncall", &ChannelTarget::Slack { webhook_url: slack.url("/services/T0/B0/x") })
        .await
        .unwrap();
    let rule = NewAlertRule {
        name: "Overdoses".into(),
        min_severity: Severity::High,
        domains: vec!["healthcare".into()],
        issue_types: vec!["medication_overdose".into()],
        channels: vec![s.id.clone()],
        cooldown_secs,
        enabled: true,
    };
    store.create_alert_rule(org, "t", &rule).await.unwrap();
    vec![s.id]
}

async fn identical_alerts_are_grouped_and_counted(backend: Backend) {
    let db = TestDb::new(backend).await;
    let slack = Receiver::start(Mode::Accept).await;
    let hooks = Receiver::start(Mode::Accept).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    alert_setup(&db.store, &org, &slack, 2).await;
    db.store.create_webhook(&org, "t", &hooks.url("/h"), "", &[EventType::AlertTriggered]).await.unwrap();
    let dispatcher = Dispatcher::new(db.store.clone(), &config(None), crate::testing::test_links()).unwrap();

    // Below the rule's severity, or another issue type: no alert.
    evaluate(&db.store, &org, 2, Some(("medication_overdose", Severity::Medium))).await;
    evaluate(&db.store, &org, 1, Some(("drug_interaction", Severity::Critical))).await;
    // Three in one batch, then two more inside the cooldown window.
    let first = evaluate(&db.store, &org, 3, Some(("medication_overdose", Severity::Critical))).await;
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;
    evaluate(&db.store, &org, 2, Some(("medication_overdose", Severity::Critical))).await;
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;

    let messages = slack.bodies();
    assert_eq!(messages.len(), 1, "one notification for the window so far");
    let m = &messages[0];
    assert!(m["text"].as_str().unwrap().contains("Critical medication_overdose in healthcare"));
    let blocks = m["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    let summary = blocks[1]["text"]["text"].as_str().unwrap();
    assert!(summary.contains("acetaminophen 6000 mg/day") && summary.contains("2 more identical alerts"), "{summary}");
    let button = &blocks[3]["elements"][0];
    assert_eq!(button["type"], "button");
    assert_eq!(button["url"], format!("http://127.0.0.1:3000/traces/{}", first[0]));

    // When the window ends, the two grouped since are reported, not dropped.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;
    let messages = slack.bodies();
    assert_eq!(messages.len(), 2);
    let summary = messages[1]["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(summary.starts_with("2 more medication_overdose alerts in healthcare"), "{summary}");

    let alerts = db.store.alerts(&org, 10).await.unwrap();
    assert_eq!(alerts.iter().map(|a| a.grouped).collect::<Vec<_>>(), vec![2, 2], "newest first");
    assert_eq!(alerts.iter().map(|a| a.grouped + 1).sum::<u64>() - 1, 5, "all five alerts accounted for");
    let hook_bodies = hooks.bodies();
    assert_eq!(hook_bodies.len(), 2);
    assert!(hook_bodies.iter().all(|b| b["type"] == "alert.triggered"));

    // A new window opens with the next one.
    evaluate(&db.store, &org, 1, Some(("medication_overdose", Severity::High))).await;
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;
    assert_eq!(slack.bodies().len(), 3);
    assert!(db.store.alerts(&org, 10).await.unwrap()[0].grouped == 0);
}

async fn pagerduty_incidents_trigger_and_resolve(backend: Backend) {
    let db = TestDb::new(backend).await;
    let pagerduty = Receiver::start(Mode::Status(202)).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    let channel = db
        .store
        .create_alert_channel(
            &org,
            "t",
            "pd",
            &ChannelTarget::PagerDuty { routing_key: "R0UT1NGKEY0000000000000000000000".into() },
        )
        .await
        .unwrap();
    let rule = NewAlertRule {
        name: "Anything critical".into(),
        min_severity: Severity::Critical,
        domains: vec![],
        issue_types: vec![],
        channels: vec![channel.id],
        cooldown_secs: 300,
        enabled: true,
    };
    db.store.create_alert_rule(&org, "t", &rule).await.unwrap();
    let dispatcher =
        Dispatcher::new(db.store.clone(), &config(Some(pagerduty.url("/v2/enqueue"))), crate::testing::test_links())
            .unwrap();
    evaluate(&db.store, &org, 1, Some(("medication_overdose", Severity::Critical))).await;
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;

    let alert = db.store.alerts(&org, 1).await.unwrap().remove(0);
    let resolved = crate::sinks::alerts::resolve(&db.store, &org, "t", &alert.id).await.unwrap().unwrap();
    assert_eq!(resolved.status, AlertStatus::Resolved);
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;

    let events = pagerduty.bodies();
    assert_eq!(events.len(), 2);
    let (trigger, resolve) = (&events[0], &events[1]);
    assert_eq!(trigger["routing_key"], "R0UT1NGKEY0000000000000000000000");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "aegis");
    assert!(trigger["payload"]["summary"].as_str().unwrap().len() <= 1024);
    assert!(trigger["payload"]["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(trigger["links"][0]["href"], alert.url);
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"], "the same incident");
    assert!(resolve.get("payload").is_none());
    assert_eq!(db.store.alerts(&org, 1).await.unwrap()[0].status, AlertStatus::Resolved);
}

async fn alert_email_reaches_a_real_smtp_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    let smtp = SmtpServer::start();
    let org = db.store.create_organization("A").await.unwrap().id;
    let to = vec!["oncall@hospital.example".to_string(), "safety@hospital.example".to_string()];
    let channel =
        db.store.create_alert_channel(&org, "t", "email", &ChannelTarget::Email { to: to.clone() }).await.unwrap();
    let rule = NewAlertRule {
        name: "Overdoses".into(),
        min_severity: Severity::High,
        domains: vec![],
        issue_types: vec![],
        channels: vec![channel.id],
        cooldown_secs: 60,
        enabled: true,
    };
    db.store.create_alert_rule(&org, "t", &rule).await.unwrap();
    let mut config = config(None);
    config.smtp.host = Some("127.0.0.1".into());
    config.smtp.port = smtp.port;
    config.smtp.tls = crate::sinks::email::config::SmtpTls::None;
    config.smtp.from = "Aegis Alerts <alerts@aegis.example>".into();
    let dispatcher = Dispatcher::new(db.store.clone(), &config, crate::testing::test_links()).unwrap();
    let traces = evaluate(&db.store, &org, 1, Some(("medication_overdose", Severity::Critical))).await;
    drain(&dispatcher, &db.store, Duration::from_secs(10)).await;

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one message, to both recipients");
    let (rcpt, eml) = &messages[0];
    // Undo quoted-printable's soft line breaks.
    let eml = &eml.replace("=\r\n", "").replace("=\n", "");
    assert_eq!(rcpt.lines().collect::<Vec<_>>(), to);
    assert!(eml.contains("Subject: [Aegis] Critical medication_overdose in healthcare"));
    assert!(
        eml.contains("From: \"Aegis Alerts\" <alerts@aegis.example>")
            || eml.contains("From: Aegis Alerts <alerts@aegis.example>")
    );
    assert!(eml.contains("multipart/alternative"));
    assert!(eml.contains("Content-Type: text/plain") && eml.contains("Content-Type: text/html"));
    assert!(eml.contains(&format!("/traces/{}", traces[0])));
    let org_channels = db.store.alert_channels(&org).await.unwrap();
    assert_eq!(org_channels.len(), 1);
}

async fn failed_evaluations_are_an_event_of_their_own(backend: Backend) {
    let db = TestDb::new(backend).await;
    let receiver = Receiver::start(Mode::Accept).await;
    let org = db.store.create_organization("A").await.unwrap().id;
    db.store.create_webhook(&org, "t", &receiver.url("/f"), "", &[EventType::EvaluationFailed]).await.unwrap();
    evaluate(&db.store, &org, 2, None).await;
    // An evaluation that gave up after every retry.
    let mut generator = Generator::new(9);
    db.store.insert_traces(&[new_trace(&org, &generator.trace())]).await.unwrap();
    let jobs = db.store.claim_jobs("w", 10, Duration::from_secs(60)).await.unwrap();
    let failed = Cascade::failed(jobs[0].trace_id, 5, "the judge timed out");
    db.record(&[(jobs[0].clone(), failed)]).await.unwrap();
    let dispatcher = Dispatcher::new(db.store.clone(), &config(None), crate::testing::test_links()).unwrap();
    drain(&dispatcher, &db.store, Duration::from_secs(5)).await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1, "only the failure");
    assert_eq!(bodies[0]["type"], "evaluation.failed");
    assert_eq!(bodies[0]["data"]["status"], "error");
    assert_eq!(bodies[0]["data"]["trace_id"], jobs[0].trace_id.to_string());
}
