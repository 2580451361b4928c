//! `/phi/*`: try the recognizers, manage the policy, re-identify (audited), and `/audit`. The
//! rules are `service::phi`'.

use aegis_core::ingest::parse::parse_json;
use aegis_core::phi::PhiPolicy;
use aegis_core::service::phi;
use aegis_core::FieldError;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::JsonBody;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    text: String,
}

/// `POST /phi/scan {"text"}` → `{"entities": [{"start", "end", "type", "score"}]}`, offsets in
/// code points, under the organization's policy.
pub async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let TextBody { text } = parse_json(&body, "")?;
    let entities = phi::scan(&state.phi, &caller.as_actor(), &text).await?;
    Ok(Json(json!({ "entities": entities })).into_response())
}

/// `POST /phi/deidentify {"text"}` → `{"text", "entities"}`: what ingest would store. Nothing
/// is written, not even to the vault.
pub async fn deidentify(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let TextBody { text } = parse_json(&body, "")?;
    let (text, entities) = phi::deidentify(&state.phi, &caller.as_actor(), &text).await?;
    Ok(Json(json!({ "text": text, "entities": entities })).into_response())
}

pub async fn get_policy(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(Json(phi::policy(&state.phi, &caller.as_actor()).await?).into_response())
}

/// `PUT /phi/policy`: replaces the policy, after checking every custom pattern compiles.
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let policy: PhiPolicy = parse_json(&body, "")?;
    phi::set_policy(&state.phi, &caller.as_actor(), policy.clone()).await?;
    Ok(Json(policy).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReidentifyBody {
    tokens: Vec<String>,
    reason: String,
    /// Opens stand-ins (and shifted dates) through this trace's record of what it put in.
    #[serde(default)]
    trace_id: Option<uuid::Uuid>,
}

/// `POST /phi/reidentify {"tokens", "reason", "trace_id"?}` → `{"values": {token: original |
/// null}}`. `tokens` are tokens, or with `trace_id` anything de-identification put into that
/// trace (stand-ins included). Owners and admins only; the request, with its reason, is in the audit
/// log before anything is read.
pub async fn reidentify(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let ReidentifyBody { tokens, reason, trace_id } = parse_json(&body, "")?;
    let values = phi::reidentify(&state.phi, &caller.as_actor(), &tokens, &reason, trace_id).await?;
    Ok(Json(json!({ "values": values })).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<u32>,
}

/// `GET /audit?limit=`: the organization's audit log, newest first. Owners and admins only.
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::invalid(FieldError::new("limit", "must be a whole number")))?;
    Ok(Json(json!({ "items": phi::audit(&state.store, &caller.as_actor(), query.limit).await? })).into_response())
}
