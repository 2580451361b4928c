//! `aegis`: the command line. Errors end here, as a message and a non-zero exit; each command
//! is a file of `commands/`.

mod commands;

use clap::Parser;

#[derive(Parser)]
#[command(name = "aegis", version, about = "Aegis: evaluation for AI systems in high-stakes domains.")]
#[command(after_help = "Configuration: aegis.toml, AEGIS_* variables and DATABASE_URL (see the README).")]
struct Cli {
    #[command(subcommand)]
    command: Option<commands::Command>,
}

// glibc's allocator spends a noticeable share of the ingest path in lock contention and
// consolidation; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match aegis_server::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli.command)) {
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
