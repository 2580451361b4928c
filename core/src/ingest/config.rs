//! The door's section of the configuration (`[ingest]`).

use serde::{Deserialize, Serialize};

/// The group-commit writers and the queue in front of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// Most traces committed together in one group-commit transaction.
    pub max_group_commit: usize,
    /// Concurrent group-commit writers. SQLite has one writer whatever this says.
    pub writers: usize,
    /// Submissions waiting for a writer before callers are made to wait (backpressure).
    pub queue_capacity: usize,
    /// Bytes of traces waiting to be committed, at most; a submission that would pass it is
    /// answered 503 with `Retry-After` at once. Bounds memory however large each trace is.
    pub queue_bytes: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { max_group_commit: 2_000, writers: 4, queue_capacity: 10_000, queue_bytes: 256 << 20 }
    }
}
