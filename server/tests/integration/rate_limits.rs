//! Rate limits per organization and plan: headers on every ingest answer, 429 with
//! Retry-After over the limit, never half a batch, and one limit across nodes through Redis.

use aegis_core::limits::{Limits, LimitsConfig, PlanLimits, RateLimiter};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{trace_json, TestApp};

fn tight() -> LimitsConfig {
    let mut config = LimitsConfig::default();
    config.plans.insert("tight".into(), PlanLimits { traces_per_minute: 5, judge_calls_per_day: 0 });
    config
}

fn batch(n: usize) -> String {
    let traces: Vec<Value> =
        (0..n).map(|_| serde_json::from_str(&trace_json(None, "Up to 4 g a day.")).unwrap()).collect();
    json!({ "traces": traces }).to_string()
}

fn post(key: &str, path: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

async fn stored(app: &TestApp) -> usize {
    app.get("/api/v1/traces?limit=1000").await.body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn an_organization_over_its_plan_gets_429_and_nothing_half_accepted() {
    let app = TestApp::new(aegis_core::store::Backend::Sqlite).await;
    app.store.set_plan(&app.org, Some("tight")).await.unwrap();
    let node = app.node_with(Limits::new(tight(), RateLimiter::default()));

    let first = app.send_to(&node, post(&app.key, "/api/v1/traces", trace_json(None, "Up to 4 g a day."))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.headers["x-ratelimit-limit"], "5");
    assert_eq!(first.headers["x-ratelimit-remaining"], "4");
    let three = app.send_to(&node, post(&app.key, "/api/v1/traces/batch", batch(3))).await;
    assert_eq!(three.status, StatusCode::MULTI_STATUS);
    assert_eq!(three.headers["x-ratelimit-remaining"], "1");

    // Two more do not fit in one: the whole batch is refused and none of it stored.
    let refused = app.send_to(&node, post(&app.key, "/api/v1/traces/batch", batch(2))).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text);
    assert_eq!(refused.body["error"]["code"], "rate_limited");
    assert_eq!(refused.headers["retry-after"], "12", "one more unit, 12 s at five a minute");
    assert_eq!(refused.headers["x-ratelimit-remaining"], "1");
    assert_eq!(stored(&app).await, 4);

    let last = app.send_to(&node, post(&app.key, "/api/v1/traces", trace_json(None, "Up to 4 g a day."))).await;
    assert_eq!(last.status, StatusCode::CREATED);
    let over = app.send_to(&node, post(&app.key, "/api/v1/traces", trace_json(None, "Up to 4 g a day."))).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(over.body["error"]["message"].as_str().unwrap().contains("5 traces a minute"), "{}", over.text);
    assert_eq!(stored(&app).await, 5);

    // A bad body is a 4xx of its own and takes nothing; other organizations have their own.
    let bad = app.send_to(&node, post(&app.key, "/api/v1/traces", "{".into())).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let (_, other_key) = app.other_org().await;
    let theirs = app.send_to(&node, post(&other_key, "/api/v1/traces", trace_json(None, "Up to 4 g a day."))).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(theirs.headers["x-ratelimit-limit"], "60000", "the default plan");
}

/// Two API nodes share one organization's limit through the machine's Redis.
#[tokio::test]
async fn nodes_share_the_limit_through_redis() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let app = TestApp::new(aegis_core::store::Backend::Sqlite).await;
    app.store.set_plan(&app.org, Some("tight")).await.unwrap();
    let a = app.node_with(Limits::new(tight(), RateLimiter::redis(&url).await.expect("Redis is required")));
    let b = app.node_with(Limits::new(tight(), RateLimiter::redis(&url).await.unwrap()));

    let on_a = app.send_to(&a, post(&app.key, "/api/v1/traces/batch", batch(4))).await;
    assert_eq!(on_a.status, StatusCode::MULTI_STATUS);
    let on_b = app.send_to(&b, post(&app.key, "/api/v1/traces/batch", batch(2))).await;
    assert_eq!(on_b.status, StatusCode::TOO_MANY_REQUESTS, "node B sees what node A took: {}", on_b.text);
    assert_eq!(on_b.headers["x-ratelimit-remaining"], "1");
    let fits = app.send_to(&b, post(&app.key, "/api/v1/traces", trace_json(None, "Up to 4 g a day."))).await;
    assert_eq!(fits.status, StatusCode::CREATED);
    assert_eq!(stored(&app).await, 5);
}

/// Beyond `max_concurrent_requests` at once, or `request_timeout_ms`, a node answers 503 with
/// `Retry-After` at once instead of queueing without end.
#[tokio::test]
async fn a_full_or_slow_node_answers_503_with_retry_after() {
    let backend = aegis_core::store::Backend::Sqlite;
    // A millisecond is less than any batch of 300 de-identified traces takes to commit.
    let slow = TestApp::new_with(backend, |c| c.request_timeout_ms = 1).await;
    let reply = slow.post("/api/v1/traces/batch", &batch(300)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "unavailable");
    assert!(reply.headers.contains_key("retry-after"));

    // One request at a time: of two batches sent together, one is turned away, and the
    // other is served whole.
    let single = TestApp::new_with(backend, |c| c.max_concurrent_requests = 1).await;
    let (first, second) = (batch(300), batch(300));
    let (a, b) =
        tokio::join!(single.post("/api/v1/traces/batch", &first), single.post("/api/v1/traces/batch", &second));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::MULTI_STATUS, StatusCode::SERVICE_UNAVAILABLE], "{} / {}", a.text, b.text);
    let refused = if a.status == StatusCode::SERVICE_UNAVAILABLE { &a } else { &b };
    assert!(refused.headers.contains_key("retry-after"));
    let listed = single.get("/api/v1/traces?limit=1000").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 300, "the refused batch wrote nothing");

    // The ingest queue is bounded by size too: while one batch fills its 64 KiB, the next is
    // turned away rather than held in memory.
    let small = TestApp::new_with(backend, |c| c.ingest.queue_bytes = 64 * 1024).await;
    let (a, b) = tokio::join!(small.post("/api/v1/traces/batch", &first), small.post("/api/v1/traces/batch", &second));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::MULTI_STATUS, StatusCode::SERVICE_UNAVAILABLE], "{} / {}", a.text, b.text);
    let refused = if a.status == StatusCode::SERVICE_UNAVAILABLE { &a } else { &b };
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("ingest queue"), "{}", refused.text);
    let listed = small.get("/api/v1/traces?limit=1000").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 300, "the refused batch wrote nothing");
    // Once it is stored, there is room again.
    assert_eq!(small.post("/api/v1/traces/batch", &first).await.status, StatusCode::MULTI_STATUS);
}
