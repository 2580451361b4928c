//! Each organization's switches for the modules of the domain packs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::Row as _;

use super::{now_micros, Store};
use crate::model::OrgId;
use crate::Result;

impl Store {
    /// Switches `module` of `domain` on or off for `org`, and records who did it.
    pub async fn set_module_enabled(
        &self,
        org: &OrgId,
        domain: &str,
        module: &str,
        enabled: bool,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO module_settings (org_id, domain, module, enabled, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, domain, module) DO UPDATE SET \
             enabled = excluded.enabled, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(org.to_string())
        .bind(domain)
        .bind(module)
        .bind(i64::from(enabled))
        .bind(now_micros())
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({ "domain": domain, "module": module, "enabled": enabled });
        self.audit_in(&mut tx, org, actor, "domain.module.update", detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The modules `org` switched off, as `domain/module`.
    pub async fn disabled_modules_of(&self, org: &OrgId) -> Result<Arc<HashSet<String>>> {
        Ok(self.disabled_modules(std::slice::from_ref(org)).await?.remove(org).unwrap_or_default())
    }

    /// The modules each of `orgs` switched off, as `domain/module`.
    pub async fn disabled_modules(&self, orgs: &[OrgId]) -> Result<HashMap<OrgId, Arc<HashSet<String>>>> {
        if orgs.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT org_id, domain, module FROM module_settings WHERE enabled = 0 AND org_id IN {}",
            self.values_list(1, orgs.len(), 1)
        );
        let mut query = sqlx::query(&sql);
        for org in orgs {
            query = query.bind(org.to_string());
        }
        let mut out: HashMap<OrgId, HashSet<String>> = HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            let org: String = row.try_get("org_id")?;
            let Ok(org) = org.parse() else { continue };
            let (domain, module): (String, String) = (row.try_get("domain")?, row.try_get("module")?);
            out.entry(org).or_default().insert(format!("{domain}/{module}"));
        }
        Ok(out.into_iter().map(|(org, set)| (org, Arc::new(set))).collect())
    }
}
