//! `/transfer`: sim-to-real pairs in, predictions with intervals out.

use aegis_core::store::Backend;
use axum::http::StatusCode;
use serde_json::json;

use crate::common::{on_both_backends, trace_json, TestApp};

on_both_backends!(pairs_teach_the_transfer_and_predictions_carry_intervals);

async fn pairs_teach_the_transfer_and_predictions_carry_intervals(backend: Backend) {
    let app = TestApp::new(backend).await;
    let nothing_yet = app.post("/api/v1/transfer/predict", r#"{"sim_score": 0.5}"#).await;
    assert_eq!(nothing_yet.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nothing_yet.text);

    let mut ids = Vec::new();
    for i in 0..40 {
        let created = app.post("/api/v1/traces", &trace_json(None, &format!("Episode {i} done."))).await;
        ids.push(created.body["trace_id"].as_str().unwrap().to_string());
    }
    for (i, id) in ids.iter().enumerate() {
        // A known transfer with a little noise: real = 0.1 + 0.7 sim - 0.2 volatility ± 0.01.
        let sim = i as f64 / 40.0;
        let volatility = (i % 5) as f64 / 10.0;
        let wobble = if i % 2 == 0 { 0.01 } else { -0.01 };
        let real = 0.1 + 0.7 * sim - 0.2 * volatility + wobble;
        let body =
            json!({"trace_id": id, "sim_score": sim, "real_score": real, "features": {"volatility": volatility}});
        let r = app.post("/api/v1/transfer/pairs", &body.to_string()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["pairs"], i + 1);
        if i == 10 {
            let early = app.post("/api/v1/transfer/predict", r#"{"sim_score": 0.5}"#).await;
            assert_eq!(early.status, StatusCode::CONFLICT, "too few pairs yet: {}", early.text);
            assert!(early.text.contains("at least 20"));
        }
    }
    let p = app.post("/api/v1/transfer/predict", r#"{"sim_score": 0.5, "features": {"volatility": 0.2}}"#).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let predicted = p.body["predicted_real_score"].as_f64().unwrap();
    assert!((predicted - (0.1 + 0.35 - 0.04)).abs() < 0.02, "{}", p.text);
    let (lo, hi) = (p.body["confidence_lower"].as_f64().unwrap(), p.body["confidence_upper"].as_f64().unwrap());
    assert!(lo < predicted && predicted < hi && hi - lo < 0.1, "{}", p.text);
    assert_eq!(p.body["coverage"], 0.9);
    assert_eq!(p.body["domain"], "healthcare");

    // One column per feature name: thousands of names would size the server's memory.
    let many_features: serde_json::Map<String, serde_json::Value> =
        (0..10_000).map(|i| (format!("f{i}"), json!(0.5))).collect();
    let wide =
        app.post("/api/v1/transfer/predict", &json!({"sim_score": 0.5, "features": many_features}).to_string()).await;
    assert_eq!(
        (wide.status, wide.body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("features"))
    );

    for (body, field) in [
        (json!({"trace_id": ids[0], "sim_score": "high", "real_score": 0.1}), "sim_score"),
        (json!({"trace_id": ids[0], "sim_score": 0.1}), "real_score"),
        (json!({"trace_id": ids[0], "sim_score": 0.1, "real_score": 0.2, "features": {"v": "x"}}), "features.v"),
        (json!({"trace_id": ids[0], "sim_score": 0.1, "real_score": 0.2, "features": many_features}), "features"),
    ] {
        let r = app.post("/api/v1/transfer/pairs", &body.to_string()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert_eq!(r.body["error"]["field"], field, "{body}: {}", r.text);
    }
    let (_, other) = app.other_org().await;
    let theirs = json!({"trace_id": ids[0], "sim_score": 0.1, "real_score": 0.2}).to_string();
    assert_eq!(app.post_as(&other, "/api/v1/transfer/pairs", &theirs).await.status, StatusCode::NOT_FOUND);
    let empty = app.post_as(&other, "/api/v1/transfer/predict", r#"{"sim_score": 0.5}"#).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "another organization learns nothing from these pairs");
}
