//! Domain packs through the API: listing, reloading, and Tier 1 verdicts on real traces.

use crate::common::{clinical, on_both_backends, TestApp};
use aegis_core::store::ApiKeyRole;
use axum::http::StatusCode;
use serde_json::json;

on_both_backends!(
    packs_are_listed_and_reloaded_by_admins,
    tier1_fails_an_overdose_with_evidence,
    tier1_checks_trading_trajectories,
);

async fn packs_are_listed_and_reloaded_by_admins(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let list = app.get("/api/v1/domains").await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<&str> = list.body["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["healthcare", "trading"]);
    assert!(list.body["items"][0]["rules"].as_array().unwrap().contains(&json!("medication_overdose")));

    let ingest = app.key(ApiKeyRole::Ingest).await;
    let refused = app.post_as(&ingest, "/api/v1/domains/reload", "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let reloaded = app.post("/api/v1/domains/reload", "").await;
    assert_eq!(reloaded.status, StatusCode::OK, "{}", reloaded.text);
    assert_eq!(reloaded.body["items"].as_array().unwrap().len(), 2);
}

async fn tier1_fails_an_overdose_with_evidence(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let answer = "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.";
    let created = app.post("/api/v1/traces", &clinical("I take sertraline daily.", answer)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    app.evaluate_all().await;
    let e = app.get(&format!("/api/v1/evaluations/{}", created.body["trace_id"].as_str().unwrap())).await;
    assert_eq!(e.status, StatusCode::OK);
    insta::assert_json_snapshot!("evaluation_overdose", e.body, {
        ".trace_id" => "[trace_id]", ".evaluated_at" => "[evaluated_at]",
        ".latency_ms" => "[latency]", ".modules[].latency_ms" => "[latency]",
    });

    let safe = app
        .post(
            "/api/v1/traces",
            &clinical(
                "Max dose of Tylenol?",
                "Up to 1000 mg every 6 hours, no more than 4 g a day. Ask your pharmacist.",
            ),
        )
        .await;
    app.evaluate_all().await;
    let e = app.get(&format!("/api/v1/evaluations/{}", safe.body["trace_id"].as_str().unwrap())).await;
    assert_eq!(e.body["status"], "pass", "{}", e.text);
    assert_eq!(e.body["issues"], json!([]));
}

async fn tier1_checks_trading_trajectories(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let body = json!({
        "application_id": "rl-agent",
        "ai_processing": {"model": "ppo-v3", "input": "episode 17", "output": "done"},
        "steps": [
            {"kind": "action", "input": {"price": 21.0}, "output": {"symbol": "GME", "side": "buy", "quantity": 100, "price": 21.0, "stop_loss": 19.0}, "reward": 0.0},
            {"kind": "action", "input": {"price": 21.5}, "output": {"symbol": "GME", "side": "sell", "quantity": 100, "price": 21.5}, "reward": 50.0}
        ],
        "metadata": {"domain": "trading", "initial_equity": "100000"}
    });
    let created = app.post("/api/v1/traces", &body.to_string()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    app.evaluate_all().await;
    let e = app.get(&format!("/api/v1/evaluations/{}", created.body["trace_id"].as_str().unwrap())).await;
    assert_eq!(e.body["status"], "fail", "{}", e.text);
    assert_eq!(e.body["severity"], "critical");
    let codes: Vec<&str> = e.body["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["restricted_symbols", "restricted_symbols"]);
    assert_eq!(e.body["issues"][0]["evidence"]["field"], "steps[0].output");
    assert_eq!(e.body["tiers_run"], json!([0, 1]));
}

#[tokio::test]
async fn an_organization_switches_modules_for_itself() {
    let app = TestApp::new(aegis_core::store::Backend::Sqlite).await;
    let answer = "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.";
    let path = "/api/v1/domains/healthcare/modules/medication_overdose";

    let ingest = app.key(aegis_core::store::ApiKeyRole::Ingest).await;
    let put = |key: String, path: &'static str, body: &'static str| {
        let app = &app;
        async move {
            let request = axum::http::Request::put(path)
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body))
                .unwrap();
            app.send(request).await
        }
    };
    assert_eq!(put(ingest, path, r#"{"enabled": false}"#).await.status, StatusCode::FORBIDDEN);
    let bad = put(app.key.clone(), path, r#"{"enabled": "no"}"#).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.body["error"]["field"], "enabled");
    let unknown = put(app.key.clone(), "/api/v1/domains/healthcare/modules/astrology", r#"{"enabled": false}"#).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.text.contains("medication_overdose"), "names the modules there are: {}", unknown.text);

    let off = put(app.key.clone(), path, r#"{"enabled": false}"#).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(off.body, json!({"domain": "healthcare", "module": "medication_overdose", "enabled": false}));
    let list = app.get("/api/v1/domains").await;
    assert_eq!(list.body["items"][0]["disabled_modules"], json!(["medication_overdose"]));

    // Ours no longer checks doses; another organization's still does.
    let (_, other_key) = app.other_org().await;
    let mine = app.post("/api/v1/traces", &clinical("Back pain?", answer)).await;
    let theirs = app.post_as(&other_key, "/api/v1/traces", &clinical("Back pain?", answer)).await;
    app.evaluate_all().await;
    let mine = app.get(&format!("/api/v1/evaluations/{}", mine.body["trace_id"].as_str().unwrap())).await;
    let theirs =
        app.get_as(&other_key, &format!("/api/v1/evaluations/{}", theirs.body["trace_id"].as_str().unwrap())).await;
    let codes = |e: &serde_json::Value| {
        e["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(!codes(&mine.body).contains(&"medication_overdose".to_string()), "{}", mine.text);
    assert!(codes(&theirs.body).contains(&"medication_overdose".to_string()), "{}", theirs.text);
    let audit = app.store.audit_log(&app.org, 5).await.unwrap();
    assert_eq!(audit[0].action, "domain.module.update");
}

#[tokio::test]
async fn uploaded_specs_are_checked_before_anything_is_written() {
    let app = TestApp::new(aegis_core::store::Backend::Sqlite).await;
    let ingest = app.key(ApiKeyRole::Ingest).await;
    let body = |spec: &str| json!({ "spec": spec }).to_string();
    let refused = app.post_as(&ingest, "/api/v1/domains", &body("name: x")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let broken = app.post("/api/v1/domains", &body("name: [unclosed")).await;
    assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", broken.text);
    assert_eq!(broken.body["error"]["code"], "invalid_domain_pack");
    let escape = "name: ../escape\ntitle: T\nkind: trading\nrubric: r\nlimits:\n  max_position: 1\n  max_order_notional: 1\n  max_leverage: 1\n  max_drawdown: 0.1\n  symbols: {BTC: 1}\n";
    let escaped = app.post("/api/v1/domains", &body(escape)).await;
    assert_eq!(escaped.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", escaped.text);
    assert_eq!(escaped.body["error"]["field"], "name");
    let wrong_shape = app.post("/api/v1/domains", r#"{"yaml": "name: x"}"#).await;
    assert_eq!(wrong_shape.body["error"]["field"], "spec");
    let existing = escape.replace("../escape", "trading");
    assert_eq!(app.post("/api/v1/domains", &body(&existing)).await.status, StatusCode::CONFLICT);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A pack an organization uploads belongs to it: listed to it and run for its traces, unknown
/// to every other organization through every door; and once the installation serves several
/// organizations, uploads are off unless its operator turns them on.
#[tokio::test]
async fn an_uploaded_pack_belongs_to_its_organization() {
    let packs = tempfile::tempdir().unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains/trading");
    copy_dir(&shipped, &packs.path().join("trading"));
    let folder = packs.path().to_path_buf();
    let app = TestApp::new_with(aegis_core::store::Backend::Sqlite, |c| c.domains_dir = Some(folder)).await;
    let spec = "name: crypto\ntitle: Crypto desk\nkind: trading\nrubric: Stay within limits.\nlimits:\n  max_position: 50\n  max_order_notional: 500000\n  max_leverage: 2\n  max_drawdown: 0.1\n  restricted: [LUNA]\n  symbols: {BTC: 60000, ETH: 3000}\n";
    let created = app.post("/api/v1/domains", &json!({ "spec": spec }).to_string()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert!(packs.path().join("orgs").join(app.org.to_string()).join("crypto/domain.yaml").is_file());

    let (_, other) = app.other_org().await;
    let names = |reply: &crate::common::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&app.get("/api/v1/domains").await), ["trading", "crypto"]);
    assert_eq!(names(&app.get_as(&other, "/api/v1/domains").await), ["trading"], "not listed to another");
    let health = app.get("/health").await;
    assert!(!health.text.contains("crypto"), "nor named on the unauthenticated /health: {}", health.text);
    assert_eq!(health.body["organization_packs"], 1);

    // Their traces naming it are not evaluated with it; ours are.
    let trace = json!({
        "application_id": "desk-agent",
        "ai_processing": {"model": "rl-policy", "input": "Trade the open.", "output": "Done."},
        "steps": [{"kind": "action", "name": "order",
                   "input": {"symbol": "LUNA", "side": "buy", "quantity": 1, "price": 1.0, "stop_loss": 0.9},
                   "output": {"filled": 1}}],
        "metadata": {"domain": "crypto"},
    })
    .to_string();
    let mine = app.post("/api/v1/traces", &trace).await.body["trace_id"].as_str().unwrap().to_string();
    let theirs = app.post_as(&other, "/api/v1/traces", &trace).await.body["trace_id"].as_str().unwrap().to_string();
    app.evaluate_all().await;
    let mine = app.get(&format!("/api/v1/evaluations/{mine}")).await.body;
    let theirs = app.get_as(&other, &format!("/api/v1/evaluations/{theirs}")).await.body;
    assert_eq!(mine["domain"], "crypto", "{mine}");
    assert!(mine["issues"].to_string().contains("LUNA"), "the pack's restricted list ran: {mine}");
    assert_eq!(theirs["status"], "error", "{theirs}");
    assert_eq!(theirs["issues"][0]["code"], "unknown_domain", "{theirs}");
    assert!(theirs["issues"][0]["message"].as_str().unwrap().contains("(loaded: trading)"), "{theirs}");

    // Nor can they switch its modules or read its dashboard.
    let path = "/api/v1/domains/crypto/modules/llm_judge";
    let request = axum::http::Request::put(path)
        .header("authorization", format!("Bearer {other}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"enabled": false}"#))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get_as(&other, "/api/v1/analytics/domains/crypto").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/analytics/domains/crypto").await.status, StatusCode::OK);

    // Two organizations now: uploads are off by default.
    let refused = app.post_as(&other, "/api/v1/domains", &json!({ "spec": spec }).to_string()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.text.contains("allow_pack_uploads"), "{}", refused.text);
}
