//! The trace and evaluation API against real databases, both backends.

use crate::common::{on_both_backends, trace_json, TestApp, SAFE_ANSWER, TEST_BODY_LIMIT};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    a_trace_is_accepted_stored_and_evaluated,
    resubmission_is_idempotent_and_reuse_conflicts,
    organizations_cannot_see_each_other,
    requests_need_a_valid_api_key,
    bad_input_is_refused_with_a_named_field_and_nothing_written,
    batches_report_each_item,
    lists_are_paginated_and_filtered,
    lists_are_searched,
    unknown_query_parameters_are_named_not_ignored,
    health_and_metrics,
);

async fn a_trace_is_accepted_stored_and_evaluated(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let created = app.post("/api/v1/traces", &trace_json(None, SAFE_ANSWER)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["status"], "queued");
    let id = created.body["trace_id"].as_str().unwrap().to_string();

    let trace = app.get(&format!("/api/v1/traces/{id}")).await;
    assert_eq!(trace.status, StatusCode::OK);
    insta::assert_json_snapshot!("stored_trace", trace.body, {
        ".trace_id" => "[trace_id]", ".received_at" => "[received_at]",
    });

    let pending = app.get(&format!("/api/v1/evaluations/{id}")).await;
    assert_eq!(pending.status, StatusCode::ACCEPTED);
    assert_eq!(pending.body["status"], "pending");

    app.evaluate_all().await;
    let evaluation = app.get(&format!("/api/v1/evaluations/{id}")).await;
    assert_eq!(evaluation.status, StatusCode::OK);
    // The classifier's score and version change with every retraining; the path does not.
    insta::assert_json_snapshot!("evaluation_pass", evaluation.body, {
        ".trace_id" => "[trace_id]", ".evaluated_at" => "[evaluated_at]",
        ".latency_ms" => "[latency]", ".modules[].latency_ms" => "[latency]",
        ".modules[].score" => "[score]", ".modules[].note" => "[model]", ".escalation[].reason" => "[reason]",
    });
    let trace = app.get(&format!("/api/v1/traces/{id}")).await;
    assert_eq!(trace.body["status"], "pass");

    // An empty answer fails Tier 0, with the issue named.
    let empty = app.post("/api/v1/traces", &trace_json(None, "")).await;
    app.evaluate_all().await;
    let failed = app.get(&format!("/api/v1/evaluations/{}", empty.body["trace_id"].as_str().unwrap())).await;
    assert_eq!(failed.body["status"], "fail");
    assert_eq!(failed.body["severity"], "high");
    assert_eq!(failed.body["issues"][0]["code"], "empty_output");
}

async fn resubmission_is_idempotent_and_reuse_conflicts(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let id = "0b7c6a36-3f57-4b7e-9a51-2d1f0c1e9a11";
    let first = app.post("/api/v1/traces", &trace_json(Some(id), SAFE_ANSWER)).await;
    assert_eq!((first.status, first.body["trace_id"].as_str()), (StatusCode::CREATED, Some(id)));
    let retry = app.post("/api/v1/traces", &trace_json(Some(id), SAFE_ANSWER)).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body, json!({ "trace_id": id, "status": "queued", "duplicate": true }));
    let reuse = app.post("/api/v1/traces", &trace_json(Some(id), "something else")).await;
    assert_eq!(reuse.status, StatusCode::CONFLICT);
    insta::assert_json_snapshot!("conflict", reuse.body);

    app.evaluate_all().await;
    let retry = app.post("/api/v1/traces", &trace_json(Some(id), SAFE_ANSWER)).await;
    assert_eq!(retry.body["status"], "pass", "a retry reports the current status");
    let list = app.get("/api/v1/traces").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "never a duplicate");
    assert_eq!(app.store.queue_depth().await.unwrap(), 0, "never a second evaluation job");
}

async fn organizations_cannot_see_each_other(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let (_, other_key) = app.other_org().await;
    let id =
        app.post("/api/v1/traces", &trace_json(None, SAFE_ANSWER)).await.body["trace_id"].as_str().unwrap().to_string();
    for path in [format!("/api/v1/traces/{id}"), format!("/api/v1/evaluations/{id}")] {
        let reply = app.get_as(&other_key, &path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["error"]["code"], "not_found");
    }
    assert_eq!(app.get_as(&other_key, "/api/v1/traces").await.body["items"], json!([]));
    // The same id submitted by the other organization is its own, separate trace.
    let theirs = app.post_as(&other_key, "/api/v1/traces", &trace_json(Some(&id), "different")).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(app.get(&format!("/api/v1/traces/{id}")).await.body["ai_processing"]["output"], SAFE_ANSWER);
    // An organization id in the body is not a field at all: the key alone decides.
    let forged = app.post("/api/v1/traces", r#"{"organization_id": "x", "application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o"}}"#).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(forged.body["error"]["field"], "organization_id");
}

async fn requests_need_a_valid_api_key(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let none = app.send(Request::get("/api/v1/traces").body(Body::empty()).unwrap()).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("missing_key", none.body);
    let bad = app.get_as("aegis_sk_not_a_real_key", "/api/v1/traces").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.body["error"]["message"], "invalid or revoked API key");
    let basic = app
        .send(Request::get("/api/v1/traces").header("authorization", "Basic dXNlcjpwYXNz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    let post = app.post_as("wrong", "/api/v1/traces", &trace_json(None, "x")).await;
    assert_eq!(post.status, StatusCode::UNAUTHORIZED);
}

async fn bad_input_is_refused_with_a_named_field_and_nothing_written(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let cases: Vec<(&str, String, StatusCode, Option<&str>)> = vec![
        ("truncated", r#"{"application_id": "a", "ai_proc"#.into(), StatusCode::BAD_REQUEST, None),
        ("not_json", "hello".into(), StatusCode::BAD_REQUEST, None),
        ("array", "[]".into(), StatusCode::UNPROCESSABLE_ENTITY, Some("body")),
        ("missing_model", r#"{"application_id": "a", "ai_processing": {"input": "i", "output": "o"}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("ai_processing.model")),
        ("missing_ai", r#"{"application_id": "a"}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("ai_processing")),
        ("wrong_type", r#"{"application_id": 7, "ai_processing": {"model": "m", "input": "i", "output": "o"}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("application_id")),
        ("negative_tokens", r#"{"application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o", "prompt_tokens": -3}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("ai_processing.prompt_tokens")),
        ("bad_uuid", r#"{"trace_id": "42", "application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o"}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("trace_id")),
        ("bad_step_time", r#"{"application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o"}, "steps": [{"kind": "tool", "ended_at": "noon"}]}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("steps[0].ended_at")),
        ("blank_app", r#"{"application_id": " ", "ai_processing": {"model": "m", "input": "i", "output": "o"}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("application_id")),
        ("metadata_number", r#"{"application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o"}, "metadata": {"ward": 4}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("metadata.ward")),
        ("bad_domain", r#"{"application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o"}, "metadata": {"domain": "Health Care"}}"#.into(), StatusCode::UNPROCESSABLE_ENTITY, Some("metadata.domain")),
    ];
    for (name, body, status, field) in cases {
        let reply = app.post("/api/v1/traces", &body).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"].as_str(), field, "{name}");
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
        insta::assert_json_snapshot!(format!("bad_input_{name}"), reply.body);
    }

    let text = app
        .send(
            Request::post("/api/v1/traces")
                .header("authorization", format!("Bearer {}", app.key))
                .header("content-type", "text/plain")
                .body(Body::from(trace_json(None, "x")))
                .unwrap(),
        )
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(text.body["error"]["code"], "unsupported_media_type");

    let huge = trace_json(None, &"x".repeat(TEST_BODY_LIMIT));
    let too_big = app.post("/api/v1/traces", &huge).await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.body["error"]["code"], "payload_too_large");

    let no_such = app.get("/api/v1/nothing").await;
    assert_eq!((no_such.status, &no_such.body["error"]["code"]), (StatusCode::NOT_FOUND, &json!("not_found")));
    let wrong_method = app
        .send(
            Request::delete("/api/v1/traces")
                .header("authorization", format!("Bearer {}", app.key))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.body["error"]["code"], "method_not_allowed");
    assert_eq!(app.get("/api/v1/traces/not-a-uuid").await.status, StatusCode::NOT_FOUND);

    // Nothing of all that was written.
    assert_eq!(app.get("/api/v1/traces").await.body["items"], json!([]));
    assert_eq!(app.store.queue_depth().await.unwrap(), 0);
}

async fn batches_report_each_item(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let id = "6f1d5c1a-8a52-4f0e-8d7b-1c2b3a4d5e6f";
    app.post("/api/v1/traces", &trace_json(Some(id), SAFE_ANSWER)).await;
    let body = format!(
        r#"{{"traces": [{}, {{"application_id": "a"}}, {}, {}, {}]}}"#,
        trace_json(None, "one"),
        trace_json(Some(id), SAFE_ANSWER),
        trace_json(Some(id), "changed"),
        trace_json(None, "two"),
    );
    let reply = app.post("/api/v1/traces/batch", &body).await;
    assert_eq!(reply.status, StatusCode::MULTI_STATUS, "{}", reply.text);
    insta::assert_json_snapshot!("batch_mixed", reply.body, {
        ".items[0].trace_id" => "[trace_id]", ".items[4].trace_id" => "[trace_id]",
    });
    assert_eq!(app.get("/api/v1/traces").await.body["items"].as_array().unwrap().len(), 3);

    let too_many = format!(r#"{{"traces": [{}]}}"#, vec![trace_json(None, "x"); 1001].join(","));
    let reply = app.post("/api/v1/traces/batch", &too_many).await;
    // 1001 small traces fit the test body limit? If not, the limit answers first; both are clear.
    assert!(matches!(reply.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PAYLOAD_TOO_LARGE), "{}", reply.text);
    let empty = app.post("/api/v1/traces/batch", r#"{"traces": []}"#).await;
    assert_eq!((empty.status, &empty.body["error"]["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &json!("traces")));
    let not_a_batch = app.post("/api/v1/traces/batch", &trace_json(None, "x")).await;
    assert_eq!(not_a_batch.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn lists_are_paginated_and_filtered(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let mut generator = aegis_core::seed::Generator::new(9);
    let traces: Vec<Value> = (0..30).map(|_| serde_json::to_value(generator.trace()).unwrap()).collect();
    let trading = traces.iter().filter(|t| t["metadata"]["domain"] == "trading").count();
    let reply = app.post("/api/v1/traces/batch", &json!({ "traces": traces }).to_string()).await;
    assert_eq!(reply.body["created"], 30);

    let mut seen = std::collections::HashSet::new();
    let mut path = "/api/v1/traces?limit=7".to_string();
    loop {
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        for item in page.body["items"].as_array().unwrap() {
            assert!(seen.insert(item["trace_id"].as_str().unwrap().to_string()), "no trace twice");
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/traces?limit=7&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    let filtered = app.get("/api/v1/traces?domain=trading&limit=100").await;
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), trading);
    let queued = app.get("/api/v1/traces?status=queued&limit=100").await;
    assert_eq!(queued.body["items"].as_array().unwrap().len(), 30);
    app.evaluate_all().await;
    assert_eq!(app.get("/api/v1/traces?status=queued").await.body["items"], json!([]));
    let future = app.get("/api/v1/traces?from=2100-01-01T00:00:00Z").await;
    assert_eq!(future.body["items"], json!([]));

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("status=ok", "status"),
        ("to=tomorrow", "to"),
        ("cursor=garbage", "cursor"),
        ("offset=10", "offset"),
        ("start_date=2026-01-01", "start_date"),
        ("start%5Fdate=2026-01-01", "start_date"),
        ("to=%2B262143-12-31", "to"),
        ("from=2026-11-27&to=2026-11-26", "from"),
    ] {
        let reply = app.get(&format!("/api/v1/traces?{query}")).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.body["error"]["field"], field, "{query}");
    }
}

async fn unknown_query_parameters_are_named_not_ignored(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let created = app.post("/api/v1/traces", &trace_json(None, SAFE_ANSWER)).await;
    let id = created.body["trace_id"].as_str().unwrap().to_string();

    let reply = app.get("/api/v1/analytics/overview?start_date=2026-01-01").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    insta::assert_json_snapshot!("unknown_parameter", reply.body);

    for (method, path, field) in [
        ("GET", format!("/api/v1/traces/{id}?verbose=1"), "verbose"),
        ("GET", "/api/v1/costs?offset=30".to_string(), "offset"),
        ("GET", "/api/v1/alerts?cursor=abc".to_string(), "cursor"),
        ("GET", "/api/v1/expert-review/queue?domain=healthcare&page=2".to_string(), "page"),
        ("POST", "/api/v1/traces?async=false".to_string(), "async"),
    ] {
        let reply = app.send_json(method, &path, &trace_json(None, SAFE_ANSWER)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {path}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{method} {path}");
    }
    // Nothing was written by the refused POST.
    let list = app.get("/api/v1/traces?limit=100").await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    // The parameters an endpoint takes still work, and a far-off date is a 422, not a panic.
    assert_eq!(app.get("/api/v1/costs?from=2026-01-01&to=2026-01-31&group_by=day").await.status, StatusCode::OK);
    let far = app.get("/api/v1/analytics/overview?to=-262144-01-01").await;
    assert_eq!((far.status, far.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")));
}

async fn health_and_metrics(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let health = app.send(Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["database"], "ok");
    assert_eq!(
        health.body["backend"],
        if backend == aegis_core::store::Backend::Sqlite { "sqlite" } else { "postgres" }
    );

    app.post("/api/v1/traces", &trace_json(None, SAFE_ANSWER)).await;
    app.post("/api/v1/traces", &trace_json(None, "")).await;
    app.evaluate_all().await;
    app.post("/api/v1/traces", &trace_json(None, "queued")).await;
    let metrics = app.send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.text;
    for expected in [
        r#"aegis_http_requests_total{method="POST",route="/api/v1/traces",status="201"} 3"#,
        r#"aegis_http_request_duration_seconds_count{method="POST",route="/api/v1/traces"} 3"#,
        "aegis_queue_depth 1",
        r#"aegis_evaluations_total{status="pass"} 1"#,
        r#"aegis_evaluations_total{status="fail"} 1"#,
        "aegis_traces_ingested_total 3",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

async fn lists_are_searched(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    for output in ["Warfarin raises the bleeding risk.", "Metformin with meals."] {
        let created = app.post("/api/v1/traces", &trace_json(None, output)).await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    app.evaluate_all().await;
    let found = app.get("/api/v1/traces?q=bleeding%20warfarin").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0]["ai_processing"]["output"].as_str().unwrap().starts_with("Warfarin"));
    let none = app.get("/api/v1/traces?q=insulin&domain=healthcare").await;
    assert_eq!(none.body["items"], json!([]));
    let long = app.get(&format!("/api/v1/traces?q={}", "a".repeat(501))).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(long.body["error"]["field"], "q");
    let bad = app.get("/api/v1/traces?severity=grave").await;
    assert_eq!(bad.body["error"]["field"], "severity");
}
