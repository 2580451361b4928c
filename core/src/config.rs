//! Aegis configuration: one typed struct, read from defaults, then an optional TOML file
//! (`aegis.toml` in the working directory, or the path in `AEGIS_CONFIG`), then the environment.
//!
//! Environment variables are `AEGIS_` + the field name, with `__` between nested names
//! (`AEGIS_WORKER__CONCURRENCY=4`). `DATABASE_URL` is read without the prefix, as everywhere.

use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::domains::rules::CustomValidators;
use crate::domains::Domains;
pub use crate::ingest::config::IngestConfig;
pub use crate::pipeline::config::WorkerConfig;
pub use crate::secret::Secret;
pub use crate::sinks::config::SinksConfig;
pub use crate::sinks::email::config::{SmtpConfig, SmtpTls};
pub use crate::tiers::judge::config::{JudgeConfig, Provider};
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
    /// Requests one node serves at once; more are answered 503 with `Retry-After` at once
    /// rather than queued without end.
    pub max_concurrent_requests: usize,
    /// Longest a request may take before it is answered 503 with `Retry-After`, in milliseconds.
    pub request_timeout_ms: u64,
    /// Behind a load balancer, the header it puts the client's address in (`x-forwarded-for`):
    /// its last address is the client's. Unset: the connection's peer address. Sign-in
    /// throttling counts per client address, so behind a proxy this must be set.
    pub client_address_header: Option<String>,
    /// The PHI vault's master key, 32 bytes in base64 or hex (`AEGIS_VAULT_KEY`). Every node of
    /// one installation needs the same. Unset: a key file, generated on first start.
    pub vault_key: Option<Secret>,
    /// Where the generated vault key lives when `vault_key` is unset [default: data_dir/vault.key].
    pub vault_key_file: Option<PathBuf>,
    /// Folder of domain packs, one subfolder per pack with its `domain.yaml`. Set, it must
    /// exist and hold a pack; unset, `./domains` is read when there is one. Its packs replace
    /// built-in ones of the same name.
    pub domains_dir: Option<PathBuf>,
    /// Whether the packs compiled into the binary (healthcare, trading) are loaded.
    pub builtin_packs: bool,
    /// How often running processes look for edited packs and reload them; 0 turns it off.
    pub domains_reload_secs: u64,
    /// Whether owners, admins and admin keys may add packs for their organization (each
    /// uploaded pack runs for, and is listed to, its organization alone). Unset: allowed while
    /// the installation holds one organization, refused once it holds more (a multi-tenant
    /// install turns uploads on deliberately, knowing a pack's generation costs it CPU).
    pub allow_pack_uploads: Option<bool>,
    pub ingest: IngestConfig,
    pub worker: WorkerConfig,
    /// Tier 3, the LLM judge.
    pub judge: JudgeConfig,
    /// Rate limits per organization and plan.
    pub limits: crate::limits::LimitsConfig,
    /// The dashboard's address as users reach it, for links in alerts and webhooks.
    pub public_url: String,
    /// Webhooks and alert channels.
    pub sinks: SinksConfig,
    /// A domain's Tier 2 model is retrained once an organization has this many new expert
    /// reviews of it (0: only on demand).
    pub retrain_after_reviews: u64,
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
            domains_dir: None,
            builtin_packs: true,
            domains_reload_secs: 2,
            allow_pack_uploads: None,
            ingest: IngestConfig::default(),
            worker: WorkerConfig::default(),
            judge: JudgeConfig::default(),
            limits: crate::limits::LimitsConfig::default(),
            max_concurrent_requests: 4_096,
            request_timeout_ms: 120_000,
            client_address_header: None,
            public_url: "http://127.0.0.1:3000".into(),
            sinks: SinksConfig::default(),
            retrain_after_reviews: 500,
        }
    }
}

impl Config {
    /// Reads the configuration from `aegis.toml` (or `$AEGIS_CONFIG`) and the environment.
    pub fn load() -> Result<Config> {
        let file = std::env::var("AEGIS_CONFIG").unwrap_or_else(|_| "aegis.toml".into());
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("AEGIS_").split("__").ignore(&["config", "webhook_allow_private"]))
            .merge(Env::raw().only(&["database_url"]))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        // Like DATABASE_URL, the shared cache is named the usual way.
        if config.limits.redis_url.is_none() {
            config.limits.redis_url = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
        }
        // The documented switch for private webhook targets, read like a shell flag.
        if let Ok(v) = std::env::var("AEGIS_WEBHOOK_ALLOW_PRIVATE") {
            config.sinks.allow_private = matches!(v.trim(), "1" | "true" | "yes" | "on");
        }
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
        if !self.limits.plans.contains_key(&self.limits.default_plan) {
            return Err(Error::Config(format!(
                "limits.default_plan {:?} is not one of the plans ({})",
                self.limits.default_plan,
                self.limits.plans.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        if self.sinks.claim_batch == 0 || self.sinks.first_retry_ms == 0 {
            return Err(Error::Config("sinks.claim_batch and sinks.first_retry_ms must be at least 1".into()));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(Error::Config(format!("public_url must be an http(s) address, got {:?}", self.public_url)));
        }
        if self.max_concurrent_requests == 0 || self.request_timeout_ms == 0 {
            return Err(Error::Config("max_concurrent_requests and request_timeout_ms must be at least 1".into()));
        }
        if self.worker.claim_batch == 0 || self.ingest.max_group_commit == 0 {
            return Err(Error::Config("batch sizes must be at least 1".into()));
        }
        Ok(())
    }

    /// The folder of domain packs: the configured one, or `./domains`.
    /// The packs a process evaluates with, as configured: the built-in packs (unless
    /// `builtin_packs` is off) and those of the packs folder. A folder that was configured
    /// (`AEGIS_DOMAINS_DIR`) must exist and hold a pack, and some pack must be loaded: a
    /// process that would evaluate every trace without its pack refuses to start instead.
    pub fn open_domains(&self, custom: CustomValidators) -> Result<Domains> {
        let root = self.packs_folder();
        if let Some(dir) = &self.domains_dir {
            if !dir.is_dir() {
                return Err(Error::Config(format!(
                    "AEGIS_DOMAINS_DIR {} is not a folder; unset it to use the built-in packs",
                    dir.display()
                )));
            }
        }
        let domains = Domains::open_with(&root, self.builtin_packs, custom)?;
        let set = domains.current();
        let from_folder = set.domains().iter().filter(|d| d.dir.folder().is_some()).count();
        if self.domains_dir.is_some() && from_folder == 0 {
            return Err(Error::Config(format!(
                "AEGIS_DOMAINS_DIR {} holds no domain pack (a folder with a domain.yaml)",
                root.display()
            )));
        }
        if set.domains().is_empty() {
            return Err(Error::Config(format!(
                "no domain pack is loaded: {} holds none and the built-in packs are off (AEGIS_BUILTIN_PACKS)",
                root.display()
            )));
        }
        Ok(domains)
    }

    pub fn packs_folder(&self) -> PathBuf {
        self.domains_dir.clone().unwrap_or_else(|| PathBuf::from("domains"))
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
