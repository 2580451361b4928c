//! `aegis`: the command line. Errors end here, as a message and a non-zero exit.

use std::io::Read as _;

use std::time::Duration;

use aegis_core::access::Role;
use aegis_core::config::Config;
use aegis_core::domains::{Domain, Domains};
use aegis_core::model::OrgId;
use aegis_core::seed::Generator;
use aegis_core::store::{ApiKeyRole, ListQuery, Store};
use aegis_core::tiers::rules::CustomValidators;
use aegis_server::api::auth::ApiKeyCache;
use aegis_server::api::health;
use aegis_server::bench;
use aegis_server::engine::{shutdown_signal, Engine};
use aegis_server::state::AppState;
use aegis_server::web;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

#[derive(Parser)]
#[command(name = "aegis", version, about = "Aegis: evaluation for AI systems in high-stakes domains.")]
#[command(after_help = "Configuration: aegis.toml, AEGIS_* variables and DATABASE_URL (see the README).")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
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
        command: OrgCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage dashboard users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Store realistic demo traces (clinical assistant and RL trading agent).
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
        /// Only store the traces; a running `aegis serve` or `aegis worker` evaluates them.
        #[arg(long)]
        no_evaluate: bool,
    },
    /// De-identification: try the recognizers, measure them, re-identify.
    Phi {
        #[command(subcommand)]
        command: PhiCommand,
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
        command: ModelsCommand,
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
    },
    /// Domain packs: check them, list them.
    Domain {
        #[command(subcommand)]
        command: DomainCommand,
    },
    /// Load generators for the figures in docs/PERFORMANCE.md.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organization and its first API key (shown once).
    Create {
        name: String,
        /// The plan whose rate limits apply [default: limits.default_plan].
        #[arg(long)]
        plan: Option<String>,
        /// Print {"organization_id", "api_key"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Put an organization on a plan (its rate limits).
    Plan {
        #[arg(long)]
        org: OrgId,
        plan: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create an API key (shown once). Ingest keys send traces and read their results; read
    /// keys read; admin keys also change the organization's setup (packs, PHI policy,
    /// integrations, models) and re-identify. `docs/ARCHITECTURE.md` has the whole table.
    Create {
        #[arg(long)]
        org: OrgId,
        #[arg(long, value_parser = parse_key_role, default_value = "ingest")]
        role: ApiKeyRole,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Print {"key_id", "api_key", "role"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a dashboard user. The password comes from --password-stdin, else
    /// AEGIS_USER_PASSWORD, else a generated one is printed.
    Create {
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        email: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// owner, admin, reviewer or viewer; the organization's first user is its owner, later
        /// ones are admins unless this says otherwise.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
    },
}

fn parse_key_role(s: &str) -> Result<ApiKeyRole, String> {
    ApiKeyRole::parse(s).ok_or_else(|| format!("`{s}` is not a key scope; use ingest, read or admin"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}` is not a role; use owner, admin, reviewer or viewer"))
}

#[derive(Subcommand)]
enum PhiCommand {
    /// Print the identifiers found in standard input, as JSON.
    Scan,
    /// Measure the recognizers on a labelled JSONL file ({"text", "spans": [{"start", "end",
    /// "type"}]}, offsets in code points): precision, recall and F2 per identifier type.
    Eval {
        file: std::path::PathBuf,
        /// Also list every miss and false alarm.
        #[arg(long)]
        errors: bool,
        /// Also show what each recognizer found, and what only it found.
        #[arg(long)]
        by_detector: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train the statistical token tagger on labelled JSONL files and write its weights (the
    /// shipped ones are core/data/phi/tagger.bin, trained on
    /// core/data/phi/thirdparty/tagger-train.jsonl). Deterministic.
    TrainTagger {
        #[arg(long = "corpus", required = true)]
        corpora: Vec<std::path::PathBuf>,
        #[arg(long, default_value_t = aegis_core::phi::tagger::EPOCHS)]
        epochs: usize,
        /// Where to write the weights.
        #[arg(short, long)]
        output: std::path::PathBuf,
    },
    /// Read every stored trace again with today's recognizers and report what an older version
    /// let through (where and what kind, never the text). A dry run unless --repair; exits 1
    /// when a dry run finds anything. Written to each organization's audit log.
    Audit {
        /// One organization; all of them if left out.
        #[arg(long)]
        org: Option<OrgId>,
        /// Replace what is found, sealing the originals in the vault.
        #[arg(long)]
        repair: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the originals behind pseudonym tokens. Written to the organization's audit log.
    Reidentify {
        #[arg(long)]
        org: OrgId,
        /// Why the originals are needed; kept in the audit log.
        #[arg(long)]
        reason: String,
        /// The trace the values were put into: needed to open stand-ins and shifted dates.
        #[arg(long)]
        trace: Option<uuid::Uuid>,
        /// Tokens, or with --trace anything de-identification put into that trace.
        #[arg(required = true)]
        tokens: Vec<String>,
    },
}

#[derive(Subcommand)]
enum DomainCommand {
    /// Check a pack folder (its domain.yaml and data files); errors name the file and line.
    Validate { path: std::path::PathBuf },
    /// List the packs under the configured domains folder.
    List,
}

#[derive(Subcommand)]
enum ModelsCommand {
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

#[derive(Subcommand)]
enum BenchCommand {
    /// Drive `POST /api/v1/traces` (or /traces/batch) of a running server and report
    /// throughput and latency percentiles.
    Ingest(bench::IngestArgs),
    /// Time search, the analytics endpoints and the Overview page of a running server.
    Read(bench::ReadArgs),
    /// Send traces at a rate and time their arrival on the `/ws/traces` live feed.
    Live(bench::LiveArgs),
    /// Send overdose traces and time their alerts' arrival at local Slack and webhook receivers.
    Alerts(bench::AlertsArgs),
    /// Simulate expert labelling of a pack's seed set: labels Tier 2 needs to reach a target
    /// accuracy with each sampling strategy.
    ActiveLearning(bench::ActiveLearningArgs),
}

// glibc's allocator spends a noticeable share of the ingest path in lock contention and
// consolidation; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Login of the demo user `aegis seed` creates.
const DEMO_EMAIL: &str = "demo@aegis.local";
const DEMO_PASSWORD: &str = "aegis-demo";

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    // reqwest is built without a crypto provider (its default, aws-lc, needs a C toolchain
    // step); ring is the provider sqlx already uses.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AEGIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve { addr: None, workers: None });
    if let Command::Bench { command } = command {
        let outcome = match command {
            BenchCommand::Ingest(args) => bench::ingest(args).await,
            BenchCommand::Read(args) => bench::read(args).await,
            BenchCommand::Live(args) => bench::live(args).await,
            BenchCommand::Alerts(args) => bench::alerts(args).await,
            BenchCommand::ActiveLearning(args) => bench::active_learning(args),
        };
        return outcome.map_err(anyhow::Error::msg);
    }
    if let Command::Phi { command } = &command {
        if let Some(result) = phi_offline(command) {
            return result;
        }
    }
    if let Command::Domain { command: DomainCommand::Validate { path } } = &command {
        return validate_domain(path);
    }
    let config = Config::load()?;
    if let Command::Eval { domain, file, errors, json } = &command {
        return eval_domain(&config, domain, file, *errors, *json).await;
    }
    if let Command::GenerateDomain { name, spec, out } = &command {
        return generate_domain(&config, name, spec.as_deref(), out.as_deref());
    }
    if let Command::Train { domain, data, out } = &command {
        return train_domain(&config, domain, data.as_deref(), out.as_deref());
    }
    match command {
        Command::Serve { addr, workers } => serve(config, addr, workers).await,
        Command::Worker { concurrency, addr } => worker(config, concurrency, addr).await,
        Command::Migrate => {
            let engine = Engine::open(config).await.context("cannot open the database")?;
            println!("migrations applied ({})", engine.store.backend().name());
            engine.shutdown().await;
            Ok(())
        }
        Command::Models { command } => models_command(&config, command).await,
        Command::Org { command: OrgCommand::Create { name, plan, json } } => {
            if let Some(plan) = &plan {
                known_plan(&config, plan)?;
            }
            let store = open_store(&config).await?;
            let org = store.create_organization(&name).await?;
            if plan.is_some() {
                store.set_plan(&org.id, plan.as_deref()).await?;
            }
            let key = store.create_api_key(&org.id, "default", ApiKeyRole::Admin, &cli_actor()).await?;
            if json {
                println!("{}", json!({ "organization_id": org.id, "name": org.name, "api_key": key.plaintext }));
            } else {
                println!("organization  {} ({})", org.name, org.id);
                println!("api key       {}", key.plaintext);
                println!("              shown once: store it now.");
            }
            Ok(())
        }
        Command::Org { command: OrgCommand::Plan { org, plan } } => {
            known_plan(&config, &plan)?;
            let store = open_store(&config).await?;
            store.set_plan(&org, Some(&plan)).await?;
            let limits = config.limits.plans[&plan];
            println!(
                "organization {org} is on the {plan} plan: {} traces a minute, {} judge calls a day (0: unlimited)",
                limits.traces_per_minute, limits.judge_calls_per_day
            );
            Ok(())
        }
        Command::Key { command: KeyCommand::Create { org, role, name, json } } => {
            let store = open_store(&config).await?;
            let key = store.create_api_key(&org, &name, role, &cli_actor()).await?;
            if json {
                println!("{}", json!({ "key_id": key.key.id, "api_key": key.plaintext, "role": role.as_str() }));
            } else {
                println!("{} key {} for organization {}", role.as_str(), key.plaintext, org);
                println!("shown once: store it now.");
            }
            Ok(())
        }
        Command::Phi { command: PhiCommand::Audit { org, repair, json } } => {
            let engine = Engine::open(config).await.context("cannot open the database")?;
            let orgs = match org {
                Some(org) if engine.store.get_organization(&org).await?.is_none() => {
                    bail!("no organization {org}")
                }
                Some(org) => vec![org],
                None => engine.store.organization_ids().await?,
            };
            let mut in_clear = 0;
            let mut reports = Vec::new();
            for org in orgs {
                let report = engine.phi.audit_stored(&org, repair, &cli_actor()).await?;
                in_clear += report.traces_with_findings;
                if !json {
                    print_phi_audit(&org, &report);
                }
                reports.push(json!({ "org": org, "report": report }));
            }
            engine.shutdown().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            }
            if in_clear > 0 && !repair {
                bail!("{in_clear} traces hold identifiers in clear; run again with --repair to replace them");
            }
            Ok(())
        }
        Command::Phi { command: PhiCommand::Reidentify { org, reason, trace, tokens } } => {
            if reason.trim().chars().count() < 5 {
                bail!("--reason must say why the originals are needed (at least 5 characters)");
            }
            let engine = Engine::open(config).await.context("cannot open the database")?;
            let values = engine.phi.reidentify(&org, &tokens, trace, &cli_actor(), reason.trim()).await?;
            println!("{}", serde_json::to_string_pretty(&values)?);
            engine.shutdown().await;
            Ok(())
        }
        Command::User { command: UserCommand::Create { org, email, password_stdin, role } } => {
            let store = open_store(&config).await?;
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).context("cannot read the password from stdin")?;
                (s.trim_end_matches(['\r', '\n']).to_string(), false)
            } else if let Ok(p) = std::env::var("AEGIS_USER_PASSWORD") {
                (p, false)
            } else {
                (aegis_core::auth::generate_password(), true)
            };
            let first = store.list_users(&org).await?.is_empty();
            let role = role.unwrap_or(if first { Role::Owner } else { Role::Admin });
            let user = store.create_user(&org, &email, &password, role, &cli_actor()).await?;
            println!("user {} created in organization {} as {}", user.email, user.org_id, role.as_str());
            if generated {
                println!("password {password}");
            }
            Ok(())
        }
        Command::Seed { traces, org, seed, if_empty, no_evaluate } => {
            seed_demo(config, traces, org, seed, if_empty, !no_evaluate).await
        }
        Command::Domain { command: DomainCommand::List } => {
            let domains = Domains::from_config(&config, CustomValidators::default())?;
            for d in domains.current().domains() {
                print_domain(&d.summary());
            }
            Ok(())
        }
        Command::Bench { .. }
        | Command::Phi { .. }
        | Command::Domain { .. }
        | Command::Eval { .. }
        | Command::Train { .. }
        | Command::GenerateDomain { .. } => {
            unreachable!("handled above")
        }
    }
}

async fn eval_domain(
    config: &Config,
    domain: &str,
    file: &std::path::Path,
    errors: bool,
    json: bool,
) -> anyhow::Result<()> {
    use aegis_core::domains::eval;
    let domains = Domains::from_config(config, CustomValidators::default())?;
    if domains.current().route_shared(domain).is_none() {
        bail!("no domain pack named {domain:?} (built in or in {})", config.packs_folder().display());
    }
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut cases = eval::parse_jsonl(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // The file's traces are judged as the named domain, whatever their metadata says.
    for case in &mut cases {
        case.trace.metadata.insert("domain".into(), domain.to_string());
    }
    let judge = aegis_core::tiers::judge::Judge::from_config(&config.judge)?;
    let report = eval::evaluate(&aegis_core::tiers::Cascade::new(domains).with_judge(judge), &cases).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    if errors {
        for m in &report.mistakes {
            println!("{:<8} {:<24} expected {:?}, found {:?}", m.tier, m.id, m.expected, m.found);
        }
    }
    Ok(())
}

fn train_domain(
    config: &Config,
    domain: &str,
    data: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use aegis_core::domains::eval;
    use aegis_core::tiers::classifier::{self, Stage};
    let dir = config.packs_folder().join(domain);
    let pack = Domain::load_for_training(&dir, &CustomValidators::default())?;
    let spec = &pack.spec;
    let Some(tier2) = &spec.tier2 else { bail!("{} has no tier2 section", dir.join("domain.yaml").display()) };
    let data = data.map(std::path::Path::to_path_buf).unwrap_or_else(|| dir.join(&tier2.seed));
    let out = out.map(std::path::Path::to_path_buf).unwrap_or_else(|| dir.join(&tier2.model));
    let text = std::fs::read_to_string(&data).with_context(|| format!("cannot read {}", data.display()))?;
    let cases = eval::parse_jsonl(&text).map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))?;
    let now = chrono::Utc::now();
    let traces: Vec<_> = cases.into_iter().map(|c| c.into_labelled_trace(now)).collect();
    // Tier 2 learns on top of Tier 1: each example carries what the rules found in it.
    let labelled = pack.examples(&traces);
    let bar = ProgressBar::new(labelled.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<12} {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let model = classifier::train(&spec.name, &labelled, &pack.train_options(), |stage| match stage {
        Stage::Featurizing { done, .. } => {
            bar.set_message("features");
            bar.set_position(done as u64);
        }
        Stage::Fitting => bar.set_message("fitting"),
        Stage::Measuring => bar.set_message("measuring"),
    })?;
    bar.finish_and_clear();
    model.save(&out)?;
    let m = &model.metrics;
    println!(
        "trained {} tier 2 model {} on {} labels in {:.1} s",
        spec.name, model.version, m.training_size, m.training_seconds
    );
    println!(
        "held out {}: accuracy {:.3}, precision {:.3}, recall {:.3}, brier {:.3}, calibration error {:.3}",
        m.held_out_size, m.accuracy, m.precision, m.recall, m.brier, m.ece
    );
    println!("written to {}", out.display());
    Ok(())
}

async fn models_command(config: &Config, command: ModelsCommand) -> anyhow::Result<()> {
    use aegis_core::tiers::classifier::Stage;
    let store = open_store(config).await?;
    match command {
        ModelsCommand::Retrain { org, domain } => {
            store.get_organization(&org).await?.with_context(|| format!("no organization {org}"))?;
            let domains = Domains::from_config(config, CustomValidators::default())?;
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

fn generate_domain(
    config: &Config,
    name: &str,
    spec: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use aegis_core::domains::generate::{generate, GeneratorSpec};
    let spec_path = spec
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| config.packs_folder().join("specs").join(format!("{name}.yaml")));
    let text = std::fs::read_to_string(&spec_path).with_context(|| format!("cannot read {}", spec_path.display()))?;
    let spec = GeneratorSpec::parse(&text, &spec_path)?;
    if spec.name != name {
        bail!("{} describes {:?}, not {name:?}", spec_path.display(), spec.name);
    }
    let out = out.map(std::path::Path::to_path_buf).unwrap_or_else(|| config.packs_folder().join(name));
    let spec_dir = spec_path.parent().unwrap_or(std::path::Path::new("."));
    let generated = generate(&spec, spec_dir, &out)?;
    println!("generated the {name} pack in {}:", out.display());
    print!("{}", generated.report());
    println!("ok: the pack loads; running processes pick it up within {} s", config.domains_reload_secs);
    Ok(())
}

fn validate_domain(path: &std::path::Path) -> anyhow::Result<()> {
    let domain = Domain::load(path, &CustomValidators::default())?;
    print_domain(&domain.summary());
    println!("ok: {} is a valid domain pack", path.display());
    Ok(())
}

fn print_domain(d: &aegis_core::domains::DomainSummary) {
    println!(
        "{} ({}, version {}){}",
        d.name,
        d.title,
        d.version,
        if d.aliases.is_empty() { String::new() } else { format!(", also {}", d.aliases.join(", ")) }
    );
    if d.drugs > 0 {
        println!("  {} drugs", d.drugs);
    }
    println!("  tier 1: {}", d.rules.join(", "));
}

/// Who runs a command from the shell, for the audit log.
fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}

fn print_phi_audit(org: &OrgId, report: &aegis_core::phi::audit::AuditReport) {
    let counts = |m: Vec<(String, u64)>| m.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ");
    let by_type = counts(report.by_type.iter().map(|(t, n)| (t.to_string(), *n)).collect());
    let verb = if report.repaired { "replaced" } else { "found" };
    println!(
        "organization {org}: {} traces read, {} held identifiers in clear{}",
        report.traces,
        report.traces_with_findings,
        if by_type.is_empty() { String::new() } else { format!(" ({verb}: {by_type})") }
    );
    if report.traces_with_findings > 0 {
        let by_detector = counts(report.by_detector.iter().map(|(d, n)| (d.as_str().to_string(), *n)).collect());
        let by_field = counts(report.by_field.iter().map(|(f, n)| (f.to_string(), *n)).collect());
        println!("  by detector: {by_detector}\n  by field: {by_field}");
        for (trace, findings) in &report.examples {
            let what: Vec<String> =
                findings.iter().map(|f| format!("{} {} ({})", f.field, f.phi_type, f.detector.as_str())).collect();
            println!("  {trace}: {}", what.join(", "));
        }
    }
}

/// The PHI commands that need no database.
fn phi_offline(command: &PhiCommand) -> Option<anyhow::Result<()>> {
    use aegis_core::phi::{eval, Scanner};
    Some(match command {
        PhiCommand::Scan => (|| {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("standard input is not UTF-8 text")?;
            let entities = Scanner::default().scan(&text);
            println!("{}", serde_json::to_string_pretty(&json!({ "entities": entities }))?);
            Ok(())
        })(),
        PhiCommand::Reidentify { .. } | PhiCommand::Audit { .. } => return None,
        PhiCommand::TrainTagger { corpora, epochs, output } => (|| {
            if *epochs == 0 {
                anyhow::bail!("--epochs must be at least 1");
            }
            let mut texts = Vec::new();
            for file in corpora {
                let content =
                    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
                texts.extend(eval::parse_jsonl(&content).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?);
            }
            if texts.is_empty() {
                anyhow::bail!("the corpus holds no texts");
            }
            let tagger = aegis_core::phi::tagger::train(&texts, *epochs);
            std::fs::write(output, tagger.to_bytes()).with_context(|| format!("cannot write {}", output.display()))?;
            println!("trained on {} texts, {epochs} epochs -> {}", texts.len(), output.display());
            Ok(())
        })(),
        PhiCommand::Eval { file, errors, by_detector, json } => (|| {
            let content = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let texts = eval::parse_jsonl(&content).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            aegis_core::phi::warm_up();
            let report = eval::evaluate(&Scanner::default(), &texts);
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
                if *by_detector {
                    print!("\n{}", report.detector_table());
                }
            }
            if *errors {
                for m in &report.mistakes {
                    println!("{:>11}  {:<11} {:?}\n             …{}…", m.kind, m.phi_type.as_str(), m.text, m.context);
                }
            }
            Ok(())
        })(),
    })
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open(config).await.context("cannot open the database")?;
    store.migrate().await.context("cannot migrate the database")?;
    Ok(store)
}

async fn serve(config: Config, addr: Option<String>, workers: Option<usize>) -> anyhow::Result<()> {
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

async fn worker(config: Config, concurrency: Option<usize>, addr: Option<String>) -> anyhow::Result<()> {
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

async fn seed_demo(
    config: Config,
    count: usize,
    org: Option<OrgId>,
    seed: u64,
    if_empty: bool,
    evaluate: bool,
) -> anyhow::Result<()> {
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
    let mut generator = Generator::new(seed);
    let mut left = count;
    while left > 0 {
        let n = left.min(500);
        let batch = (0..n).map(|_| generator.trace()).collect();
        ingestor.submit(&org.id, batch).await?;
        bar.inc(n as u64);
        left -= n;
    }
    bar.finish_and_clear();
    drop(ingestor);
    println!("seeded {count} traces into {} ({})", org.name, org.id);
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

/// Refuses a plan the configuration does not define.
fn known_plan(config: &Config, plan: &str) -> anyhow::Result<()> {
    if !config.limits.plans.contains_key(plan) {
        let plans: Vec<&str> = config.limits.plans.keys().map(String::as_str).collect();
        bail!("no plan {plan:?}; the plans are {}", plans.join(", "));
    }
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
