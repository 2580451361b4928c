//! `/alert-channels`, `/alert-rules` and `/alerts`: where an organization's alerts go, when
//! they are raised, and the alerts themselves. Changes need an admin key.

use aegis_core::ingest::parse::parse_json;
use aegis_core::model::AlertChannel;
use aegis_core::sinks::settings::{ChannelInput, RuleInput};
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

/// A channel as listed: its secret parts masked.
fn shown(channel: AlertChannel) -> AlertChannel {
    AlertChannel { target: channel.target.masked(), ..channel }
}

/// `POST /alert-channels` → `201` with the channel (its secret masked).
pub async fn create_channel(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: ChannelInput = parse_json(&body, "")?;
    let email = state.config.sinks.smtp.host.as_deref().is_some_and(|h| !h.is_empty());
    let (name, target) = input.check(state.config.sinks.allow_private, email).await?;
    let channel = state.store.create_alert_channel(&caller.0.org_id, &caller.actor(), &name, &target).await?;
    Ok((StatusCode::CREATED, Json(shown(channel))).into_response())
}

pub async fn list_channels(State(state): State<AppState>, Org(org): Org) -> Result<Response, ApiError> {
    let items: Vec<AlertChannel> = state.store.alert_channels(&org).await?.into_iter().map(shown).collect();
    Ok(Json(json!({ "items": items })).into_response())
}

pub async fn delete_channel(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.store.delete_alert_channel(&caller.0.org_id, &caller.actor(), &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no alert channel {id:?} in this organization")))
    }
}

async fn checked_rule(
    state: &AppState,
    org: &aegis_core::model::OrgId,
    body: &[u8],
) -> Result<aegis_core::store::NewAlertRule, ApiError> {
    let input: RuleInput = parse_json(body, "")?;
    let known: Vec<String> = state.store.alert_channels(org).await?.into_iter().map(|c| c.id).collect();
    Ok(input.check(&known)?)
}

/// `POST /alert-rules {"name", "min_severity", "domains"?, "issue_types"?, "channels",
/// "cooldown_secs"?, "enabled"?}` → `201`.
pub async fn create_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let rule = checked_rule(&state, &caller.0.org_id, &body).await?;
    let rule = state.store.create_alert_rule(&caller.0.org_id, &caller.actor(), &rule).await?;
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

pub async fn list_rules(State(state): State<AppState>, Org(org): Org) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": state.store.alert_rules(&org).await? })).into_response())
}

/// `PUT /alert-rules/{id}`: replaces the rule's settings.
pub async fn update_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let rule = checked_rule(&state, &caller.0.org_id, &body).await?;
    let rule = state
        .store
        .update_alert_rule(&caller.0.org_id, &caller.actor(), &id, &rule)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert rule {id:?} in this organization")))?;
    Ok(Json(rule).into_response())
}

pub async fn delete_rule(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.store.delete_alert_rule(&caller.0.org_id, &caller.actor(), &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("no alert rule {id:?} in this organization")))
    }
}

#[derive(Deserialize)]
pub struct AlertsQuery {
    limit: Option<String>,
}

/// `GET /alerts?limit=` → `{"items": [...]}`, newest first.
pub async fn list_alerts(
    State(state): State<AppState>,
    Org(org): Org,
    Query(q): Query<AlertsQuery>,
) -> Result<Response, ApiError> {
    let limit = super::extract::limit(q.limit.as_deref(), 50, 500)?;
    Ok(Json(json!({ "items": state.store.alerts(&org, limit).await? })).into_response())
}

/// `POST /alerts/{id}/resolve`: resolves the alert, and its PagerDuty incident.
pub async fn resolve(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let alert = state
        .store
        .resolve_alert(&caller.0.org_id, &caller.actor(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id:?} in this organization")))?;
    Ok(Json(alert).into_response())
}
