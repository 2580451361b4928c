//! Canaries: a real `aegis serve` takes traces full of identifiers; not one raw identifier may
//! reach the database files, the logs (at debug level), any API response, the dashboard, or the
//! LLM judge (a local server speaking OpenAI's wire format, which every trace is sent to).

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::on_both_backends;
use aegis_core::store::{ApiKeyRole, Backend};
use aegis_core::testing::TestDb;
use leptos::server_fn::ServerFn;
use serde_json::{json, Value};

on_both_backends!(no_raw_identifier_leaves_the_door, a_third_party_corpus_leaks_only_what_the_recognizers_miss);

const CANARIES: &[&str] = &[
    "Quistgaard",
    "219-09-9999",
    "555-0186",
    "quistgaard@example.org",
    "88412093",
    "07/19/1948",
    "4417 Larkspur Lane",
    "05602",
    "4111 1111 1111 1111",
    "1HGCM82633A004352",
    "73.162.44.219",
    "portal.example-health.org",
];

fn trace(i: usize) -> Value {
    json!({
        "application_id": "clinical-assistant",
        "ai_processing": {
            "model": "gpt-4o",
            "input": format!("Patient Eleanor Quistgaard (DOB 07/19/1948, MRN: 88412093, SSN 219-09-9999) lives at 4417 Larkspur Lane, Montpelier, VT 05602. Visit {i}."),
            "output": "Ms. Quistgaard should call (802) 555-0186 or write to eleanor.quistgaard@example.org; records at https://portal.example-health.org/p/88412093.",
        },
        "steps": [{"kind": "tool", "name": "billing", "input": {"card": "4111 1111 1111 1111", "vehicle": "VIN 1HGCM82633A004352"},
                   "output": {"login_ip": "IP 73.162.44.219", "notes": ["Quistgaard, Eleanor"]}}],
        "metadata": {"domain": "healthcare", "contact": "eleanor.quistgaard@example.org"}
    })
}

/// `needle` in `text` as a word of its own: a leaked "05602" stands between spaces or quotes,
/// while the same digits inside a hex token or a UUID ("…3a05602b…"), a test database's name
/// ("aegis_test_45307_2_…", the process id) or a local port ("127.0.0.1:45307") are chance.
fn contains_word(text: &str, needle: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(needle).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + needle.len()).copied();
        let word = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        let port = ["127.0.0.1:", "localhost:"].iter().any(|host| text[..at].ends_with(host));
        !word(before) && !word(after) && !port
    })
}

#[test]
fn words_are_told_from_chance_substrings() {
    assert!(contains_word("VT 05602.", "05602"));
    assert!(contains_word("\"05602\"", "05602"));
    assert!(!contains_word("[ZIP_3a05602b1c9e]", "05602"));
    assert!(!contains_word("postgres://postgres@127.0.0.1:5432/aegis_test_05602_2_77", "05602"));
    assert!(!contains_word("url=http://127.0.0.1:05602/hooks", "05602"));
    assert!(contains_word("url=http://127.0.0.1:9/hooks?zip=05602", "05602"));
}

fn contents(path: &std::path::Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).to_string()
}

async fn everything_in_postgres(db: &TestDb) -> String {
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let mut all = String::new();
    for (table,) in tables {
        let sql = format!("SELECT COALESCE(string_agg(t::text, ' '), '') FROM {table} t");
        let (text,): (String,) = sqlx::query_as(&sql).fetch_one(db.store.pool()).await.unwrap();
        all.push_str(&text);
    }
    all
}

/// What a capturing server received, one body per request.
type Captured = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A judge that records what it is sent. With `quoting`, it finds every answer unsafe and
/// quotes the start of what it was sent in its issue, as a real judge may: the quote then
/// travels wherever issues go (the store, webhooks, alerts, the live feed).
async fn capturing_judge(quoting: bool) -> (String, Captured) {
    use axum::routing::post;
    let seen = Captured::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |body: String| {
            let record = record.clone();
            async move {
                let sent: Value = serde_json::from_str(&body).unwrap_or_default();
                record.lock().unwrap().push(body);
                let verdict = if quoting {
                    let prompt = sent["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str());
                    let prompt = prompt.unwrap_or_default();
                    // From the trace's input on: the rubric before it holds nothing of the trace.
                    let from = prompt.find("<input>").or_else(|| prompt.find("Input:")).unwrap_or(0);
                    let quote: String = prompt[from..].chars().take(600).collect();
                    json!({
                        "score": 0.1, "verdict": "unsafe", "reasoning": format!("It says: {quote}"),
                        "issues": [{"code": "judge_concern", "severity": "high", "message": format!("The answer repeats: {quote}")}]
                    })
                    .to_string()
                } else {
                    r#"{"score": 0.9, "verdict": "safe", "issues": [], "reasoning": "Nothing unsafe."}"#.to_string()
                };
                axum::Json(json!({
                    "id": "c", "object": "chat.completion", "model": "canary-judge",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": verdict}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// A receiver for webhooks and Slack messages: records every body, answers 200.
async fn capturing_receiver() -> (String, Captured) {
    let seen = Captured::default();
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |body: String| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(body);
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

/// The shipped healthcare pack, set to send every trace Tier 1 does not settle to the judge.
fn judge_everything_pack(root: &std::path::Path) -> std::path::PathBuf {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains/healthcare");
    let pack = root.join("domains/healthcare");
    std::fs::create_dir_all(pack.join("data")).unwrap();
    for entry in std::fs::read_dir(&shipped).unwrap().chain(std::fs::read_dir(shipped.join("data")).unwrap()) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let relative = path.strip_prefix(&shipped).unwrap();
            std::fs::copy(&path, pack.join(relative)).unwrap();
        }
    }
    let spec = std::fs::read_to_string(pack.join("domain.yaml")).unwrap();
    std::fs::write(pack.join("domain.yaml"), spec.replace("  escalate_at: 0.2", "  escalate_at: 0.0")).unwrap();
    root.join("domains")
}

/// A real `aegis serve` on a test database, with a capturing judge that sees every trace.
struct Door {
    db: TestDb,
    dir: tempfile::TempDir,
    server: std::process::Child,
    base: String,
    key: String,
    log_path: std::path::PathBuf,
    judged: Captured,
    judge_url: String,
}

impl Door {
    async fn open(backend: Backend, quoting_judge: bool) -> Door {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let (judge_url, judged) = capturing_judge(quoting_judge).await;
        let domains = judge_everything_pack(dir.path());
        let org = db.store.create_organization("Canary Clinic").await.unwrap().id;
        // Tokens, not the default stand-ins: stand-ins are real census names, and one that
        // happened to equal a corpus name could not be told from a leak. The recognizers and
        // every path out of the door are the same under both policies.
        let tokens = aegis_core::phi::PhiPolicy { surrogates: false, ..Default::default() };
        db.store.put_phi_policy(&org, &serde_json::to_string(&tokens).unwrap()).await.unwrap();
        let key = db.store.create_api_key(&org, "k", ApiKeyRole::Admin, "tests").await.unwrap().plaintext;
        db.store
            .create_user(&org, "nurse@canary.test", "a long password", aegis_core::access::Role::Owner, "tests")
            .await
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let log_path = dir.path().join("aegis.log");
        let server = Command::new(env!("CARGO_BIN_EXE_aegis"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &db.url)
            .env("AEGIS_DATA_DIR", dir.path())
            .env("AEGIS_VAULT_KEY", crate::common::test_vault_key_hex())
            .env("AEGIS_LOG", "debug")
            .env("AEGIS_DOMAINS_DIR", &domains)
            .env("AEGIS_JUDGE__PROVIDER", "openai_compatible")
            .env("AEGIS_JUDGE__BASE_URL", &judge_url)
            .env("AEGIS_JUDGE__MODEL", "canary-judge")
            .env("AEGIS_WEBHOOK_ALLOW_PRIVATE", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let client = crate::common::http_client();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get(format!("{base}/health")).send().await.is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Door { db, dir, server, base, key, log_path, judged, judge_url }
    }

    /// Numbers this run wrote of its own accord, which a corpus's ZIP code or record number may
    /// equal by chance: the processes' ids (the server's names its workers, "host/30746/0", the
    /// test's names its database) and the ports of the server, the judge and `others`.
    fn chance_numbers(&self, others: &[&str]) -> Vec<String> {
        let port =
            |url: &str| url.rsplit(':').next().unwrap_or_default().chars().take_while(char::is_ascii_digit).collect();
        let mut out =
            vec![self.server.id().to_string(), std::process::id().to_string(), port(&self.base), port(&self.judge_url)];
        out.extend(others.iter().map(|u| port(u)));
        out
    }

    /// Waits until every trace is evaluated.
    async fn drained(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.db.store.queue_depth().await.unwrap() > 0 {
            assert!(Instant::now() < deadline, "evaluation did not finish");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server and reads back what it left: the database (files or every table), the
    /// logs and what the judge was sent.
    async fn close(mut self) -> (String, String, String) {
        self.server.kill().unwrap();
        self.server.wait().unwrap();
        let stored = match self.db.store.backend() {
            Backend::Sqlite => {
                let file = self.db.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_string();
                ["", "-wal", "-shm"]
                    .iter()
                    .map(|s| contents(std::path::Path::new(&format!("{file}{s}"))))
                    .collect::<String>()
            }
            Backend::Postgres => everything_in_postgres(&self.db).await,
        };
        let logs = contents(&self.log_path);
        let judged = self.judged.lock().unwrap().join("\n");
        assert!(stored.contains("[NAME_"), "positive control: pseudonyms are stored");
        assert!(judged.contains("[NAME_"), "positive control: the judge saw the traces, pseudonymised");
        assert!(logs.contains("DEBUG"), "positive control: the log ran at debug level");
        drop(self.dir);
        (stored, logs, judged)
    }
}

async fn no_raw_identifier_leaves_the_door(backend: Backend) {
    let door = Door::open(backend, false).await;
    let (base, key) = (door.base.clone(), door.key.clone());
    let client = crate::common::http_client();
    let mut responses = String::new();
    let single = client.post(format!("{base}/api/v1/traces")).bearer_auth(&key).json(&trace(0)).send().await.unwrap();
    assert_eq!(single.status().as_u16(), 201);
    responses.push_str(&single.text().await.unwrap());
    let batch = json!({ "traces": (1..20).map(trace).collect::<Vec<_>>() });
    let batch = client.post(format!("{base}/api/v1/traces/batch")).bearer_auth(&key).json(&batch).send().await.unwrap();
    responses.push_str(&batch.text().await.unwrap());

    // Wait until everything is evaluated, then read it all back.
    door.drained(Duration::from_secs(30)).await;
    let list: Value = client
        .get(format!("{base}/api/v1/traces?limit=100"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 20);
    responses.push_str(&list.to_string());
    for item in list["items"].as_array().unwrap() {
        let id = item["trace_id"].as_str().unwrap();
        for path in [format!("/api/v1/traces/{id}"), format!("/api/v1/evaluations/{id}")] {
            responses.push_str(
                &client.get(format!("{base}{path}")).bearer_auth(&key).send().await.unwrap().text().await.unwrap(),
            );
        }
    }

    // The dashboard, signed in.
    let login = client
        .post(format!("{base}{}", app::api::Login::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body("email=nurse%40canary.test&password=a%20long%20password")
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("aegis_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("signed in");
    let page =
        client.get(format!("{base}/traces")).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("clinical-assistant"), "the dashboard lists the traces");

    let (stored, logs, judged) = door.close().await;
    for (sink, text) in [
        ("the database", &stored),
        ("the logs", &logs),
        ("API responses", &responses),
        ("the dashboard", &page),
        ("the LLM judge", &judged),
    ] {
        for canary in CANARIES {
            assert!(!contains_word(text, canary), "{canary:?} reached {sink}");
        }
    }
}

/// Canaries written by other people: the development split of the third-party corpus (Presidio's
/// templates filled by Faker in ten locales), every text sent as a trace. The recognizers do not
/// find every identifier in it yet (docs/PERFORMANCE.md); what this proves is that nothing else
/// leaks: every labelled identifier that reaches the database, the logs, the judge, a webhook, a
/// Slack alert or the live feed is one the recognizers leave in clear in some text of the corpus,
/// so every path out of the door applies de-identification, and closing a recognizer's miss
/// closes the leak. The judge quotes what it is sent in its issues, so the paths out carry text.
async fn a_third_party_corpus_leaks_only_what_the_recognizers_miss(backend: Backend) {
    use aegis_core::phi::eval::parse_jsonl;
    let corpus = parse_jsonl(include_str!("../../../core/data/phi/thirdparty/presidio-synth.dev.jsonl")).unwrap();
    let door = Door::open(backend, true).await;
    let client = crate::common::http_client();
    // In transit too: a webhook, a Slack channel with a rule every unsafe verdict meets, and a
    // live-feed subscriber, all receiving what the quoting judge's issues say.
    let (receiver, received) = capturing_receiver().await;
    let post = |path: &str, body: Value| {
        client.post(format!("{}/api/v1{path}", door.base)).bearer_auth(&door.key).json(&body).send()
    };
    let hook = post(
        "/webhooks",
        json!({"url": format!("{receiver}/hooks"), "events": ["evaluation.completed", "alert.triggered"]}),
    );
    assert_eq!(hook.await.unwrap().status().as_u16(), 201);
    let channel =
        json!({"name": "#safety", "kind": "slack", "webhook_url": format!("{receiver}/services/T000/B000/XXXXXXXX")});
    let channel: Value = post("/alert-channels", channel).await.unwrap().json().await.unwrap();
    let rule = json!({"name": "Everything", "min_severity": "low", "channels": [channel["id"]], "cooldown_secs": 0});
    assert_eq!(post("/alert-rules", rule).await.unwrap().status().as_u16(), 201);
    let live = live_feed(&door.base, &door.key).await;
    for (n, chunk) in corpus.chunks(200).enumerate() {
        let traces: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({
                    "application_id": "corpus",
                    "ai_processing": {"model": "m", "input": t.text, "output": format!("Noted, item {}.", n * 200 + i)},
                    "metadata": {"domain": "healthcare"}
                })
            })
            .collect();
        let reply = client
            .post(format!("{}/api/v1/traces/batch", door.base))
            .bearer_auth(&door.key)
            .json(&json!({ "traces": traces }))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{}", reply.text().await.unwrap());
    }
    door.drained(Duration::from_secs(300)).await;
    // Deliveries go out after the evaluation: wait until they stop arriving.
    let mut last = usize::MAX;
    while received.lock().unwrap().len() != last {
        last = received.lock().unwrap().len();
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let sent_out = received.lock().unwrap().join("\n");
    let live = live.lock().unwrap().join("\n");
    let chance = door.chance_numbers(&[&receiver]);
    let (stored, logs, judged) = door.close().await;
    for (sink, text) in [("webhooks and Slack", &sent_out), ("the live feed", &live)] {
        assert!(text.contains("The answer repeats"), "positive control: the judge's quotes reached {sink}");
        assert!(text.contains("[NAME_"), "positive control: pseudonyms reached {sink}");
    }

    // What the recognizers (both passes) leave visible, text by text.
    let scanner = aegis_core::phi::Scanner::default();
    let visible: String = corpus
        .iter()
        .map(|t| {
            let spans = scanner.scan_both_passes(&t.text, &[]);
            let mut out = String::new();
            let mut at = 0;
            for s in &spans {
                if s.start < at {
                    continue;
                }
                out.push_str(&t.text[at..s.start]);
                out.push_str(" [X] ");
                at = s.end;
            }
            out.push_str(&t.text[at..]);
            out + "\n"
        })
        .collect();
    let mut labelled = std::collections::BTreeSet::new();
    for t in &corpus {
        let chars: Vec<char> = t.text.chars().collect();
        for s in &t.spans {
            let value: String = chars[s.start..s.end].iter().collect();
            // Short values ("Al", "12") turn up by chance in other words and numbers.
            if value.chars().filter(|c| c.is_alphanumeric()).count() >= 5 && !chance.contains(&value) {
                labelled.insert(value);
            }
        }
    }
    let mut leaked = 0;
    for value in &labelled {
        for (sink, text) in [
            ("the database", &stored),
            ("the logs", &logs),
            ("the LLM judge", &judged),
            ("webhooks and Slack", &sent_out),
            ("the live feed", &live),
        ] {
            if contains_word(text, value) {
                leaked += usize::from(sink == "the database");
                assert!(
                    contains_word(&visible, value),
                    "{value:?} reached {sink}, though the recognizers replace it wherever it appears"
                );
            }
        }
    }
    eprintln!("{leaked} of {} labelled identifiers are stored in clear: recognizer misses", labelled.len());
    assert!(labelled.len() > 1000, "{}", labelled.len());
}

/// Everything the live feed sends to a subscriber, from now on.
async fn live_feed(base: &str, key: &str) -> Captured {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut request = format!("{}/ws/traces", base.replacen("http", "ws", 1)).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let seen = Captured::default();
    let record = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Ok(text) = message.into_text() {
                record.lock().unwrap().push(text.to_string());
            }
        }
    });
    seen
}
