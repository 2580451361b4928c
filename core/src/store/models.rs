//! The model registry: each organization's Tier 2 models per domain, with their metrics and
//! stage. Promoting one archives the one it replaces; promoting an archived one rolls back.

use serde_json::json;
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, Store};
use crate::model::{ModelStage, OrgId, RegisteredModel, ReviewLabel, Trace};
use crate::Result;

const COLUMNS: &str = "id, domain, tier, version, stage, metrics, reviews_used, note, created_at, promoted_at";

/// A trained model to register: what the registry lists, and its weights as JSON.
#[derive(Debug, Clone)]
pub struct NewModel {
    pub domain: String,
    pub version: String,
    pub metrics: serde_json::Value,
    pub body: String,
}

impl Store {
    /// Adds a trained model to the registry, in `stage`; in production, it replaces the one
    /// there (archived).
    pub async fn register_model(
        &self,
        org: &OrgId,
        model: &NewModel,
        stage: ModelStage,
        reviews_used: u32,
        note: &str,
    ) -> Result<RegisteredModel> {
        let id = format!("md_{}", Uuid::now_v7().simple());
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        if stage == ModelStage::Production {
            self.archive_production(&mut tx, org, &model.domain).await?;
        }
        sqlx::query(&format!(
            "INSERT INTO models (org_id, {COLUMNS}, body) VALUES ($1, $2, $3, 2, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(org.to_string())
        .bind(&id)
        .bind(&model.domain)
        .bind(&model.version)
        .bind(stage.as_str())
        .bind(model.metrics.to_string())
        .bind(i64::from(reviews_used))
        .bind(note)
        .bind(now)
        .bind((stage == ModelStage::Production).then_some(now))
        .bind(&model.body)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.registered_model(org, &id).await?.ok_or_else(|| crate::Error::NotFound("model not found".into()))
    }

    async fn archive_production(&self, tx: &mut super::WriteTx, org: &OrgId, domain: &str) -> Result<()> {
        sqlx::query("UPDATE models SET stage = 'archived' WHERE org_id = $1 AND domain = $2 AND stage = 'production'")
            .bind(org.to_string())
            .bind(domain)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The organization's models, newest first.
    pub async fn registered_models(&self, org: &OrgId, domain: Option<&str>) -> Result<Vec<RegisteredModel>> {
        let filter = if domain.is_some() { " AND domain = $2" } else { "" };
        let sql = format!("SELECT {COLUMNS} FROM models WHERE org_id = $1{filter} ORDER BY created_at DESC, id DESC");
        let mut query = sqlx::query(&sql).bind(org.to_string());
        if let Some(domain) = domain {
            query = query.bind(domain);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(model_from_row).collect()
    }

    pub async fn registered_model(&self, org: &OrgId, id: &str) -> Result<Option<RegisteredModel>> {
        let row = self.owned_row("models", COLUMNS, org, id).await?;
        row.as_ref().map(model_from_row).transpose()
    }

    /// Puts model `id` in production (from staging, or back from the archive: a rollback).
    pub async fn promote_model(&self, org: &OrgId, id: &str, actor: &str) -> Result<Option<RegisteredModel>> {
        let Some(model) = self.registered_model(org, id).await? else { return Ok(None) };
        let mut tx = self.begin_write().await?;
        self.archive_production(&mut tx, org, &model.domain).await?;
        sqlx::query("UPDATE models SET stage = 'production', promoted_at = $1 WHERE org_id = $2 AND id = $3")
            .bind(now_micros())
            .bind(org.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let detail = json!({ "id": id, "domain": model.domain, "version": model.version });
        self.audit_in(&mut tx, org, actor, "model.promoted", detail).await?;
        tx.commit().await?;
        self.registered_model(org, id).await
    }

    /// `(org, domain, model id)` of the models in production in `orgs`.
    pub async fn production_model_ids(&self, orgs: &[OrgId]) -> Result<Vec<(OrgId, String, String)>> {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT org_id, domain, id FROM models WHERE stage = 'production' AND org_id IN {}",
            self.values_list(1, orgs.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for org in orgs {
            query = query.bind(org.to_string());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let org: String = r.try_get("org_id")?;
                Ok((org.parse().map_err(|e| corrupt("model", e))?, r.try_get("domain")?, r.try_get("id")?))
            })
            .collect()
    }

    /// A registered model's weights, as the JSON they were registered as.
    pub async fn model_body(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT body FROM models WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(|row| row.try_get("body")).transpose()?)
    }

    /// The organization's reviewed traces of `domain` with their latest expert label (unsafe:
    /// true), for training.
    pub async fn review_labels(&self, org: &OrgId, domain: &str) -> Result<Vec<(Trace, bool)>> {
        let rows = sqlx::query(
            "SELECT trace_id, label FROM reviews WHERE org_id = $1 AND domain = $2 ORDER BY created_at, id",
        )
        .bind(org.to_string())
        .bind(domain)
        .fetch_all(&self.pool)
        .await?;
        let mut latest: std::collections::HashMap<Uuid, bool> = std::collections::HashMap::new();
        for row in &rows {
            let id: String = row.try_get("trace_id")?;
            let label: String = row.try_get("label")?;
            latest.insert(id.parse().map_err(|_| corrupt("review", &id))?, label == ReviewLabel::Unsafe.as_str());
        }
        let keys: Vec<(OrgId, Uuid)> = latest.keys().map(|id| (org.clone(), *id)).collect();
        let traces = self.get_traces(&keys).await?;
        Ok(traces.into_iter().filter_map(|(_, t)| latest.get(&t.trace_id).map(|l| (t, *l))).collect())
    }

    /// Reviews of `domain` recorded after the newest registered model: what retraining would add.
    pub async fn reviews_since_last_model(&self, org: &OrgId, domain: &str) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM reviews WHERE org_id = $1 AND domain = $2 AND created_at > \
             COALESCE((SELECT MAX(created_at) FROM models WHERE org_id = $1 AND domain = $2), 0)",
        )
        .bind(org.to_string())
        .bind(domain)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }
}

fn model_from_row(row: &sqlx::any::AnyRow) -> Result<RegisteredModel> {
    let stage: String = row.try_get("stage")?;
    let metrics: String = row.try_get("metrics")?;
    Ok(RegisteredModel {
        id: row.try_get("id")?,
        domain: row.try_get("domain")?,
        tier: row.try_get::<i64, _>("tier")?.clamp(0, 4) as u8,
        version: row.try_get("version")?,
        stage: ModelStage::parse(&stage).ok_or_else(|| corrupt("model", &stage))?,
        metrics: serde_json::from_str(&metrics).map_err(|e| corrupt("model", e))?,
        reviews_used: row.try_get::<i64, _>("reviews_used")?.max(0) as u32,
        note: row.try_get("note")?,
        created_at: from_micros(row.try_get("created_at")?),
        promoted_at: row.try_get::<Option<i64>, _>("promoted_at")?.map(from_micros),
    })
}
