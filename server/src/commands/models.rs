//! `aegis models`: an organization's Tier 2 model registry from the shell.

use std::time::Duration;

use aegis_core::config::Config;
use aegis_core::domains::rules::CustomValidators;
use aegis_core::model::OrgId;
use anyhow::{bail, Context};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use super::open_store;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Retrain a domain's Tier 2 model on the pack's seed set and the organization's reviews;
    /// it goes to production only if it beats production on the same held-out labels.
    Retrain {
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        domain: String,
    },
    /// The organization's models, newest first.
    List {
        #[arg(long)]
        org: OrgId,
    },
    /// Put a model in production (an archived one: a rollback).
    Promote {
        #[arg(long)]
        org: OrgId,
        id: String,
    },
}

pub async fn run(config: &Config, command: ModelsCommand) -> anyhow::Result<()> {
    use aegis_core::domains::classifier::Stage;
    let store = open_store(config).await?;
    match command {
        ModelsCommand::Retrain { org, domain } => {
            store.get_organization(&org).await?.with_context(|| format!("no organization {org}"))?;
            let domains = config.open_domains(CustomValidators::default())?;
            let set = domains.current();
            let Some(pack) = set.route(&org, &domain).filter(|p| p.classifier.is_some()).cloned() else {
                bail!("no domain pack {domain:?} with a Tier 2 model");
            };
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg:<12} {bar:40} {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            let shown = bar.clone();
            let r = aegis_core::review::retrain::retrain(&store, pack, &org, move |stage| match stage {
                Stage::Featurizing { done, total } => {
                    shown.set_message("features");
                    shown.set_length(total as u64);
                    shown.set_position(done as u64);
                }
                Stage::Fitting => shown.set_message("fitting"),
                Stage::Measuring => shown.set_message("measuring"),
            })
            .await?;
            bar.finish_and_clear();
            let m = &r.model;
            println!("{} {} ({}), {} reviews among its labels", m.domain, m.version, m.stage.as_str(), m.reviews_used);
            println!("{}", m.note);
        }
        ModelsCommand::List { org } => {
            for m in store.registered_models(&org, None).await? {
                let accuracy = m.metrics.get("accuracy").and_then(|a| a.as_f64()).unwrap_or_default();
                println!(
                    "{}  {:<11} {:<10} {}  accuracy {accuracy:.3}  {}",
                    m.id,
                    m.domain,
                    m.stage.as_str(),
                    m.version,
                    m.note
                );
            }
        }
        ModelsCommand::Promote { org, id } => match store.promote_model(&org, &id, "cli").await? {
            Some(m) => println!("{} {} is in production", m.domain, m.version),
            None => bail!("no model {id} in organization {org}"),
        },
    }
    store.close().await;
    Ok(())
}
