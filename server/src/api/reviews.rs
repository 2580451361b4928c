//! `/expert-review`: the review queue, experts' verdicts, each trace's review history, and
//! how often experts agree.

use aegis_core::ingest::parse::parse_json;
use aegis_core::review::ReviewInput;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{not_found, JsonBody, TraceIdPath};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct QueueQuery {
    domain: Option<String>,
    limit: Option<String>,
}

/// `GET /expert-review/queue?domain=&limit=` → `{"items": [{"trace_id", "domain", "reason",
/// "priority", "reviews", "reviews_needed", "queued_at"}]}`, highest priority first, without
/// the traces the caller already reviewed.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<QueueQuery>,
) -> Result<Response, ApiError> {
    let limit = super::extract::limit(q.limit.as_deref(), 50, 500)?;
    let domain = q.domain.as_deref().filter(|d| !d.is_empty());
    let items = state.store.review_items(&caller.0.org_id, domain, &caller.actor(), limit).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enqueue {
    trace_id: uuid::Uuid,
    reason: Option<String>,
    priority: Option<f64>,
    reviews_needed: Option<u32>,
}

/// `POST /expert-review/queue {"trace_id", "reason"?, "priority"?, "reviews_needed"?}` → `201`:
/// sends a trace to the experts by hand (again, if it was reviewed).
pub async fn enqueue(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input: Enqueue = parse_json(&body, "")?;
    let reason = input.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    let reason = reason.unwrap_or_else(|| format!("sent by {}", caller.actor()));
    if reason.chars().count() > 500 {
        return Err(ApiError::invalid(aegis_core::FieldError::new("reason", "is longer than 500 characters")));
    }
    let priority = input.priority.unwrap_or(1.0);
    if !priority.is_finite() {
        return Err(ApiError::invalid(aegis_core::FieldError::new("priority", "must be a number")));
    }
    let needed = input.reviews_needed.unwrap_or(1);
    if !(1..=5).contains(&needed) {
        return Err(ApiError::invalid(aegis_core::FieldError::new("reviews_needed", "must be 1 to 5")));
    }
    let org = &caller.0.org_id;
    let trace =
        state.store.get_trace(org, input.trace_id).await?.ok_or_else(|| not_found(&input.trace_id.to_string()))?;
    let domain = trace.metadata.get("domain").cloned().unwrap_or_default();
    state.store.queue_for_review(org, input.trace_id, &domain, &reason, priority, needed).await?;
    let body = json!({ "trace_id": input.trace_id, "reason": reason, "priority": priority, "reviews_needed": needed });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `POST /expert-review/{trace_id} {"label": "safe"|"unsafe", "severity"?, "issues"?,
/// "notes"?, "corrected_output"?}` → `201` with the review.
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    TraceIdPath(trace_id): TraceIdPath,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let org = &caller.0.org_id;
    let input: ReviewInput = parse_json(&body, "")?;
    let phi = state.phi.for_org(org).await?;
    let review = input.check(&phi)?;
    let created = state
        .store
        .record_review(org, trace_id, &caller.actor(), &review)
        .await?
        .ok_or_else(|| not_found(&trace_id.to_string()))?;
    if let Some(pack) = created.domain.as_deref().and_then(|d| state.domains.current().route(d).cloned()) {
        let after = state.config.retrain_after_reviews;
        // The review is recorded either way; a failed check is logged, not the caller's problem.
        if let Err(e) = aegis_core::review::retrain::retrain_if_due(&state.store, pack, org, after).await {
            tracing::warn!(error = %e, "could not check whether retraining is due");
        }
    }
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /expert-review/{trace_id}` → `{"items": [...]}`: the trace's reviews, oldest first.
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    TraceIdPath(trace_id): TraceIdPath,
) -> Result<Response, ApiError> {
    let org = &caller.0.org_id;
    if state.store.get_trace(org, trace_id).await?.is_none() {
        return Err(not_found(&trace_id.to_string()));
    }
    Ok(Json(json!({ "items": state.store.reviews_of(org, trace_id).await? })).into_response())
}

#[derive(Deserialize)]
pub struct AgreementQuery {
    domain: Option<String>,
}

/// `GET /expert-review/agreement?domain=` → `{"items": [{"domain", "traces", "observed",
/// "expected", "kappa"}]}`, and each reviewer's progress.
pub async fn agreement(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AgreementQuery>,
) -> Result<Response, ApiError> {
    let org = &caller.0.org_id;
    let domain = q.domain.as_deref().filter(|d| !d.is_empty());
    let items = state.store.review_agreement(org, domain).await?;
    let reviewers = state.store.reviewer_progress(org, chrono::Utc::now()).await?;
    Ok(Json(json!({ "items": items, "reviewers": reviewers })).into_response())
}
