//! `/webhooks`: signed webhook endpoints, their secrets, and each one's delivery log with
//! replay. The rules are `service::webhooks`'.

use aegis_core::ingest::parse::parse_json;
use aegis_core::model::DeliveryStatus;
use aegis_core::service::webhooks;
use aegis_core::sinks::settings::WebhookInput;
use aegis_core::store::ROTATION_OVERLAP;
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

/// `POST /webhooks {"url", "events", "description"?}` → `201` with the endpoint and its
/// `secret` (`whsec_...`), shown this once.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: WebhookInput = parse_json(&body, "")?;
    let (endpoint, secret) = webhooks::create(&state.store, &state.config, &caller.as_actor(), input).await?;
    let mut body = serde_json::to_value(&endpoint).map_err(aegis_core::Error::from)?;
    body["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /webhooks` → `{"items": [...]}`, without secrets.
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": webhooks::list(&state.store, &caller.as_actor()).await? })).into_response())
}

pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(webhooks::get(&state.store, &caller.as_actor(), &id).await?).into_response())
}

/// `PATCH /webhooks/{id}` with any of `url`, `events`, `description`, `enabled`.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: WebhookInput = parse_json(&body, "")?;
    let endpoint = webhooks::update(&state.store, &state.config, &caller.as_actor(), &id, input).await?;
    Ok(Json(endpoint).into_response())
}

/// `DELETE /webhooks/{id}` → `204`; messages still pending to it are given up.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    webhooks::delete(&state.store, &caller.as_actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /webhooks/{id}/rotate` → `{"secret", "previous_secret_expires_at"}`: the old secret
/// keeps signing beside the new one for a day.
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let secret = webhooks::rotate(&state.store, &caller.as_actor(), &id).await?;
    let expires = chrono::Utc::now() + ROTATION_OVERLAP;
    Ok(Json(json!({ "id": id, "secret": secret, "previous_secret_expires_at": expires })).into_response())
}

/// `POST /webhooks/{id}/test` → `202`: sends a `webhook.test` event.
pub async fn test(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    webhooks::test(&state.store, &caller.as_actor(), &id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": true }))).into_response())
}

#[derive(Deserialize)]
pub struct DeliveriesQuery {
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `GET /webhooks/{id}/deliveries?status=&limit=&cursor=` → `{"items", "next_cursor"}`,
/// newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Response, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(aegis_core::FieldError::new("status", "must be pending, delivered or failed"))
        })?),
    };
    let limit = super::extract::limit(q.limit.as_deref(), 50, 500)?;
    let items = webhooks::deliveries(&state.store, &caller.as_actor(), &id, status, q.cursor.as_deref(), limit).await?;
    let next_cursor = (items.len() as i64 == limit).then(|| items.last().map(|d| d.id.clone())).flatten();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}

/// `GET /webhooks/{id}/deliveries/{delivery_id}`: the message and every attempt.
pub async fn delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(Json(webhooks::delivery(&state.store, &caller.as_actor(), &id, &delivery_id).await?).into_response())
}

/// `POST /webhooks/{id}/deliveries/{delivery_id}/replay` → `202`: sends the message again,
/// with the same `webhook-id`.
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let delivery = webhooks::replay(&state.store, &caller.as_actor(), &id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)).into_response())
}
