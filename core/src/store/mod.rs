//! Storage: one schema, two backends.
//!
//! SQLite (a file, WAL) is the embedded default; PostgreSQL is the production store that lets
//! several API nodes and workers share one database. Queries go through sqlx's `Any` driver and
//! are written once in the SQL both dialects accept (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING`, `UPDATE ... FROM`); the few places that differ branch on [`Backend`].
//! Timestamps are stored as microseconds since the Unix epoch (UTC), identifiers as text.

mod alerts;
mod evaluations;
mod jobs;
mod models;
mod modules;
mod orgs;
mod outbox;
mod owned;
mod phi;
mod reviews;
mod rollups;
mod traces;
mod transfer;
mod user_links;
mod users;
mod webhooks;
mod write_turn;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest as _, Sha256};
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use alerts::{EndedGroup, GroupHit, NewAlertRule};
pub use evaluations::{EvaluationLookup, Recorded};
pub use jobs::ClaimedJob;
pub use models::NewModel;
pub use orgs::{ApiKey, ApiKeyRole, NewApiKey, Organization, Principal};
pub use outbox::{AttemptRecord, ClaimedMessage, NewMessage, Subscription};
pub use phi::{parse_put_in, put_in_json, AuditEntry, PutIn, StoredText, VaultEntry};
pub use reviews::NewReview;
pub use traces::{InsertOutcome, ListQuery, NewTrace};
pub use user_links::{NewLink, PendingLink, INVITE_TTL, RESET_TTL};
pub use users::{SessionUser, SignIn, User, SIGN_IN_FAILURES, SIGN_IN_FAILURES_PER_CLIENT, SIGN_IN_WINDOW};
pub use webhooks::{EndpointTarget, EndpointUpdate, ROTATION_OVERLAP};

use crate::{Error, Result};
use write_turn::{Priority, Turn, WriteTurn};

/// Rows per multi-row statement: 500 rows of up to 17 parameters stay under SQLite's and
/// Postgres' limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Config(format!("unsupported database url {url:?}")))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's writers take turns here first (see [`write_turn`]).
    write_turn: Arc<WriteTurn>,
}

/// A write transaction; on SQLite it also holds this process's write turn. Steps that write
/// several things at once (recording evaluations with what they cause) hold one and pass it
/// to the store's `..._in`-style methods; dropping it uncommitted rolls everything back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: Option<Turn>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Store {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options =
            AnyPoolOptions::new().max_connections(max_connections.max(2)).acquire_timeout(Duration::from_secs(10));
        let options = match backend {
            // WAL lets readers run beside the writer; `synchronous = FULL` makes every commit
            // durable before we acknowledge it (group commit keeps that affordable). The busy
            // timeout lets `aegis worker` processes share the file with `aegis serve`.
            Backend::Sqlite => options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                         PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824; \
                         PRAGMA temp_store = MEMORY;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url_creating_folder(url)?,
            Backend::Postgres => url.to_string(),
        };
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| Error::Connect { url: redacted_url(&url), message: one_line(&e) })?;
        Ok(Store { pool, backend, write_turn: Arc::default() })
    }

    /// Brings the schema up to date. Safe to run from several processes at once.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        self.backfill_rollups().await
    }

    /// A digest of the Postgres migrations: equal for two builds with the same schema. Tests
    /// name their migrated template database by it.
    pub fn postgres_schema_digest() -> String {
        let mut digest = Sha256::new();
        for m in POSTGRES_MIGRATIONS.iter() {
            digest.update(m.version.to_le_bytes());
            digest.update(&m.checksum);
        }
        hex::encode(digest.finalize())[..16].to_string()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction that will write. On SQLite it waits for this process's turn (ingest
    /// first), then takes the database's write lock up front, so that writers of other
    /// processes queue on the busy timeout instead of failing on a lock upgrade.
    pub(crate) async fn begin_write_as(&self, priority: Priority) -> Result<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.acquire(priority).await;
                WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) }
            }
            Backend::Postgres => WriteTx { tx: self.pool.begin().await?, _turn: None },
        })
    }

    /// A write transaction for background work (see [`write_turn`] for who goes first).
    pub async fn begin_write(&self) -> Result<WriteTx> {
        self.begin_write_as(Priority::Background).await
    }

    /// Tells every process listening on `channel` (Postgres `LISTEN`) each of the payloads
    /// when, and only if, `tx` commits. SQLite has no other process to tell: the payloads are
    /// not even made.
    pub async fn notify_on_commit(
        &self,
        tx: &mut WriteTx,
        channel: &str,
        payloads: impl FnOnce() -> Vec<String>,
    ) -> Result<()> {
        if self.backend == Backend::Postgres {
            for payload in payloads() {
                sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }
}

/// A SQLite URL that creates its file, as the embedded default does: `sqlite://data/aegis.db`
/// must work on a fresh machine, where neither the file nor its folder exists yet.
fn sqlite_url_creating_folder(url: &str) -> Result<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    if !in_memory {
        if let Some(folder) = std::path::Path::new(path).parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| {
                Error::Config(format!("cannot create the folder {} for the SQLite database: {e}", folder.display()))
            })?;
        }
    }
    Ok(if query.contains("mode=") || in_memory {
        url.to_string()
    } else if query.is_empty() {
        format!("{url}?mode=rwc")
    } else {
        format!("{url}&mode=rwc")
    })
}

/// `postgres://aegis:s3cret@db/aegis` as `postgres://aegis:***@db/aegis`: for errors and logs.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    let query = tail.map(|t| format!("/{}", redact_query_password(t))).unwrap_or_default();
    format!("{scheme}://{authority}{query}")
}

/// `db?password=x&sslmode=require` → `db?password=***&sslmode=require`.
fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else { return tail.to_string() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// A driver error without the repeats some of its layers add ("error returned from database:
/// error returned from database: ...").
fn one_line(e: &sqlx::Error) -> String {
    let text = e.to_string().replace('\n', " ");
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// A value to bind to a dynamically built query.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    params: &'q [Param],
) -> Query<'q, Any, AnyArguments<'q>> {
    for p in params {
        query = match p {
            Param::Text(s) => query.bind(s.as_str()),
            Param::Int(i) => query.bind(*i),
        };
    }
    query
}

impl Store {
    /// The `n`th placeholder, for statements that also take [`Store::values_list`].
    pub(crate) fn placeholder(&self, n: usize) -> String {
        match self.backend {
            Backend::Sqlite => "?".into(),
            Backend::Postgres => format!("${n}"),
        }
    }

    /// Placeholders for `rows` rows of `cols` values: `($1, $2), ($3, $4)` numbering from
    /// `$first` on Postgres, and anonymous `(?, ?), (?, ?)` on SQLite, whose lookup of numbered
    /// parameters is linear per parameter and so quadratic over a large multi-row statement.
    /// A statement must take all its parameters from here, or none.
    pub(crate) fn values_list(&self, rows: usize, cols: usize, first: usize) -> String {
        self.values_list_cast(rows, cols, first, &[])
    }

    /// [`Store::values_list`] with some columns' placeholders wrapped in `CAST(… AS type)`:
    /// `casts` pairs a 0-based column with its SQL type.
    pub(crate) fn values_list_cast(&self, rows: usize, cols: usize, first: usize, casts: &[(usize, &str)]) -> String {
        let mut sql = String::with_capacity(rows * cols * 5);
        let mut n = first;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..cols {
                if c > 0 {
                    sql.push_str(", ");
                }
                let cast = casts.iter().find(|(col, _)| *col == c).map(|(_, ty)| *ty);
                if cast.is_some() {
                    sql.push_str("CAST(");
                }
                match self.backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    }
                }
                if let Some(ty) = cast {
                    sql.push_str(" AS ");
                    sql.push_str(ty);
                    sql.push(')');
                }
                n += 1;
            }
            sql.push(')');
        }
        sql
    }
}

/// Microseconds since the epoch: the one time representation in the database.
pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us).single().unwrap_or_default()
}

pub fn now_micros() -> i64 {
    to_micros(Utc::now())
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Internal(format!("corrupt {what} row: {detail}"))
}

#[cfg(test)]
mod helper_tests {
    use super::*;

    #[tokio::test]
    async fn placeholders_suit_the_backend() {
        let sqlite = crate::testing::TestDb::sqlite().await;
        assert_eq!(sqlite.store.values_list(2, 2, 1), "(?, ?), (?, ?)");
        let postgres = Store { backend: Backend::Postgres, ..sqlite.store.clone() };
        assert_eq!(postgres.values_list(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(postgres.values_list(1, 2, 5), "($5, $6)");
        assert_eq!(postgres.values_list_cast(1, 2, 1, &[(1, "REAL")]), "($1, CAST($2 AS REAL))");
        assert_eq!(sqlite.store.values_list_cast(1, 2, 1, &[(0, "REAL")]), "(CAST(? AS REAL), ?)");
    }

    #[test]
    fn micros_round_trip() {
        let t = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        assert_eq!(from_micros(to_micros(t)), t);
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(redacted_url("postgres://aegis:s3cret@db:5432/aegis"), "postgres://aegis:***@db:5432/aegis");
        assert_eq!(
            redacted_url("postgres://db/aegis?sslmode=require&password=s3cret"),
            "postgres://db/aegis?sslmode=require&password=***"
        );
        assert_eq!(redacted_url("postgres://aegis@db/aegis"), "postgres://aegis@db/aegis");
        assert_eq!(redacted_url("sqlite://data/aegis.db"), "sqlite://data/aegis.db");
    }

    #[test]
    fn sqlite_files_are_created_with_their_folder() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/a/b/aegis.db", dir.path().display());
        assert_eq!(sqlite_url_creating_folder(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.path().join("a/b").is_dir());
        assert_eq!(sqlite_url_creating_folder(&format!("{url}?mode=ro")).unwrap(), format!("{url}?mode=ro"));
        assert_eq!(sqlite_url_creating_folder("sqlite::memory:").unwrap(), "sqlite::memory:");
    }
}
