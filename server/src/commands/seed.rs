//! `aegis seed`: a month of demo history for a newcomer's first look, stored as received when
//! each trace happened and evaluated through the real pipeline as of then.

use std::time::Duration;

use aegis_core::access::Role;
use aegis_core::config::Config;
use aegis_core::ingest::Received;
use aegis_core::model::OrgId;
use aegis_core::seed::History;
use aegis_core::store::{ApiKeyRole, ListQuery, Store};
use aegis_server::engine::Engine;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};

use super::cli_actor;

/// Login of the demo user `aegis seed` creates.
const DEMO_EMAIL: &str = "demo@aegis.local";
const DEMO_PASSWORD: &str = "aegis-demo";

pub async fn run(
    mut config: Config,
    count: usize,
    org: Option<OrgId>,
    seed: u64,
    if_empty: bool,
    evaluate: bool,
) -> anyhow::Result<()> {
    config.worker.evaluate_as_received = true;
    let mut engine = Engine::open(config).await.context("cannot open the database")?;
    let store = engine.store.clone();
    let org = match org {
        Some(id) => match store.get_organization(&id).await? {
            Some(org) => org,
            None => bail!("no organization {id}"),
        },
        None => demo_organization(&store).await?,
    };
    let existing = store.list_traces(&org.id, &ListQuery { limit: 1, ..ListQuery::default() }).await?;
    if if_empty && !existing.items.is_empty() {
        println!("{} ({}) already has traces; not seeding", org.name, org.id);
        engine.shutdown().await;
        return Ok(());
    }

    let ingestor = engine.start_ingest();
    let bar = ProgressBar::new(count as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} seeding {bar:40} {pos}/{len} traces ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut history = History::from_builtin_packs(seed, chrono::Utc::now())?;
    let mut left = count;
    while left > 0 {
        let n = left.min(500);
        let batch = (0..n).map(|_| history.next_trace()).collect();
        ingestor.submit_received(&org.id, batch, Received::AsDated).await?;
        bar.inc(n as u64);
        left -= n;
    }
    bar.finish_and_clear();
    drop(ingestor);
    println!(
        "seeded {count} traces over the last {} days into {} ({})",
        aegis_core::seed::HISTORY_DAYS,
        org.name,
        org.id
    );
    if evaluate {
        // Through the real pipeline, as `aegis serve` would, until the queue is empty.
        let workers = engine.config.worker.concurrency.max(1);
        engine.start_workers(workers)?;
        let total = store.queue_depth().await?.max(0) as u64;
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{spinner} evaluating {bar:40} {pos}/{len} traces ({per_sec}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        loop {
            let left = store.queue_depth().await?.max(0) as u64;
            bar.set_position(total.saturating_sub(left));
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bar.finish_and_clear();
        println!("evaluated {total} traces");
    }
    engine.shutdown().await;
    Ok(())
}

/// The "Demo" organization with its demo user, created on first use.
async fn demo_organization(store: &Store) -> anyhow::Result<aegis_core::store::Organization> {
    let org = match store.find_organization_by_name("Demo").await? {
        Some(org) => org,
        None => {
            let org = store.create_organization("Demo").await?;
            let key = store.create_api_key(&org.id, "demo", ApiKeyRole::Admin, &cli_actor()).await?;
            println!("demo organization {} created; its API key (shown once): {}", org.id, key.plaintext);
            org
        }
    };
    match store.create_user(&org.id, DEMO_EMAIL, DEMO_PASSWORD, Role::Owner, &cli_actor()).await {
        Ok(_) => println!("demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"),
        Err(aegis_core::Error::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(org)
}
