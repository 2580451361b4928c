//! Scale-out: an API node without workers and two `aegis worker` processes on one database.
//! Every trace is evaluated exactly once, and both workers take a share.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::common::{free_port, get_text, on_both_backends, spawn_aegis, wait_for};
use aegis_core::store::Backend;
use aegis_core::testing::TestDb;
use serde_json::json;

on_both_backends!(two_worker_processes_share_the_queue);

fn aegis(url: &str, args: &[&str]) -> Child {
    spawn_aegis(url, args, None, &[("AEGIS_WORKER__CLAIM_BATCH", "50")])
}

fn evaluated(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("aegis_evaluations_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn two_worker_processes_share_the_queue(backend: Backend) {
    let db = TestDb::new(backend).await;
    let org = db.store.create_organization("Scale").await.unwrap().id;
    let key =
        db.store.create_api_key(&org, "k", aegis_core::store::ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let client = crate::common::http_client();
    let api = free_port();
    let (w1, w2) = (free_port(), free_port());
    let mut processes = [
        aegis(&db.url, &["serve", "--addr", &format!("127.0.0.1:{api}"), "--workers", "0"]),
        aegis(&db.url, &["worker", "--concurrency", "2", "--addr", &format!("127.0.0.1:{w1}")]),
        aegis(&db.url, &["worker", "--concurrency", "2", "--addr", &format!("127.0.0.1:{w2}")]),
    ];
    for port in [api, w1, w2] {
        wait_for(&client, &format!("http://127.0.0.1:{port}/health")).await;
    }

    let mut generator = aegis_core::seed::Generator::new(11);
    for _ in 0..10 {
        let traces: Vec<_> = (0..200).map(|_| generator.trace()).collect();
        let reply = client
            .post(format!("http://127.0.0.1:{api}/api/v1/traces/batch"))
            .bearer_auth(&key)
            .json(&json!({ "traces": traces }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 207);
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    while db.store.queue_depth().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the workers did not drain the queue");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = evaluated(&get_text(&client, &format!("http://127.0.0.1:{w1}/metrics")).await.unwrap());
    let second = evaluated(&get_text(&client, &format!("http://127.0.0.1:{w2}/metrics")).await.unwrap());
    for p in processes.iter_mut() {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    assert_eq!(first + second, 2000, "every trace evaluated exactly once ({first} + {second})");
    assert!(first > 0 && second > 0, "both workers took a share ({first} + {second})");
    let (evaluations,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM evaluations").fetch_one(db.store.pool()).await.unwrap();
    assert_eq!(evaluations, 2000);
}

/// The live feed across processes: a subscriber on API node A (no workers) receives the
/// evaluations that a separate `aegis worker` process B finished, through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_fans_out_across_processes() {
    let db = TestDb::new(Backend::Postgres).await;
    let org = db.store.create_organization("Fan-out").await.unwrap().id;
    let key =
        db.store.create_api_key(&org, "k", aegis_core::store::ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let other = db.store.create_organization("Elsewhere").await.unwrap().id;
    let other_key =
        db.store.create_api_key(&other, "k", aegis_core::store::ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let client = crate::common::http_client();
    let (api, worker) = (free_port(), free_port());
    let mut processes = [
        aegis(&db.url, &["serve", "--addr", &format!("127.0.0.1:{api}"), "--workers", "0"]),
        aegis(&db.url, &["worker", "--concurrency", "2", "--addr", &format!("127.0.0.1:{worker}")]),
    ];
    for port in [api, worker] {
        wait_for(&client, &format!("http://127.0.0.1:{port}/health")).await;
    }
    let url = format!("ws://127.0.0.1:{api}/ws/traces");
    let mut socket = crate::live_feed::connect(&url, &key).await.expect("subscribed on node A");

    let mut generator = aegis_core::seed::Generator::new(5);
    let mut sent = std::collections::HashSet::new();
    let submit = |key: String, trace: aegis_core::model::TraceInput| {
        let client = client.clone();
        async move {
            let reply: serde_json::Value = client
                .post(format!("http://127.0.0.1:{api}/api/v1/traces"))
                .bearer_auth(key)
                .json(&trace)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            reply["trace_id"].as_str().unwrap().to_string()
        }
    };
    for _ in 0..20 {
        sent.insert(submit(key.clone(), generator.trace()).await);
    }
    let theirs = submit(other_key.clone(), generator.trace()).await;

    let mut seen = std::collections::HashSet::new();
    while seen.len() < sent.len() {
        let event = crate::live_feed::next_event(&mut socket, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("only {} of {} evaluations arrived", seen.len(), sent.len()));
        let id = event.trace_id.to_string();
        assert_ne!(id, theirs, "never another organization's");
        assert!(sent.contains(&id), "an event for a trace we sent");
        seen.insert(id);
    }
    for p in processes.iter_mut() {
        p.kill().unwrap();
        p.wait().unwrap();
    }
}
