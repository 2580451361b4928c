//! De-identification as a service to the rest of Aegis: each organization's compiled policy,
//! cached, and re-identification with its audit trail.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

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
        let policy = self.store.phi_policy(org).await?.unwrap_or_default();
        // A stored policy was valid when stored; if it no longer compiles, fail loudly rather
        // than ingest without de-identification.
        let phi = Arc::new(OrgPhi::new(policy, self.key.org(org)).map_err(Error::Invalid)?);
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(org.clone(), (phi.clone(), Instant::now()));
        }
        Ok(phi)
    }

    pub async fn policy(&self, org: &OrgId) -> Result<PhiPolicy> {
        Ok(self.store.phi_policy(org).await?.unwrap_or_default())
    }

    /// Validates, stores and starts using a policy.
    pub async fn set_policy(&self, org: &OrgId, policy: PhiPolicy, actor: &str) -> Result<()> {
        let compiled = OrgPhi::new(policy.clone(), self.key.org(org))?;
        self.store.put_phi_policy(org, &policy).await?;
        self.store.audit(org, actor, "phi.policy.update", serde_json::to_value(&policy)?).await?;
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(org.clone(), (Arc::new(compiled), Instant::now()));
        }
        Ok(())
    }

    /// The originals behind `tokens` (`None` for a token the vault does not hold). Every call
    /// is written to the audit log, with who asked and why, before anything is revealed.
    pub async fn reidentify(
        &self,
        org: &OrgId,
        tokens: &[String],
        actor: &str,
        reason: &str,
    ) -> Result<BTreeMap<String, Option<String>>> {
        let detail = serde_json::json!({ "tokens": tokens, "reason": reason });
        self.store.audit(org, actor, "phi.reidentify", detail).await?;
        let keys = self.key.org(org);
        let found = self.store.vault_entries(org, tokens).await?;
        let mut out: BTreeMap<String, Option<String>> = tokens.iter().map(|t| (t.clone(), None)).collect();
        for entry in found {
            let original = keys.open(&entry.token, &entry.sealed)?;
            out.insert(entry.token, Some(original));
        }
        Ok(out)
    }
}
