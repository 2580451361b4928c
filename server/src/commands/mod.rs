//! The `aegis` commands, one file each; this one lists them and sends each to its file.

mod domain;
mod models;
mod org;
mod phi;
mod seed;
mod serve;

use aegis_core::config::Config;
use aegis_core::model::OrgId;
use aegis_core::store::Store;
use anyhow::Context;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {
    /// Run the API, the dashboard and evaluation workers in one process (the default).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:3000 [default: AEGIS_ADDR or 127.0.0.1:3000].
        #[arg(long)]
        addr: Option<String>,
        /// Evaluation workers in this process; 0 leaves evaluation to `aegis worker` processes.
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Run evaluation workers only. Start as many processes, on as many machines, as needed.
    Worker {
        /// Worker loops in this process.
        #[arg(long)]
        concurrency: Option<usize>,
        /// Serve /health and /metrics on this address.
        #[arg(long)]
        addr: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        command: org::OrgCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: org::KeyCommand,
    },
    /// Manage dashboard users.
    User {
        #[command(subcommand)]
        command: org::UserCommand,
    },
    /// Store a month of demo history (a clinical assistant and an RL trading agent, about one
    /// answer in twelve unsafe) and evaluate it as of when each trace happened.
    Seed {
        /// How many traces.
        #[arg(long, default_value_t = 500)]
        traces: usize,
        /// Organization to seed [default: the "Demo" organization, created with a demo user].
        #[arg(long)]
        org: Option<OrgId>,
        /// Random seed, for repeatable data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Do nothing if the organization already has traces.
        #[arg(long)]
        if_empty: bool,
        /// Only store the traces; a running `aegis serve` or `aegis worker` evaluates them (dated
        /// now, unless its worker.evaluate_as_received is on).
        #[arg(long)]
        no_evaluate: bool,
    },
    /// De-identification: try the recognizers, measure them, re-identify.
    Phi {
        #[command(subcommand)]
        command: phi::PhiCommand,
    },
    /// Measure a domain's cascade on a labelled JSONL file ({"id", "label", "violations",
    /// "trace"}): the confusion matrix of each tier and the recall of each rule.
    Eval {
        #[arg(long)]
        domain: String,
        file: std::path::PathBuf,
        /// Also list every case a tier got wrong.
        #[arg(long)]
        errors: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train a domain's Tier 2 classifier on labelled JSONL (the format of `aegis eval`) and
    /// store it in the pack, where running processes pick it up.
    Train {
        #[arg(long)]
        domain: String,
        /// Labels to train on [default: the pack's seed set].
        #[arg(long)]
        data: Option<std::path::PathBuf>,
        /// Where to write the model [default: the pack's tier2.model].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// An organization's Tier 2 model registry: retrain on its reviews, list, promote.
    Models {
        #[command(subcommand)]
        command: models::ModelsCommand,
    },
    /// Generate a domain pack (spec, tables, judge prompt, seed set, trained Tier 2 model) from
    /// a generator spec, check it, and report what was written.
    GenerateDomain {
        name: String,
        /// The generator spec [default: <domains_dir>/specs/NAME.yaml].
        #[arg(long)]
        spec: Option<std::path::PathBuf>,
        /// Where to write the pack [default: <domains_dir>/NAME].
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Regenerate a pack that exists: the new one is written beside it and swapped in
        /// only once it loads, so a failure leaves the old one as it was.
        #[arg(long)]
        replace: bool,
    },
    /// Domain packs: check them, list them.
    Domain {
        #[command(subcommand)]
        command: domain::DomainCommand,
    },
}

/// Runs `command`; the default, with none, is `serve`.
pub async fn run(command: Option<Command>) -> anyhow::Result<()> {
    let command = command.unwrap_or(Command::Serve { addr: None, workers: None });
    // What needs no configuration first: a broken configuration must not stop them.
    let command = match command {
        Command::Domain { command: domain::DomainCommand::Validate { path } } => return domain::validate(&path),
        Command::Phi { command } => match phi::offline(&command) {
            Some(result) => return result,
            None => Command::Phi { command },
        },
        command => command,
    };
    let config = Config::load()?;
    match command {
        Command::Serve { addr, workers } => serve::serve(config, addr, workers).await,
        Command::Worker { concurrency, addr } => serve::worker(config, concurrency, addr).await,
        Command::Migrate => serve::migrate(config).await,
        Command::Org { command } => org::org(&config, command).await,
        Command::Key { command } => org::key(&config, command).await,
        Command::User { command } => org::user(&config, command).await,
        Command::Seed { traces, org, seed, if_empty, no_evaluate } => {
            seed::run(config, traces, org, seed, if_empty, !no_evaluate).await
        }
        Command::Phi { command } => phi::run(config, command).await,
        Command::Eval { domain, file, errors, json } => domain::eval(&config, &domain, &file, errors, json).await,
        Command::Train { domain, data, out } => domain::train(&config, &domain, data.as_deref(), out.as_deref()),
        Command::Models { command } => models::run(&config, command).await,
        Command::GenerateDomain { name, spec, out, replace } => {
            domain::generate(&config, &name, spec.as_deref(), out.as_deref(), replace)
        }
        Command::Domain { command } => domain::run(&config, command),
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store =
        Store::connect(&config.database_url(), config.db_max_connections).await.context("cannot open the database")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

/// Who runs a command from the shell, for the audit log.
fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}
