//! De-identification as a service to the rest of Aegis: each organization's compiled policy,
//! cached, and re-identification with its audit trail.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::audit::{AuditReport, Known};
use super::deidentify::OrgPhi;
use super::vault::VaultKey;
use super::PhiPolicy;
use crate::model::OrgId;
use crate::store::Store;
use crate::{Error, Result};

/// A policy change reaches other nodes within this time (this node at once).
const POLICY_TTL: Duration = Duration::from_secs(30);

/// Compiled policies by organization, with when each was loaded.
type PolicyCache = Arc<RwLock<HashMap<OrgId, (Arc<OrgPhi>, Instant)>>>;

#[derive(Clone)]
pub struct PhiService {
    store: Store,
    key: VaultKey,
    cache: PolicyCache,
}

impl PhiService {
    /// The organization's keys, for other secrets sealed like the vault's (TOTP secrets).
    pub fn org_keys(&self, org: &OrgId) -> super::vault::OrgKeys {
        self.key.org(org)
    }

    /// Checks that `key` is the key this database's vault uses, then serves with it.
    pub async fn new(store: Store, key: VaultKey) -> Result<PhiService> {
        store.check_vault_key(&key.fingerprint()).await?;
        super::warm_up();
        Ok(PhiService { store, key, cache: Arc::default() })
    }

    pub async fn for_org(&self, org: &OrgId) -> Result<Arc<OrgPhi>> {
        if let Ok(cache) = self.cache.read() {
            if let Some((phi, at)) = cache.get(org) {
                if at.elapsed() < POLICY_TTL {
                    return Ok(phi.clone());
                }
            }
        }
        let policy = self.policy(org).await?;
        // A stored policy was valid when stored; if it no longer compiles, fail loudly rather
        // than ingest without de-identification.
        let phi = Arc::new(OrgPhi::new(policy, self.key.org(org)).map_err(Error::Invalid)?);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(org.clone(), (phi.clone(), Instant::now()));
        }
        Ok(phi)
    }

    pub async fn policy(&self, org: &OrgId) -> Result<PhiPolicy> {
        match self.store.phi_policy(org).await? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            None => Ok(PhiPolicy::default()),
        }
    }

    /// Validates, stores and starts using a policy.
    pub async fn set_policy(&self, org: &OrgId, policy: PhiPolicy, actor: &str) -> Result<()> {
        let compiled = OrgPhi::new(policy.clone(), self.key.org(org))?;
        self.store.put_phi_policy(org, &serde_json::to_string(&policy)?).await?;
        self.store.audit(org, actor, "phi.policy.update", serde_json::to_value(&policy)?).await?;
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(org.clone(), (Arc::new(compiled), Instant::now()));
        }
        Ok(())
    }

    /// The originals behind `values` (`None` for one the vault does not hold). A value is a
    /// token, or, with `trace`, anything de-identification put into that trace (a stand-in, a
    /// shifted date), opened through the trace's record. Every call is written to the audit log,
    /// with who asked and why, before anything is revealed.
    pub async fn reidentify(
        &self,
        org: &OrgId,
        values: &[String],
        trace: Option<uuid::Uuid>,
        actor: &str,
        reason: &str,
    ) -> Result<BTreeMap<String, Option<String>>> {
        let detail = serde_json::json!({ "tokens": values, "trace_id": trace, "reason": reason });
        self.store.audit(org, actor, "phi.reidentify", detail).await?;
        let put_in = match trace {
            Some(id) => {
                self.store.trace_put_in(org, id).await?.ok_or_else(|| Error::NotFound("trace not found".into()))?
            }
            None => Vec::new(),
        };
        // Stand-ins from before the vault was keyed by token are keys themselves: looked up too.
        let token_of = |value: &String| put_in.iter().find(|p| &p.text == value).map(|p| p.token.clone());
        let mut wanted: Vec<String> = values.iter().filter_map(token_of).collect();
        wanted.extend(values.iter().cloned());
        wanted.sort_unstable();
        wanted.dedup();
        let keys = self.key.org(org);
        let mut opened: BTreeMap<String, String> = BTreeMap::new();
        for entry in self.store.vault_entries(org, &wanted).await? {
            let original = keys.open(&entry.token, &entry.sealed)?;
            opened.insert(entry.token, original);
        }
        Ok(values
            .iter()
            .map(|v| {
                let original = token_of(v).and_then(|t| opened.get(&t)).or_else(|| opened.get(v)).cloned();
                (v.clone(), original)
            })
            .collect())
    }

    /// Reads every stored trace of `org` again with the current recognizers (`aegis phi audit`).
    /// With `repair`, replaces what is still in clear, one trace per transaction, each written
    /// to the audit log; either way a summary is (counts only, never text).
    pub async fn audit_stored(&self, org: &OrgId, repair: bool, actor: &str) -> Result<AuditReport> {
        const PAGE: u32 = 200;
        let phi = self.for_org(org).await?;
        let known = Known::new(&self.store.vault_tokens(org).await?)?;
        let mut report = AuditReport { repaired: repair, ..AuditReport::default() };
        let mut after = None;
        loop {
            let page = self.store.stored_texts(org, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.trace_id);
            for stored in &page {
                report.traces += 1;
                let Some(audit) = phi.audit_stored(&known, stored)? else { continue };
                report.add(stored.trace_id, &audit.findings);
                if repair {
                    let mut found: BTreeMap<&str, u32> = BTreeMap::new();
                    for f in &audit.findings {
                        *found.entry(f.phi_type.as_str()).or_default() += 1;
                    }
                    let detail = serde_json::json!({ "trace_id": stored.trace_id, "found": found });
                    self.store.repair_trace(org, &audit.repaired, &audit.vault, &audit.put_in, actor, detail).await?;
                }
            }
        }
        let detail = serde_json::json!({
            "repair": repair,
            "traces": report.traces,
            "traces_with_findings": report.traces_with_findings,
            "found": report.found(),
        });
        self.store.audit(org, actor, "phi.audit", detail).await?;
        Ok(report)
    }
}
