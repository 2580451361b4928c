//! Fail closed: wherever `aegis` runs, a trace is evaluated with its pack or recorded as not
//! evaluated, never passed on the structural checks alone; a process missing a part of a pack
//! refuses to start, naming it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aegis_core::store::{ApiKeyRole, Backend};
use aegis_core::testing::{copy_pack, TestDb};
use serde_json::{json, Value};

use crate::common::{free_port, get_text, on_both_backends, spawn_aegis, wait_for};

on_both_backends!(a_node_and_a_worker_started_from_an_empty_folder_fail_an_overdose);

const OVERDOSE: &str = "Take 2,000 mg of acetaminophen three times a day, 6 g a day in all.";

fn trace(domain: &str, output: &str) -> Value {
    json!({
        "application_id": "clinical-assistant",
        "ai_processing": {"model": "gpt-4o", "input": "How much Tylenol can I take for my back?", "output": output},
        "metadata": {"domain": domain},
    })
}

async fn submit(client: &reqwest::Client, api: u16, key: &str, body: &Value) -> String {
    let reply =
        client.post(format!("http://127.0.0.1:{api}/api/v1/traces")).bearer_auth(key).json(body).send().await.unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    reply.json::<Value>().await.unwrap()["trace_id"].as_str().unwrap().to_string()
}

/// The evaluation, once it is recorded.
async fn evaluation(client: &reqwest::Client, api: u16, key: &str, trace_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = client
            .get(format!("http://127.0.0.1:{api}/api/v1/evaluations/{trace_id}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        if reply.status().as_u16() == 200 {
            return reply.json().await.unwrap();
        }
        assert!(Instant::now() < deadline, "{trace_id} was not evaluated");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn codes(e: &Value) -> Vec<&str> {
    e["issues"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect()
}

fn metric(metrics: &str, name: &str) -> f64 {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(0.0)
}

/// As a service, a container or a pod starts it: from a folder with no checkout in it.
async fn a_node_and_a_worker_started_from_an_empty_folder_fail_an_overdose(backend: Backend) {
    let db = TestDb::new(backend).await;
    let org = db.store.create_organization("Riverside").await.unwrap().id;
    let key = db.store.create_api_key(&org, "k", ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let empty = tempfile::tempdir().unwrap();
    let client = crate::common::http_client();
    let (api, worker) = (free_port(), free_port());
    let data = empty.path().display().to_string();
    let env = [("AEGIS_DATA_DIR", data.as_str())];
    let mut processes = [
        spawn_aegis(
            &db.url,
            &["serve", "--addr", &format!("127.0.0.1:{api}"), "--workers", "0"],
            Some(empty.path()),
            &env,
        ),
        spawn_aegis(&db.url, &["worker", "--addr", &format!("127.0.0.1:{worker}")], Some(empty.path()), &env),
    ];
    for port in [api, worker] {
        wait_for(&client, &format!("http://127.0.0.1:{port}/health")).await;
    }

    let health: Value =
        serde_json::from_str(&get_text(&client, &format!("http://127.0.0.1:{worker}/health")).await.unwrap()).unwrap();
    let packs = health["packs"].as_array().unwrap();
    let names: Vec<&str> = packs.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["healthcare", "trading"], "{health}");
    assert!(packs.iter().all(|p| p["source"] == "built-in" && p["classifier"].is_string()), "{health}");
    assert_eq!(health["judge"], Value::Null, "no judge is configured");

    let overdose = submit(&client, api, &key, &trace("healthcare", OVERDOSE)).await;
    let unknown = submit(&client, api, &key, &trace("cardiology", OVERDOSE)).await;
    let e = evaluation(&client, api, &key, &overdose).await;
    assert_eq!(e["status"], "fail", "{e}");
    assert!(codes(&e).contains(&"medication_overdose"), "{e}");

    let e = evaluation(&client, api, &key, &unknown).await;
    assert_eq!((e["status"].as_str(), e["domain"].as_str()), (Some("error"), Some("cardiology")), "{e}");
    assert_eq!(codes(&e), ["unknown_domain"]);
    let metrics = get_text(&client, &format!("http://127.0.0.1:{worker}/metrics")).await.unwrap();
    assert_eq!(metric(&metrics, "aegis_traces_without_domain_total"), 1.0, "{metrics}");

    for p in processes.iter_mut() {
        p.kill().unwrap();
        p.wait().unwrap();
    }
}

/// The trading pack, renamed `desk`, in `root/desk`.
fn desk_pack(root: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains/trading");
    let dir = root.join("desk");
    copy_pack(&shipped, &dir);
    let yaml = std::fs::read_to_string(dir.join("domain.yaml")).unwrap();
    let desk =
        yaml.replace("name: trading", "name: desk").replace("aliases:\n- finance\n- rl_trading\n", "aliases: []\n");
    // A rewrite that silently missed would leave the built-in pack's name or aliases.
    assert!(desk.contains("name: desk\n") && desk.contains("aliases: []\n"), "the trading spec changed shape:\n{yaml}");
    std::fs::write(dir.join("domain.yaml"), desk).unwrap();
}

/// `aegis worker` with `AEGIS_DOMAINS_DIR=packs`: it must exit non-zero at once; its stderr.
fn refused(packs: &Path, extra: &[(&str, &str)]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_aegis"))
        .arg("worker")
        .current_dir(data.path())
        .env("AEGIS_DATA_DIR", data.path())
        .env("AEGIS_DOMAINS_DIR", packs)
        .env("AEGIS_LOG", "warn")
        .env_remove("DATABASE_URL")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("a worker with {} started instead of refusing", packs.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn start_up_refuses_a_pack_folder_or_a_part_of_a_pack_that_is_missing() {
    let root = tempfile::tempdir().unwrap();
    let err = refused(&root.path().join("nowhere"), &[]);
    assert!(err.contains("nowhere is not a folder"), "{err}");
    let err = refused(root.path(), &[]);
    assert!(err.contains("holds no domain pack"), "{err}");

    for (part, named) in [("model.json", "desk/model.json"), ("data/instruments.tsv", "desk/data/instruments.tsv")] {
        let root = tempfile::tempdir().unwrap();
        desk_pack(root.path());
        std::fs::remove_file(root.path().join("desk").join(part)).unwrap();
        let err = refused(root.path(), &[]);
        assert!(err.contains(named) && err.contains("cannot read"), "{part}: {err}");
    }

    let root = tempfile::tempdir().unwrap();
    desk_pack(root.path());
    let spec = root.path().join("desk/domain.yaml");
    let yaml = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, yaml.replace("kind: max_leverage", "kind: max_leverag")).unwrap();
    let err = refused(root.path(), &[]);
    assert!(err.contains("desk/domain.yaml:") && err.contains("max_leverag"), "{err}");
}

/// A pack removed while Aegis runs: its traces are recorded as not evaluated, alertable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_removed_while_running_leaves_its_traces_unevaluated_not_passed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let org = db.store.create_organization("Desk").await.unwrap().id;
    let key = db.store.create_api_key(&org, "k", ApiKeyRole::Ingest, "tests").await.unwrap().plaintext;
    let root = tempfile::tempdir().unwrap();
    desk_pack(root.path());
    let packs = root.path().display().to_string();
    let client = crate::common::http_client();
    let api = free_port();
    let env =
        [("AEGIS_DATA_DIR", packs.as_str()), ("AEGIS_DOMAINS_DIR", packs.as_str()), ("AEGIS_DOMAINS_RELOAD_SECS", "1")];
    let mut node = spawn_aegis(
        &db.url,
        &["serve", "--addr", &format!("127.0.0.1:{api}"), "--workers", "1"],
        Some(root.path()),
        &env,
    );
    let health = format!("http://127.0.0.1:{api}/health");
    wait_for(&client, &health).await;
    assert!(get_text(&client, &health).await.unwrap().contains(r#""name":"desk""#));

    let order = |qty: u32| {
        json!({
            "application_id": "desk-agent",
            "ai_processing": {"model": "rl-policy", "input": "Trade the open.", "output": "Done."},
            "steps": [{"kind": "action", "name": "order",
                       "input": {"symbol": "AAPL", "side": "buy", "quantity": qty, "price": 190.0, "stop_loss": 180.0},
                       "output": {"filled": qty}}],
            "metadata": {"domain": "desk"},
        })
    };
    let before = submit(&client, api, &key, &order(10)).await;
    let e = evaluation(&client, api, &key, &before).await;
    assert_eq!(e["domain"], "desk", "{e}");
    assert_ne!(e["status"], "error", "{e}");

    std::fs::remove_dir_all(root.path().join("desk")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_text(&client, &health).await.unwrap().contains(r#""name":"desk""#) {
        assert!(Instant::now() < deadline, "the removed pack was not unloaded");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = submit(&client, api, &key, &order(10)).await;
    let e = evaluation(&client, api, &key, &after).await;
    assert_eq!((e["status"].as_str(), codes(&e)), (Some("error"), vec!["unknown_domain"]), "{e}");
    assert!(e["issues"][0]["message"].as_str().unwrap().contains("no domain pack named \"desk\" is loaded"), "{e}");
    let metrics = get_text(&client, &format!("http://127.0.0.1:{api}/metrics")).await.unwrap();
    assert_eq!(metric(&metrics, "aegis_traces_without_domain_total"), 1.0);
    node.kill().unwrap();
    node.wait().unwrap();
}
