//! `/phi/*`: try the recognizers, manage the policy, re-identify (admin keys only, audited).

use aegis_core::ingest::parse::parse_json;
use aegis_core::phi::PhiPolicy;
use aegis_core::FieldError;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::{Admin, Org};
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
    Org(org): Org,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let TextBody { text } = parse_json(&body, "")?;
    let phi = state.phi.for_org(&org).await?;
    Ok(Json(json!({ "entities": phi.scanner.scan(&text) })).into_response())
}

/// `POST /phi/deidentify {"text"}` → `{"text", "entities"}`: what ingest would store. Nothing
/// is written, not even to the vault.
pub async fn deidentify(
    State(state): State<AppState>,
    Org(org): Org,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let TextBody { text } = parse_json(&body, "")?;
    let phi = state.phi.for_org(&org).await?;
    let (text, entities) = phi.deidentify_text(&text);
    Ok(Json(json!({ "text": text, "entities": entities })).into_response())
}

pub async fn get_policy(State(state): State<AppState>, Org(org): Org) -> Result<Response, ApiError> {
    Ok(Json(state.phi.policy(&org).await?).into_response())
}

/// `PUT /phi/policy`: replaces the policy, after checking every custom pattern compiles.
pub async fn put_policy(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let policy: PhiPolicy = parse_json(&body, "")?;
    state.phi.set_policy(&caller.0.org_id, policy.clone(), &caller.actor()).await?;
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

const MAX_TOKENS: usize = 1_000;

/// `POST /phi/reidentify {"tokens", "reason", "trace_id"?}` → `{"values": {token: original |
/// null}}`. `tokens` are tokens, or with `trace_id` anything de-identification put into that
/// trace (stand-ins included). Admin keys only; the request, with its reason, is in the audit
/// log before anything is read.
pub async fn reidentify(
    State(state): State<AppState>,
    Admin(caller): Admin,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let ReidentifyBody { tokens, reason, trace_id } = parse_json(&body, "")?;
    if tokens.is_empty() || tokens.len() > MAX_TOKENS {
        return Err(FieldError::new("tokens", format!("must hold 1 to {MAX_TOKENS} tokens")).into());
    }
    if reason.trim().chars().count() < 5 {
        return Err(FieldError::new("reason", "say why the originals are needed (at least 5 characters)").into());
    }
    let values = state.phi.reidentify(&caller.0.org_id, &tokens, trace_id, &caller.actor(), reason.trim()).await?;
    Ok(Json(json!({ "values": values })).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<u32>,
}

/// `GET /audit?limit=`: the organization's audit log, newest first. Admin keys only.
pub async fn audit(
    State(state): State<AppState>,
    Admin(caller): Admin,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::invalid(FieldError::new("limit", "must be a whole number")))?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    Ok(Json(json!({ "items": state.store.audit_log(&caller.0.org_id, limit).await? })).into_response())
}
