//! `/webhooks`, `/alert-channels`, `/alert-rules` and `/alerts`, end to end: a trace sent
//! through the API, evaluated by the real cascade, reaching local receivers de-identified.

use std::time::{Duration, Instant};

use aegis_core::sinks::webhook::signing;
use aegis_core::sinks::Dispatcher;
use aegis_core::store::{ApiKeyRole, Backend};
use aegis_core::testing::receivers::{Mode, Receiver};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{on_both_backends, trace_json, TestApp};

on_both_backends!(
    webhook_endpoints_are_managed_signed_and_replayed,
    an_overdose_alerts_slack_and_pagerduty_without_phi,
    private_targets_are_refused_by_default
);

/// Patient details the alert must never carry.
const PATIENT: &str = "Patient Eleanor Quistgaard (MRN: 88412093) asks about her back pain.";
const OVERDOSE: &str = "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.";

async fn app(backend: Backend) -> TestApp {
    TestApp::new_with(backend, |c| {
        c.sinks.allow_private = true;
        c.sinks.first_retry_ms = 10;
        c.sinks.max_retry_delay_ms = 50;
    })
    .await
}

/// Sends an overdose answer about a named patient and evaluates it with the real cascade.
async fn send_overdose(app: &TestApp) -> String {
    let body = trace_json(None, OVERDOSE).replace("Max daily dose of acetaminophen?", PATIENT);
    let created = app.post("/api/v1/traces", &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    app.evaluate_all().await;
    created.body["trace_id"].as_str().unwrap().to_string()
}

/// Delivers everything due until the outbox is empty.
async fn deliver(app: &TestApp, pagerduty_url: Option<String>) {
    let mut config = (*app.state.config).clone();
    if let Some(url) = pagerduty_url {
        config.sinks.pagerduty_url = url;
    }
    let dispatcher =
        Dispatcher::new(app.store.clone(), &config.sinks, aegis_core::sinks::Links::new(&config.public_url)).unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        dispatcher.round().await.unwrap();
        if app.store.outbox_pending().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("messages still pending after 10 s");
}

async fn webhook_endpoints_are_managed_signed_and_replayed(backend: Backend) {
    let app = app(backend).await;
    let receiver = Receiver::start(Mode::Accept).await;
    let url = receiver.url("/aegis");

    // Bad input names the field; nothing is created.
    for (body, field) in [
        (json!({"events": ["evaluation.completed"]}), "url"),
        (json!({"url": url}), "events"),
        (json!({"url": url, "events": []}), "events"),
        (json!({"url": url, "events": ["evaluation.done"]}), "events[0]"),
        (json!({"url": "ftp://example.com/x", "events": ["evaluation.completed"]}), "url"),
        (json!({"url": url, "events": ["evaluation.completed"], "secret": "mine"}), "secret"),
    ] {
        let r = app.post("/api/v1/webhooks", &body.to_string()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["field"], field, "{body}: {}", r.text);
    }
    assert_eq!(app.post("/api/v1/webhooks", "{\"url\": ").await.status, StatusCode::BAD_REQUEST);
    let ingest_key = app.key(ApiKeyRole::Ingest).await;
    let body = json!({"url": url, "events": ["evaluation.completed"]}).to_string();
    assert_eq!(app.post_as(&ingest_key, "/api/v1/webhooks", &body).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/webhooks").await.body["items"], json!([]));

    let body = json!({"url": url, "events": ["evaluation.completed", "alert.triggered"], "description": "ops"});
    let created = app.post("/api/v1/webhooks", &body.to_string()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let listed = app.get("/api/v1/webhooks").await;
    assert_eq!(listed.body["items"][0]["id"], id);
    assert!(listed.body["items"][0].get("secret").is_none(), "the secret is shown once");

    let trace_id = send_overdose(&app).await;
    deliver(&app, None).await;
    let got = receiver.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    let (msg_id, ts) = (r.headers["webhook-id"].to_str().unwrap(), r.headers["webhook-timestamp"].to_str().unwrap());
    assert!(signing::verify(
        &secret,
        msg_id,
        ts.parse().unwrap(),
        r.body.as_bytes(),
        r.headers["webhook-signature"].to_str().unwrap()
    ));
    let event: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(event["type"], "evaluation.completed");
    assert_eq!(event["data"]["trace_id"], trace_id);
    assert_eq!(event["data"]["status"], "fail");
    assert_eq!(event["data"]["issues"][0]["code"], "medication_overdose");
    assert!(!r.body.contains("Quistgaard") && !r.body.contains("88412093"), "de-identified: {}", r.body);

    // The delivery log, one delivery's attempts, and a replay with the same id.
    let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    let delivery = &log.body["items"][0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["event_type"], "evaluation.completed");
    let delivery_id = delivery["id"].as_str().unwrap();
    let detail = app.get(&format!("/api/v1/webhooks/{id}/deliveries/{delivery_id}")).await;
    assert_eq!(detail.body["attempt_log"][0]["status_code"], 200);
    let replay = app.post(&format!("/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay"), "").await;
    assert_eq!(replay.status, StatusCode::ACCEPTED, "{}", replay.text);
    deliver(&app, None).await;
    assert_eq!(receiver.got.lock().unwrap()[1].headers["webhook-id"].to_str().unwrap(), msg_id);
    assert_eq!(
        app.get(&format!("/api/v1/webhooks/{id}/deliveries?status=sent")).await.body["error"]["field"],
        "status"
    );

    // Update, test, rotate.
    let patched = app.send_json("PATCH", &format!("/api/v1/webhooks/{id}"), r#"{"events": ["webhook.test"]}"#).await;
    assert_eq!(patched.body["events"], json!(["webhook.test"]), "{}", patched.text);
    assert_eq!(app.post(&format!("/api/v1/webhooks/{id}/test"), "").await.status, StatusCode::ACCEPTED);
    let rotated = app.post(&format!("/api/v1/webhooks/{id}/rotate"), "").await;
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    deliver(&app, None).await;
    let last = receiver.got.lock().unwrap().last().cloned().unwrap();
    assert!(last.body.contains("\"webhook.test\""));
    assert_eq!(last.headers["webhook-signature"].to_str().unwrap().split(' ').count(), 2, "both secrets sign");

    // Another organization sees none of it.
    let (_, other_key) = app.other_org().await;
    assert_eq!(app.get_as(&other_key, &format!("/api/v1/webhooks/{id}")).await.status, StatusCode::NOT_FOUND);
    let other_log = app.get_as(&other_key, &format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(other_log.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get_as(&other_key, "/api/v1/webhooks").await.body["items"], json!([]));

    let deleted = app.send_json("DELETE", &format!("/api/v1/webhooks/{id}"), "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/webhooks/{id}")).await.status, StatusCode::NOT_FOUND);
}

async fn an_overdose_alerts_slack_and_pagerduty_without_phi(backend: Backend) {
    let app = app(backend).await;
    let slack = Receiver::start(Mode::Accept).await;
    let pagerduty = Receiver::start(Mode::Status(202)).await;

    let bad_key = json!({"kind": "pagerduty", "routing_key": "short"}).to_string();
    assert_eq!(app.post("/api/v1/alert-channels", &bad_key).await.body["error"]["field"], "routing_key");
    let email = json!({"kind": "email", "to": ["oncall@hospital.example"]}).to_string();
    let no_smtp = app.post("/api/v1/alert-channels", &email).await;
    assert_eq!(no_smtp.body["error"]["field"], "kind", "this app has no SMTP server: {}", no_smtp.text);
    let slack_url = slack.url("/services/T000/B000/XXXXXXXX");
    let s = app
        .post(
            "/api/v1/alert-channels",
            &json!({"name": "#clinical-safety", "kind": "slack", "webhook_url": slack_url}).to_string(),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    let p = app
        .post(
            "/api/v1/alert-channels",
            &json!({"name": "on call", "kind": "pagerduty", "routing_key": "R0UT1NGKEY0000000000000000000042"})
                .to_string(),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let listed = app.get("/api/v1/alert-channels").await;
    assert!(!listed.text.contains("XXXXXXXX") && !listed.text.contains("R0UT1NGKEY0000000000000000000042"), "masked");

    let unknown = json!({"name": "x", "channels": ["ch_nope"]}).to_string();
    assert_eq!(app.post("/api/v1/alert-rules", &unknown).await.body["error"]["field"], "channels[0]");
    let rule = json!({
        "name": "Overdoses",
        "min_severity": "high",
        "domains": ["healthcare"],
        "issue_types": ["medication_overdose"],
        "channels": [s.body["id"], p.body["id"]],
        "cooldown_secs": 600
    });
    let created = app.post("/api/v1/alert-rules", &rule.to_string()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["cooldown_secs"], 600);

    let trace_id = send_overdose(&app).await;
    send_overdose(&app).await; // identical: grouped into the first alert's window
    deliver(&app, Some(pagerduty.url("/v2/enqueue"))).await;

    let messages = slack.bodies();
    assert_eq!(messages.len(), 1, "the second overdose is grouped, not sent again");
    let text = messages[0].to_string();
    assert!(text.contains("medication_overdose") && text.contains(&format!("/traces/{trace_id}")), "{text}");
    assert!(!text.contains("Quistgaard") && !text.contains("88412093"), "de-identified: {text}");
    let events = pagerduty.bodies();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_action"], "trigger");
    assert_eq!(events[0]["payload"]["severity"], "critical");

    let alerts = app.get("/api/v1/alerts").await;
    assert_eq!(alerts.status, StatusCode::OK, "{}", alerts.text);
    let alert = &alerts.body["items"][0];
    assert_eq!(alert["status"], "triggered");
    let resolved = app.post(&format!("/api/v1/alerts/{}/resolve", alert["id"].as_str().unwrap()), "").await;
    assert_eq!(resolved.body["status"], "resolved", "{}", resolved.text);
    deliver(&app, Some(pagerduty.url("/v2/enqueue"))).await;
    let events = pagerduty.bodies();
    assert_eq!(events[1]["event_action"], "resolve");
    assert_eq!(events[1]["dedup_key"], events[0]["dedup_key"]);
    assert_eq!(slack.bodies().len(), 2, "Slack hears of the resolution too");

    let (_, other_key) = app.other_org().await;
    assert_eq!(app.get_as(&other_key, "/api/v1/alerts").await.body["items"], json!([]));
    let other_resolve =
        app.post_as(&other_key, &format!("/api/v1/alerts/{}/resolve", alert["id"].as_str().unwrap()), "").await;
    assert_eq!(other_resolve.status, StatusCode::NOT_FOUND);
}

async fn private_targets_are_refused_by_default(backend: Backend) {
    let app = TestApp::new(backend).await;
    for url in
        ["http://127.0.0.1:9000/hook", "http://169.254.169.254/latest/meta-data", "http://10.0.0.7/x", "http://[::1]/"]
    {
        let r =
            app.post("/api/v1/webhooks", &json!({"url": url, "events": ["evaluation.completed"]}).to_string()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(r.body["error"]["field"], "url");
        assert!(r.text.contains("AEGIS_WEBHOOK_ALLOW_PRIVATE"), "{}", r.text);
    }
    let slack = json!({"kind": "slack", "webhook_url": "http://192.168.1.10/services/x"}).to_string();
    assert_eq!(app.post("/api/v1/alert-channels", &slack).await.body["error"]["field"], "webhook_url");
}
