//! Retraining Tier 2 on an organization's expert reviews, and registering the result.
//!
//! The new model learns from the pack's seed set plus every reviewed trace of the domain (the
//! latest verdict of each), is measured on a held-out fifth, and the model in production (the
//! organization's, or else the pack's) is measured on the very same fifth. It goes to
//! production by itself only if it does better there; otherwise it waits in staging for
//! someone to promote it.

use std::sync::Arc;

use crate::domains::classifier::features::{featurize, trace_text};
use crate::domains::classifier::{self, measure, ClassifierModel, Stage};
use crate::domains::{cases, Domain};
use crate::model::{ModelStage, OrgId, RegisteredModel, Trace};
use crate::store::Store;
use crate::{Error, Result};

/// What retraining produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Retrained {
    pub model: RegisteredModel,
    /// Whether it went to production by itself.
    pub promoted: bool,
    /// Accuracy of the model it was compared with, on the same held-out labels.
    pub production_accuracy: f64,
}

/// Retrains `pack`'s Tier 2 model for `org`. `progress` sees the training stages.
pub async fn retrain(
    store: &Store,
    pack: Arc<Domain>,
    org: &OrgId,
    progress: impl FnMut(Stage) + Send + 'static,
) -> Result<Retrained> {
    let domain = pack.name().to_string();
    let tier2 = pack.spec.tier2.clone().ok_or_else(|| Error::Config(format!("the {domain} pack has no Tier 2")))?;
    let seed_text = pack.dir.join(&tier2.seed).read_to_string()?;
    let now = chrono::Utc::now();
    let mut labelled: Vec<(Trace, bool)> =
        cases::parse_jsonl(&seed_text)?.into_iter().map(|c| c.into_labelled_trace(now)).collect();
    let reviewed = store.review_labels(org, &domain).await?;
    let reviews_used = reviewed.len() as u32;
    labelled.extend(reviewed);
    let production = current_production(store, org, &pack).await?;

    let fitted = tokio::task::spawn_blocking(move || -> Result<(ClassifierModel, f64)> {
        let examples = pack.examples(&labelled);
        let (model, held_out) = classifier::train_with_held_out(&domain, &examples, &pack.train_options(), progress)?;
        let scored: Vec<(f64, bool)> = held_out
            .iter()
            .map(|&i| {
                let codes: Vec<&str> = examples[i].tier1.iter().map(String::as_str).collect();
                let x = featurize(&trace_text(examples[i].trace, &codes), production.buckets);
                (production.risk_of(&x), examples[i].unsafe_)
            })
            .collect();
        Ok((model, measure(&scored).accuracy))
    })
    .await
    .map_err(|e| Error::Internal(format!("training panicked: {e}")))??;
    let (model, production_accuracy) = fitted;
    let better = model.metrics.accuracy > production_accuracy;
    let stage = if better { ModelStage::Production } else { ModelStage::Staging };
    let note = format!(
        "accuracy {:.3} against {:.3} for the model in production, on the same {} held-out labels: {}",
        model.metrics.accuracy,
        production_accuracy,
        model.metrics.held_out_size,
        if better { "promoted" } else { "kept in staging" }
    );
    let model = store.register_model(org, &model.registration()?, stage, reviews_used, &note).await?;
    Ok(Retrained { model, promoted: better, production_accuracy })
}

/// The model the organization's traces of this domain are scored with now.
async fn current_production(store: &Store, org: &OrgId, pack: &Domain) -> Result<Arc<ClassifierModel>> {
    let ids = store.production_model_ids(std::slice::from_ref(org)).await?;
    if let Some((_, _, id)) = ids.into_iter().find(|(_, d, _)| d == pack.name()) {
        if let Some(body) = store.model_body(&id).await? {
            return Ok(Arc::new(ClassifierModel::from_registry(&id, &body)?));
        }
    }
    pack.classifier.clone().ok_or_else(|| Error::Config(format!("the {} pack has no Tier 2 model", pack.name())))
}

/// Retraining jobs running in this process, by organization and domain.
static RUNNING: std::sync::Mutex<Vec<(OrgId, String)>> = std::sync::Mutex::new(Vec::new());

/// One organization's and domain's place in [`RUNNING`], given back when dropped: after the
/// job ends, fails or panics alike, so that a crash never blocks that domain's retraining.
struct RunningSlot((OrgId, String));

impl RunningSlot {
    fn take(key: (OrgId, String)) -> Option<RunningSlot> {
        let mut running = RUNNING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if running.contains(&key) {
            return None;
        }
        running.push(key.clone());
        Some(RunningSlot(key))
    }
}

impl Drop for RunningSlot {
    fn drop(&mut self) {
        RUNNING.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).retain(|k| *k != self.0);
    }
}

/// After a review: retrains the domain's model in the background once `after` new reviews have
/// come in since the last model (none running already for it here).
pub async fn retrain_if_due(store: &Store, pack: Arc<Domain>, org: &OrgId, after: u64) -> Result<bool> {
    if after == 0 || pack.classifier.is_none() {
        return Ok(false);
    }
    let domain = pack.name().to_string();
    if (store.reviews_since_last_model(org, &domain).await?.max(0) as u64) < after {
        return Ok(false);
    }
    let Some(slot) = RunningSlot::take((org.clone(), domain.clone())) else { return Ok(false) };
    let (store, org) = (store.clone(), org.clone());
    tokio::spawn(async move {
        let _slot = slot;
        match retrain(&store, pack, &org, |_| {}).await {
            Ok(r) => tracing::info!(%org, domain, version = r.model.version, promoted = r.promoted, "retrained Tier 2"),
            Err(e) => tracing::warn!(%org, domain, error = %e, "retraining failed"),
        }
    });
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_gives_its_slot_back() {
        let key = (OrgId(uuid::Uuid::now_v7()), "slot-test".to_string());
        let slot = RunningSlot::take(key.clone()).expect("free");
        assert!(RunningSlot::take(key.clone()).is_none(), "one job per organization and domain");
        let crashed = std::panic::catch_unwind(move || {
            let _slot = slot;
            panic!("training blew up");
        });
        assert!(crashed.is_err());
        assert!(RunningSlot::take(key).is_some(), "the panic gave the slot back");
    }
}
