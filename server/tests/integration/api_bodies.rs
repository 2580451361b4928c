//! What a successful call answers, endpoint by endpoint: the bodies are snapshots (insta), so a
//! change to any field a client reads shows in review. Ids, times, secrets, latencies and
//! pseudonyms differ run to run and are redacted by name.

use crate::common::{clinical, on_both_backends, TestApp};
use aegis_core::store::Backend;
use axum::http::StatusCode;
use serde_json::{json, Value};

on_both_backends!(every_success_body_keeps_its_shape);

/// Keys whose values differ from run to run.
fn varies(key: &str) -> bool {
    matches!(key, "id" | "secret" | "from" | "to" | "day" | "hour" | "next_cursor" | "timestamp" | "reviewer")
        || key.ends_with("_at")
        || (key.ends_with("_id") && key != "application_id")
        || key.contains("latency")
}

/// Ids inside text ("sent by api_key:0193…", "ch_01a2…") and pseudonym tokens
/// ("[NAME_1a2b3c4d]").
fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() >= 36 && rest.is_char_boundary(36) && uuid::Uuid::parse_str(&rest[..36]).is_ok() {
            out.push_str("[uuid]");
            rest = &rest[36..];
        } else if let Some(len) = prefixed_id(rest) {
            out.push_str("[prefixed_id]");
            rest = &rest[len..];
        } else if let Some(end) = rest.strip_prefix('[').and_then(|r| r.find(']')).filter(|_| is_token(rest)) {
            out.push_str("[token]");
            rest = &rest[end + 2..];
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The length of an id such as `ch_` and 32 hex digits at the start of `text`.
fn prefixed_id(text: &str) -> Option<usize> {
    let (prefix, tail) = text.split_once('_')?;
    let hex = tail.get(..32)?;
    let ok = (2..=4).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some(prefix.len() + 1 + 32)
}

/// `[TYPE_hex]`, as de-identification writes a token.
fn is_token(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('[').and_then(|r| r.split(']').next()) else { return false };
    inner.rsplit_once('_').is_some_and(|(kind, hex)| {
        !kind.is_empty()
            && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            && hex.len() >= 8
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn redacted(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if varies(k) && !v.is_null() { json!(format!("[{k}]")) } else { redacted(v) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        Value::String(s) => Value::String(redact_text(s)),
        other => other.clone(),
    }
}

macro_rules! snapshot {
    ($name:expr, $reply:expr, $status:expr) => {{
        let reply = $reply;
        assert_eq!(reply.status, $status, "{}: {}", $name, reply.text);
        insta::assert_json_snapshot!($name, redacted(&reply.body));
        reply.body
    }};
}

async fn every_success_body_keeps_its_shape(backend: Backend) {
    let app = TestApp::new_with(backend, |c| c.sinks.allow_private = true).await;
    let ok = StatusCode::OK;
    let created = StatusCode::CREATED;

    // Integrations first, so that the overdose below raises an alert.
    let webhook =
        json!({"url": "http://127.0.0.1:9/aegis", "events": ["evaluation.failed"], "description": "pager bridge"});
    snapshot!("webhook_created", app.post("/api/v1/webhooks", &webhook.to_string()).await, created);
    snapshot!("webhook_list", app.get("/api/v1/webhooks").await, ok);
    let channel = json!({"name": "on-call", "kind": "pagerduty", "routing_key": "0123456789abcdef0123456789abcdef"});
    let channel =
        snapshot!("alert_channel_created", app.post("/api/v1/alert-channels", &channel.to_string()).await, created);
    let rule =
        json!({"name": "Overdoses", "min_severity": "high", "domains": ["healthcare"], "channels": [channel["id"]]});
    snapshot!("alert_rule_created", app.post("/api/v1/alert-rules", &rule.to_string()).await, created);
    snapshot!("alert_rule_list", app.get("/api/v1/alert-rules").await, ok);

    let safe = snapshot!(
        "trace_created",
        app.post("/api/v1/traces", &clinical("Can I take ibuprofen for a headache?", "Yes: 400 mg every 6 hours with food, at most 1,200 mg a day without a doctor's advice. Ask your pharmacist if you take other medicines.")).await,
        created
    );
    let overdose = clinical("How much acetaminophen for back pain?", "Take 12 g of acetaminophen a day.");
    app.post("/api/v1/traces", &overdose).await;
    app.evaluate_all().await;
    snapshot!("trace_list", app.get("/api/v1/traces?sort=oldest").await, ok);
    snapshot!("alert_list", app.get("/api/v1/alerts").await, ok);

    snapshot!("domain_list", app.get("/api/v1/domains").await, ok);
    snapshot!("model_list", app.get("/api/v1/models").await, ok);
    snapshot!("analytics_overview", app.get("/api/v1/analytics/overview").await, ok);
    snapshot!("costs_by_tier", app.get("/api/v1/costs?group_by=tier").await, ok);

    let trace_id = safe["trace_id"].as_str().unwrap();
    let enqueue = json!({"trace_id": trace_id, "reason": "spot check", "priority": 2.0});
    snapshot!("review_queued", app.post("/api/v1/expert-review/queue", &enqueue.to_string()).await, created);
    snapshot!("review_queue", app.get("/api/v1/expert-review/queue").await, ok);
    let review = json!({"label": "safe", "notes": "Dose and cap are right."});
    let path = format!("/api/v1/expert-review/{trace_id}");
    snapshot!("review_recorded", app.post(&path, &review.to_string()).await, created);
    snapshot!("review_agreement", app.get("/api/v1/expert-review/agreement").await, ok);

    let text = json!({"text": "Maria Lopez (MRN 4471203) can be reached at 617-555-0199."}).to_string();
    snapshot!("phi_scan", app.post("/api/v1/phi/scan", &text).await, ok);
    snapshot!("phi_policy", app.get("/api/v1/phi/policy").await, ok);
}
