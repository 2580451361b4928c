//! The dashboard's server side, in-process on both backends: sessions gate the pages, and the
//! server-rendered traces page shows the organization's own traces only.

use crate::common::{on_both_backends, trace_json, TestApp};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use leptos::server_fn::ServerFn;

on_both_backends!(
    repeated_wrong_passwords_lock_the_email_for_a_while,
    pages_need_a_session_and_show_only_the_organizations_traces,
    the_trace_view_marks_realistic_stand_ins
);

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, Option<String>) {
    let form = format!("email={}&password={}", email.replace('@', "%40"), password);
    let reply = app.server_fn(app::api::Login::PATH, None, &form).await;
    (reply.status, reply.session_cookie())
}

async fn repeated_wrong_passwords_lock_the_email_for_a_while(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    app.store
        .create_user(&app.org, "ana@acme.test", "a long password", aegis_core::access::Role::Owner, "tests")
        .await
        .unwrap();
    for _ in 0..aegis_core::store::SIGN_IN_FAILURES {
        assert!(sign_in(&app, "ana@acme.test", "guess").await.1.is_none());
    }
    let reply = app.server_fn(app::api::Login::PATH, None, "email=ana%40acme.test&password=a long password").await;
    assert!(reply.text.contains("Too many failed sign-ins"), "{} {}", reply.status, reply.text);
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = reply.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((60..=15 * 60).contains(&retry), "{retry}");
    assert!(reply.headers.get(header::SET_COOKIE).is_none(), "no session");
}

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> crate::common::Reply {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

async fn pages_need_a_session_and_show_only_the_organizations_traces(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    app.store
        .create_user(&app.org, "ana@acme.test", "a long password", aegis_core::access::Role::Owner, "tests")
        .await
        .unwrap();
    let (_, other_key) = app.other_org().await;
    app.post("/api/v1/traces", &trace_json(None, "ours")).await;
    let mut theirs = trace_json(None, "theirs");
    theirs = theirs.replace("triage-bot", "other-bank-bot");
    app.post_as(&other_key, "/api/v1/traces", &theirs).await;

    let anonymous = page(&app, "/traces", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers[header::LOCATION], "/login");
    let login = page(&app, "/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text.contains("Sign in"));

    let (_, none) = sign_in(&app, "ana@acme.test", "wrong password").await;
    assert!(none.is_none(), "a wrong password starts no session");
    let (status, cookie) = sign_in(&app, "ana@acme.test", "a long password").await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let cookie = cookie.expect("a session cookie");

    let traces = page(&app, "/traces", Some(&cookie)).await;
    assert_eq!(traces.status, StatusCode::OK);
    assert!(traces.text.contains("triage-bot"), "the organization's trace is listed");
    assert!(!traces.text.contains("other-bank-bot"), "another organization's trace is not");
    assert!(traces.text.contains("Acme Health"));

    let forged = page(&app, "/traces", Some("aegis_session=forged")).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
}

/// With the `surrogates` policy, de-identified text looks like any other: the trace view marks
/// what was put in, from what ingest recorded.
async fn the_trace_view_marks_realistic_stand_ins(backend: aegis_core::store::Backend) {
    let app = TestApp::new(backend).await;
    app.store
        .create_user(&app.org, "ana@acme.test", "a long password", aegis_core::access::Role::Owner, "tests")
        .await
        .unwrap();
    let policy = app.send_json("PUT", "/api/v1/phi/policy", r#"{"surrogates": true}"#).await;
    assert_eq!(policy.status, StatusCode::OK, "{}", policy.text);
    let trace = serde_json::json!({
        "application_id": "triage-bot",
        "ai_processing": {"model": "m", "input": "Call Maria Garcia at (617) 555-0142 today.", "output": "Noted."}
    });
    let id = app.post("/api/v1/traces", &trace.to_string()).await.body["trace_id"].as_str().unwrap().to_string();
    let replaced = app.store.trace_replacements(&app.org, id.parse().unwrap()).await.unwrap();
    assert_eq!(replaced.len(), 2, "{replaced:?}");
    assert!(replaced.iter().all(|r| !r.starts_with('[')), "stand-ins, not tokens: {replaced:?}");

    let (_, cookie) = sign_in(&app, "ana@acme.test", "a long password").await;
    let detail = page(&app, &format!("/traces/{id}"), cookie.as_deref()).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(!detail.text.contains("Maria Garcia") && !detail.text.contains("(617) 555-0142"));
    for stand_in in &replaced {
        let marked = format!(">{}</mark>", stand_in.replace('&', "&amp;"));
        assert!(detail.text.contains(&marked), "{stand_in} is marked: {}", detail.text);
    }
}
