//! Sim-to-real pairs, per organization and domain.

use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, now_micros, Store};
use crate::model::{OrgId, TransferPair};
use crate::Result;

impl Store {
    /// Records a pair for a trace of `org`; `None` if there is no such trace. Returns the
    /// domain it counts for and how many pairs that domain now has.
    pub async fn record_transfer_pair(
        &self,
        org: &OrgId,
        trace_id: Uuid,
        pair: &TransferPair,
    ) -> Result<Option<(String, i64)>> {
        let mut tx = self.begin_write().await?;
        let Some(domain) = self.trace_domain_in(&mut tx, org, trace_id).await? else { return Ok(None) };
        sqlx::query(
            "INSERT INTO transfer_pairs (id, org_id, domain, trace_id, sim_score, real_score, features, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(format!("tp_{}", Uuid::now_v7().simple()))
        .bind(org.to_string())
        .bind(&domain)
        .bind(trace_id.to_string())
        .bind(pair.sim_score)
        .bind(pair.real_score)
        .bind(serde_json::to_string(&pair.features)?)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        let count = sqlx::query("SELECT COUNT(*) AS n FROM transfer_pairs WHERE org_id = $1 AND domain = $2")
            .bind(org.to_string())
            .bind(&domain)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        tx.commit().await?;
        Ok(Some((domain, count)))
    }

    /// Every pair of a domain, oldest first.
    pub async fn transfer_pairs(&self, org: &OrgId, domain: &str) -> Result<Vec<TransferPair>> {
        let rows = sqlx::query(
            "SELECT sim_score, real_score, features FROM transfer_pairs WHERE org_id = $1 AND domain = $2 \
             ORDER BY created_at, id",
        )
        .bind(org.to_string())
        .bind(domain)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let features: String = r.try_get("features")?;
                Ok(TransferPair {
                    sim_score: r.try_get("sim_score")?,
                    real_score: r.try_get("real_score")?,
                    features: serde_json::from_str(&features).map_err(|e| corrupt("transfer pair", e))?,
                })
            })
            .collect()
    }

    /// The domains with pairs, and how many each has.
    pub async fn transfer_domains(&self, org: &OrgId) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT domain, COUNT(*) AS n FROM transfer_pairs WHERE org_id = $1 GROUP BY domain ORDER BY domain",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("domain")?, r.try_get("n")?))).collect()
    }
}
