//! A running Aegis process: the store, the group-commit writers and the workers, started and
//! stopped in the right order.

use std::sync::Arc;

use aegis_core::config::Config;
use aegis_core::ingest::Ingestor;
use aegis_core::phi::vault::VaultKey;
use aegis_core::phi::PhiService;
use aegis_core::pipeline::Worker;
use aegis_core::store::Store;
use aegis_core::tiers::Cascade;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::telemetry::Telemetry;

pub struct Engine {
    pub store: Store,
    pub phi: PhiService,
    pub config: Arc<Config>,
    pub telemetry: Arc<Telemetry>,
    work_available: Arc<Notify>,
    shutdown: CancellationToken,
    writers: JoinSet<()>,
    workers: JoinSet<()>,
}

impl Engine {
    /// Opens the database, brings its schema up to date, and loads the vault key (checking it
    /// is the one this database's vault was written with).
    pub async fn open(config: Config) -> aegis_core::Result<Engine> {
        let store = Store::open(&config).await?;
        store.migrate().await?;
        let key = VaultKey::load(config.vault_key.as_ref().map(|s| s.0.as_str()), &config.vault_key_path())?;
        let phi = PhiService::new(store.clone(), key).await?;
        Ok(Engine {
            store,
            phi,
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

    /// Starts `count` evaluation workers.
    pub fn start_workers(&mut self, count: usize) {
        let cascade = Arc::new(Cascade::default());
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        for i in 0..count {
            let worker = Worker {
                name: format!("{host}/{}/{i}", std::process::id()),
                store: self.store.clone(),
                cascade: cascade.clone(),
                config: self.config.worker.clone(),
                metrics: self.telemetry.core.clone(),
                work_available: self.work_available.clone(),
            };
            self.workers.spawn(worker.run(self.shutdown.clone()));
        }
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
