//! The `aegis` command line: every command documents itself, does its job, and refuses bad
//! input with a message and a non-zero exit.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli { dir: tempfile::tempdir().unwrap() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_aegis"));
        command.args(args).env("AEGIS_DATA_DIR", self.dir.path()).env_remove("DATABASE_URL").env("AEGIS_LOG", "warn");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn org(&self) -> Value {
        let out = self.run(&["org", "create", "Riverside Clinic", "--json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn every_command_has_help() {
    let cli = Cli::new();
    let top = cli.run(&["--help"]);
    assert!(top.status.success());
    for command in ["serve", "worker", "migrate", "org", "user", "seed"] {
        assert!(stdout(&top).contains(command), "{command} is listed");
    }
    for args in [
        vec!["serve", "--help"],
        vec!["worker", "--help"],
        vec!["migrate", "--help"],
        vec!["org", "create", "--help"],
        vec!["user", "create", "--help"],
        vec!["seed", "--help"],
    ] {
        let out = cli.run(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage: aegis"), "{args:?}");
    }
}

#[test]
fn org_create_prints_the_key_once_as_json() {
    let cli = Cli::new();
    let org = cli.org();
    assert!(org["organization_id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert!(org["api_key"].as_str().unwrap().starts_with("aegis_sk_"));
    assert_eq!(org["name"], "Riverside Clinic");
    let blank = cli.run(&["org", "create", "  "]);
    assert!(!blank.status.success());
    assert!(stderr(&blank).contains("name"), "{}", stderr(&blank));
}

#[test]
fn user_create_checks_its_input() {
    let cli = Cli::new();
    let org = cli.org();
    let id = org["organization_id"].as_str().unwrap();

    let ok = cli.run_with_stdin(
        &["user", "create", "--org", id, "--email", "ana@clinic.test", "--password-stdin"],
        "long enough\n",
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("ana@clinic.test"));

    let again = cli.run_with_stdin(
        &["user", "create", "--org", id, "--email", "ana@clinic.test", "--password-stdin"],
        "long enough",
    );
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));

    let short =
        cli.run_with_stdin(&["user", "create", "--org", id, "--email", "bo@clinic.test", "--password-stdin"], "short");
    assert!(!short.status.success());
    assert!(stderr(&short).contains("password"), "{}", stderr(&short));

    let email = cli
        .run_with_stdin(&["user", "create", "--org", id, "--email", "not-an-email", "--password-stdin"], "long enough");
    assert!(!email.status.success());
    assert!(stderr(&email).contains("email"), "{}", stderr(&email));

    let nobody = uuid::Uuid::new_v4().to_string();
    let missing = cli.run_with_stdin(
        &["user", "create", "--org", &nobody, "--email", "x@y.test", "--password-stdin"],
        "long enough",
    );
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("organization not found"), "{}", stderr(&missing));

    let generated = cli.run(&["user", "create", "--org", id, "--email", "gen@clinic.test"]);
    assert!(generated.status.success());
    assert!(stdout(&generated).contains("password "), "a generated password is printed");

    let not_uuid = cli.run(&["user", "create", "--org", "clinic", "--email", "x@y.test"]);
    assert_eq!(not_uuid.status.code(), Some(2));
    assert!(stderr(&not_uuid).contains("--org"), "{}", stderr(&not_uuid));
}

/// What a newcomer first sees: a month of history, evaluated as of when each trace happened
/// (so every chart is a month, not one spike), with a realistic share of problems.
#[tokio::test]
async fn seed_replays_a_month_of_history() {
    use aegis_core::model::{Bucket, OrgId};
    use chrono::{Duration, Utc};
    let cli = Cli::new();
    let org = cli.org();
    let id = org["organization_id"].as_str().unwrap();
    let out = cli.run(&["seed", "--traces", "400", "--org", id]);
    assert!(out.status.success(), "{}", stderr(&out));

    let config = aegis_core::config::Config { data_dir: cli.dir.path().to_path_buf(), ..Default::default() };
    let store = aegis_core::store::Store::connect(&config.database_url(), config.db_max_connections).await.unwrap();
    let org: OrgId = id.parse().unwrap();
    let now = Utc::now();
    let month = store.overview(&org, now - Duration::days(31), now + Duration::minutes(1), None).await.unwrap();
    assert_eq!(month.total_traces, 400);
    let failed = month.status_counts.fail as f64 / 400.0;
    assert!((0.05..=0.15).contains(&failed), "a realistic share of problems: {failed:.3}");
    let last_day = store.overview(&org, now - Duration::days(1), now + Duration::minutes(1), None).await.unwrap();
    assert!(last_day.total_traces < 60, "not all evaluated in the last day: {}", last_day.total_traces);
    let points = store.trend(&org, now - Duration::days(31), now, None, Bucket::Day).await.unwrap();
    let days = points
        .iter()
        .filter(|p| p.status_counts.pass + p.status_counts.fail + p.status_counts.needs_review > 0)
        .count();
    assert!(days >= 25, "traffic on most days of the month: {days}");
    store.close().await;
}

#[test]
fn seed_fills_an_organization_and_can_skip() {
    let cli = Cli::new();
    let org = cli.org();
    let id = org["organization_id"].as_str().unwrap();
    let out = cli.run(&["seed", "--traces", "40", "--org", id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("seeded 40 traces"));
    let skipped = cli.run(&["seed", "--traces", "40", "--org", id, "--if-empty"]);
    assert!(stdout(&skipped).contains("already has traces"));

    let demo = cli.run(&["seed", "--traces", "5"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    assert!(stdout(&demo).contains("demo@aegis.local"), "the demo login is printed");
    let unknown = cli.run(&["seed", "--org", &uuid::Uuid::new_v4().to_string()]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no organization"));
}

#[test]
fn bad_configuration_is_reported() {
    let cli = Cli::new();
    let out = cli.command(&["migrate"]).env("DATABASE_URL", "mysql://localhost/aegis").output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("DATABASE_URL must start with sqlite: or postgres:"), "{}", stderr(&out));
    let out = cli.command(&["migrate"]).env("AEGIS_WORKER__LEASE_SECS", "soon").output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).to_lowercase().contains("lease_secs"), "{}", stderr(&out));
    let ok = cli.run(&["migrate"]);
    assert!(ok.status.success());
    assert!(stdout(&ok).contains("migrations applied (sqlite)"));

    // The README's default, spelled out, on a machine where neither the file nor its folder exists.
    let url = format!("sqlite://{}/fresh/aegis.db", cli.dir.path().display());
    let fresh = cli.command(&["migrate"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    assert!(cli.dir.path().join("fresh/aegis.db").exists());
    // A database that cannot be reached is one line, without the password.
    let out = cli
        .command(&["migrate"])
        .env("DATABASE_URL", "postgres://aegis:s3cret-pw@127.0.0.1:1/aegis")
        .env("AEGIS_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(message.contains("cannot open the database: postgres://aegis:***@127.0.0.1:1/aegis"), "{message}");
    assert!(!message.contains("s3cret-pw"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");
}

/// The load generators are a binary of their own, `aegis-bench`, not commands of `aegis`.
#[test]
fn the_benchmarks_are_a_tool_of_their_own() {
    let cli = Cli::new();
    assert!(!stdout(&cli.run(&["--help"])).contains("bench"), "not in the production binary");
    let bench = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_aegis-bench")).args(args).output().unwrap();
    for command in ["ingest", "read", "live", "alerts", "active-learning"] {
        let out = bench(&[command, "--help"]);
        assert!(out.status.success(), "{command}");
        assert!(stdout(&out).contains("Usage: aegis-bench"), "{command}");
    }
    let out = bench(&["ingest", "--url", "http://127.0.0.1:9", "--api-key", "k", "--duration", "1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("does not answer"), "{}", stderr(&out));
}

#[test]
fn keys_and_reidentification_from_the_command_line() {
    let cli = Cli::new();
    let org = cli.org();
    let id = org["organization_id"].as_str().unwrap();
    let key = cli.run(&["key", "create", "--org", id, "--role", "ingest", "--json"]);
    assert!(key.status.success(), "{}", stderr(&key));
    let key: serde_json::Value = serde_json::from_slice(&key.stdout).unwrap();
    assert_eq!(key["role"], "ingest");
    assert!(key["api_key"].as_str().unwrap().starts_with("aegis_sk_"));
    let bad_role = cli.run(&["key", "create", "--org", id, "--role", "root"]);
    assert_eq!(bad_role.status.code(), Some(2));

    // Seeded traces are de-identified at the door; their tokens come back with a reason.
    assert!(cli.run(&["seed", "--traces", "20", "--org", id]).status.success());
    let out = cli.run_with_stdin(&["phi", "scan"], "Patient Maria Garcia, MRN: 00482913");
    assert!(out.status.success());
    let scanned: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(scanned["entities"].as_array().unwrap().len(), 2);

    let no_reason = cli.run(&["phi", "reidentify", "--org", id, "--reason", "", "[NAME_000000000000]"]);
    assert!(!no_reason.status.success());
    assert!(stderr(&no_reason).contains("--reason"));
    let unknown = cli.run(&["phi", "reidentify", "--org", id, "--reason", "audit check", "[NAME_000000000000]"]);
    assert!(unknown.status.success(), "{}", stderr(&unknown));
    assert!(stdout(&unknown).contains("\"[NAME_000000000000]\": null"));
    let no_trace = cli.run(&[
        "phi",
        "reidentify",
        "--org",
        id,
        "--trace",
        "0190a6f0-0000-7000-8000-000000000000",
        "--reason",
        "audit check",
        "Avery Ellery",
    ]);
    assert!(!no_trace.status.success());
    assert!(stderr(&no_trace).contains("trace not found"), "{}", stderr(&no_trace));
    let bad_trace =
        cli.run(&["phi", "reidentify", "--org", id, "--trace", "yesterday", "--reason", "audit check", "x"]);
    assert!(!bad_trace.status.success());
    assert!(stderr(&bad_trace).contains("--trace"), "{}", stderr(&bad_trace));
}

#[test]
fn phi_eval_reports_and_rejects_bad_files() {
    let cli = Cli::new();
    let set = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/data/phi/handwritten.jsonl");
    let out = cli.run(&["phi", "eval", set]);
    assert!(out.status.success(), "{}", stderr(&out));
    for column in ["precision", "recall", "F2", "NAME", "overall"] {
        assert!(stdout(&out).contains(column), "{column}");
    }
    let missing = cli.run(&["phi", "eval", "/nonexistent.jsonl"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("cannot read"));
    let bad = cli.dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\": \"ab\", \"spans\": [{\"start\": 0, \"end\": 9, \"type\": \"NAME\"}]}\n").unwrap();
    let out = cli.run(&["phi", "eval", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 1"), "{}", stderr(&out));
}

#[test]
fn phi_train_tagger_writes_a_model_and_rejects_bad_input() {
    let cli = Cli::new();
    let set = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/data/phi/handwritten.jsonl");
    let model = cli.dir.path().join("tagger.bin");
    let model_path = model.to_str().unwrap();
    let out = cli.run(&["phi", "train-tagger", "--corpus", set, "--epochs", "2", "-o", model_path]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 epochs"), "{}", stdout(&out));
    let written = std::fs::read(&model).unwrap();
    assert!(aegis_core::phi::tagger::Tagger::from_bytes(&written).is_ok());
    // The same corpus trains the same model.
    let again = cli.dir.path().join("again.bin");
    let out = cli.run(&["phi", "train-tagger", "--corpus", set, "--epochs", "2", "-o", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&again).unwrap(), written);

    let zero = cli.run(&["phi", "train-tagger", "--corpus", set, "--epochs", "0", "-o", model_path]);
    assert!(!zero.status.success());
    assert!(stderr(&zero).contains("--epochs"), "{}", stderr(&zero));
    let missing = cli.run(&["phi", "train-tagger", "--corpus", "/nonexistent.jsonl", "-o", model_path]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("cannot read"), "{}", stderr(&missing));
    let empty = cli.dir.path().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let out = cli.run(&["phi", "train-tagger", "--corpus", empty.to_str().unwrap(), "-o", model_path]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no texts"), "{}", stderr(&out));
    // A failed run leaves the model it would have replaced alone.
    assert_eq!(std::fs::read(&model).unwrap(), written);
}

#[test]
fn models_retrain_list_and_promote_from_the_command_line() {
    let cli = Cli::new();
    let org = cli.org();
    let id = org["organization_id"].as_str().unwrap();
    let domains = concat!(env!("CARGO_MANIFEST_DIR"), "/../domains");
    let run = |args: &[&str]| cli.command(args).env("AEGIS_DOMAINS_DIR", domains).output().unwrap();

    let trained = run(&["models", "retrain", "--org", id, "--domain", "healthcare"]);
    assert!(trained.status.success(), "{}", stderr(&trained));
    assert!(stdout(&trained).contains("held-out labels"), "{}", stdout(&trained));
    let listed = run(&["models", "list", "--org", id]);
    let model_id = stdout(&listed).split_whitespace().next().unwrap_or_default().to_string();
    assert!(model_id.starts_with("md_"), "{}", stdout(&listed));
    let promoted = run(&["models", "promote", "--org", id, &model_id]);
    assert!(promoted.status.success(), "{}", stderr(&promoted));
    assert!(stdout(&promoted).contains("is in production"));

    let unknown = run(&["models", "retrain", "--org", id, "--domain", "retail"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("retail"), "{}", stderr(&unknown));
    let missing = run(&["models", "promote", "--org", id, "md_nope"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("md_nope"), "{}", stderr(&missing));
}
