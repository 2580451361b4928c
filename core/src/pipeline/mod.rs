//! Workers: claim evaluation jobs, run the cascade, record the results.
//!
//! A worker holds its jobs under a lease. If it dies, the lease runs out and another worker
//! (in this process or another) takes the jobs over; results are written at most once per
//! trace, so a job that runs twice has no second effect.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use rand::Rng as _;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub mod config;
mod record;

pub use record::record;

use crate::domains::classifier::ClassifierModel;
use crate::limits::Limits;
use crate::live::LiveFeed;
use crate::model::{Evaluation, OrgId, Trace};
use crate::sinks::Links;
use crate::store::{ClaimedJob, Store};
use crate::telemetry::{CoreMetrics, StatusLabel};
use crate::tiers::{Cascade, Context, JudgeCalls};
use config::WorkerConfig;

/// How long to wait after the database itself failed before trying again.
const STORE_ERROR_PAUSE: Duration = Duration::from_secs(1);
/// Longest pause between two attempts at one job.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

/// One evaluation loop. Run several per process, and as many processes as needed.
pub struct Worker {
    pub name: String,
    pub store: Store,
    pub cascade: Arc<Cascade>,
    pub config: WorkerConfig,
    /// Most an organization spends on the judge per UTC day, in micro-dollars.
    pub judge_budget_micro_usd: i64,
    /// Judge calls in flight at once; evaluations that need no judge finish without waiting.
    pub concurrency: usize,
    pub metrics: CoreMetrics,
    /// Signalled when this process stores new traces, so idle workers need not wait to poll.
    pub work_available: Arc<Notify>,
    /// Where finished evaluations are announced to the dashboards.
    pub live: LiveFeed,
    /// The organizations' daily judge-call allowances.
    pub limits: Limits,
    /// Signalled when recorded evaluations may have written webhooks or alerts to send.
    pub deliveries_ready: Arc<Notify>,
    /// Organizations' production models, by registry id, loaded once each.
    pub models: ModelCache,
    /// Where links in the webhooks and alerts this worker raises point.
    pub links: Links,
}

/// The registry's models this worker has loaded. Promoting another model changes which id is in
/// production, so the next batch loads it: no restart needed. It holds at most
/// [`MODEL_CACHE_CAPACITY`] models and forgets the least recently used first, so that models
/// promoted away from, and organizations long gone, do not stay in memory.
#[derive(Clone, Default)]
pub struct ModelCache(Arc<std::sync::Mutex<LeastRecentlyUsed<Arc<ClassifierModel>>>>);

/// Models kept per process: far more than the production models of the organizations one worker
/// serves at a time, few enough that their weights stay small beside the process.
pub const MODEL_CACHE_CAPACITY: usize = 256;

/// Values by id, at most [`MODEL_CACHE_CAPACITY`], the least recently used forgotten first.
pub struct LeastRecentlyUsed<V> {
    models: HashMap<String, (V, u64)>,
    clock: u64,
}

impl<V> Default for LeastRecentlyUsed<V> {
    fn default() -> Self {
        LeastRecentlyUsed { models: HashMap::new(), clock: 0 }
    }
}

impl<V: Clone> LeastRecentlyUsed<V> {
    fn get(&mut self, id: &str) -> Option<V> {
        self.clock += 1;
        let clock = self.clock;
        self.models.get_mut(id).map(|(model, used)| {
            *used = clock;
            model.clone()
        })
    }

    fn insert(&mut self, id: String, model: V) {
        self.clock += 1;
        if self.models.len() >= MODEL_CACHE_CAPACITY && !self.models.contains_key(&id) {
            if let Some(oldest) = self.models.iter().min_by_key(|(_, (_, used))| *used).map(|(id, _)| id.clone()) {
                self.models.remove(&oldest);
            }
        }
        self.models.insert(id, (model, self.clock));
    }
}

/// An organization's production models, by domain.
type OrgModels = Arc<HashMap<String, Arc<ClassifierModel>>>;

/// The organizations' production models, and those that could not be read, with why.
#[derive(Default)]
struct Production {
    models: HashMap<OrgId, OrgModels>,
    unreadable: HashMap<(OrgId, String), String>,
}

impl ModelCache {
    async fn production(&self, store: &Store, orgs: &[OrgId]) -> crate::Result<Production> {
        let mut by_org: HashMap<OrgId, HashMap<String, Arc<ClassifierModel>>> = HashMap::new();
        let mut unreadable = HashMap::new();
        for (org, domain, id) in store.production_model_ids(orgs).await? {
            let cached = self.0.lock().ok().and_then(|mut c| c.get(&id));
            let model = match cached {
                Some(model) => model,
                None => match store
                    .model_body(&id)
                    .await
                    .and_then(|body| body.map(|body| ClassifierModel::from_registry(&id, &body)).transpose())
                {
                    Ok(Some(model)) => {
                        let model = Arc::new(model);
                        if let Ok(mut cache) = self.0.lock() {
                            cache.insert(id.clone(), model.clone());
                        }
                        model
                    }
                    // Scoring with the pack's model instead would quietly swap the verdict's
                    // model: that organization's traces of the domain wait and retry instead.
                    Ok(None) => {
                        unreadable.insert((org, domain), format!("its production Tier 2 model {id} is missing"));
                        continue;
                    }
                    Err(e) => {
                        unreadable
                            .insert((org, domain), format!("its production Tier 2 model {id} cannot be read: {e}"));
                        continue;
                    }
                },
            };
            by_org.entry(org).or_default().insert(domain, model);
        }
        let models = by_org.into_iter().map(|(org, models)| (org, Arc::new(models))).collect();
        Ok(Production { models, unreadable })
    }
}

impl Worker {
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::debug!(worker = %self.name, "worker started");
        let poll = Duration::from_millis(self.config.poll_interval_ms);
        let lease = Duration::from_secs(self.config.lease_secs);
        let linger = Duration::from_millis(self.config.batch_linger_ms);
        loop {
            // Registered before claiming, so a notification that arrives mid-claim is not lost.
            let notified = self.work_available.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let jobs = match self.store.claim_jobs(&self.name, self.config.claim_batch, lease).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(worker = %self.name, error = %e, "could not claim jobs");
                    tokio::select! {
                        _ = tokio::time::sleep(STORE_ERROR_PAUSE) => continue,
                        _ = shutdown.cancelled() => break,
                    }
                }
            };
            if jobs.is_empty() {
                tokio::select! {
                    _ = &mut notified => {
                        // Let a few more commits land, so that one claim and one write serve
                        // many traces instead of a handful.
                        tokio::time::sleep(linger).await;
                    }
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
            let full = jobs.len() >= self.config.claim_batch;
            self.process(jobs).await;
            if !full {
                tokio::select! {
                    _ = tokio::time::sleep(linger) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
            if shutdown.is_cancelled() {
                break;
            }
        }
        tracing::debug!(worker = %self.name, "worker stopped");
    }

    /// Evaluates a claimed batch. Jobs whose results cannot be recorded keep their lease and
    /// are retried when it runs out.
    pub async fn process(&self, jobs: Vec<ClaimedJob>) {
        let keys: Vec<(OrgId, Uuid)> = jobs.iter().map(|j| (j.org_id.clone(), j.trace_id)).collect();
        let traces: HashMap<(OrgId, Uuid), Trace> = match self.store.get_traces(&keys).await {
            Ok(found) => found.into_iter().map(|(org, t)| ((org, t.trace_id), t)).collect(),
            Err(e) => {
                tracing::warn!(worker = %self.name, error = %e, "could not load traces");
                return;
            }
        };

        let allowed = self.judge_allowed(&jobs).await;
        let orgs: Vec<OrgId> = jobs.iter().map(|j| j.org_id.clone()).collect::<HashSet<_>>().into_iter().collect();
        // Without its switches a trace would run modules its organization turned off: retry later.
        let (disabled, plans, models) = match futures::try_join!(
            self.store.disabled_modules(&orgs),
            self.store.organization_plans(&orgs),
            self.models.production(&self.store, &orgs)
        ) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(worker = %self.name, error = %e, "could not load the organizations' settings");
                return;
            }
        };
        let packs = self.cascade.domains().current();
        let outcomes: Vec<(ClaimedJob, Result<Evaluation, String>)> = futures::stream::iter(jobs)
            .map(|job| {
                let trace = traces.get(&(job.org_id.clone(), job.trace_id));
                let unreadable = (!models.unreadable.is_empty())
                    .then(|| trace.and_then(|t| packs.route(&job.org_id, t.domain()?)))
                    .flatten()
                    .and_then(|p| models.unreadable.get(&(job.org_id.clone(), p.name().to_string())));
                let ctx = Context {
                    org: Some(job.org_id.clone()),
                    attempts: job.attempts,
                    judge_allowed: allowed.contains(&job.org_id),
                    disabled: disabled.get(&job.org_id).cloned().unwrap_or_default(),
                    models: models.models.get(&job.org_id).cloned().unwrap_or_default(),
                    judge_calls: Some(JudgeCalls {
                        limits: self.limits.clone(),
                        org: job.org_id.clone(),
                        plan: plans.get(&job.org_id).cloned().flatten(),
                    }),
                };
                async move {
                    let outcome = match (trace, unreadable) {
                        (_, Some(why)) => Err(format!("the organization's model cannot score it: {why}")),
                        (Some(trace), None) => self.evaluate(trace, ctx).await.map(|mut evaluation| {
                            // Replayed history lands in the hours it happened in, not in the
                            // minute it was seeded.
                            if self.config.evaluate_as_received {
                                let took = chrono::Duration::microseconds((evaluation.latency_ms * 1_000.0) as i64);
                                evaluation.evaluated_at = trace.received_at + took;
                            }
                            evaluation
                        }),
                        // Cannot happen while traces and jobs are written together; recorded, not hidden.
                        (None, None) => Err("the trace of this job does not exist".to_string()),
                    };
                    (job, outcome)
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;

        let mut done: Vec<(ClaimedJob, Evaluation)> = Vec::with_capacity(outcomes.len());
        for (job, outcome) in outcomes {
            match outcome {
                Ok(evaluation) => done.push((job, evaluation)),
                Err(error) if job.attempts >= self.config.max_attempts => {
                    tracing::error!(trace_id = %job.trace_id, %error, "evaluation failed for good");
                    let evaluation = Cascade::failed(job.trace_id, job.attempts, &error);
                    done.push((job, evaluation));
                }
                Err(error) => {
                    self.metrics.job_retries.inc();
                    let delay = retry_delay(job.attempts);
                    tracing::warn!(trace_id = %job.trace_id, %error, ?delay, "evaluation failed; will retry");
                    if let Err(e) = self.store.retry_job(&job, &error, delay).await {
                        tracing::warn!(error = %e, "could not reschedule job; its lease will expire");
                    }
                }
            }
        }

        match record(&self.store, &self.links, &done).await {
            Ok(events) => {
                if !events.is_empty() {
                    self.deliveries_ready.notify_one();
                }
                self.live.recorded(events);
                for (_, e) in &done {
                    self.metrics.evaluations.get_or_create(&StatusLabel { status: e.status.as_str().into() }).inc();
                    self.metrics.evaluation_seconds.observe(e.latency_ms / 1e3);
                    if e.issues.iter().any(|i| i.code == crate::tiers::UNKNOWN_DOMAIN) {
                        self.metrics.traces_without_domain.inc();
                    }
                }
            }
            Err(e) => tracing::warn!(worker = %self.name, error = %e, "could not record evaluations"),
        }
    }

    async fn evaluate(&self, trace: &Trace, ctx: Context) -> Result<Evaluation, String> {
        // A module that panics is a bug in that module; it fails this job, not the worker.
        std::panic::AssertUnwindSafe(self.cascade.evaluate(trace, ctx)).catch_unwind().await.map_err(|panic| {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            format!("an evaluation module panicked: {detail}")
        })
    }

    /// The organizations of `jobs` with judge budget left today. Checked once per batch, so a
    /// batch may overshoot the budget by what its own judge calls cost.
    async fn judge_allowed(&self, jobs: &[ClaimedJob]) -> HashSet<OrgId> {
        let mut allowed = HashSet::new();
        if !self.cascade.has_judge() {
            return allowed;
        }
        let orgs: HashSet<&OrgId> = jobs.iter().map(|j| &j.org_id).collect();
        for org in orgs {
            match self.store.tier_cost_today(org, 3).await {
                Ok(spent) if spent < self.judge_budget_micro_usd => {
                    allowed.insert(org.clone());
                }
                Ok(spent) => tracing::info!(%org, spent, "judge budget for today is spent"),
                Err(e) => tracing::warn!(%org, error = %e, "cannot read today's judge spending; not calling the judge"),
            }
        }
        allowed
    }
}

/// Exponential backoff with jitter: about 2, 4, 8, ... seconds, capped at five minutes.
pub fn retry_delay(attempts: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempts.min(16)).min(MAX_RETRY_DELAY);
    let jitter = rand::thread_rng().gen_range(0.5..1.0);
    base.mul_f64(jitter).max(Duration::from_millis(500))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_cache_forgets_the_least_recently_used() {
        let mut cache = LeastRecentlyUsed::<usize>::default();
        for i in 0..MODEL_CACHE_CAPACITY {
            cache.insert(format!("m{i}"), i);
        }
        assert_eq!(cache.get("m0"), Some(0), "m0 is now the most recently used");
        cache.insert("new".into(), 999);
        assert_eq!(cache.models.len(), MODEL_CACHE_CAPACITY);
        assert_eq!(cache.get("m1"), None, "m1 was the least recently used");
        assert_eq!((cache.get("m0"), cache.get("new")), (Some(0), Some(999)));
    }

    #[test]
    fn retry_delays_grow_and_are_capped() {
        assert!(retry_delay(1) <= Duration::from_secs(2));
        assert!(retry_delay(5) >= Duration::from_secs(16));
        assert!(retry_delay(30) <= MAX_RETRY_DELAY);
    }
}
