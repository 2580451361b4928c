//! `/models`: the organization's Tier 2 model registry: versions per domain with their metrics
//! and stage, retraining on the experts' reviews, and promotion (or rollback). The rules are
//! `service::models`'.

use aegis_core::ingest::parse::parse_json;
use aegis_core::service::models;
use axum::extract::{Path, Query, State};
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
pub struct ListQuery {
    domain: Option<String>,
}

/// `GET /models?domain=` → `{"items": [{"id", "domain", "tier", "version", "stage", "metrics",
/// "reviews_used", "note", "created_at", "promoted_at"}]}`, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let items = models::list(&state.store, &caller.as_actor(), q.domain.as_deref()).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrainBody {
    domain: String,
}

/// `POST /models/retrain {"domain"}` (admin) → `201 {"model", "promoted",
/// "production_accuracy"}`: trains on the pack's seed set and the organization's reviews, and
/// promotes the result only if it beats production on the same held-out labels.
pub async fn retrain(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: RetrainBody = parse_json(&body, "")?;
    let retrained = models::retrain(&state.store, &state.domains, &caller.as_actor(), &input.domain).await?;
    Ok((StatusCode::CREATED, Json(retrained)).into_response())
}

/// `POST /models/{id}/promote` (admin): puts the model in production, archiving the one there;
/// promoting an archived model rolls back to it. Workers use it from their next batch.
pub async fn promote(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(models::promote(&state.store, &caller.as_actor(), &id).await?).into_response())
}
