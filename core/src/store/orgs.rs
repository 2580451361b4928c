//! Organizations (tenants) and their API keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, Store};
use crate::auth;
use crate::model::OrgId;
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Whose rate limits apply; none: the configured default plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

pub use crate::access::ApiKeyRole;

/// Who is calling: the organization, the key, and what the key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: OrgId,
    pub key_id: Uuid,
    pub role: ApiKeyRole,
    /// The organization's plan, for its rate limits.
    pub plan: Option<String>,
}

/// An API key as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: Uuid,
    pub org_id: OrgId,
    pub name: String,
    pub prefix: String,
    pub role: ApiKeyRole,
    pub created_at: DateTime<Utc>,
}

/// A key just created: the only moment its plaintext exists.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub key: ApiKey,
    pub plaintext: String,
}

impl Store {
    pub async fn create_organization(&self, name: &str) -> Result<Organization> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::Invalid(crate::FieldError::new("name", "must be 1 to 200 characters")));
        }
        let org =
            Organization { id: OrgId(Uuid::now_v7()), name: name.to_string(), created_at: Utc::now(), plan: None };
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(org.id.to_string())
            .bind(&org.name)
            .bind(super::to_micros(org.created_at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn get_organization(&self, id: &OrgId) -> Result<Option<Organization>> {
        let row = sqlx::query("SELECT id, name, created_at, plan FROM organizations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| org_from_row(&r)).transpose()
    }

    /// How many organizations the installation holds.
    pub async fn count_organizations(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(&self.pool).await?)
    }

    pub async fn find_organization_by_name(&self, name: &str) -> Result<Option<Organization>> {
        let row = sqlx::query(
            "SELECT id, name, created_at, plan FROM organizations WHERE name = $1 ORDER BY created_at LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| org_from_row(&r)).transpose()
    }

    /// A new key for `org`, made by `by` (how the audit log names them).
    pub async fn create_api_key(&self, org: &OrgId, name: &str, role: ApiKeyRole, by: &str) -> Result<NewApiKey> {
        if self.get_organization(org).await?.is_none() {
            return Err(Error::NotFound("organization not found".into()));
        }
        let secret = auth::generate_api_key();
        let key = ApiKey {
            id: Uuid::now_v7(),
            org_id: org.clone(),
            name: name.to_string(),
            prefix: secret.display_prefix,
            role,
            created_at: Utc::now(),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, created_at, role) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key.id.to_string())
        .bind(org.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&secret.hash)
        .bind(super::to_micros(key.created_at))
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        let detail =
            serde_json::json!({ "key_id": key.id, "name": key.name, "prefix": key.prefix, "role": role.as_str() });
        self.audit_in(&mut tx, org, by, "api_key.create", detail).await?;
        tx.commit().await?;
        Ok(NewApiKey { key, plaintext: secret.plaintext })
    }

    /// Who a presented API key is, if the key exists and is not revoked.
    pub async fn authenticate_api_key(&self, plaintext: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT k.id, k.org_id, k.role, o.plan FROM api_keys k JOIN organizations o ON o.id = k.org_id \
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(auth::digest(plaintext))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let org: String = r.try_get("org_id")?;
            let id: String = r.try_get("id")?;
            let role: String = r.try_get("role")?;
            Ok(Principal {
                org_id: org.parse().map_err(|e| corrupt("api key", e))?,
                key_id: id.parse().map_err(|e| corrupt("api key", e))?,
                role: ApiKeyRole::parse(&role).ok_or_else(|| corrupt("api key", &role))?,
                plan: r.try_get("plan")?,
            })
        })
        .transpose()
    }

    /// Puts `org` on `plan` (its rate limits), or back on the default plan.
    pub async fn set_plan(&self, org: &OrgId, plan: Option<&str>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE organizations SET plan = $1 WHERE id = $2")
            .bind(plan)
            .bind(org.to_string())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("organization not found".into()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The plans of `orgs` (none: the default plan).
    pub async fn organization_plans(&self, orgs: &[OrgId]) -> Result<std::collections::HashMap<OrgId, Option<String>>> {
        if orgs.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!("SELECT id, plan FROM organizations WHERE id IN {}", self.values_list(1, orgs.len(), 1));
        let mut query = sqlx::query(&sql);
        for org in orgs {
            query = query.bind(org.to_string());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok((id.parse().map_err(|e| corrupt("organization", e))?, r.try_get("plan")?))
            })
            .collect()
    }

    /// The organization's keys that still work, newest first.
    pub async fn list_api_keys(&self, org: &OrgId) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, role, created_at FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let role: String = row.try_get("role")?;
                Ok(ApiKey {
                    id: id.parse().map_err(|e| corrupt("api key", e))?,
                    org_id: org.clone(),
                    name: row.try_get("name")?,
                    prefix: row.try_get("prefix")?,
                    role: ApiKeyRole::parse(&role).ok_or_else(|| corrupt("api key", &role))?,
                    created_at: from_micros(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    pub async fn revoke_api_key(&self, org: &OrgId, key_id: Uuid, by: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL")
                .bind(now_micros())
                .bind(org.to_string())
                .bind(key_id.to_string())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 1 {
            self.audit_in(&mut tx, org, by, "api_key.revoke", serde_json::json!({ "key_id": key_id })).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}

fn org_from_row(row: &sqlx::any::AnyRow) -> Result<Organization> {
    let id: String = row.try_get("id")?;
    Ok(Organization {
        id: id.parse().map_err(|e| corrupt("organization", e))?,
        name: row.try_get("name")?,
        created_at: from_micros(row.try_get("created_at")?),
        plan: row.try_get("plan")?,
    })
}
