//! Real databases for tests: a fresh SQLite file, or a fresh schema in the PostgreSQL server
//! named by `AEGIS_TEST_POSTGRES_URL` (default: the local server's `test` database).
//! Both backends are always tested; a missing Postgres is a test failure, not a skip.

pub mod receivers;

/// Runs each named `async fn(Backend)` of the calling module as a test on SQLite and on
/// PostgreSQL (the module must have `Backend` in scope).
#[cfg(test)]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await })*
        }
    };
}
#[cfg(test)]
pub(crate) use on_both_backends;

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor};

use crate::store::{Backend, Store};

/// The Postgres server tests use.
pub fn postgres_url() -> String {
    std::env::var("AEGIS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A migrated store that disappears with this value.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    /// Records finished evaluations as a worker does: results, webhooks, alerts, live events.
    pub async fn record(
        &self,
        done: &[(crate::store::ClaimedJob, crate::model::Evaluation)],
    ) -> crate::Result<Vec<(crate::model::OrgId, crate::model::LiveEvent)>> {
        crate::pipeline::record(&self.store, &test_links(), done).await
    }

    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("aegis.db").display());
        let store = Store::connect(&url, 8).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        TestDb { store, url, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A database of its own, cloned from a migrated template: `CREATE DATABASE ... TEMPLATE`
    /// copies files instead of running every migration again for every test.
    pub async fn postgres() -> TestDb {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url = postgres_url();
        let template = migrated_template(&admin_url).await;
        let name = format!(
            "aegis_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = admin_connection(&admin_url).await;
        admin
            .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
            .await
            .expect("clone the template");
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url, 8).await.expect("open postgres");
        TestDb { store, url, cleanup: Cleanup::Postgres { admin_url, database: name } }
    }
}

async fn admin_connection(admin_url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is required for the tests: {e}"))
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// The name of a database migrated to this build's schema, made once per schema by whichever
/// test process gets there first (an advisory lock keeps the others waiting), and renamed into
/// place only when complete, so that a crash mid-way leaves nothing half-migrated to clone.
async fn migrated_template(admin_url: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("aegis_template_{}", Store::postgres_schema_digest());
            let mut admin = admin_connection(admin_url).await;
            admin.execute("SELECT pg_advisory_lock(72657301)").await.expect("lock");
            let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut admin)
                .await
                .expect("look up the template")
                .is_some();
            if !exists {
                let building = format!("{name}_building");
                admin.execute(format!("DROP DATABASE IF EXISTS {building}").as_str()).await.expect("drop");
                admin.execute(format!("CREATE DATABASE {building}").as_str()).await.expect("create the template");
                let store = Store::connect(&with_database(admin_url, &building), 2).await.expect("open the template");
                store.migrate().await.expect("migrate the template");
                store.close().await;
                // The closed pool's server processes may linger a moment, and a database in use
                // cannot be renamed.
                let rename = format!("ALTER DATABASE {building} RENAME TO {name}");
                for attempt in 0.. {
                    match admin.execute(rename.as_str()).await {
                        Ok(_) => break,
                        Err(e) if attempt < 100 => {
                            tracing::debug!(error = %e, "template still in use");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        }
                        Err(e) => panic!("rename the template: {e}"),
                    }
                }
            }
            admin.execute("SELECT pg_advisory_unlock(72657301)").await.expect("unlock");
            name
        })
        .await
        .clone()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, database } = &self.cleanup {
            let (admin_url, database) = (admin_url.clone(), database.clone());
            // Drop runs inside the test's runtime, which cannot be blocked on: use a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut admin = sqlx::AnyConnection::connect(&admin_url).await.ok()?;
                    // The test's own pool may still hold connections: FORCE ends them.
                    admin.execute(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)").as_str()).await.ok()
                })
            })
            .join();
        }
    }
}

/// A stored trace with this input and answer, in `domain` (none if empty).
pub fn trace(domain: &str, input: &str, output: &str) -> crate::model::Trace {
    use crate::model::{AiProcessing, Trace, TraceStatus};
    let now = chrono::Utc::now();
    let mut metadata = std::collections::BTreeMap::new();
    if !domain.is_empty() {
        metadata.insert("domain".to_string(), domain.to_string());
    }
    Trace {
        trace_id: uuid::Uuid::now_v7(),
        application_id: "test-app".into(),
        ai_processing: AiProcessing {
            model: "test-model".into(),
            input: input.into(),
            output: output.into(),
            prompt_tokens: Some(12),
            completion_tokens: Some(20),
            latency_ms: Some(800.0),
        },
        steps: vec![],
        metadata,
        timestamp: now,
        received_at: now,
        status: TraceStatus::Queued,
        severity: None,
    }
}

/// A trading trace: `metadata` pairs, and steps of `(input, output, reward)`.
pub fn trace_with_steps(
    metadata: &[(&str, &str)],
    steps: Vec<(serde_json::Value, serde_json::Value, Option<f64>)>,
) -> crate::model::Trace {
    let mut t = trace("trading", "Trade the session.", "Done.");
    t.metadata.extend(metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    t.steps = steps
        .into_iter()
        .map(|(input, output, reward)| crate::model::Step {
            kind: "action".into(),
            name: Some("order".into()),
            input: Some(input),
            output: Some(output),
            reward,
            started_at: None,
            ended_at: None,
        })
        .collect();
    t
}

/// Copies a domain pack's files from `from` to `to`, without its evaluation sets: a pack as an
/// installation would hold it, for tests that break one part of it.
pub fn copy_pack(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let (path, target) = (entry.path(), to.join(entry.file_name()));
        if path.is_dir() {
            if entry.file_name() != "eval" {
                copy_pack(&path, &target);
            }
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Where links point in tests: `aegis serve`'s default address.
pub fn test_links() -> crate::sinks::Links {
    crate::sinks::Links::new("http://127.0.0.1:3000")
}
