//! `GET /evaluations/{trace_id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::TraceIdPath;
use crate::state::AppState;

/// `200` with the evaluation once it exists, `202 {"status": "pending"}` while it is queued.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    TraceIdPath(id): TraceIdPath,
) -> Result<Response, ApiError> {
    match aegis_core::service::traces::evaluation(&state.store, &caller.as_actor(), id).await? {
        Some(evaluation) => Ok(Json(evaluation).into_response()),
        None => Ok((StatusCode::ACCEPTED, Json(json!({ "trace_id": id, "status": "pending" }))).into_response()),
    }
}
