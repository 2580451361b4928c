//! `/models`: the organization's Tier 2 model registry: versions per domain with their metrics
//! and stage, retraining on the experts' reviews, and promotion (or rollback).

use aegis_core::ingest::parse::parse_json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::{Admin, Org};
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
    Org(org): Org,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let domain = q.domain.as_deref().filter(|d| !d.is_empty());
    Ok(Json(json!({ "items": state.store.registered_models(&org, domain).await? })).into_response())
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
    Admin(caller): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: RetrainBody = parse_json(&body, "")?;
    let set = state.domains.current();
    let pack =
        set.route(&input.domain).filter(|p| p.spec.tier2.is_some() && p.classifier.is_some()).cloned().ok_or_else(
            || ApiError::invalid(aegis_core::FieldError::new("domain", "names no loaded pack with a Tier 2 model")),
        )?;
    let retrained = aegis_core::review::retrain::retrain(&state.store, pack, &caller.0.org_id, |_| {}).await?;
    Ok((StatusCode::CREATED, Json(retrained)).into_response())
}

/// `POST /models/{id}/promote` (admin): puts the model in production, archiving the one there;
/// promoting an archived model rolls back to it. Workers use it from their next batch.
pub async fn promote(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let model = state
        .store
        .promote_model(&caller.0.org_id, &id, &caller.actor())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no model {id:?} in this organization")))?;
    Ok(Json(model).into_response())
}
