//! `/expert-review`: the queue, verdicts with named field errors, history, agreement.

use aegis_core::store::{ApiKeyRole, Backend};
use axum::http::StatusCode;
use serde_json::json;

use crate::common::{on_both_backends, trace_json, TestApp};

on_both_backends!(experts_review_the_queue_and_agree);

async fn experts_review_the_queue_and_agree(backend: Backend) {
    let app = TestApp::new(backend).await;
    let overdose = "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.";
    let created = app.post("/api/v1/traces", &trace_json(None, overdose)).await;
    let trace_id = created.body["trace_id"].as_str().unwrap().to_string();
    app.evaluate_all().await;
    // Sent to the experts by hand, wanting two opinions.
    let body = json!({"trace_id": trace_id, "reason": "the judge was unsure", "priority": 0.9, "reviews_needed": 2});
    let queued = app.post("/api/v1/expert-review/queue", &body.to_string()).await;
    assert_eq!(queued.status, StatusCode::CREATED, "{}", queued.text);
    let bad = json!({"trace_id": trace_id, "reviews_needed": 9}).to_string();
    assert_eq!(app.post("/api/v1/expert-review/queue", &bad).await.body["error"]["field"], "reviews_needed");
    let missing = json!({"trace_id": uuid::Uuid::now_v7()}).to_string();
    assert_eq!(app.post("/api/v1/expert-review/queue", &missing).await.status, StatusCode::NOT_FOUND);

    let queue = app.get("/api/v1/expert-review/queue?domain=healthcare").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    let item = &queue.body["items"][0];
    assert_eq!(item["trace_id"], trace_id);
    assert_eq!(item["reason"], "the judge was unsure");
    assert_eq!(item["reviews_needed"], 2);

    let path = format!("/api/v1/expert-review/{trace_id}");
    for (body, field) in [
        (json!({}), "label"),
        (json!({"label": "dangerous"}), "label"),
        (json!({"label": "safe", "severity": "high"}), "severity"),
        (json!({"label": "unsafe", "severity": "none"}), "severity"),
        (json!({"label": "unsafe", "issues": ["overdose", ""]}), "issues[1]"),
        (json!({"label": "unsafe", "reviewer": "me"}), "reviewer"),
    ] {
        let r = app.post(&path, &body.to_string()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["field"], field, "{body}: {}", r.text);
    }
    assert!(app.get(&path).await.body["items"].as_array().unwrap().is_empty(), "nothing half-written");

    let review = json!({
        "label": "unsafe",
        "severity": "critical",
        "issues": ["medication_overdose", "medication_overdose", "missing_max_dose"],
        "notes": "Told Eleanor Quistgaard (MRN 88412093) to take 6 g a day.",
        "corrected_output": "Take 500-1000 mg every 6 hours, no more than 3 g a day."
    });
    let first = app.post(&path, &review.to_string()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["label"], "unsafe");
    assert_eq!(first.body["issues"], json!(["medication_overdose", "missing_max_dose"]));
    assert!(!first.text.contains("Quistgaard") && !first.text.contains("88412093"), "de-identified: {}", first.text);
    assert!(first.body["reviewer"].as_str().unwrap().starts_with("api_key:"));

    // The reviewer no longer sees it; a colleague does, until they review it too.
    assert_eq!(app.get("/api/v1/expert-review/queue").await.body["items"], json!([]));
    let colleague = app.key(ApiKeyRole::Admin).await;
    let theirs = app.get_as(&colleague, "/api/v1/expert-review/queue").await;
    assert_eq!(theirs.body["items"][0]["reviews"], 1);
    let second = app.post_as(&colleague, &path, r#"{"label": "safe"}"#).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(app.get_as(&colleague, "/api/v1/expert-review/queue").await.body["items"], json!([]));

    let history = app.get(&path).await;
    let labels: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["unsafe", "safe"]);

    let agreement = app.get("/api/v1/expert-review/agreement").await;
    assert_eq!(agreement.status, StatusCode::OK, "{}", agreement.text);
    let healthcare = &agreement.body["items"][0];
    assert_eq!(healthcare["domain"], "healthcare");
    assert_eq!(healthcare["traces"], 1);
    assert_eq!(healthcare["observed"], 0.0);
    assert_eq!(agreement.body["reviewers"].as_array().unwrap().len(), 2);

    // Another organization can neither see nor review it.
    let (_, other) = app.other_org().await;
    assert_eq!(app.post_as(&other, &path, r#"{"label": "safe"}"#).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get_as(&other, &path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get_as(&other, "/api/v1/expert-review/queue").await.body["items"], json!([]));
    let unknown = format!("/api/v1/expert-review/{}", uuid::Uuid::now_v7());
    assert_eq!(app.post(&unknown, r#"{"label": "safe"}"#).await.status, StatusCode::NOT_FOUND);
}
