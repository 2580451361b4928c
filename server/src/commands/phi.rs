//! `aegis phi`: try and measure the recognizers, train the tagger, audit what is stored,
//! re-identify.

use std::io::Read as _;

use aegis_core::config::Config;
use aegis_core::model::OrgId;
use aegis_server::engine::Engine;
use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::json;

use super::cli_actor;

#[derive(Subcommand)]
pub enum PhiCommand {
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

/// Runs the commands that need the database; the rest are [`offline`]'s.
pub async fn run(config: Config, command: PhiCommand) -> anyhow::Result<()> {
    match command {
        PhiCommand::Audit { org, repair, json } => {
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
        PhiCommand::Reidentify { org, reason, trace, tokens } => {
            if reason.trim().chars().count() < 5 {
                bail!("--reason must say why the originals are needed (at least 5 characters)");
            }
            let engine = Engine::open(config).await.context("cannot open the database")?;
            let values = engine.phi.reidentify(&org, &tokens, trace, &cli_actor(), reason.trim()).await?;
            println!("{}", serde_json::to_string_pretty(&values)?);
            engine.shutdown().await;
            Ok(())
        }
        other => offline(&other).unwrap_or(Ok(())),
    }
}

/// The PHI commands that need no database (nor configuration); `None` for the others.
pub fn offline(command: &PhiCommand) -> Option<anyhow::Result<()>> {
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
                    let by = m.detector.map(|d| format!(" ({})", d.as_str())).unwrap_or_default();
                    println!(
                        "{:>11}  {:<11} {:?}{by}\n             …{}…",
                        m.kind,
                        m.phi_type.as_str(),
                        m.text,
                        m.context
                    );
                }
            }
            Ok(())
        })(),
    })
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
