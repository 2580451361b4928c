//! The workers' section of the configuration (`[worker]`).

use serde::{Deserialize, Serialize};

/// How workers claim and evaluate jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerConfig {
    /// Worker loops per process.
    pub concurrency: usize,
    /// Jobs claimed per round trip.
    pub claim_batch: usize,
    /// How long a claimed job belongs to its worker before another may take it over.
    pub lease_secs: u64,
    /// Attempts before a job is given up and recorded as an `error` evaluation.
    pub max_attempts: u32,
    /// How often an idle worker looks for jobs written by other processes.
    pub poll_interval_ms: u64,
    /// How long a worker lets jobs accumulate before claiming a partial batch: a little
    /// evaluation latency buys far fewer, larger write transactions.
    pub batch_linger_ms: u64,
    /// Date each evaluation as of its trace's receipt instead of now: for replaying history
    /// (`aegis seed`), so a month of traces lands in a month of hours. Off in production.
    pub evaluate_as_received: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            claim_batch: 256,
            lease_secs: 60,
            max_attempts: 5,
            poll_interval_ms: 250,
            batch_linger_ms: 20,
            evaluate_as_received: false,
        }
    }
}
