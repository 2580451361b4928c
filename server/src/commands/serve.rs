//! `aegis serve`, `aegis worker`, `aegis migrate`: the long-running processes.

use aegis_core::config::Config;
use aegis_server::api::auth::ApiKeyCache;
use aegis_server::api::health;
use aegis_server::engine::{shutdown_signal, Engine};
use aegis_server::state::AppState;
use aegis_server::web;
use anyhow::Context;

pub async fn serve(config: Config, addr: Option<String>, workers: Option<usize>) -> anyhow::Result<()> {
    let addr = addr.unwrap_or_else(|| config.addr.clone());
    let workers = workers.unwrap_or(config.worker.concurrency);
    let mut engine = Engine::open(config).await.context("cannot start")?;
    let ingestor = engine.start_ingest();
    engine.start_workers(workers)?;
    engine.watch_domains();
    engine.start_live_feed().await.context("cannot listen for evaluations")?;
    let state = AppState {
        store: engine.store.clone(),
        ingestor,
        phi: engine.phi.clone(),
        domains: engine.domains.clone(),
        config: engine.config.clone(),
        telemetry: engine.telemetry.clone(),
        live: engine.live.clone(),
        limits: engine.limits.clone(),
        api_keys: ApiKeyCache::default(),
        leptos_options: web::leptos_options()?,
    };
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(
        "Aegis is listening on http://{addr} ({} database, {workers} workers)",
        engine.store.backend().name()
    );
    // The peer's address rides along for sign-in throttling (`client_address_header` behind a proxy).
    let app = web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    engine.shutdown().await;
    Ok(())
}

pub async fn worker(config: Config, concurrency: Option<usize>, addr: Option<String>) -> anyhow::Result<()> {
    let concurrency = concurrency.unwrap_or(config.worker.concurrency).max(1);
    let mut engine = Engine::open(config).await.context("cannot start")?;
    engine.start_workers(concurrency)?;
    engine.watch_domains();
    tracing::info!("{concurrency} evaluation workers on the {} database", engine.store.backend().name());
    match addr {
        Some(addr) => {
            let ops = health::Ops {
                store: engine.store.clone(),
                telemetry: engine.telemetry.clone(),
                domains: engine.domains.clone(),
                config: engine.config.clone(),
            };
            let listener =
                tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            tracing::info!("health and metrics on http://{addr}");
            axum::serve(listener, health::routes().with_state(ops)).with_graceful_shutdown(shutdown_signal()).await?;
        }
        None => shutdown_signal().await,
    }
    engine.shutdown().await;
    Ok(())
}

pub async fn migrate(config: Config) -> anyhow::Result<()> {
    let engine = Engine::open(config).await.context("cannot open the database")?;
    println!("migrations applied ({})", engine.store.backend().name());
    engine.shutdown().await;
    Ok(())
}
