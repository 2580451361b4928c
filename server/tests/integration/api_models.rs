//! `/models`: retraining Tier 2 on the experts' reviews, the registry, promotion and rollback,
//! and workers scoring with the promoted model from their next batch.

use aegis_core::store::{ApiKeyRole, Backend};
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::common::{on_both_backends, trace_json, TestApp};

on_both_backends!(retrained_models_are_registered_promoted_and_used, enough_new_reviews_retrain_by_themselves);

async fn enough_new_reviews_retrain_by_themselves(backend: Backend) {
    let app = TestApp::new_with(backend, |c| c.retrain_after_reviews = 2).await;
    let mut ids = Vec::new();
    for output in
        ["Up to 1000 mg every 6 hours. Ask your pharmacist.", "Take 1000 mg every 4 hours. Check with your doctor."]
    {
        let created = app.post("/api/v1/traces", &trace_json(None, output)).await;
        ids.push(created.body["trace_id"].as_str().unwrap().to_string());
    }
    app.post(&format!("/api/v1/expert-review/{}", ids[0]), r#"{"label": "safe"}"#).await;
    assert_eq!(app.get("/api/v1/models").await.body["items"], json!([]), "one review is not enough");
    app.post(&format!("/api/v1/expert-review/{}", ids[1]), r#"{"label": "unsafe"}"#).await;
    let started = std::time::Instant::now();
    loop {
        let models = app.get("/api/v1/models").await;
        if let Some(m) = models.body["items"].as_array().and_then(|i| i.first()) {
            assert_eq!(m["reviews_used"], 2);
            break;
        }
        // Generous: the debug build trains the seed set in the background while other tests
        // share the two cores; what matters is that it happens without a request.
        assert!(started.elapsed() < std::time::Duration::from_secs(300), "no model was trained");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The note of the classifier module in a trace's evaluation: which model scored it.
async fn classifier_note(app: &TestApp, output: &str) -> String {
    let created = app.post("/api/v1/traces", &trace_json(None, output)).await;
    let id = created.body["trace_id"].as_str().unwrap().to_string();
    app.evaluate_all().await;
    let e = app.get(&format!("/api/v1/evaluations/{id}")).await;
    let modules = e.body["modules"].as_array().unwrap();
    let m: &Value = modules.iter().find(|m| m["name"] == "classifier").expect("Tier 2 ran");
    m["note"].as_str().unwrap().to_string()
}

async fn retrained_models_are_registered_promoted_and_used(backend: Backend) {
    let app = TestApp::new(backend).await;
    let safe = "Up to 1000 mg every 6 hours, no more than 3 g a day. This is general information; ask your pharmacist.";
    let shipped = classifier_note(&app, safe).await;

    // Experts label a few traces; retraining adds them to the pack's seed set.
    for output in [safe, "Take 1000 mg every 4 hours. Check with your doctor if it persists."] {
        let created = app.post("/api/v1/traces", &trace_json(None, output)).await;
        let id = created.body["trace_id"].as_str().unwrap();
        let label = if output == safe { "safe" } else { "unsafe" };
        let r = app.post(&format!("/api/v1/expert-review/{id}"), &json!({"label": label}).to_string()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    assert_eq!(app.post("/api/v1/models/retrain", r#"{"domain": "retail"}"#).await.body["error"]["field"], "domain");
    let ingest = app.key(ApiKeyRole::Ingest).await;
    assert_eq!(
        app.post_as(&ingest, "/api/v1/models/retrain", r#"{"domain": "healthcare"}"#).await.status,
        StatusCode::FORBIDDEN
    );

    let first = app.post("/api/v1/models/retrain", r#"{"domain": "healthcare"}"#).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let model = &first.body["model"];
    assert_eq!(model["domain"], "healthcare");
    assert_eq!(model["reviews_used"], 2);
    assert!(model["metrics"]["accuracy"].as_f64().unwrap() > 0.9, "{}", first.text);
    assert!(model["metrics"]["training_size"].as_u64().unwrap() > 1000);
    assert!(model["note"].as_str().unwrap().contains("on the same"), "{}", first.text);
    // It beat production on the same held-out labels, or waits in staging.
    let promoted = first.body["promoted"].as_bool().unwrap();
    assert_eq!(model["stage"], if promoted { "production" } else { "staging" });
    let first_id = model["id"].as_str().unwrap().to_string();
    let first_version = model["version"].as_str().unwrap().to_string();

    let up = app.post(&format!("/api/v1/models/{first_id}/promote"), "").await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text);
    assert_eq!(up.body["stage"], "production");
    // The next batch is scored with it, no restart.
    let now_used = classifier_note(&app, safe).await;
    assert_eq!(now_used, format!("model {first_version}"), "was {shipped}");

    // A second version, promoted, then a rollback to the first.
    let second = app.post("/api/v1/models/retrain", r#"{"domain": "healthcare"}"#).await;
    let second_id = second.body["model"]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/models/{second_id}/promote"), "").await;
    let listed = app.get("/api/v1/models?domain=healthcare").await;
    let stages: Vec<(String, String)> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m["stage"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(stages, [(second_id.clone(), "production".into()), (first_id.clone(), "archived".into())]);
    app.post(&format!("/api/v1/models/{first_id}/promote"), "").await;
    let listed = app.get("/api/v1/models").await;
    assert_eq!(listed.body["items"][0]["stage"], "archived");
    assert_eq!(listed.body["items"][1]["stage"], "production");

    let (_, other) = app.other_org().await;
    assert_eq!(app.get_as(&other, "/api/v1/models").await.body["items"], json!([]));
    let theirs = app.post_as(&other, &format!("/api/v1/models/{first_id}/promote"), "").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    // The other organization keeps the pack's model.
    assert!(app.get_as(&other, "/api/v1/domains").await.status.is_success());

    // A production model that cannot be read holds back its organization's traces of that
    // domain (retried, never scored with another model), and no one else's.
    sqlx::query("UPDATE models SET body = 'not a model' WHERE id = $1")
        .bind(&first_id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let held = app.post("/api/v1/traces", &trace_json(None, safe)).await.body["trace_id"].clone();
    let theirs = app.post_as(&other, "/api/v1/traces", &trace_json(None, safe)).await.body["trace_id"].clone();
    app.evaluate_all().await;
    let e = app.get(&format!("/api/v1/evaluations/{}", held.as_str().unwrap())).await;
    assert_eq!(e.status, StatusCode::ACCEPTED, "still queued, not passed: {}", e.text);
    let e = app.get_as(&other, &format!("/api/v1/evaluations/{}", theirs.as_str().unwrap())).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
}
