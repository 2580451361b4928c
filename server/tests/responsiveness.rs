//! CPU work stays off the async runtime: `/health` answers within 50 ms while a domain reload
//! and a 10 MB batch (de-identified on blocking threads) are in flight. A test binary of its
//! own, so that no other test competes for the two cores while it measures.

#[allow(dead_code, unused_imports, unused_macros)]
#[path = "integration/common.rs"]
mod common;

use std::time::Duration;

use aegis_core::store::Backend;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use common::TestApp;

const HEALTH_WITHIN: Duration = Duration::from_millis(50);

/// One runtime worker: any CPU work left on the runtime would hold `/health` up for its whole
/// length, where with more workers it could hide behind another one.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn health_answers_within_50_ms_during_a_reload_and_a_10_mb_batch() {
    let app = TestApp::new_with(Backend::Sqlite, |c| c.max_body_bytes = 16 * 1024 * 1024).await;
    // 1,000 clinical notes of about 10 KB: names, dates, phone numbers to find throughout.
    let paragraph = "Maria Garcia (DOB 03/14/1962, MRN 00482913) called (617) 555-0142 about her warfarin; \
                     Dr. Quillfeather saw her at Riverside Clinic, 12 Elm Street, Boston MA 02118. ";
    let note = paragraph.repeat(10 * 1024 / paragraph.len());
    let traces: Vec<_> = (0..1_000)
        .map(|i| {
            json!({
                "application_id": "triage-bot",
                "ai_processing": {"model": "m", "input": format!("{i}: {note}"), "output": "Take it as prescribed."},
                "metadata": {"domain": "healthcare"}
            })
        })
        .collect();
    let body = json!({ "traces": traces }).to_string();
    assert!(body.len() >= 10 * 1_000_000, "{} bytes", body.len());

    let batch = {
        let router = app.router.clone();
        let key = app.key.clone();
        tokio::spawn(async move {
            let request = Request::post("/api/v1/traces/batch")
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            tower::ServiceExt::oneshot(router, request).await.unwrap().status()
        })
    };
    let reload = {
        let router = app.router.clone();
        let key = app.key.clone();
        tokio::spawn(async move {
            let request = Request::post("/api/v1/domains/reload")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap();
            tower::ServiceExt::oneshot(router, request).await.unwrap().status()
        })
    };

    // The probes run as a task on the runtime's worker, as requests do: each is timed from the
    // moment it was due, so a worker held up by CPU work shows as lateness.
    let probes = {
        let router = app.router.clone();
        let (batch_done, reload_done) = (batch.abort_handle(), reload.abort_handle());
        tokio::spawn(async move {
            let (mut slowest, mut probes) = (Duration::ZERO, 0);
            while !(batch_done.is_finished() && reload_done.is_finished()) {
                let due = tokio::time::Instant::now() + Duration::from_millis(10);
                tokio::time::sleep_until(due).await;
                let request = Request::get("/health").body(Body::empty()).unwrap();
                let status = tower::ServiceExt::oneshot(router.clone(), request).await.unwrap().status();
                assert_eq!(status, StatusCode::OK);
                slowest = slowest.max(due.elapsed());
                probes += 1;
            }
            (slowest, probes)
        })
    };
    let (slowest, probes) = probes.await.unwrap();
    assert_eq!(batch.await.unwrap(), StatusCode::MULTI_STATUS);
    assert_eq!(reload.await.unwrap(), StatusCode::OK);
    assert!(probes >= 5, "the work took long enough to measure: {probes} probes");
    assert!(slowest < HEALTH_WITHIN, "/health took {slowest:?} at worst over {probes} probes");
}
