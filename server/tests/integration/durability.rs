//! Nothing acknowledged is lost: the real binary is killed with SIGKILL while it takes load,
//! restarted, and every trace it acknowledged must be stored and evaluated exactly once.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::on_both_backends;
use aegis_core::model::OrgId;
use aegis_core::store::{Backend, EvaluationLookup, Store};
use aegis_core::testing::TestDb;
use serde_json::{json, Value};
use uuid::Uuid;

on_both_backends!(sigkill_under_load_loses_no_acknowledged_trace, sigkill_loses_no_pending_webhook);

fn spawn_server(url: &str, port: u16) -> Child {
    server_command(url, port).spawn().expect("spawn aegis")
}

fn server_command(url: &str, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_aegis"));
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("AEGIS_LOG", "warn")
        .env("AEGIS_VAULT_KEY", crate::common::test_vault_key_hex())
        .env("AEGIS_WORKER__CONCURRENCY", "1")
        // Jobs the killed process held come back when their lease runs out: keep that short.
        .env("AEGIS_WORKER__LEASE_SECS", "2")
        .stdout(Stdio::null());
    command
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("aegis did not become healthy");
}

fn trace(id: Uuid, i: usize) -> Value {
    json!({
        "trace_id": id,
        "application_id": "durability",
        "ai_processing": { "model": "m", "input": format!("question {i}"), "output": if i.is_multiple_of(7) { "" } else { "an answer" } },
        "metadata": { "domain": "healthcare" },
    })
}

/// Clients that send traces until the server dies, remembering every acknowledged id.
async fn load(client: reqwest::Client, base: String, key: String, acked: Arc<Mutex<Vec<Uuid>>>, client_no: usize) {
    for round in 0.. {
        let batch = client_no.is_multiple_of(2);
        let ids: Vec<Uuid> = (0..if batch { 20 } else { 1 }).map(|_| Uuid::new_v4()).collect();
        let request = if batch {
            let traces: Vec<Value> = ids.iter().enumerate().map(|(i, id)| trace(*id, round * 20 + i)).collect();
            client.post(format!("{base}/api/v1/traces/batch")).json(&json!({ "traces": traces }))
        } else {
            client.post(format!("{base}/api/v1/traces")).json(&trace(ids[0], round))
        };
        let Ok(response) = request.bearer_auth(&key).send().await else { return };
        let status = response.status().as_u16();
        let Ok(body) = response.json::<Value>().await else { return };
        let mut acked = acked.lock().unwrap();
        match status {
            201 => acked.push(ids[0]),
            207 => {
                for item in body["items"].as_array().unwrap() {
                    assert_eq!(item["result"], "created", "{item}");
                    acked.push(item["trace_id"].as_str().unwrap().parse().unwrap());
                }
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
}

async fn sigkill_under_load_loses_no_acknowledged_trace(backend: Backend) {
    let db = TestDb::new(backend).await;
    let org = db.store.create_organization("Durable").await.unwrap().id;
    db.store.set_plan(&org, Some("unlimited")).await.unwrap();
    let key =
        db.store.create_api_key(&org, "load", aegis_core::store::ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::common::http_client();

    let mut server = spawn_server(&db.url, port);
    wait_healthy(&client, &base).await;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> =
        (0..16).map(|n| tokio::spawn(load(client.clone(), base.clone(), key.clone(), acked.clone(), n))).collect();
    // Let the load build and evaluations start, then kill mid-flight.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 3_000 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 500, "the load ran ({} acknowledged)", acked.len());
    eprintln!("{backend:?}: killed after {} acknowledged traces in {:?}", acked.len(), started.elapsed());

    let mut server = spawn_server(&db.url, port);
    wait_healthy(&client, &base).await;
    drained(&db.store).await;
    server.kill().unwrap();
    server.wait().unwrap();

    check_every_acknowledged_trace(&db.store, &org, &acked).await;
}

async fn drained(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.queue_depth().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the queue did not drain after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn check_every_acknowledged_trace(store: &Store, org: &OrgId, acked: &[Uuid]) {
    for id in acked {
        assert!(store.get_trace(org, *id).await.unwrap().is_some(), "acknowledged trace {id} was lost");
        match store.get_evaluation(org, *id).await.unwrap() {
            EvaluationLookup::Done(e) => assert_ne!(e.status, aegis_core::model::EvaluationStatus::Error),
            other => panic!("trace {id} was not evaluated: {other:?}"),
        }
    }
    // One evaluation per stored trace: none missing, none twice, none for a trace that isn't.
    let counts = sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM traces), (SELECT COUNT(*) FROM evaluations), \
         (SELECT COUNT(*) FROM evaluations e JOIN traces t ON t.org_id = e.org_id AND t.id = e.trace_id)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(counts.0 >= acked.len() as i64);
    assert_eq!(counts.0, counts.1, "every stored trace has exactly one evaluation");
    assert_eq!(counts.1, counts.2, "no evaluation without its trace");
}

/// Webhooks written for acknowledged traces survive a SIGKILL: the receiver is down while the
/// first process runs, and the restarted one delivers every message.
async fn sigkill_loses_no_pending_webhook(backend: Backend) {
    use aegis_core::model::EventType;
    use aegis_core::testing::receivers::{Mode, Receiver};

    let db = TestDb::new(backend).await;
    let org = db.store.create_organization("Durable").await.unwrap().id;
    let key =
        db.store.create_api_key(&org, "load", aegis_core::store::ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let receiver = Receiver::start(Mode::Status(503)).await;
    db.store
        .create_webhook(&org, "test", &receiver.url("/hooks"), "", &[EventType::EvaluationCompleted])
        .await
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::common::http_client();
    let spawn = || {
        server_command(&db.url, port)
            .env("AEGIS_WEBHOOK_ALLOW_PRIVATE", "1")
            .env("AEGIS_SINKS__FIRST_RETRY_MS", "50")
            .env("AEGIS_SINKS__MAX_RETRY_DELAY_MS", "200")
            .env("AEGIS_SINKS__TIMEOUT_SECS", "1")
            .env("AEGIS_SINKS__LEASE_SECS", "2")
            .spawn()
            .expect("spawn aegis")
    };

    let mut server = spawn();
    wait_healthy(&client, &base).await;
    let mut acked = Vec::new();
    for i in 0..40 {
        let id = Uuid::new_v4();
        let r =
            client.post(format!("{base}/api/v1/traces")).bearer_auth(&key).json(&trace(id, i)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 201);
        acked.push(id);
    }
    // Killed once every message has been tried and refused at least once.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let refused: std::collections::HashSet<String> = receiver
            .got
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.headers["webhook-id"].to_str().unwrap().to_string())
            .collect();
        if refused.len() >= acked.len() {
            break;
        }
        assert!(Instant::now() < deadline, "only {} of {} messages were tried", refused.len(), acked.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    assert!(db.store.outbox_pending().await.unwrap() >= acked.len() as i64, "pending, not lost");

    let refused_requests = receiver.got.lock().unwrap().len();
    receiver.set(Mode::Accept);
    let mut server = spawn();
    wait_healthy(&client, &base).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while db.store.outbox_pending().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "deliveries still pending after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let delivered: std::collections::HashSet<Uuid> = receiver.bodies()[refused_requests..]
        .iter()
        .filter(|b| b["type"] == "evaluation.completed")
        .map(|b| b["data"]["trace_id"].as_str().unwrap().parse().unwrap())
        .collect();
    let got = receiver.got.lock().unwrap().len();
    for id in &acked {
        assert!(delivered.contains(id), "the webhook of trace {id} was lost ({got} requests)");
    }
}
