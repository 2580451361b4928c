//! `/alert-channels`, `/alert-rules` and `/alerts`: where an organization's alerts go, when
//! they are raised, and the alerts themselves. The rules are `service::alerts`'.

use aegis_core::ingest::parse::parse_json;
use aegis_core::service::alerts;
use aegis_core::sinks::settings::{ChannelInput, RuleInput};
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

/// `POST /alert-channels` → `201` with the channel (its secret masked).
pub async fn create_channel(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: ChannelInput = parse_json(&body, "")?;
    let channel = alerts::create_channel(&state.store, &state.config, &caller.as_actor(), input).await?;
    Ok((StatusCode::CREATED, Json(channel)).into_response())
}

/// `GET /alert-channels` → `{"items": [...]}`, secrets masked.
pub async fn list_channels(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": alerts::channels(&state.store, &caller.as_actor()).await? })).into_response())
}

pub async fn delete_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    alerts::delete_channel(&state.store, &caller.as_actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /alert-rules {"name", "min_severity", "domains"?, "issue_types"?, "channels",
/// "cooldown_secs"?, "enabled"?}` → `201`.
pub async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: RuleInput = parse_json(&body, "")?;
    let rule = alerts::create_rule(&state.store, &caller.as_actor(), input).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

pub async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": alerts::rules(&state.store, &caller.as_actor()).await? })).into_response())
}

/// `PUT /alert-rules/{id}`: replaces the rule's settings.
pub async fn update_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: RuleInput = parse_json(&body, "")?;
    Ok(Json(alerts::update_rule(&state.store, &caller.as_actor(), &id, input).await?).into_response())
}

pub async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    alerts::delete_rule(&state.store, &caller.as_actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    limit: Option<String>,
}

/// `GET /alerts?limit=` → `{"items": [...]}`, newest first.
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertsQuery>,
) -> Result<Response, ApiError> {
    let limit = super::extract::limit(q.limit.as_deref(), 50, 500)?;
    Ok(Json(json!({ "items": alerts::alerts(&state.store, &caller.as_actor(), limit).await? })).into_response())
}

/// `POST /alerts/{id}/resolve`: resolves the alert, and its PagerDuty incident.
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(alerts::resolve(&state.store, &caller.as_actor(), &id).await?).into_response())
}
