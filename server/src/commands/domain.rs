//! `aegis domain`, `aegis generate-domain`, `aegis eval`, `aegis train`: domain packs checked,
//! listed, generated from a spec, measured on a labelled set, and their Tier 2 models trained.

use std::time::Duration;

use aegis_core::config::Config;
use aegis_core::domains::rules::CustomValidators;
use aegis_core::domains::Domain;
use anyhow::{bail, Context};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Subcommand)]
pub enum DomainCommand {
    /// Check a pack folder (its domain.yaml and data files); errors name the file and line.
    Validate { path: std::path::PathBuf },
    /// List the packs under the configured domains folder.
    List,
}

pub fn run(config: &Config, command: DomainCommand) -> anyhow::Result<()> {
    match command {
        DomainCommand::Validate { path } => validate(&path),
        DomainCommand::List => {
            let domains = config.open_domains(CustomValidators::default())?;
            for d in domains.current().domains() {
                print_domain(&d.summary());
            }
            Ok(())
        }
    }
}

pub fn validate(path: &std::path::Path) -> anyhow::Result<()> {
    let domain = Domain::load(path, &CustomValidators::default())?;
    print_domain(&domain.summary());
    println!("ok: {} is a valid domain pack", path.display());
    Ok(())
}

pub fn generate(
    config: &Config,
    name: &str,
    spec: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
    replace: bool,
) -> anyhow::Result<()> {
    use aegis_core::packs::generate::{generate, GeneratorSpec};
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
    let generated = if replace && out.join("domain.yaml").exists() {
        // Written beside the old pack (which may be its own sources), then swapped in.
        let new = out.with_file_name(format!(".{name}.generating"));
        let old = out.with_file_name(format!(".{name}.replaced"));
        for stale in [&new, &old] {
            if stale.exists() {
                std::fs::remove_dir_all(stale).with_context(|| format!("cannot remove {}", stale.display()))?;
            }
        }
        let generated = generate(&spec, spec_dir, &new).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&new);
        })?;
        std::fs::rename(&out, &old).with_context(|| format!("cannot move {} aside", out.display()))?;
        std::fs::rename(&new, &out).with_context(|| format!("cannot move the new pack to {}", out.display()))?;
        std::fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        generated
    } else {
        if out.join("domain.yaml").exists() {
            bail!("{} already holds a pack; pass --replace to generate it again", out.display());
        }
        generate(&spec, spec_dir, &out)?
    };
    println!("generated the {name} pack in {}:", out.display());
    print!("{}", generated.report());
    println!("ok: the pack loads; running processes pick it up within {} s", config.domains_reload_secs);
    Ok(())
}

pub async fn eval(
    config: &Config,
    domain: &str,
    file: &std::path::Path,
    errors: bool,
    json: bool,
) -> anyhow::Result<()> {
    use aegis_core::packs::eval;
    let domains = config.open_domains(CustomValidators::default())?;
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

pub fn train(
    config: &Config,
    domain: &str,
    data: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use aegis_core::domains::classifier::{self, Stage};
    use aegis_core::packs::eval;
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
