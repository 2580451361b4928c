//! An in-process Aegis on a real database, driven through its router.

use std::sync::Arc;

use aegis_core::config::Config;
use aegis_core::domains::rules::CustomValidators;
use aegis_core::domains::Domains;
use aegis_core::ingest::Ingestor;
use aegis_core::limits::{Limits, RateLimiter};
use aegis_core::live::LiveFeed;
use aegis_core::model::OrgId;
use aegis_core::phi::vault::VaultKey;
use aegis_core::phi::PhiService;
use aegis_core::pipeline::Worker;
use aegis_core::store::ApiKeyRole;
use aegis_core::store::{Backend, Store};
use aegis_core::testing::TestDb;
use aegis_core::tiers::Cascade;
use aegis_server::api::auth::ApiKeyCache;
use aegis_server::state::AppState;
use aegis_server::telemetry::Telemetry;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::Notify;
use tower::ServiceExt;

/// The vault key of in-process test apps.
pub const TEST_VAULT_KEY: [u8; 32] = [42; 32];

/// The same key, as `AEGIS_VAULT_KEY` for spawned processes.
pub fn test_vault_key_hex() -> String {
    TEST_VAULT_KEY.iter().map(|b| format!("{b:02x}")).collect()
}

/// Requests larger than this are refused in tests, to exercise the limit cheaply.
pub const TEST_BODY_LIMIT: usize = 256 * 1024;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(aegis_core::store::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(aegis_core::store::Backend::Postgres).await })*
        }
    };
}
pub(crate) use on_both_backends;

pub struct TestApp {
    pub router: Router,
    /// What the router serves, to build another node's router from.
    pub state: AppState,
    pub store: Store,
    pub org: OrgId,
    pub key: String,
    pub telemetry: Arc<Telemetry>,
    /// The shipped domain packs.
    pub domains: Domains,
    /// What `/ws/traces` subscribers receive.
    pub live: LiveFeed,
    pub limits: Limits,
    /// Keeps the database alive (and drops its Postgres schema) as long as the app.
    _db: TestDb,
    /// Dropping a JoinSet aborts its tasks: the writers live as long as the app.
    _writers: tokio::task::JoinSet<()>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The session a sign-in started, as a `Cookie` header value.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("aegis_session=") && !v.starts_with("aegis_session=;"))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        TestApp::new_with(backend, |_| {}).await
    }

    /// An app whose configuration `tweak` adjusts first.
    pub async fn new_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::new(backend).await;
        let store = db.store.clone();
        let domains_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../domains");
        // Unoptimized builds on a busy two-core machine take minutes to train a model inside one
        // request; the production timeout is tested on its own (`rate_limits`).
        let mut config = Config {
            max_body_bytes: TEST_BODY_LIMIT,
            domains_dir: Some(domains_dir),
            request_timeout_ms: 15 * 60 * 1000,
            ..Config::default()
        };
        tweak(&mut config);
        let config = Arc::new(config);
        let domains = Domains::open(&config.packs_folder(), CustomValidators::default()).unwrap();
        let telemetry = Arc::new(Telemetry::new());
        let phi = PhiService::new(store.clone(), VaultKey::from_bytes(TEST_VAULT_KEY)).await.unwrap();
        let (ingestor, writers) = Ingestor::start(
            store.clone(),
            phi.clone(),
            &config.ingest,
            telemetry.core.clone(),
            Arc::new(Notify::new()),
        );
        let org = store.create_organization("Acme Health").await.unwrap().id;
        let key = store.create_api_key(&org, "tests", ApiKeyRole::Admin, "tests").await.unwrap().plaintext;
        let limits = Limits::new(config.limits.clone(), RateLimiter::default());
        let live = LiveFeed::new(backend);
        if backend == Backend::Postgres {
            live.listen_postgres(&db.url, tokio_util::sync::CancellationToken::new()).await.unwrap();
        }
        let state = AppState {
            store: store.clone(),
            ingestor,
            phi,
            domains: domains.clone(),
            config,
            telemetry: telemetry.clone(),
            live: live.clone(),
            limits: limits.clone(),
            api_keys: ApiKeyCache::default(),
            leptos_options: aegis_server::web::leptos_options().unwrap(),
        };
        TestApp {
            router: aegis_server::web::app(state.clone()),
            state,
            store,
            org,
            key,
            telemetry,
            domains,
            live,
            limits,
            _db: db,
            _writers: writers,
        }
    }

    /// Another node of the same installation, with its own rate limiter.
    pub fn node_with(&self, limits: Limits) -> Router {
        aegis_server::web::app(AppState { limits, api_keys: ApiKeyCache::default(), ..self.state.clone() })
    }

    /// Sends `request` to `router` (another node).
    pub async fn send_to(&self, router: &Router, request: Request<Body>) -> Reply {
        let response = router.clone().oneshot(request).await.unwrap();
        reply(response).await
    }

    /// A key of `role` for this app's organization.
    pub async fn key(&self, role: ApiKeyRole) -> String {
        self.store.create_api_key(&self.org, "tests", role, "tests").await.unwrap().plaintext
    }

    /// A dashboard user of this app's organization, signed in: the user and their session, as a
    /// `Cookie` header value.
    pub async fn signed_in(&self, email: &str, role: aegis_core::access::Role) -> (aegis_core::store::User, String) {
        let user = self.store.create_user(&self.org, email, "a long password", role, "tests").await.unwrap();
        let token = self.store.create_session(user.id, std::time::Duration::from_secs(3600)).await.unwrap();
        (user, format!("aegis_session={token}"))
    }

    /// Calls a dashboard server function as a browser form does, with a session if given.
    pub async fn server_fn(&self, path: &str, cookie: Option<&str>, form: &str) -> Reply {
        use axum::http::header;
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(form.to_string())).unwrap()).await
    }

    /// A second organization with its own key.
    pub async fn other_org(&self) -> (OrgId, String) {
        let org = self.store.create_organization("Other Bank").await.unwrap().id;
        let key = self.store.create_api_key(&org, "tests", ApiKeyRole::Admin, "tests").await.unwrap().plaintext;
        (org, key)
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        reply(self.router.clone().oneshot(request).await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.post_as(&self.key.clone(), path, body).await
    }

    pub async fn post_as(&self, key: &str, path: &str, body: &str) -> Reply {
        let request = Request::post(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// A request with a JSON body and this app's admin key.
    pub async fn send_json(&self, method: &str, path: &str, body: &str) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(&self.key.clone(), path).await
    }

    pub async fn get_as(&self, key: &str, path: &str) -> Reply {
        self.send(Request::get(path).header("authorization", format!("Bearer {key}")).body(Body::empty()).unwrap())
            .await
    }

    /// Runs the evaluation workers' code over every queued job, synchronously.
    /// The database this app serves, for an `aegis` process to open too.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    pub async fn evaluate_all(&self) {
        let worker = Worker {
            name: "test".into(),
            store: self.store.clone(),
            cascade: Arc::new(Cascade::new(self.domains.clone())),
            config: Default::default(),
            judge_budget_micro_usd: 0,
            concurrency: 4,
            metrics: self.telemetry.core.clone(),
            work_available: Arc::new(Notify::new()),
            live: self.live.clone(),
            limits: self.limits.clone(),
            deliveries_ready: Arc::new(Notify::new()),
            models: Default::default(),
            links: aegis_core::testing::test_links(),
        };
        loop {
            let jobs = self.store.claim_jobs("test", 500, std::time::Duration::from_secs(60)).await.unwrap();
            if jobs.is_empty() {
                break;
            }
            worker.process(jobs).await;
        }
    }
}

async fn reply(response: axum::response::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).to_string();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

/// A valid trace body, optionally with a fixed id.
/// An answer every tier passes: within the labeled maximum, with a pointer to a clinician.
/// (A bare "4 g" goes to review: Tier 2, trained on real wording, is unsure of it.)
pub const SAFE_ANSWER: &str = "Up to 4 g a day for adults; ask your doctor or pharmacist first.";

pub fn trace_json(id: Option<&str>, output: &str) -> String {
    let id = id.map(|id| format!(r#""trace_id": "{id}","#)).unwrap_or_default();
    format!(
        r#"{{{id} "application_id": "triage-bot",
            "ai_processing": {{"model": "gpt-4o", "input": "Max daily dose of acetaminophen?", "output": "{output}",
                               "prompt_tokens": 12, "completion_tokens": 9, "latency_ms": 840.5}},
            "steps": [{{"kind": "retrieval", "name": "formulary", "input": {{"q": "acetaminophen"}}, "output": ["doc1"],
                        "started_at": "2026-11-26T10:00:00Z", "ended_at": "2026-11-26T10:00:00.120Z"}}],
            "metadata": {{"domain": "healthcare", "specialty": "primary_care"}},
            "timestamp": "2026-11-26T10:00:00Z"}}"#
    )
}

/// An HTTP client for talking to `aegis` processes the tests start.
/// The `aegis` binary as a separate process on `url`, started in `dir` (or this crate's folder).
pub fn spawn_aegis(
    url: &str,
    args: &[&str],
    dir: Option<&std::path::Path>,
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_aegis"));
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env("AEGIS_LOG", "warn")
        .env("AEGIS_VAULT_KEY", test_vault_key_hex())
        .env_remove("AEGIS_DOMAINS_DIR")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn aegis")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn get_text(client: &reqwest::Client, url: &str) -> Option<String> {
    client.get(url).send().await.ok()?.text().await.ok()
}

/// Waits until `url` answers, for at most 30 s.
pub async fn wait_for(client: &reqwest::Client, url: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while get_text(client, url).await.is_none() {
        assert!(std::time::Instant::now() < deadline, "{url} did not come up");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub fn http_client() -> reqwest::Client {
    // As in the binary: reqwest has no crypto provider of its own here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap()
}

/// A clinical question and answer as a trace body for the healthcare pack.
pub fn clinical(input: &str, output: &str) -> String {
    serde_json::json!({
        "application_id": "triage-bot",
        "ai_processing": {"model": "gpt-4o", "input": input, "output": output},
        "metadata": {"domain": "healthcare"}
    })
    .to_string()
}
