//! `GET /analytics/overview`, `/analytics/trends` and `/analytics/domains/{domain}`. The rules
//! are `service::analytics`'.

use aegis_core::service::analytics::{self, AnalyticsQuery};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::Caller;
use super::error::ApiError;
use crate::state::AppState;

type Pairs = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

fn query(pairs: Pairs) -> Result<AnalyticsQuery, ApiError> {
    let Query(pairs) = pairs.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    Ok(AnalyticsQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?)
}

/// `{"total_traces", "pass_rate", "avg_cost_per_trace", "p95_latency_ms", "tier_distribution",
/// "error_types", ...}` for `from`..`to` (default: the last 24 hours) and an optional domain.
pub async fn overview(State(state): State<AppState>, caller: Caller, pairs: Pairs) -> Result<Response, ApiError> {
    Ok(Json(analytics::overview(&state.store, &caller.as_actor(), &query(pairs)?).await?).into_response())
}

/// `{"metric", "bucket", "from", "to", "series": [{"name", "points": [[t, value], ...]}]}`.
pub async fn trends(State(state): State<AppState>, caller: Caller, pairs: Pairs) -> Result<Response, ApiError> {
    Ok(Json(analytics::trend(&state.store, &caller.as_actor(), &query(pairs)?).await?).into_response())
}

/// `{"domain", "title", "overview", "panels": [{"title", "facets", "rows": [{"value", "traces",
/// "flagged", "amount"}]}]}`: the domain's dashboard, laid out by its pack.
pub async fn domain_dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Path(domain): Path<String>,
    pairs: Pairs,
) -> Result<Response, ApiError> {
    let q = query(pairs)?;
    let dashboard = analytics::domain_dashboard(&state.store, &state.domains, &caller.as_actor(), &domain, &q).await?;
    Ok(Json(dashboard).into_response())
}
