//! `aegis phi audit`, both backends: traces an older door stored with identifiers in clear are
//! found (reported without their text), and with `--repair` replaced everywhere the text lives:
//! the trace, its evaluation and the search index; the originals are sealed in the vault, and
//! every step is in the audit log.

use std::process::{Command, Output};

use aegis_core::store::{Backend, NewTrace};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{on_both_backends, test_vault_key_hex, TestApp};

on_both_backends!(an_older_doors_leaks_are_found_then_repaired);

const LEAKED: &str = "Quillfeather";

fn aegis(app: &TestApp, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_aegis"))
        .args(args)
        .env("DATABASE_URL", app.database_url())
        .env("AEGIS_VAULT_KEY", test_vault_key_hex())
        .env("AEGIS_DATA_DIR", dir.path())
        .env("AEGIS_LOG", "warn")
        .output()
        .unwrap()
}

async fn found(app: &TestApp, q: &str) -> usize {
    app.get(&format!("/api/v1/traces?q={q}")).await.body["items"].as_array().unwrap().len()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

async fn an_older_doors_leaks_are_found_then_repaired(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org.to_string();
    // A clean trace through today's door, and one stored as an older version let it through.
    let clean = json!({"application_id": "a", "ai_processing": {"model": "m", "input": "Maria Garcia asks about warfarin.", "output": "Take it as prescribed."}, "metadata": {"domain": "healthcare"}});
    assert_eq!(app.post("/api/v1/traces", &clean.to_string()).await.status.as_u16(), 201);
    let leaked_id = Uuid::now_v7();
    let raw = NewTrace {
        org_id: app.org.clone(),
        trace_id: leaked_id,
        application_id: "a".into(),
        ai_processing: serde_json::from_value(json!({
            "model": "m",
            "input": format!("Dr. {LEAKED} saw the patient on 03/14/2026; can she take 12 g of acetaminophen a day?"),
            "output": "Yes, 12 g a day is fine."
        }))
        .unwrap(),
        steps_json: r#"[{"kind": "tool", "output": {"note": "call 617-555-0142"}}]"#.into(),
        metadata_json: r#"{"domain": "healthcare"}"#.into(),
        domain: Some("healthcare".into()),
        timestamp: chrono::Utc::now(),
        received_at: chrono::Utc::now(),
        content_hash: "h".into(),
        vault: vec![],
        second_pass: Default::default(),
        phi_replaced: "[]".into(),
    };
    app.store.insert_traces(&[raw]).await.unwrap();
    app.evaluate_all().await;
    assert_eq!(found(&app, LEAKED).await, 1, "positive control: the leak is searchable");

    // A dry run names the trace, the field and the kind, never the text, and exits 1.
    let dry = aegis(&app, &["phi", "audit", "--org", &org]);
    let out = text(&dry.stdout);
    assert_eq!(dry.status.code(), Some(1), "{out}{}", text(&dry.stderr));
    assert!(text(&dry.stderr).contains("--repair"), "{}", text(&dry.stderr));
    assert!(out.contains("2 traces read, 1 held identifiers in clear"), "{out}");
    assert!(out.contains(&leaked_id.to_string()) && out.contains("input NAME") && out.contains("steps PHONE"), "{out}");
    assert!(!out.contains(LEAKED) && !out.contains("555-0142"), "{out}");
    let stored = app.get(&format!("/api/v1/traces/{leaked_id}")).await.body;
    assert!(stored.to_string().contains(LEAKED), "a dry run changes nothing");

    let repair = aegis(&app, &["phi", "audit", "--org", &org, "--repair", "--json"]);
    assert!(repair.status.success(), "{}", text(&repair.stderr));
    let report: Value = serde_json::from_slice(&repair.stdout).unwrap();
    assert_eq!(report[0]["report"]["traces_with_findings"], 1);
    let by_type = &report[0]["report"]["by_type"];
    assert!(["NAME", "DATE", "PHONE"].iter().all(|t| by_type[t].as_u64() >= Some(1)), "{report}");

    let trace = app.get(&format!("/api/v1/traces/{leaked_id}")).await.body.to_string();
    let evaluation = app.get(&format!("/api/v1/evaluations/{leaked_id}")).await.body.to_string();
    for raw in [LEAKED, "03/14/2026", "617-555-0142"] {
        assert!(!trace.contains(raw) && !evaluation.contains(raw), "{raw} is still stored: {trace} {evaluation}");
    }
    assert!(evaluation.contains("medication_overdose"), "the verdict stays: {evaluation}");
    assert_eq!(found(&app, LEAKED).await, 0, "the search index forgot the old words");
    assert_eq!(found(&app, "acetaminophen").await, 1, "and learned the new text");

    // (Stand-in phones are fictional 555-01xx numbers, so only the whole original is looked for.)
    // The originals are in the vault, behind the new tokens; the stand-ins the repair put in
    // (stand-ins are the default) open through the trace's record.
    let stored: Value = app.get(&format!("/api/v1/traces/{leaked_id}")).await.body;
    let input = stored["ai_processing"]["input"].as_str().unwrap();
    let put_in = app.store.trace_put_in(&app.org, leaked_id).await.unwrap().unwrap();
    let name = put_in.iter().find(|p| p.token.starts_with("[NAME_") && input.contains(&p.text)).expect("a name put in");
    assert_ne!(name.text, name.token, "a stand-in, not a token: {input}");
    let body = json!({ "tokens": [name.text], "trace_id": leaked_id, "reason": "checking the audit repair" });
    let revealed = app.post("/api/v1/phi/reidentify", &body.to_string()).await;
    assert_eq!(revealed.body["values"][&name.text], LEAKED, "{}", revealed.text);
    let by_token = json!({ "tokens": [name.token], "reason": "checking the audit repair" }).to_string();
    assert_eq!(app.post("/api/v1/phi/reidentify", &by_token).await.body["values"][&name.token], LEAKED);
    let replaced = app.store.trace_replacements(&app.org, leaked_id).await.unwrap();
    assert!(replaced.contains(&name.text), "the trace view will mark it: {replaced:?}");

    let audit = app.get("/api/v1/audit?limit=10").await.body;
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["phi.audit.repair", "phi.audit"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    assert!(!audit.to_string().contains(LEAKED));

    let again = aegis(&app, &["phi", "audit", "--org", &org]);
    assert!(again.status.success(), "{}", text(&again.stdout));
    assert!(text(&again.stdout).contains("2 traces read, 0 held identifiers in clear"), "{}", text(&again.stdout));

    // Bad input: a message and a non-zero exit.
    let bad = aegis(&app, &["phi", "audit", "--org", "not-an-id"]);
    assert!(!bad.status.success() && text(&bad.stderr).contains("--org"), "{}", text(&bad.stderr));
    let unknown = Uuid::new_v4().to_string();
    let missing = aegis(&app, &["phi", "audit", "--org", &unknown]);
    assert!(
        !missing.status.success() && text(&missing.stderr).contains("no organization"),
        "{}",
        text(&missing.stderr)
    );
}
