//! `aegis-bench`: load generators for a running Aegis and the active-learning simulation. A
//! tool of its own, so that none of it ships in the production `aegis` binary.

mod bench;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "aegis-bench", version, about = "Load and simulation benchmarks for Aegis (see docs/PERFORMANCE.md).")]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
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

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match aegis_server::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            BenchCommand::Ingest(args) => bench::ingest(args).await,
            BenchCommand::Read(args) => bench::read(args).await,
            BenchCommand::Live(args) => bench::live(args).await,
            BenchCommand::Alerts(args) => bench::alerts(args).await,
            BenchCommand::ActiveLearning(args) => bench::active_learning(args),
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
