//! `/webhooks`: signed webhook endpoints, their secrets, and each one's delivery log with
//! replay. Reading needs any key of the organization; changes need an admin key.

use aegis_core::ingest::parse::parse_json;
use aegis_core::model::DeliveryStatus;
use aegis_core::sinks::settings::WebhookInput;
use aegis_core::store::ROTATION_OVERLAP;
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

fn no_endpoint(id: &str) -> ApiError {
    ApiError::not_found(format!("no webhook endpoint {id:?} in this organization"))
}

/// `POST /webhooks {"url", "events", "description"?}` → `201` with the endpoint and its
/// `secret` (`whsec_...`), shown this once.
pub async fn create(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: WebhookInput = parse_json(&body, "")?;
    let checked = input.check(true, state.config.sinks.allow_private).await?;
    let (url, events) = (checked.url.unwrap_or_default(), checked.events.unwrap_or_default());
    let org = &caller.0.org_id;
    let description = checked.description.unwrap_or_default();
    let (endpoint, secret) = state.store.create_webhook(org, &caller.actor(), &url, &description, &events).await?;
    let mut body = serde_json::to_value(&endpoint).map_err(aegis_core::Error::from)?;
    body["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /webhooks` → `{"items": [...]}`, without secrets.
pub async fn list(State(state): State<AppState>, Org(org): Org) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": state.store.webhooks(&org).await? })).into_response())
}

pub async fn get(State(state): State<AppState>, Org(org): Org, Path(id): Path<String>) -> Result<Response, ApiError> {
    let endpoint = state.store.webhook(&org, &id).await?.ok_or_else(|| no_endpoint(&id))?;
    Ok(Json(endpoint).into_response())
}

/// `PATCH /webhooks/{id}` with any of `url`, `events`, `description`, `enabled`.
pub async fn update(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: WebhookInput = parse_json(&body, "")?;
    let update = input.check(false, state.config.sinks.allow_private).await?;
    let endpoint = state
        .store
        .update_webhook(&caller.0.org_id, &caller.actor(), &id, &update)
        .await?
        .ok_or_else(|| no_endpoint(&id))?;
    Ok(Json(endpoint).into_response())
}

/// `DELETE /webhooks/{id}` → `204`; messages still pending to it are given up.
pub async fn delete(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if state.store.delete_webhook(&caller.0.org_id, &caller.actor(), &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(no_endpoint(&id))
    }
}

/// `POST /webhooks/{id}/rotate` → `{"secret", "previous_secret_expires_at"}`: the old secret
/// keeps signing beside the new one for a day.
pub async fn rotate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let secret = state
        .store
        .rotate_webhook_secret(&caller.0.org_id, &caller.actor(), &id)
        .await?
        .ok_or_else(|| no_endpoint(&id))?;
    let expires = chrono::Utc::now() + ROTATION_OVERLAP;
    Ok(Json(json!({ "id": id, "secret": secret, "previous_secret_expires_at": expires })).into_response())
}

/// `POST /webhooks/{id}/test` → `202`: sends a `webhook.test` event.
pub async fn test(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let org = &caller.0.org_id;
    state.store.webhook(org, &id).await?.ok_or_else(|| no_endpoint(&id))?;
    state.store.send_test_webhook(org, &id).await?;
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
    Org(org): Org,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Response, ApiError> {
    state.store.webhook(&org, &id).await?.ok_or_else(|| no_endpoint(&id))?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(aegis_core::FieldError::new("status", "must be pending, delivered or failed"))
        })?),
    };
    let limit = super::extract::limit(q.limit.as_deref(), 50, 500)?;
    let items = state.store.deliveries(&org, &id, status, q.cursor.as_deref(), limit).await?;
    let next_cursor = (items.len() as i64 == limit).then(|| items.last().map(|d| d.id.clone())).flatten();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })).into_response())
}

/// `GET /webhooks/{id}/deliveries/{delivery_id}`: the message and every attempt.
pub async fn delivery(
    State(state): State<AppState>,
    Org(org): Org,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let delivery = state
        .store
        .delivery(&org, &id, &delivery_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no delivery {delivery_id:?} for this endpoint")))?;
    Ok(Json(delivery).into_response())
}

/// `POST /webhooks/{id}/deliveries/{delivery_id}/replay` → `202`: sends the message again,
/// with the same `webhook-id`.
pub async fn replay(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = &caller.0.org_id;
    let endpoint = state.store.webhook(org, &id).await?.ok_or_else(|| no_endpoint(&id))?;
    if !endpoint.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "endpoint_disabled",
            "the endpoint is switched off; switch it on (PATCH {\"enabled\": true}) before replaying",
        ));
    }
    let delivery = state
        .store
        .replay_delivery(org, &id, &delivery_id, &caller.actor())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no delivery {delivery_id:?} for this endpoint")))?;
    Ok((StatusCode::ACCEPTED, Json(delivery)).into_response())
}
