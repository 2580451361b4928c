//! `/expert-review`: the review queue, experts' verdicts, each trace's review history, and
//! how often experts agree. The rules are `service::reviews`'.

use aegis_core::ingest::parse::parse_json;
use aegis_core::review::ReviewInput;
use aegis_core::service::reviews::{self, Enqueue, Verdict};
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
    let items = reviews::queue(&state.store, &caller.as_actor(), &caller.actor(), q.domain.as_deref(), limit).await?;
    Ok(Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnqueueBody {
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
    let EnqueueBody { trace_id, reason, priority, reviews_needed } = parse_json(&body, "")?;
    let input = Enqueue { trace_id, reason, priority, reviews_needed };
    let queued = reviews::enqueue(&state.store, &caller.as_actor(), input).await?;
    let body = json!({
        "trace_id": trace_id, "reason": queued.reason, "priority": queued.priority,
        "reviews_needed": queued.reviews_needed,
    });
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
    let input: ReviewInput = parse_json(&body, "")?;
    let reviewer = caller.actor();
    let verdict = Verdict { reviewer: &reviewer, trace_ids: &[trace_id], input };
    let mut created =
        reviews::submit(&state.store, &state.phi, &state.domains, &state.config, &caller.as_actor(), verdict).await?;
    let created = created.pop().ok_or_else(|| not_found(&trace_id.to_string()))?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /expert-review/{trace_id}` → `{"items": [...]}`: the trace's reviews, oldest first.
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    TraceIdPath(trace_id): TraceIdPath,
) -> Result<Response, ApiError> {
    Ok(Json(json!({ "items": reviews::history(&state.store, &caller.as_actor(), trace_id).await? })).into_response())
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
    let (items, reviewers) = reviews::agreement(&state.store, &caller.as_actor(), q.domain.as_deref()).await?;
    Ok(Json(json!({ "items": items, "reviewers": reviewers })).into_response())
}
