//! Evaluation results. Writing a result, updating the trace's status and deleting its job
//! happen in one transaction, and a result is written at most once per trace: a job that runs
//! twice (a lease that ran out under a slow worker) has no second effect.

use std::collections::HashSet;

use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, to_micros, ClaimedJob, Store};
use crate::model::{Evaluation, EvaluationStatus, OrgId, Severity, TraceStatus};
use crate::Result;

/// What `GET /api/v1/evaluations/{trace_id}` finds.
#[derive(Debug, Clone, PartialEq)]
pub enum EvaluationLookup {
    Done(Box<Evaluation>),
    /// The trace exists and its evaluation has not finished.
    Pending,
    NotFound,
}

const ROWS_PER_STATEMENT: usize = 500;
const EVALUATION_COLUMNS: usize = 11;

impl Store {
    /// Records finished evaluations and removes their jobs. Returns how many were new.
    pub async fn record_evaluations(&self, done: &[(ClaimedJob, Evaluation)]) -> Result<usize> {
        if done.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut new = HashSet::new();
        for chunk in done.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO evaluations (org_id, trace_id, status, severity, tiers_run, modules, \
                 issues, cost_micro_usd, latency_ms, attempts, evaluated_at) VALUES {} \
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
                    .bind(to_micros(e.evaluated_at));
            }
            for row in query.fetch_all(&mut *tx).await? {
                let org: String = row.try_get("org_id")?;
                let trace: String = row.try_get("trace_id")?;
                new.insert((org, trace));
            }
        }

        // Only the first result for a trace sets its status.
        let fresh: Vec<_> =
            done.iter().filter(|(job, _)| new.contains(&(job.org_id.to_string(), job.trace_id.to_string()))).collect();
        for chunk in fresh.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE traces SET status = v.column3, severity = v.column4 FROM (VALUES {}) AS v \
                 WHERE traces.org_id = v.column1 AND traces.id = v.column2",
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
            query.execute(&mut *tx).await?;
        }

        for chunk in done.chunks(ROWS_PER_STATEMENT) {
            // One "row" of n values is exactly an IN list: `IN ($1, $2, ...)`.
            let sql = format!("DELETE FROM evaluation_jobs WHERE id IN {}", self.values_list(1, chunk.len(), 1));
            let mut query = sqlx::query(&sql);
            for (job, _) in chunk {
                query = query.bind(job.id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(new.len())
    }

    pub async fn get_evaluation(&self, org: &OrgId, trace_id: Uuid) -> Result<EvaluationLookup> {
        let row = sqlx::query(
            "SELECT status, severity, tiers_run, modules, issues, cost_micro_usd, latency_ms, \
             attempts, evaluated_at FROM evaluations WHERE org_id = $1 AND trace_id = $2",
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

fn evaluation_from_row(trace_id: Uuid, row: &sqlx::any::AnyRow) -> Result<Evaluation> {
    let status: String = row.try_get("status")?;
    let severity: String = row.try_get("severity")?;
    let tiers_run: String = row.try_get("tiers_run")?;
    let modules: String = row.try_get("modules")?;
    let issues: String = row.try_get("issues")?;
    let attempts: i64 = row.try_get("attempts")?;
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
    })
}
