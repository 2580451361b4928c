//! `GET /evaluations/{trace_id}`.

use aegis_core::store::EvaluationLookup;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use uuid::Uuid;

use super::auth::Org;
use super::error::ApiError;
use crate::state::AppState;

/// `200` with the evaluation once it exists, `202 {"status": "pending"}` while it is queued.
pub async fn get(
    State(state): State<AppState>,
    Org(org): Org,
    Path(trace_id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found(format!("no trace {trace_id:?} in this organization"));
    let id: Uuid = trace_id.parse().map_err(|_| not_found())?;
    match state.store.get_evaluation(&org, id).await? {
        EvaluationLookup::Done(evaluation) => Ok(Json(evaluation).into_response()),
        EvaluationLookup::Pending => {
            Ok((StatusCode::ACCEPTED, Json(json!({ "trace_id": id, "status": "pending" }))).into_response())
        }
        EvaluationLookup::NotFound => Err(not_found()),
    }
}
