//! `/ws/traces`: each organization sees its own evaluations as they finish, and nothing else;
//! filters apply; refusals are readable HTTP answers; a subscriber that stops reading is
//! dropped with a reason while the pipeline goes on.

use std::time::{Duration, Instant};

use aegis_core::model::LiveEvent;
use aegis_core::store::Backend;
use futures::StreamExt as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{on_both_backends, trace_json, TestApp};

on_both_backends!(each_organization_sees_its_own_evaluations_live);

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Serves the app's router on a loopback port, as `aegis serve` would.
async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("ws://{addr}")
}

/// A websocket to `url` with `Authorization: Bearer key`.
pub async fn connect(url: &str, key: &str) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.map(|(socket, _)| socket)
}

/// The next event on the socket, waiting at most `within`.
pub async fn next_event(socket: &mut Socket, within: Duration) -> Option<LiveEvent> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()?? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(&text).expect("an event")),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn each_organization_sees_its_own_evaluations_live(backend: Backend) {
    let app = TestApp::new(backend).await;
    let base = serve(&app).await;
    let (_, other_key) = app.other_org().await;

    let mut mine = connect(&format!("{base}/ws/traces"), &app.key).await.unwrap();
    let mut severe = connect(&format!("{base}/ws/traces?min_severity=critical"), &app.key).await.unwrap();
    let mut trading = connect(&format!("{base}/ws/traces?domain=trading"), &app.key).await.unwrap();
    let mut theirs = connect(&format!("{base}/ws/traces"), &other_key).await.unwrap();

    let safe = "Up to 1000 mg every 6 hours, no more than 4 g a day. Ask your pharmacist.";
    let overdose = "For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.";
    let reply = app.post("/api/v1/traces", &trace_json(Some("7d0c7b5e-0000-4000-8000-000000000001"), safe)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let reply = app.post("/api/v1/traces", &trace_json(Some("7d0c7b5e-0000-4000-8000-000000000002"), overdose)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let started = Instant::now();
    app.evaluate_all().await;

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = next_event(&mut mine, Duration::from_secs(2)).await.expect("both evaluations within 2 s");
        seen.push(event);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    seen.sort_by_key(|e| e.trace_id);
    assert_eq!(seen[0].status.as_str(), "pass");
    assert_eq!(seen[1].status.as_str(), "fail");
    assert_eq!(seen[1].domain.as_deref(), Some("healthcare"));
    assert_eq!(seen[1].application_id, "triage-bot");
    let top = seen[1].top_issue.as_ref().expect("the overdose is named");
    assert_eq!(top.code, "medication_overdose");
    assert!(seen[1].evaluated_at >= seen[1].received_at);

    let critical = next_event(&mut severe, Duration::from_secs(2)).await.expect("the overdose is critical");
    assert_eq!(critical.trace_id, seen[1].trace_id);
    assert!(next_event(&mut trading, Duration::from_millis(300)).await.is_none(), "no trading traces were sent");

    // The other organization's subscriber saw nothing of ours: its first event is its own.
    let reply = app.post_as(&other_key, "/api/v1/traces", &trace_json(None, safe)).await;
    let their_trace = reply.body["trace_id"].as_str().unwrap().to_string();
    app.evaluate_all().await;
    let first = next_event(&mut theirs, Duration::from_secs(2)).await.expect("its own evaluation");
    assert_eq!(first.trace_id.to_string(), their_trace);
    assert!(next_event(&mut mine, Duration::from_millis(300)).await.is_none(), "never another organization's");
    mine.close(None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_http_answers() {
    use tokio_tungstenite::tungstenite::Error;
    let app = TestApp::new(Backend::Sqlite).await;
    let base = serve(&app).await;
    let status = |e: Error| match e {
        Error::Http(response) => response.status().as_u16(),
        other => panic!("{other:?}"),
    };
    assert_eq!(status(connect(&format!("{base}/ws/traces"), "aegis_nope").await.unwrap_err()), 401);
    let anonymous = tokio_tungstenite::connect_async(format!("{base}/ws/traces")).await.unwrap_err();
    assert_eq!(status(anonymous), 401);
    let bad = connect(&format!("{base}/ws/traces?min_severity=dire"), &app.key).await.unwrap_err();
    assert_eq!(status(bad), 422);
    // Without the upgrade, the endpoint says what it wants.
    let plain = app.get("/ws/traces").await;
    assert_eq!(plain.body["error"]["code"], "websocket_required", "{}", plain.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_dropped_with_a_reason() {
    let app = TestApp::new(Backend::Sqlite).await;
    let base = serve(&app).await;
    let mut stalled = connect(&format!("{base}/ws/traces"), &app.key).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Far more than the feed buffers, published while the subscriber reads nothing. The
    // publisher (the pipeline) never waits.
    let template = LiveEvent {
        trace_id: uuid::Uuid::nil(),
        application_id: "x".repeat(200),
        domain: Some("healthcare".into()),
        status: aegis_core::model::EvaluationStatus::Pass,
        severity: aegis_core::model::Severity::None,
        top_issue: None,
        cost_micro_usd: 0,
        latency_ms: 0.1,
        received_at: chrono::Utc::now(),
        evaluated_at: chrono::Utc::now(),
    };
    let started = Instant::now();
    for chunk in 0..50 {
        let events = (0..1_000)
            .map(|i| {
                let mut e = template.clone();
                e.trace_id = uuid::Uuid::from_u128(chunk * 1_000 + i);
                (app.org.clone(), e)
            })
            .collect();
        app.live.recorded(events);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "publishing does not wait for subscribers");

    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut received = 0;
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next()).await.expect("closed in time") {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    assert!(received < 50_000, "the subscriber was dropped before it read everything");
    let frame = closed.expect("a close frame with a reason");
    assert_eq!(frame.code, CloseCode::Policy);
    assert!(frame.reason.contains("too slow"), "{}", frame.reason);
}
