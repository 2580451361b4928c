//! De-identification through the API, both backends: ingest stores no identifier, the try-it
//! endpoints and the policy, and audited re-identification for admin keys only.

use crate::common::{on_both_backends, TestApp};
use aegis_core::store::ApiKeyRole;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};

on_both_backends!(
    ingest_stores_pseudonyms_and_reidentification_is_audited,
    stand_ins_are_the_default_and_open_through_their_trace,
    try_it_endpoints_and_policy,
    awkward_input_is_refused_or_handled,
    the_second_pass_catches_a_miss_before_it_is_stored,
);

const NOTE: &str = "Patient Maria Garcia (DOB 03/14/1962, MRN: 00482913) called from (617) 555-0142 about warfarin.";

async fn ingest_stores_pseudonyms_and_reidentification_is_audited(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let tokens = app.send_json("PUT", "/api/v1/phi/policy", r#"{"surrogates": false}"#).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.text);
    let trace = json!({
        "application_id": "triage-bot",
        "ai_processing": {"model": "gpt-4o", "input": NOTE, "output": "Ms. Garcia should avoid ibuprofen."},
        "steps": [{"kind": "tool", "input": {"query": "MRN 00482913"}, "output": ["Garcia, Maria"]}],
        "metadata": {"domain": "healthcare", "caller": "maria.garcia@example.org"}
    });
    let id = app.post("/api/v1/traces", &trace.to_string()).await.body["trace_id"].as_str().unwrap().to_string();
    let stored = app.get(&format!("/api/v1/traces/{id}")).await;
    let text = stored.body.to_string();
    for raw in ["Maria", "Garcia", "03/14/1962", "00482913", "555-0142", "maria.garcia@example.org"] {
        assert!(!text.contains(raw), "{raw} was stored: {text}");
    }
    assert_eq!(stored.body["metadata"]["domain"], "healthcare");
    let input = stored.body["ai_processing"]["input"].as_str().unwrap();
    let name = input.split_whitespace().nth(1).unwrap().to_string();
    assert!(name.starts_with("[NAME_"), "{input}");
    assert_eq!(
        stored.body["steps"][0]["output"][0].as_str().unwrap(),
        name,
        "\"Garcia, Maria\" in a step is the same patient, the same token"
    );

    let ingest = app.key(ApiKeyRole::Ingest).await;
    let body = json!({ "tokens": [name], "reason": "clinical follow-up" }).to_string();
    let refused = app.post_as(&ingest, "/api/v1/phi/reidentify", &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["error"]["code"], "forbidden");

    let no_reason = app.post("/api/v1/phi/reidentify", &json!({ "tokens": [name], "reason": "" }).to_string()).await;
    assert_eq!(
        (no_reason.status, &no_reason.body["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason"))
    );

    let revealed = app.post("/api/v1/phi/reidentify", &body).await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.text);
    assert_eq!(revealed.body["values"][&name], "Maria Garcia");

    let (_, other) = app.other_org().await;
    let elsewhere = app.post_as(&other, "/api/v1/phi/reidentify", &body).await;
    assert_eq!(elsewhere.body["values"][&name], Value::Null, "another organization's vault is not ours");

    let audit = app.get("/api/v1/audit").await;
    let entry = &audit.body["items"][0];
    assert_eq!(entry["action"], "phi.reidentify");
    assert_eq!(entry["detail"]["reason"], "clinical follow-up");
    assert!(entry["actor"].as_str().unwrap().starts_with("api_key:"));
    assert_eq!(app.get_as(&ingest, "/api/v1/audit").await.status, StatusCode::FORBIDDEN);
}

/// A new organization gets realistic stand-ins. Stand-ins repeat across people (there are only
/// so many names); tokens do not, so each opens to its own person through the trace it is in.
async fn stand_ins_are_the_default_and_open_through_their_trace(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let phi = app.state.phi.for_org(&app.org).await.unwrap();
    // Two surnames this organization's key gives the same stand-in.
    let (heads, middles, tails) = (
        [
            "Bal", "Cor", "Dun", "Fel", "Gar", "Hol", "Kel", "Lom", "Mar", "Nor", "Pel", "Ros", "Sar", "Tam", "Vel",
            "Wen",
        ],
        ["ad", "em", "ib", "og", "ul", "ar", "en", "is", "on", "ur"],
        [
            "bury", "cott", "dale", "field", "ford", "ham", "ley", "mont", "ridge", "stone", "ton", "well", "worth",
            "wick",
        ],
    );
    let mut seen = std::collections::HashMap::new();
    let mut pair = None;
    'search: for h in heads {
        for m in middles {
            for t in tails {
                let name = format!("{h}{m}{t}");
                let stand_in = phi.pseudonymizer.replacement(aegis_core::phi::PhiType::Name, &name, None);
                if let Some(other) = seen.insert(stand_in.clone(), name.clone()) {
                    pair = Some((other, name, stand_in));
                    break 'search;
                }
            }
        }
    }
    let (a, b, stand_in) = pair.expect("2,240 surnames over 5,000 stand-ins collide");
    let send = |name: &str| {
        json!({"application_id": "a", "ai_processing": {"model": "m", "input": format!("Ms. {name} asked about warfarin."), "output": "ok"}}).to_string()
    };
    let first = app.post("/api/v1/traces", &send(&a)).await.body["trace_id"].as_str().unwrap().to_string();
    let second = app.post("/api/v1/traces", &send(&b)).await.body["trace_id"].as_str().unwrap().to_string();
    for id in [&first, &second] {
        let stored = app.get(&format!("/api/v1/traces/{id}")).await.body["ai_processing"]["input"].clone();
        assert_eq!(stored, json!(format!("Ms. {stand_in} asked about warfarin.")), "stand-ins by default");
    }
    let app = &app;
    let open = |trace: Option<&str>| {
        let body = json!({ "tokens": [stand_in], "trace_id": trace, "reason": "who was it, exactly" }).to_string();
        async move { app.post("/api/v1/phi/reidentify", &body).await }
    };
    assert_eq!(open(Some(&first)).await.body["values"][&stand_in], json!(a));
    assert_eq!(open(Some(&second)).await.body["values"][&stand_in], json!(b));
    assert_eq!(open(None).await.body["values"][&stand_in], Value::Null, "a stand-in alone names no one");
    let missing = open(Some("0190a6f0-0000-7000-8000-000000000000")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    let audit = app.get("/api/v1/audit").await;
    assert_eq!(audit.body["items"][0]["detail"]["trace_id"], json!("0190a6f0-0000-7000-8000-000000000000"));
}

async fn try_it_endpoints_and_policy(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let text = "Zoë Ñúñez, MRN: 00482913, RCH-884211";
    let scan = app.post("/api/v1/phi/scan", &json!({ "text": text }).to_string()).await;
    assert_eq!(scan.status, StatusCode::OK, "{}", scan.text);
    let chars: Vec<char> = text.chars().collect();
    let found: Vec<(String, String)> = scan.body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let (s, e2) = (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
            (e["type"].as_str().unwrap().to_string(), chars[s..e2].iter().collect())
        })
        .collect();
    // Before the organization names its record numbers, "RCH-884211" is still replaced: a long
    // number that measures nothing is some identifier.
    assert_eq!(
        found,
        vec![("NAME".into(), "Zoë Ñúñez".into()), ("MRN".into(), "00482913".into()), ("ID".into(), "884211".into())]
    );
    let detectors: Vec<&str> =
        scan.body["entities"].as_array().unwrap().iter().map(|e| e["detector"].as_str().unwrap()).collect();
    assert_eq!(detectors, ["safe_words", "pattern", "number_shape"], "each says which recognizer found it");

    let vault_rows = || async {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM phi_vault").fetch_one(app.store.pool()).await.unwrap();
        n
    };
    app.post("/api/v1/traces", &json!({"application_id": "a", "ai_processing": {"model": "m", "input": "Maria Garcia called", "output": "ok"}}).to_string()).await;
    let before = vault_rows().await;
    assert!(before > 0, "ingest writes the vault");
    let deid = app.post("/api/v1/phi/deidentify", &json!({ "text": text }).to_string()).await;
    assert!(!deid.body["text"].as_str().unwrap().contains("Ñúñez"));
    let stand_in = deid.body["entities"][0]["replacement"].as_str().unwrap();
    assert!(!stand_in.is_empty() && !stand_in.starts_with("[NAME_"), "stand-ins by default: {stand_in}");
    assert_eq!(vault_rows().await, before, "trying writes nothing");

    let policy = app.get("/api/v1/phi/policy").await;
    assert_eq!(policy.body["types"].as_array().unwrap().len(), 20);
    let custom =
        json!({ "custom": [{ "name": "rch", "pattern": "RCH-\\d{6}", "type": "MRN" }], "allow": ["Zoë Ñúñez"] });
    let ingest = app.key(ApiKeyRole::Ingest).await;
    let refused = app
        .send(
            Request::put("/api/v1/phi/policy")
                .header("authorization", format!("Bearer {ingest}"))
                .header("content-type", "application/json")
                .body(Body::from(custom.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let put = |body: String| {
        Request::put("/api/v1/phi/policy")
            .header("authorization", format!("Bearer {}", app.key))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let saved = app.send(put(custom.to_string())).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let scan = app.post("/api/v1/phi/scan", &json!({ "text": text }).to_string()).await;
    let types: Vec<&str> =
        scan.body["entities"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["MRN", "MRN"], "the allow-list and the custom recognizer apply at once");

    let bad = app.send(put(json!({ "custom": [{ "name": "x", "pattern": "RCH-(\\d" }] }).to_string())).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["field"], "custom[0].pattern");
    let unknown = app.send(put(json!({ "types": ["NAME", "SHOE_SIZE"] }).to_string())).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.body["error"]["field"], "types[1]");
    assert_eq!(
        app.get("/api/v1/phi/policy").await.body["custom"][0]["name"],
        "rch",
        "a refused policy changes nothing"
    );
}

async fn awkward_input_is_refused_or_handled(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let mut invalid_utf8 = br#"{"application_id": "a", "ai_processing": {"model": "m", "input": ""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0x41]);
    invalid_utf8.extend_from_slice(br#"", "output": "o"}}"#);
    let reply = app
        .send(
            Request::post("/api/v1/traces")
                .header("authorization", format!("Bearer {}", app.key))
                .header("content-type", "application/json")
                .body(Body::from(invalid_utf8))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.body["error"]["code"], "malformed_json");

    let deep = format!(
        r#"{{"application_id": "a", "ai_processing": {{"model": "m", "input": "i", "output": "o"}}, "steps": [{{"kind": "tool", "input": {}1{}}}]}}"#,
        "[".repeat(300),
        "]".repeat(300)
    );
    let reply = app.post("/api/v1/traces", &deep).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    let nested_metadata = r#"{"application_id": "a", "ai_processing": {"model": "m", "input": "i", "output": "o"}, "metadata": {"patient": {"name": "Maria"}}}"#;
    let reply = app.post("/api/v1/traces", nested_metadata).await;
    assert_eq!(
        (reply.status, &reply.body["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("metadata.patient"))
    );

    // A large text within the body limit is de-identified whole.
    let big = format!("Patient Maria Garcia. {}", "Stable on lisinopril 10 mg. ".repeat(7_000));
    let reply = app.post("/api/v1/phi/deidentify", &json!({ "text": big }).to_string()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.body["text"].as_str().unwrap().contains("Garcia"));
    assert_eq!(app.post("/api/v1/phi/scan", r#"{"text": 5}"#).await.body["error"]["field"], "text");
    assert_eq!(app.post("/api/v1/phi/scan", r#"{}"#).await.body["error"]["field"], "text");
    assert!(app.get("/api/v1/traces").await.body["items"].as_array().unwrap().is_empty(), "nothing half-written");
}

/// A British number the recognizers do not read is still replaced before storing, by the second
/// pass, which writes it to the audit log (the count, never the text) and to `/metrics`.
async fn the_second_pass_catches_a_miss_before_it_is_stored(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    let text = "Leave a message on my registered (0191) 496 0197.";
    assert_eq!(app.post("/api/v1/phi/scan", &json!({ "text": text }).to_string()).await.body["entities"], json!([]));
    let trace = json!({"application_id": "a", "ai_processing": {"model": "m", "input": text, "output": "ok"}});
    let id = app.post("/api/v1/traces", &trace.to_string()).await.body["trace_id"].as_str().unwrap().to_string();
    let stored = app.get(&format!("/api/v1/traces/{id}")).await.body;
    let input = stored["ai_processing"]["input"].as_str().unwrap();
    // A same-shape stand-in (the default policy) in its place.
    let number = input.strip_prefix("Leave a message on my registered (0191) ").and_then(|r| r.strip_suffix('.'));
    assert!(number.is_some_and(|n| n != "496 0197" && n.len() == 8 && n.as_bytes()[3] == b' '), "{input}");

    let audit = app.get("/api/v1/audit").await;
    let entry = &audit.body["items"][0];
    assert_eq!((entry["action"].as_str(), entry["actor"].as_str()), (Some("phi.second_pass"), Some("ingest")));
    assert_eq!(entry["detail"], json!({ "trace_id": id, "found": { "ID": 1 } }));
    assert!(!audit.text.contains("496 0197"));

    let metrics = app.send(Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert!(metrics.text.contains("aegis_phi_second_pass_total{type=\"ID\"} 1"), "{}", metrics.text);
}
