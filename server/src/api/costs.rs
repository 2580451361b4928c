//! `GET /costs`: what the organization spent, to the micro-dollar, grouped as asked. The rules
//! are `service::costs`'.

use aegis_core::service::costs::{self, CostQuery};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Caller;
use super::error::ApiError;
use crate::state::AppState;

/// `?from=&to=&group_by=tier,day,domain` (default: the last 30 days, grouped by day) →
/// `{"from", "to", "group_by", "total_micro_usd", "runs", "groups": [{"tier"?, "day"?,
/// "hour"?, "domain"?, "micro_usd", "runs"}]}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let q = CostQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(Json(costs::report(&state.store, &caller.as_actor(), &q).await?).into_response())
}
