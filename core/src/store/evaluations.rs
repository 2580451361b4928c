//! Evaluation results. Writing a result, updating the trace's status and deleting its job
//! happen in one transaction (the pipeline's recording step holds it), and a result is written
//! at most once per trace: a job that runs twice (a lease that ran out under a slow worker) has
//! no second effect.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use super::rollups::RollupBatch;
use super::{corrupt, from_micros, to_micros, Backend, ClaimedJob, Store, WriteTx, ROWS_PER_STATEMENT};
use crate::model::{
    Decision, Evaluation, EvaluationStatus, Facet, OrgId, ReviewRequest, Severity, TierCost, TraceStatus,
};
use crate::Result;

/// What `GET /api/v1/evaluations/{trace_id}` finds.
#[derive(Debug, Clone, PartialEq)]
pub enum EvaluationLookup {
    Done(Box<Evaluation>),
    /// The trace exists and its evaluation has not finished.
    Pending,
    NotFound,
}

const EVALUATION_COLUMNS: usize = 12;

/// An evaluation recorded for the first time, with what its trace row adds: what the live
/// feed, webhooks and alert rules are told about.
#[derive(Debug, Clone)]
pub struct Recorded<'a> {
    pub job: &'a ClaimedJob,
    pub evaluation: &'a Evaluation,
    pub application_id: String,
    pub received_at: DateTime<Utc>,
}

impl Store {
    /// Writes finished evaluations in `tx`: the results, their traces' status and search
    /// entries, the reviews they ask for and the rollups. Returns the new ones (not those
    /// recorded before), for the caller to work out what they cause in the same transaction.
    pub async fn insert_evaluations<'a>(
        &self,
        tx: &mut WriteTx,
        done: &'a [(ClaimedJob, Evaluation)],
    ) -> Result<Vec<Recorded<'a>>> {
        let mut new = HashSet::new();
        for chunk in done.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO evaluations (org_id, trace_id, status, severity, tiers_run, modules, \
                 issues, cost_micro_usd, latency_ms, attempts, evaluated_at, details) VALUES {} \
                 ON CONFLICT (org_id, trace_id) DO NOTHING RETURNING org_id, trace_id",
                self.values_list(chunk.len(), EVALUATION_COLUMNS, 1)
            );
            let mut query = sqlx::query(&sql);
            for (job, e) in chunk {
                query = query
                    .bind(job.org_id.to_string())
                    .bind(job.trace_id.to_string())
                    .bind(e.status.as_str())
                    .bind(e.severity.as_str())
                    .bind(serde_json::to_string(&e.tiers_run)?)
                    .bind(serde_json::to_string(&e.modules)?)
                    .bind(serde_json::to_string(&e.issues)?)
                    .bind(e.cost_micro_usd)
                    .bind(e.latency_ms)
                    .bind(i64::from(e.attempts))
                    .bind(to_micros(e.evaluated_at))
                    .bind(serde_json::to_string(&Details::of(e))?);
            }
            for row in query.fetch_all(&mut **tx).await? {
                let org: String = row.try_get("org_id")?;
                let trace: String = row.try_get("trace_id")?;
                new.insert((org, trace));
            }
        }

        // Only the first result for a trace sets its status.
        let mut traces: HashMap<(String, String), (String, DateTime<Utc>)> = HashMap::new();
        let fresh: Vec<_> =
            done.iter().filter(|(job, _)| new.contains(&(job.org_id.to_string(), job.trace_id.to_string()))).collect();
        for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
            // The trace becomes searchable with its result (Postgres: its tsvector column).
            let search = match self.backend {
                Backend::Postgres => format!(
                    ", search = to_tsvector('simple', traces.input || ' ' || traces.output) || to_tsvector('simple', {})",
                    super::traces::POSTGRES_SEARCH_TAGS.replace("traces.status", "v.column3").replace("traces.severity", "v.column4")
                ),
                Backend::Sqlite => String::new(),
            };
            let sql = format!(
                "UPDATE traces SET status = v.column3, severity = v.column4{search} FROM (VALUES {}) AS v \
                 WHERE traces.org_id = v.column1 AND traces.id = v.column2 \
                 RETURNING org_id, id, application_id, received_at",
                self.values_list(chunk.len(), 4, 1)
            );
            let mut query = sqlx::query(&sql);
            for (job, e) in chunk {
                query = query
                    .bind(job.org_id.to_string())
                    .bind(job.trace_id.to_string())
                    .bind(TraceStatus::from(e.status).as_str())
                    .bind(e.severity.as_str());
            }
            for row in query.fetch_all(&mut **tx).await? {
                let key = (row.try_get::<String, _>("org_id")?, row.try_get::<String, _>("id")?);
                traces.insert(key, (row.try_get("application_id")?, from_micros(row.try_get("received_at")?)));
            }
            if self.backend == Backend::Sqlite {
                let sql = format!(
                    "INSERT INTO trace_search (rowid, input, output, tags) \
                     SELECT traces.rowid, traces.input, traces.output, {} \
                     FROM traces JOIN (VALUES {}) AS v ON traces.org_id = v.column1 AND traces.id = v.column2",
                    super::traces::SQLITE_SEARCH_TAGS,
                    self.values_list(chunk.len(), 2, 1)
                );
                let mut query = sqlx::query(&sql);
                for (job, _) in chunk {
                    query = query.bind(job.org_id.to_string()).bind(job.trace_id.to_string());
                }
                query.execute(&mut **tx).await?;
            }
        }

        self.queue_reviews(tx, &fresh).await?;
        let mut rollups = RollupBatch::default();
        for (job, e) in &fresh {
            rollups.add(&job.org_id, e);
        }
        rollups.write(self, tx).await?;
        Ok(fresh
            .into_iter()
            .filter_map(|(job, evaluation)| {
                let (application_id, received_at) =
                    traces.remove(&(job.org_id.to_string(), job.trace_id.to_string()))?;
                Some(Recorded { job, evaluation, application_id, received_at })
            })
            .collect())
    }

    /// Removes the jobs of `done`, whose results are recorded.
    pub async fn delete_jobs(&self, tx: &mut WriteTx, done: &[(ClaimedJob, Evaluation)]) -> Result<()> {
        for chunk in done.chunks(ROWS_PER_STATEMENT) {
            // One "row" of n values is exactly an IN list: `IN ($1, $2, ...)`.
            let sql = format!("DELETE FROM evaluation_jobs WHERE id IN {}", self.values_list(1, chunk.len(), 1));
            let mut query = sqlx::query(&sql);
            for (job, _) in chunk {
                query = query.bind(job.id);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub async fn get_evaluation(&self, org: &OrgId, trace_id: Uuid) -> Result<EvaluationLookup> {
        let row = sqlx::query(
            "SELECT status, severity, tiers_run, modules, issues, cost_micro_usd, latency_ms, \
             attempts, evaluated_at, details FROM evaluations WHERE org_id = $1 AND trace_id = $2",
        )
        .bind(org.to_string())
        .bind(trace_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(EvaluationLookup::Done(Box::new(evaluation_from_row(trace_id, &row)?)));
        }
        let exists = sqlx::query("SELECT 1 AS one FROM traces WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(trace_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(if exists.is_some() { EvaluationLookup::Pending } else { EvaluationLookup::NotFound })
    }

    /// Tier 4: traces the cascade sends to an expert, highest priority first when read.
    async fn queue_reviews(&self, tx: &mut WriteTx, fresh: &[&(ClaimedJob, Evaluation)]) -> Result<()> {
        let reviews: Vec<_> = fresh.iter().filter_map(|(job, e)| Some((job, e, e.review.as_ref()?))).collect();
        for chunk in reviews.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO review_queue (org_id, trace_id, domain, reason, priority, created_at, reviews_needed) \
                 VALUES {} ON CONFLICT (org_id, trace_id) DO NOTHING",
                self.values_list(chunk.len(), 7, 1)
            );
            let mut query = sqlx::query(&sql);
            for (job, e, review) in chunk {
                query = query
                    .bind(job.org_id.to_string())
                    .bind(job.trace_id.to_string())
                    .bind(e.domain.clone().unwrap_or_default())
                    .bind(review.reason.clone())
                    .bind(review.priority)
                    .bind(to_micros(e.evaluated_at))
                    .bind(super::reviews::reviews_needed(job.trace_id));
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// How many evaluations ended with each status, for one organization.
    pub async fn count_evaluations_by_status(&self, org: &OrgId) -> Result<Vec<(EvaluationStatus, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM evaluations WHERE org_id = $1 GROUP BY status")
            .bind(org.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let status = EvaluationStatus::parse(&status).ok_or_else(|| corrupt("evaluation", &status))?;
                Ok((status, row.try_get("n")?))
            })
            .collect()
    }
}

pub(crate) fn evaluation_from_row(trace_id: Uuid, row: &sqlx::any::AnyRow) -> Result<Evaluation> {
    let status: String = row.try_get("status")?;
    let severity: String = row.try_get("severity")?;
    let tiers_run: String = row.try_get("tiers_run")?;
    let modules: String = row.try_get("modules")?;
    let issues: String = row.try_get("issues")?;
    let attempts: i64 = row.try_get("attempts")?;
    let details: String = row.try_get("details")?;
    let details: Details = serde_json::from_str(&details)?;
    Ok(Evaluation {
        trace_id,
        status: EvaluationStatus::parse(&status).ok_or_else(|| corrupt("evaluation", &status))?,
        severity: Severity::parse(&severity).ok_or_else(|| corrupt("evaluation", &severity))?,
        tiers_run: serde_json::from_str(&tiers_run)?,
        modules: serde_json::from_str(&modules)?,
        issues: serde_json::from_str(&issues)?,
        cost_micro_usd: row.try_get("cost_micro_usd")?,
        latency_ms: row.try_get("latency_ms")?,
        attempts: attempts as u32,
        evaluated_at: from_micros(row.try_get("evaluated_at")?),
        domain: details.domain,
        escalation: details.escalation,
        cost_by_tier: details.cost_by_tier,
        review: details.review,
        facets: details.facets,
    })
}

/// The parts of an evaluation kept in its `details` column.
#[derive(Serialize, Deserialize, Default)]
struct Details {
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    escalation: Vec<Decision>,
    #[serde(default)]
    cost_by_tier: Vec<TierCost>,
    #[serde(default)]
    review: Option<ReviewRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    facets: Vec<Facet>,
}

impl Details {
    fn of(e: &Evaluation) -> Details {
        Details {
            domain: e.domain.clone(),
            escalation: e.escalation.clone(),
            cost_by_tier: e.cost_by_tier.clone(),
            review: e.review.clone(),
            facets: e.facets.clone(),
        }
    }
}
