//! Ingest: the front door of the data path.
//!
//! A submitted trace is validated and prepared in the caller's task, then handed to a
//! group-commit writer that stores many concurrent submissions, each trace with its evaluation
//! job, in one transaction. The caller's future resolves only after that commit, so an
//! acknowledged trace is durable; and one fsync serves a whole group, so durability does not
//! cost throughput.

pub mod config;
pub mod parse;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, Mutex, Notify, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::model::{OrgId, TraceInput};
use crate::phi::{OrgPhi, PhiService};
use crate::store::{Backend, InsertOutcome, NewTrace, Store};
use crate::telemetry::{CoreMetrics, PhiTypeLabel};
use crate::{Error, Result};
use config::IngestConfig;

/// The result for one submitted trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub trace_id: Uuid,
    pub outcome: InsertOutcome,
}

struct Submission {
    traces: Vec<NewTrace>,
    reply: oneshot::Sender<Result<Vec<InsertOutcome>>>,
}

/// Accepts traces on behalf of an organization. Cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    submissions: mpsc::Sender<Submission>,
    phi: PhiService,
    /// KiB of traces submitted and not yet committed: the queue's bound by size.
    queued_kib: Arc<Semaphore>,
    queue_kib: u32,
    /// One permit per core: batches de-identified on blocking threads at once. More would
    /// only take turns on the same cores, and starve the runtime's own threads (the writer,
    /// health checks) while they do.
    deidentifying: Arc<Semaphore>,
}

impl Ingestor {
    /// Starts the group-commit writers. They stop once every `Ingestor` clone is dropped and
    /// the submissions already queued are written.
    pub fn start(
        store: Store,
        phi: PhiService,
        config: &IngestConfig,
        metrics: CoreMetrics,
        work_available: Arc<Notify>,
    ) -> (Ingestor, JoinSet<()>) {
        let (tx, rx) = mpsc::channel(config.queue_capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        // SQLite has a single writer however many tasks ask; more would only contend.
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => config.writers.max(1),
        };
        let mut tasks = JoinSet::new();
        for _ in 0..writers {
            let writer = GroupCommitWriter {
                store: store.clone(),
                submissions: rx.clone(),
                max_traces: config.max_group_commit,
                metrics: metrics.clone(),
                work_available: work_available.clone(),
            };
            tasks.spawn(writer.run());
        }
        let queue_kib = u32::try_from(config.queue_bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        let queued_kib = Arc::new(Semaphore::new(queue_kib as usize));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let deidentifying = Arc::new(Semaphore::new(cores));
        (Ingestor { submissions: tx, phi, queued_kib, queue_kib, deidentifying }, tasks)
    }

    /// De-identifies and stores traces; resolves once they are committed. Every trace must
    /// already be valid (see [`parse::parse_trace`]); the result has one entry per trace, in
    /// order.
    pub async fn submit(&self, org: &OrgId, traces: Vec<TraceInput>) -> Result<Vec<Accepted>> {
        self.submit_received(org, traces, Received::Now).await
    }

    /// [`Ingestor::submit`], with the traces received when `received` says.
    pub async fn submit_received(
        &self,
        org: &OrgId,
        traces: Vec<TraceInput>,
        received: Received,
    ) -> Result<Vec<Accepted>> {
        let now = Utc::now();
        let phi = self.phi.for_org(org).await?;
        // Held from before de-identification until the commit: a submission larger than the
        // whole queue still goes, alone.
        let bytes: usize = traces.iter().map(TraceInput::approximate_bytes).sum();
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.queue_kib);
        let _queued = self.queued_kib.clone().try_acquire_many_owned(kib).map_err(|_| {
            Error::Unavailable(format!(
                "the ingest queue holds its {} MiB of traces waiting to be stored; retry shortly",
                self.queue_kib / 1024
            ))
        })?;
        let large = bytes > OFFLOAD_BYTES;
        let prepare_all = {
            let org = org.clone();
            move || {
                traces
                    .into_iter()
                    .map(|t| {
                        let received_at = match received {
                            Received::Now => now,
                            Received::AsDated => t.timestamp.unwrap_or(now).min(now),
                        };
                        prepare(&org, &phi, t, received_at)
                    })
                    .collect::<Result<Vec<_>>>()
            }
        };
        // De-identifying is CPU work: a submission of over 256 KiB goes to a blocking thread so it
        // cannot hold up the runtime (health checks, other requests) for more than a few
        // milliseconds; a smaller one, the common case, is not worth the hand-off (measured: 5 to
        // 10% of batch throughput, see docs/PERFORMANCE.md).
        let prepared = if large {
            let _core = self
                .deidentifying
                .acquire()
                .await
                .map_err(|_| Error::Unavailable("the ingest path is shutting down".into()))?;
            tokio::task::spawn_blocking(prepare_all)
                .await
                .map_err(|e| Error::Internal(format!("de-identification panicked: {e}")))??
        } else {
            prepare_all()?
        };
        let ids: Vec<Uuid> = prepared.iter().map(|t| t.trace_id).collect();
        let (reply, outcome) = oneshot::channel();
        self.submissions
            .send(Submission { traces: prepared, reply })
            .await
            .map_err(|_| Error::Unavailable("the ingest writer has stopped".into()))?;
        let outcomes =
            outcome.await.map_err(|_| Error::Unavailable("the ingest writer stopped before committing".into()))??;
        Ok(ids.into_iter().zip(outcomes).map(|(trace_id, outcome)| Accepted { trace_id, outcome }).collect())
    }
}

/// When submitted traces count as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Now: what every client's trace gets.
    Now,
    /// When each trace says it happened (its `timestamp`, never later than now): for replaying
    /// history, as `aegis seed` does.
    AsDated,
}

/// Size above which a submission is de-identified off the async runtime: about 8 ms of work.
const OFFLOAD_BYTES: usize = 256 * 1024;

/// Turns a validated submission into the row to store: de-identified, its originals sealed.
fn prepare(org: &OrgId, phi: &OrgPhi, mut input: TraceInput, received_at: DateTime<Utc>) -> Result<NewTrace> {
    // The hash covers exactly what the client sent, so a retry of the same request matches.
    let content_hash = hex::encode(Sha256::digest(serde_json::to_vec(&input)?));
    let deidentified = phi.deidentify_trace(&mut input);
    let TraceInput { trace_id, application_id, ai_processing, steps, metadata, timestamp } = input;
    Ok(NewTrace {
        org_id: org.clone(),
        trace_id: trace_id.unwrap_or_else(Uuid::now_v7),
        application_id,
        ai_processing,
        steps_json: serde_json::to_string(&steps)?,
        domain: metadata.get("domain").cloned(),
        metadata_json: serde_json::to_string(&metadata)?,
        timestamp: timestamp.unwrap_or(received_at),
        received_at,
        content_hash,
        phi_replaced: crate::store::put_in_json(&deidentified.put_in),
        vault: deidentified.vault,
        second_pass: deidentified.second_pass,
    })
}

struct GroupCommitWriter {
    store: Store,
    submissions: Arc<Mutex<mpsc::Receiver<Submission>>>,
    max_traces: usize,
    metrics: CoreMetrics,
    work_available: Arc<Notify>,
}

impl GroupCommitWriter {
    async fn run(self) {
        while let Some(group) = self.next_group().await {
            self.commit(group).await;
        }
    }

    /// Waits for one submission, then takes whatever else is already waiting, up to the cap.
    /// Under load the queue fills while the previous group commits, so groups grow by
    /// themselves; when idle, a lone trace is written at once.
    async fn next_group(&self) -> Option<Vec<Submission>> {
        let mut rx = self.submissions.lock().await;
        let first = rx.recv().await?;
        let mut count = first.traces.len();
        let mut group = vec![first];
        while count < self.max_traces {
            match rx.try_recv() {
                Ok(s) => {
                    count += s.traces.len();
                    group.push(s);
                }
                Err(_) => break,
            }
        }
        Some(group)
    }

    async fn commit(&self, group: Vec<Submission>) {
        let sizes: Vec<usize> = group.iter().map(|s| s.traces.len()).collect();
        let (traces, replies): (Vec<_>, Vec<_>) = group.into_iter().map(|s| (s.traces, s.reply)).unzip();
        let rows: Vec<NewTrace> = traces.into_iter().flatten().collect();
        match self.store.insert_traces(&rows).await {
            Ok(outcomes) => {
                self.record(&rows, &outcomes);
                let mut outcomes = outcomes.into_iter();
                for (reply, n) in replies.into_iter().zip(sizes) {
                    let _ = reply.send(Ok(outcomes.by_ref().take(n).collect()));
                }
            }
            Err(e) if replies.len() > 1 => {
                // Whatever failed, it must not take the other submissions down with it:
                // retry each alone so only the culprit sees the error.
                tracing::warn!(error = %e, "group commit failed; retrying submissions one by one");
                let mut rows = rows.into_iter();
                for (reply, n) in replies.into_iter().zip(sizes) {
                    let mine: Vec<NewTrace> = rows.by_ref().take(n).collect();
                    let result = self.store.insert_traces(&mine).await;
                    if let Ok(outcomes) = &result {
                        self.record(&mine, outcomes);
                    }
                    let _ = reply.send(result.map_err(unavailable));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store traces");
                for reply in replies {
                    let _ = reply.send(Err(unavailable(&e)));
                }
            }
        }
    }

    fn record(&self, rows: &[NewTrace], outcomes: &[InsertOutcome]) {
        let created = outcomes.iter().filter(|o| **o == InsertOutcome::Created).count();
        for (row, _) in rows.iter().zip(outcomes).filter(|(_, o)| **o == InsertOutcome::Created) {
            for (phi_type, n) in &row.second_pass {
                let label = PhiTypeLabel { r#type: phi_type.as_str().to_string() };
                self.metrics.phi_second_pass.get_or_create(&label).inc_by(u64::from(*n));
            }
        }
        self.metrics.traces_ingested.inc_by(created as u64);
        self.metrics.traces_duplicate.inc_by((outcomes.len() - created) as u64);
        self.metrics.group_commit_traces.observe(outcomes.len() as f64);
        if created > 0 {
            self.work_available.notify_waiters();
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("could not store traces: {e}"))
}
