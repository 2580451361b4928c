//! A running Aegis process: the store, the group-commit writers and the workers, started and
//! stopped in the right order.

use std::sync::Arc;

use std::path::Path;
use std::time::{Duration, SystemTime};

use aegis_core::config::Config;
use aegis_core::domains::rules::CustomValidators;
use aegis_core::domains::Domains;
use aegis_core::ingest::Ingestor;
use aegis_core::limits::Limits;
use aegis_core::live::LiveFeed;
use aegis_core::phi::vault::VaultKey;
use aegis_core::phi::PhiService;
use aegis_core::pipeline::Worker;
use aegis_core::sinks::{Dispatcher, Links};
use aegis_core::store::{Backend, Store};
use aegis_core::tiers::judge::Judge;
use aegis_core::tiers::Cascade;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::telemetry::Telemetry;

pub struct Engine {
    pub store: Store,
    pub phi: PhiService,
    pub domains: Domains,
    pub config: Arc<Config>,
    pub telemetry: Arc<Telemetry>,
    pub live: LiveFeed,
    /// Rate limits, in-process or shared through Redis.
    pub limits: Limits,
    work_available: Arc<Notify>,
    shutdown: CancellationToken,
    writers: JoinSet<()>,
    workers: JoinSet<()>,
}

impl Engine {
    /// Loads the domain packs, opens the database, brings its schema up to date, and loads the
    /// vault key (checking it is the one this database's vault was written with).
    pub async fn open(config: Config) -> aegis_core::Result<Engine> {
        let domains = config.open_domains(CustomValidators::default())?;
        let store = Store::connect(&config.database_url(), config.db_max_connections).await?;
        store.migrate().await?;
        let key = VaultKey::load(config.vault_key.as_ref().map(|s| s.0.as_str()), &config.vault_key_path())?;
        let phi = PhiService::new(store.clone(), key).await?;
        let limits = Limits::open(&config.limits).await?;
        Ok(Engine {
            limits,
            live: LiveFeed::new(store.backend()),
            store,
            phi,
            domains,
            config: Arc::new(config),
            telemetry: Arc::new(Telemetry::new()),
            work_available: Arc::new(Notify::new()),
            shutdown: CancellationToken::new(),
            writers: JoinSet::new(),
            workers: JoinSet::new(),
        })
    }

    /// Starts the group-commit writers; traces go in through the returned [`Ingestor`].
    pub fn start_ingest(&mut self) -> Ingestor {
        let (ingestor, writers) = Ingestor::start(
            self.store.clone(),
            self.phi.clone(),
            &self.config.ingest,
            self.telemetry.core.clone(),
            self.work_available.clone(),
        );
        self.writers = writers;
        ingestor
    }

    /// Starts `count` evaluation workers, with the LLM judge if one is configured, and the
    /// dispatcher that delivers the webhooks and alerts their results cause.
    pub fn start_workers(&mut self, count: usize) -> aegis_core::Result<()> {
        let dispatcher = Dispatcher::new(self.store.clone(), &self.config.sinks, Links::new(&self.config.public_url))?;
        let deliveries_ready = dispatcher.wake.clone();
        let models = aegis_core::pipeline::ModelCache::default();
        // A stateless API node (`--workers 0`) leaves delivery to the worker processes.
        if count > 0 {
            self.workers.spawn(dispatcher.run(self.shutdown.clone()));
        }
        let judge = Judge::from_config(&self.config.judge)
            .map_err(|e| aegis_core::Error::Config(format!("the LLM judge: {e}")))?;
        if let Some(j) = &judge {
            tracing::info!(model = j.model(), "Tier 3 judge enabled");
        }
        let cascade = Arc::new(Cascade::new(self.domains.clone()).with_judge(judge));
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        for i in 0..count {
            let worker = Worker {
                name: format!("{host}/{}/{i}", std::process::id()),
                store: self.store.clone(),
                cascade: cascade.clone(),
                config: self.config.worker.clone(),
                judge_budget_micro_usd: self.config.judge.daily_budget_micro_usd,
                concurrency: self.config.judge.concurrency,
                metrics: self.telemetry.core.clone(),
                work_available: self.work_available.clone(),
                live: self.live.clone(),
                limits: self.limits.clone(),
                deliveries_ready: deliveries_ready.clone(),
                models: models.clone(),
                links: Links::new(&self.config.public_url),
            };
            self.workers.spawn(worker.run(self.shutdown.clone()));
        }
        Ok(())
    }

    /// Makes [`Engine::live`] receive the evaluations every process records, for the
    /// websocket subscribers of this one. On SQLite it needs nothing: only this process's
    /// workers record evaluations it could show.
    pub async fn start_live_feed(&self) -> aegis_core::Result<()> {
        if self.store.backend() == Backend::Postgres {
            self.live.listen_postgres(&self.config.database_url(), self.shutdown.clone()).await?;
        }
        Ok(())
    }

    /// Reloads the domain packs whenever one of their files changes. A pack with an error is
    /// reported and the packs in use stay as they were.
    pub fn watch_domains(&mut self) {
        let every = Duration::from_secs(self.config.domains_reload_secs);
        if every.is_zero() {
            return;
        }
        let domains = self.domains.clone();
        let shutdown = self.shutdown.clone();
        self.workers.spawn(async move {
            // Walking the folder and reloading are file and CPU work: off the async runtime.
            let root = domains.root().to_path_buf();
            let walk = move || {
                let root = root.clone();
                async move { tokio::task::spawn_blocking(move || newest_change(&root)).await.ok() }
            };
            let mut seen = walk().await;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = shutdown.cancelled() => break,
                }
                let now = walk().await;
                if now == seen {
                    continue;
                }
                seen = now;
                match domains.reload_off_runtime().await {
                    Ok(set) => tracing::info!(packs = set.domains().len(), "domain packs reloaded"),
                    Err(e) => tracing::error!(error = %e, "domain packs not reloaded; the previous ones stay in use"),
                }
            }
        });
    }

    /// Stops in order: the writers finish what was submitted (every `Ingestor` must be dropped
    /// first), the workers finish their current batch, then the database closes.
    pub async fn shutdown(mut self) {
        while self.writers.join_next().await.is_some() {}
        self.shutdown.cancel();
        while self.workers.join_next().await.is_some() {}
        self.store.close().await;
    }
}

/// The latest modification time of any file under `root` (and how many there are, so that a
/// deleted file counts as a change).
fn newest_change(root: &Path) -> (Option<SystemTime>, usize) {
    let mut newest = None;
    let mut count = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                count += 1;
                newest = newest.max(meta.modified().ok());
            }
        }
    }
    (newest, count)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
