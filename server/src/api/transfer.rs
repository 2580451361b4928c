//! `/transfer`: the sim-to-real transfer metric. Pairs of a trace's simulated and real scores
//! go in; a regression per domain with conformal intervals predicts real from simulated.

use std::collections::BTreeMap;

use aegis_core::ingest::parse::parse_json;
use aegis_core::transfer::{TransferModel, TransferPair};
use aegis_core::FieldError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::Org;
use super::error::ApiError;
use super::extract::{not_found, JsonBody};
use crate::state::AppState;

/// The coverage of the intervals `predict` returns.
const COVERAGE: f64 = 0.9;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairBody {
    trace_id: uuid::Uuid,
    sim_score: f64,
    real_score: f64,
    #[serde(default)]
    features: BTreeMap<String, f64>,
}

fn finite(field: &str, value: f64) -> Result<f64, ApiError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ApiError::invalid(FieldError::new(field, "must be a finite number")))
    }
}

/// `POST /transfer/pairs {"trace_id", "sim_score", "real_score", "features"?}` → `201
/// {"trace_id", "domain", "pairs"}`: the pair counts for the trace's domain.
pub async fn record(
    State(state): State<AppState>,
    Org(org): Org,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: PairBody = parse_json(&body, "")?;
    let pair = TransferPair {
        sim_score: finite("sim_score", input.sim_score)?,
        real_score: finite("real_score", input.real_score)?,
        features: input.features,
    };
    let (domain, pairs) = state
        .store
        .record_transfer_pair(&org, input.trace_id, &pair)
        .await?
        .ok_or_else(|| not_found(&input.trace_id.to_string()))?;
    Ok((StatusCode::CREATED, Json(json!({ "trace_id": input.trace_id, "domain": domain, "pairs": pairs })))
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PredictBody {
    sim_score: f64,
    #[serde(default)]
    features: BTreeMap<String, f64>,
    /// Needed when the organization has pairs in more than one domain.
    domain: Option<String>,
}

/// `POST /transfer/predict {"sim_score", "features", "domain"?}` → `{"predicted_real_score",
/// "confidence_lower", "confidence_upper", "coverage", "pairs", "domain"}`.
pub async fn predict(
    State(state): State<AppState>,
    Org(org): Org,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: PredictBody = parse_json(&body, "")?;
    let sim = finite("sim_score", input.sim_score)?;
    let domains = state.store.transfer_domains(&org).await?;
    let domain = match (input.domain, domains.as_slice()) {
        (Some(d), _) => d,
        (None, [(only, _)]) => only.clone(),
        (None, []) => {
            return Err(ApiError::invalid(FieldError::new(
                "sim_score",
                "no pairs recorded yet: POST /api/v1/transfer/pairs first",
            )))
        }
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|(d, _)| d.as_str()).collect();
            return Err(ApiError::invalid(FieldError::new(
                "domain",
                format!("name one: there are pairs for {}", names.join(", ")),
            )));
        }
    };
    let pairs = state.store.transfer_pairs(&org, &domain).await?;
    let model = TransferModel::fit(&pairs, COVERAGE, 0).map_err(|e| match e {
        aegis_core::Error::Invalid(f) => ApiError::new(StatusCode::CONFLICT, "not_enough_pairs", f.message),
        other => other.into(),
    })?;
    let p = model.predict(sim, &input.features);
    Ok(Json(json!({
        "predicted_real_score": p.predicted_real_score,
        "confidence_lower": p.confidence_lower,
        "confidence_upper": p.confidence_upper,
        "coverage": COVERAGE,
        "pairs": model.pairs,
        "domain": domain,
    }))
    .into_response())
}
