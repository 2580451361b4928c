//! De-identification as a service: trying the recognizers, the organization's policy,
//! re-identification (audited before anything is read) and the audit log.

use std::collections::BTreeMap;

use crate::access::{Actor, Capability};
use crate::phi::{Entity, PhiPolicy, PhiService, Replaced};
use crate::store::{AuditEntry, Store};
use crate::{FieldError, Result};

/// Most tokens one re-identification may open.
pub const MAX_TOKENS: usize = 1_000;

/// What the recognizers find in `text` under the organization's policy; offsets in code points.
pub async fn scan(phi: &PhiService, actor: &Actor, text: &str) -> Result<Vec<Entity>> {
    actor.require(Capability::ScanText)?;
    Ok(phi.for_org(&actor.org_id).await?.scanner.scan(text))
}

/// What ingest would store for `text`, and what it replaced. Nothing is written, not even to
/// the vault.
pub async fn deidentify(phi: &PhiService, actor: &Actor, text: &str) -> Result<(String, Vec<Replaced>)> {
    actor.require(Capability::ScanText)?;
    Ok(phi.for_org(&actor.org_id).await?.deidentify_text(text))
}

pub async fn policy(phi: &PhiService, actor: &Actor) -> Result<PhiPolicy> {
    actor.require(Capability::ReadPhiPolicy)?;
    phi.policy(&actor.org_id).await
}

/// Replaces the policy, after checking every custom pattern compiles; audited.
pub async fn set_policy(phi: &PhiService, actor: &Actor, policy: PhiPolicy) -> Result<()> {
    actor.require(Capability::ManagePhiPolicy)?;
    phi.set_policy(&actor.org_id, policy, &actor.audit_name()).await
}

/// The originals behind `tokens` (`None` for one the vault does not hold); with `trace_id`,
/// anything de-identification put into that trace (stand-ins, shifted dates) opens too. The
/// request, with its reason, is in the audit log before anything is read.
pub async fn reidentify(
    phi: &PhiService,
    actor: &Actor,
    tokens: &[String],
    reason: &str,
    trace_id: Option<uuid::Uuid>,
) -> Result<BTreeMap<String, Option<String>>> {
    actor.require(Capability::Reidentify)?;
    if tokens.is_empty() || tokens.len() > MAX_TOKENS {
        return Err(FieldError::new("tokens", format!("must hold 1 to {MAX_TOKENS} tokens")).into());
    }
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(FieldError::new("reason", "say why the originals are needed (at least 5 characters)").into());
    }
    phi.reidentify(&actor.org_id, tokens, trace_id, &actor.audit_name(), reason).await
}

/// The organization's audit log, newest first: `limit` entries (default 100, at most 1,000).
pub async fn audit(store: &Store, actor: &Actor, limit: Option<u32>) -> Result<Vec<AuditEntry>> {
    actor.require(Capability::ReadAudit)?;
    store.audit_log(&actor.org_id, limit.unwrap_or(100).clamp(1, 1_000)).await
}
