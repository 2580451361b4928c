//! The PHI vault, per-organization policies, the audit log and installation settings.

use serde::{Deserialize, Serialize};
use sqlx::Row as _;

use super::{from_micros, now_micros, Store, WriteTx};
use crate::model::{OrgId, PhiType, Sealed};
use crate::{Error, Result};

/// One original, sealed, under the token that replaced it.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultEntry {
    pub token: String,
    pub phi_type: PhiType,
    pub sealed: Sealed,
}

/// A text de-identification put into a trace and the vault token it stands for: the token
/// itself under the token policy, a stand-in ("Avery Ellery") under the surrogates policy.
/// Stand-ins can repeat across people; tokens cannot, so the vault is keyed by token and a
/// stand-in is opened through the trace that holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PutIn {
    pub text: String,
    pub token: String,
}

/// One element of a trace's `phi_replaced` record: a bare text where it is its own token
/// (tokens, and every record written before stand-ins were keyed by token), else both.
#[derive(Deserialize)]
#[serde(untagged)]
enum Recorded {
    Text(String),
    PutIn(PutIn),
}

/// Reads a trace's `phi_replaced` record.
pub fn parse_put_in(json: &str) -> Result<Vec<PutIn>> {
    let recorded: Vec<Recorded> = serde_json::from_str(json)?;
    Ok(recorded
        .into_iter()
        .map(|r| match r {
            Recorded::Text(text) => PutIn { token: text.clone(), text },
            Recorded::PutIn(p) => p,
        })
        .collect())
}

/// Writes a trace's `phi_replaced` record: sorted, each pair once.
pub fn put_in_json<'a>(put_in: impl IntoIterator<Item = &'a PutIn>) -> String {
    let unique: std::collections::BTreeSet<&PutIn> = put_in.into_iter().collect();
    let items: Vec<serde_json::Value> = unique
        .into_iter()
        .map(|p| if p.text == p.token { serde_json::json!(p.text) } else { serde_json::json!(p) })
        .collect();
    serde_json::Value::Array(items).to_string()
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

/// A stored trace's free text, as `aegis phi audit` reads it again: every field the door
/// de-identified, and what its evaluation wrote (issues and details may quote the trace).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredText {
    pub trace_id: uuid::Uuid,
    pub input: String,
    pub output: String,
    /// JSON array.
    pub steps: String,
    /// JSON object.
    pub metadata: String,
    /// The evaluation's issues and details (JSON), once evaluated.
    pub issues: Option<String>,
    pub details: Option<String>,
    /// Whether the trace is in the search index (it is once evaluated).
    pub indexed: bool,
    /// What de-identification put in (`phi_replaced`: see [`parse_put_in`]).
    pub replaced: String,
}

impl Store {
    /// The organization's de-identification policy, as the JSON it was stored as.
    pub async fn phi_policy(&self, org: &OrgId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT policy FROM phi_policies WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("policy")).transpose()?)
    }

    pub async fn put_phi_policy(&self, org: &OrgId, policy_json: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO phi_policies (org_id, policy, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(policy_json)
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

    /// Every replacement the vault holds for `org`: what a re-scan must not take for a new find.
    pub async fn vault_tokens(&self, org: &OrgId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT token FROM phi_vault WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Every organization's id, oldest first.
    pub async fn organization_ids(&self) -> Result<Vec<OrgId>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM organizations ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.into_iter().map(|(id,)| id.parse().map_err(|_| super::corrupt("organization", &id))).collect()
    }

    /// A page of `org`'s stored traces in id order, after `after`.
    pub async fn stored_texts(&self, org: &OrgId, after: Option<uuid::Uuid>, limit: u32) -> Result<Vec<StoredText>> {
        let rows = sqlx::query(
            "SELECT t.id, t.input, t.output, t.steps, t.metadata, t.status, t.phi_replaced, e.issues, e.details \
             FROM traces t LEFT JOIN evaluations e ON e.org_id = t.org_id AND e.trace_id = t.id \
             WHERE t.org_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3",
        )
        .bind(org.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let status: String = r.try_get("status")?;
                Ok(StoredText {
                    trace_id: id.parse().map_err(|_| super::corrupt("trace", &id))?,
                    input: r.try_get("input")?,
                    output: r.try_get("output")?,
                    steps: r.try_get("steps")?,
                    metadata: r.try_get("metadata")?,
                    issues: r.try_get("issues")?,
                    details: r.try_get("details")?,
                    indexed: status != "queued",
                    replaced: r.try_get("phi_replaced")?,
                })
            })
            .collect()
    }

    /// Writes a re-de-identified trace back, with its evaluation's text, the search index, the
    /// new vault entries and an audit entry, in one transaction.
    pub async fn repair_trace(
        &self,
        org: &OrgId,
        fixed: &StoredText,
        vault: &[VaultEntry],
        put_in: &[PutIn],
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let (org_id, id) = (org.to_string(), fixed.trace_id.to_string());
        if self.backend == super::Backend::Sqlite && fixed.indexed {
            // The index keeps no copy of the text: the old words are deleted by rowid.
            sqlx::query(
                "DELETE FROM trace_search WHERE rowid = (SELECT rowid FROM traces WHERE org_id = $1 AND id = $2)",
            )
            .bind(&org_id)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        // What the trace view marks and re-identification opens: what was put in before, and now.
        let before = parse_put_in(&fixed.replaced)?;
        let replaced = put_in_json(before.iter().chain(put_in));
        sqlx::query(
            "UPDATE traces SET input = $3, output = $4, steps = $5, metadata = $6, phi_replaced = $7 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(&org_id)
        .bind(&id)
        .bind(&fixed.input)
        .bind(&fixed.output)
        .bind(&fixed.steps)
        .bind(&fixed.metadata)
        .bind(replaced)
        .execute(&mut *tx)
        .await?;
        if fixed.indexed {
            let sql = match self.backend {
                super::Backend::Sqlite => format!(
                    "INSERT INTO trace_search (rowid, input, output, tags) SELECT rowid, input, output, {} \
                     FROM traces WHERE org_id = $1 AND id = $2",
                    super::traces::SQLITE_SEARCH_TAGS
                ),
                super::Backend::Postgres => format!(
                    "UPDATE traces SET search = to_tsvector('simple', input || ' ' || output) || to_tsvector('simple', {}) \
                     WHERE org_id = $1 AND id = $2",
                    super::traces::POSTGRES_SEARCH_TAGS
                ),
            };
            sqlx::query(&sql).bind(&org_id).bind(&id).execute(&mut *tx).await?;
        }
        if let (Some(issues), Some(details)) = (&fixed.issues, &fixed.details) {
            sqlx::query("UPDATE evaluations SET issues = $3, details = $4 WHERE org_id = $1 AND trace_id = $2")
                .bind(&org_id)
                .bind(&id)
                .bind(issues)
                .bind(details)
                .execute(&mut *tx)
                .await?;
        }
        let entries: Vec<(&OrgId, &VaultEntry)> = vault.iter().map(|v| (org, v)).collect();
        self.write_vault(&mut tx, &entries).await?;
        self.audit_in(&mut tx, org, actor, "phi.audit.repair", detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Vault entries, in key order (concurrent Postgres writers that share tokens then take
    /// their row locks in the same order and wait for each other instead of deadlocking).
    pub(crate) async fn write_vault(&self, tx: &mut WriteTx, entries: &[(&OrgId, &VaultEntry)]) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        let mut vault: Vec<&(&OrgId, &VaultEntry)> =
            entries.iter().filter(|(org, v)| seen.insert((*org, v.token.as_str()))).collect();
        vault.sort_unstable_by(|a, b| (a.0, &a.1.token).cmp(&(b.0, &b.1.token)));
        let now = now_micros();
        for chunk in vault.chunks(super::ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO phi_vault (org_id, token, phi_type, nonce, ciphertext, created_at) VALUES {} \
                 ON CONFLICT (org_id, token) DO NOTHING",
                self.values_list(chunk.len(), 6, 1)
            );
            let mut query = sqlx::query(&sql);
            for (org, v) in chunk {
                query = query
                    .bind(org.to_string())
                    .bind(v.token.as_str())
                    .bind(v.phi_type.as_str())
                    .bind(v.sealed.nonce.clone())
                    .bind(v.sealed.ciphertext.clone())
                    .bind(now);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
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
