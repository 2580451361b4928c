//! `/transfer`: the sim-to-real transfer metric. Pairs of a trace's simulated and real scores
//! go in; a regression per domain with conformal intervals predicts real from simulated.

use std::collections::BTreeMap;

use aegis_core::ingest::parse::parse_json;
use aegis_core::service::transfer::{self, COVERAGE};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::JsonBody;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairBody {
    trace_id: uuid::Uuid,
    sim_score: f64,
    real_score: f64,
    #[serde(default)]
    features: BTreeMap<String, f64>,
}

/// `POST /transfer/pairs {"trace_id", "sim_score", "real_score", "features"?}` → `201
/// {"trace_id", "domain", "pairs"}`: the pair counts for the trace's domain.
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let PairBody { trace_id, sim_score, real_score, features } = parse_json(&body, "")?;
    let (domain, pairs) =
        transfer::record(&state.store, &caller.as_actor(), trace_id, sim_score, real_score, features).await?;
    Ok((StatusCode::CREATED, Json(json!({ "trace_id": trace_id, "domain": domain, "pairs": pairs }))).into_response())
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
/// "confidence_lower", "confidence_upper", "coverage", "pairs", "domain"}`; too few pairs is
/// `409 not_enough_pairs`.
pub async fn predict(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let PredictBody { sim_score, features, domain } = parse_json(&body, "")?;
    let predicted = transfer::predict(&state.store, &caller.as_actor(), sim_score, features, domain).await.map_err(
        |e| match e {
            aegis_core::Error::Invalid(f) if f.field == "pairs" => {
                ApiError::new(StatusCode::CONFLICT, "not_enough_pairs", f.message)
            }
            other => other.into(),
        },
    )?;
    let p = predicted.prediction;
    Ok(Json(json!({
        "predicted_real_score": p.predicted_real_score,
        "confidence_lower": p.confidence_lower,
        "confidence_upper": p.confidence_upper,
        "coverage": COVERAGE,
        "pairs": predicted.pairs,
        "domain": predicted.domain,
    }))
    .into_response())
}
