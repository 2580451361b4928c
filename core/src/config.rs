//! Aegis configuration: one typed struct, read from defaults, then an optional TOML file
//! (`aegis.toml` in the working directory, or the path in `AEGIS_CONFIG`), then the environment.
//!
//! Environment variables are `AEGIS_` + the field name, with `__` between nested names
//! (`AEGIS_WORKER__CONCURRENCY=4`). `DATABASE_URL` is read without the prefix, as everywhere.

use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://...` or `postgres://...`. Unset: a SQLite file `aegis.db` in `data_dir`.
    pub database_url: Option<String>,
    /// Where the embedded database and generated keys live.
    pub data_dir: PathBuf,
    /// Address `aegis serve` listens on.
    pub addr: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Connections in the database pool.
    pub db_max_connections: u32,
    /// The PHI vault's master key, 32 bytes in base64 or hex (`AEGIS_VAULT_KEY`). Every node of
    /// one installation needs the same. Unset: a key file, generated on first start.
    pub vault_key: Option<Secret>,
    /// Where the generated vault key lives when `vault_key` is unset [default: data_dir/vault.key].
    pub vault_key_file: Option<PathBuf>,
    /// Folder of domain packs, one subfolder per pack with its `domain.yaml`.
    pub domains_dir: PathBuf,
    /// How often running processes look for edited packs and reload them; 0 turns it off.
    pub domains_reload_secs: u64,
    pub ingest: IngestConfig,
    pub worker: WorkerConfig,
}

/// A configuration value that must never be printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// Most traces committed together in one group-commit transaction.
    pub max_group_commit: usize,
    /// Concurrent group-commit writers. SQLite has one writer whatever this says.
    pub writers: usize,
    /// Submissions waiting for a writer before callers are made to wait (backpressure).
    pub queue_capacity: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerConfig {
    /// Worker loops per process.
    pub concurrency: usize,
    /// Jobs claimed per round trip.
    pub claim_batch: usize,
    /// How long a claimed job belongs to its worker before another may take it over.
    pub lease_secs: u64,
    /// Attempts before a job is given up and recorded as an `error` evaluation.
    pub max_attempts: u32,
    /// How often an idle worker looks for jobs written by other processes.
    pub poll_interval_ms: u64,
    /// How long a worker lets jobs accumulate before claiming a partial batch: a little
    /// evaluation latency buys far fewer, larger write transactions.
    pub batch_linger_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: None,
            data_dir: PathBuf::from("data"),
            addr: "127.0.0.1:3000".into(),
            max_body_bytes: 10 * 1024 * 1024,
            db_max_connections: 16,
            vault_key: None,
            vault_key_file: None,
            domains_dir: PathBuf::from("domains"),
            domains_reload_secs: 2,
            ingest: IngestConfig::default(),
            worker: WorkerConfig::default(),
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { max_group_commit: 2_000, writers: 4, queue_capacity: 10_000 }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            claim_batch: 256,
            lease_secs: 60,
            max_attempts: 5,
            poll_interval_ms: 250,
            batch_linger_ms: 20,
        }
    }
}

impl Config {
    /// Reads the configuration from `aegis.toml` (or `$AEGIS_CONFIG`) and the environment.
    pub fn load() -> Result<Config> {
        let file = std::env::var("AEGIS_CONFIG").unwrap_or_else(|_| "aegis.toml".into());
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("AEGIS_").split("__").ignore(&["config"]))
            .merge(Env::raw().only(&["database_url"]))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        if let Some(url) = &self.database_url {
            if !(url.starts_with("sqlite:") || url.starts_with("postgres:") || url.starts_with("postgresql:")) {
                return Err(Error::Config(format!(
                    "DATABASE_URL must start with sqlite: or postgres:, got {:?}",
                    url.split(':').next().unwrap_or_default()
                )));
            }
        }
        if self.worker.claim_batch == 0 || self.ingest.max_group_commit == 0 {
            return Err(Error::Config("batch sizes must be at least 1".into()));
        }
        Ok(())
    }

    pub fn vault_key_path(&self) -> PathBuf {
        self.vault_key_file.clone().unwrap_or_else(|| crate::phi::vault::default_key_path(&self.data_dir))
    }

    /// The database to use: `database_url`, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("aegis.db").display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_is_the_embedded_file() {
        let c = Config::default();
        assert_eq!(c.database_url(), "sqlite://data/aegis.db?mode=rwc");
    }

    #[test]
    #[allow(clippy::result_large_err)] // the closure's error type is figment's, not ours
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("aegis.toml", "addr = \"0.0.0.0:8080\"\n[worker]\nconcurrency = 8\nlease_secs = 30\n")?;
            jail.set_env("AEGIS_WORKER__LEASE_SECS", "7");
            jail.set_env("DATABASE_URL", "postgres://db/aegis");
            let c = Config::load().map_err(|e| e.to_string())?;
            assert_eq!(c.addr, "0.0.0.0:8080");
            assert_eq!(c.worker.concurrency, 8);
            assert_eq!(c.worker.lease_secs, 7, "the environment wins over the file");
            assert_eq!(c.database_url(), "postgres://db/aegis");
            assert_eq!(c.max_body_bytes, 10 * 1024 * 1024, "defaults fill the rest");
            jail.set_env("AEGIS_WORKER__LEASE_SECS", "soon");
            assert!(matches!(Config::load(), Err(Error::Config(_))));
            Ok(())
        });
    }

    #[test]
    fn rejects_unknown_database_schemes() {
        let c = Config { database_url: Some("mysql://x".into()), ..Config::default() };
        assert!(matches!(c.check(), Err(Error::Config(m)) if m.contains("mysql")));
    }
}
