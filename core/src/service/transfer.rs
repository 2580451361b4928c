//! The sim-to-real transfer metric: pairs of a trace's simulated and real scores go in; a
//! regression per domain with conformal intervals predicts real from simulated.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::access::{Actor, Capability};
use crate::model::TransferPair;
use crate::store::Store;
use crate::transfer::{check_features, TransferModel, TransferPrediction};
use crate::{Error, FieldError, Result};

/// The coverage of the intervals [`predict`] returns.
pub const COVERAGE: f64 = 0.9;

fn finite(field: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(FieldError::new(field, "must be a finite number").into())
    }
}

/// Records a trace's simulated and real scores; returns the trace's domain and how many pairs
/// it now has.
pub async fn record(
    store: &Store,
    actor: &Actor,
    trace_id: Uuid,
    sim_score: f64,
    real_score: f64,
    features: BTreeMap<String, f64>,
) -> Result<(String, i64)> {
    actor.require(Capability::RecordOutcomes)?;
    check_features(&features)?;
    let pair = TransferPair {
        sim_score: finite("sim_score", sim_score)?,
        real_score: finite("real_score", real_score)?,
        features,
    };
    store.record_transfer_pair(&actor.org_id, trace_id, &pair).await?.ok_or_else(|| super::traces::no_trace(trace_id))
}

/// A prediction, with the domain it is for and the pairs its model was fitted on.
pub struct Predicted {
    pub prediction: TransferPrediction,
    pub domain: String,
    pub pairs: usize,
}

/// Predicts the real score from a simulated one, in `domain` (needed when the organization has
/// pairs in more than one). Too few pairs is an `Invalid` error on the field `pairs`.
pub async fn predict(
    store: &Store,
    actor: &Actor,
    sim_score: f64,
    features: BTreeMap<String, f64>,
    domain: Option<String>,
) -> Result<Predicted> {
    actor.require(Capability::Predict)?;
    let sim = finite("sim_score", sim_score)?;
    check_features(&features)?;
    let recorded = store.transfer_domains(&actor.org_id).await?;
    let domain = match (domain, recorded.as_slice()) {
        (Some(d), _) => d,
        (None, [(only, _)]) => only.clone(),
        (None, []) => {
            return Err(FieldError::new("sim_score", "no pairs recorded yet: POST /api/v1/transfer/pairs first").into())
        }
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|(d, _)| d.as_str()).collect();
            return Err(FieldError::new("domain", format!("name one: there are pairs for {}", names.join(", "))).into());
        }
    };
    let pairs = store.transfer_pairs(&actor.org_id, &domain).await?;
    // A regression over every recorded pair: CPU work, off the async runtime.
    let model = tokio::task::spawn_blocking(move || TransferModel::fit(&pairs, COVERAGE, 0))
        .await
        .map_err(|e| Error::Internal(format!("the transfer fit panicked: {e}")))??;
    Ok(Predicted { prediction: model.predict(sim, &features), domain, pairs: model.pairs })
}
