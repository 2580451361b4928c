//! The durable evaluation queue. Jobs are claimed with a lease: a worker that dies mid-job
//! simply lets the lease run out, and another worker takes the job over.

use std::time::Duration;

use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, now_micros, Backend, Store};
use crate::model::OrgId;
use crate::Result;

/// A job a worker holds until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub org_id: OrgId,
    pub trace_id: Uuid,
    /// Attempts including this one.
    pub attempts: u32,
}

impl Store {
    /// Claims up to `limit` jobs that are due (new, retrying, or whose lease ran out).
    /// On Postgres, `SKIP LOCKED` lets many workers claim side by side without waiting on
    /// each other; SQLite serializes writers, which makes the same statement atomic.
    pub async fn claim_jobs(&self, worker: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        let now = now_micros();
        let lease_until = now + lease.as_micros() as i64;
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE evaluation_jobs SET attempts = attempts + 1, available_at = $1, locked_by = $2 \
             WHERE id IN (SELECT id FROM evaluation_jobs WHERE available_at <= $3 \
             ORDER BY available_at LIMIT $4{lock}) \
             RETURNING id, org_id, trace_id, attempts"
        );
        let mut tx = self.begin_write().await?;
        let rows =
            sqlx::query(&sql).bind(lease_until).bind(worker).bind(now).bind(limit as i64).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let org: String = row.try_get("org_id")?;
                let trace: String = row.try_get("trace_id")?;
                let attempts: i64 = row.try_get("attempts")?;
                Ok(ClaimedJob {
                    id: row.try_get("id")?,
                    org_id: org.parse().map_err(|e| corrupt("job", e))?,
                    trace_id: trace.parse().map_err(|e| corrupt("job", e))?,
                    attempts: attempts as u32,
                })
            })
            .collect()
    }

    /// Puts a failed job back in the queue after `delay`, recording why it failed.
    /// Does nothing if the job has since been claimed again by someone else.
    pub async fn retry_job(&self, job: &ClaimedJob, error: &str, delay: Duration) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE evaluation_jobs SET available_at = $1, locked_by = NULL, last_error = $2 \
             WHERE id = $3 AND attempts = $4",
        )
        .bind(now_micros() + delay.as_micros() as i64)
        .bind(error)
        .bind(job.id)
        .bind(i64::from(job.attempts))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Jobs waiting or running.
    pub async fn queue_depth(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM evaluation_jobs").fetch_one(&self.pool).await?;
        Ok(row.try_get("n")?)
    }
}
