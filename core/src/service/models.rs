//! The Tier 2 model registry: versions per domain with their metrics and stage, retraining on
//! the experts' reviews, and promotion (or rollback).

use crate::access::{Actor, Capability};
use crate::domains::Domains;
use crate::model::RegisteredModel;
use crate::review::retrain::{self, Retrained};
use crate::store::Store;
use crate::{Error, FieldError, Result};

/// The organization's models, newest first; of one domain when `domain` names one.
pub async fn list(store: &Store, actor: &Actor, domain: Option<&str>) -> Result<Vec<RegisteredModel>> {
    actor.require(Capability::ReadModels)?;
    store.registered_models(&actor.org_id, domain.filter(|d| !d.is_empty())).await
}

/// Trains the domain's model on the pack's seed set and the organization's reviews, and promotes
/// it only if it beats production on the same held-out labels.
pub async fn retrain(store: &Store, domains: &Domains, actor: &Actor, domain: &str) -> Result<Retrained> {
    actor.require(Capability::TrainModels)?;
    let set = domains.current();
    let pack = set
        .route(&actor.org_id, domain)
        .filter(|p| p.spec.tier2.is_some() && p.classifier.is_some())
        .cloned()
        .ok_or_else(|| FieldError::new("domain", "names no loaded pack with a Tier 2 model"))?;
    retrain::retrain(store, pack, &actor.org_id, |_| {}).await
}

/// Puts the model in production, archiving the one there; promoting an archived model rolls
/// back to it. Workers use it from their next batch.
pub async fn promote(store: &Store, actor: &Actor, id: &str) -> Result<RegisteredModel> {
    actor.require(Capability::TrainModels)?;
    store
        .promote_model(&actor.org_id, id, &actor.audit_name())
        .await?
        .ok_or_else(|| Error::NotFound(format!("no model {id:?} in this organization")))
}
