//! The PHI vault, per-organization policies, the audit log and installation settings.

use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use super::{from_micros, now_micros, Store, WriteTx};
use crate::model::OrgId;
use crate::phi::vault::Sealed;
use crate::phi::{PhiPolicy, PhiType};
use crate::{Error, Result};

/// One original, sealed, under the token that replaced it.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultEntry {
    pub token: String,
    pub phi_type: PhiType,
    pub sealed: Sealed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
    pub at: chrono::DateTime<chrono::Utc>,
}

const VAULT_KEY_SETTING: &str = "vault_key_fingerprint";

impl Store {
    pub async fn phi_policy(&self, org: &OrgId) -> Result<Option<PhiPolicy>> {
        let row = sqlx::query("SELECT policy FROM phi_policies WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let text: String = r.try_get("policy")?;
            Ok(serde_json::from_str(&text)?)
        })
        .transpose()
    }

    pub async fn put_phi_policy(&self, org: &OrgId, policy: &PhiPolicy) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO phi_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(serde_json::to_string(policy)?)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sealed originals behind `tokens` (those that exist).
    pub async fn vault_entries(&self, org: &OrgId, tokens: &[String]) -> Result<Vec<VaultEntry>> {
        let mut out = Vec::with_capacity(tokens.len());
        for chunk in tokens.chunks(500) {
            let sql = format!(
                "SELECT token, phi_type, nonce, ciphertext FROM phi_vault WHERE org_id = {} AND token IN {}",
                self.placeholder(1),
                self.values_list(1, chunk.len(), 2)
            );
            let mut query = sqlx::query(&sql).bind(org.to_string());
            for t in chunk {
                query = query.bind(t.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                let phi_type: String = row.try_get("phi_type")?;
                out.push(VaultEntry {
                    token: row.try_get("token")?,
                    phi_type: PhiType::parse(&phi_type).ok_or_else(|| super::corrupt("vault", &phi_type))?,
                    sealed: Sealed { nonce: row.try_get("nonce")?, ciphertext: row.try_get("ciphertext")? },
                });
            }
        }
        Ok(out)
    }

    pub async fn audit(&self, org: &OrgId, actor: &str, action: &str, detail: serde_json::Value) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.audit_in(&mut tx, org, actor, action, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An audit entry written with the change it records, in the same transaction.
    pub(crate) async fn audit_in(
        &self,
        tx: &mut WriteTx,
        org: &OrgId,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (org_id, actor, action, detail, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.to_string())
            .bind(actor)
            .bind(action)
            .bind(detail.to_string())
            .bind(now_micros())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The organization's audit log, newest first.
    pub async fn audit_log(&self, org: &OrgId, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, actor, action, detail, at FROM audit_log WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(org.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get("detail")?;
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    detail: serde_json::from_str(&detail)?,
                    at: from_micros(r.try_get("at")?),
                })
            })
            .collect()
    }

    /// Refuses a vault key other than the one this database's vault was written with: a node
    /// with the wrong key would write pseudonyms nobody else can match and originals nobody
    /// can read.
    pub async fn check_vault_key(&self, fingerprint: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(VAULT_KEY_SETTING)
            .bind(fingerprint)
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(VAULT_KEY_SETTING)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let stored: String = row.try_get("value")?;
        if stored == fingerprint {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "this database's vault was written with another key (fingerprint {stored}, this node has {fingerprint}): \
                 give every node the same AEGIS_VAULT_KEY"
            )))
        }
    }
}
