//! `POST /traces`, `POST /traces/batch`, `GET /traces`, `GET /traces/{id}`.

use aegis_core::ingest::parse::{parse_batch, parse_trace};
use aegis_core::ingest::Accepted;
use aegis_core::model::TraceInput;
use aegis_core::service::traces::{self, list_query};
use aegis_core::store::InsertOutcome;
use aegis_core::Error;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{JsonBody, TraceIdPath};
use super::limits::admit;
use crate::state::AppState;

/// `201 {"trace_id", "status": "queued"}` once the trace is durably stored.
/// A retry of the same trace answers `200` with its current status; a different trace under
/// an existing id answers `409`.
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input = parse_trace(&body, "")?;
    let limit = match admit(&state, &caller, 1).await {
        Ok(headers) => headers,
        Err(refused) => return Ok(refused),
    };
    let accepted = state.ingestor.submit(&caller.org_id, vec![input]).await?;
    let Some(Accepted { trace_id, outcome }) = accepted.into_iter().next() else {
        return Err(Error::Internal("the ingestor returned no result".into()).into());
    };
    Ok(limit.apply(match outcome {
        InsertOutcome::Created => {
            (StatusCode::CREATED, Json(json!({ "trace_id": trace_id, "status": "queued" }))).into_response()
        }
        InsertOutcome::Duplicate(status) => {
            (StatusCode::OK, Json(json!({ "trace_id": trace_id, "status": status, "duplicate": true }))).into_response()
        }
        InsertOutcome::Conflict => conflict(trace_id).into_response(),
    }))
}

fn conflict(trace_id: Uuid) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("trace {trace_id} already exists with different content; trace ids cannot be reused"),
    )
    .with_field("trace_id")
}

/// `207` with one result per item, in order: one bad item does not sink the rest.
/// Bodies above this are parsed on a blocking thread: about a millisecond of work.
const PARSE_OFF_RUNTIME_BYTES: usize = 256 * 1024;

/// Each item of a batch body parsed.
struct ParsedBatch {
    /// A result slot per item, filled for the invalid ones.
    results: Vec<Value>,
    valid: Vec<TraceInput>,
    /// Where each valid trace sits in the batch.
    valid_at: Vec<usize>,
}

fn parse_items(body: &[u8]) -> Result<ParsedBatch, ApiError> {
    let items = parse_batch(body)?;
    let mut results: Vec<Value> = Vec::with_capacity(items.len());
    let mut valid: Vec<TraceInput> = Vec::with_capacity(items.len());
    let mut valid_at: Vec<usize> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match parse_trace(item.get().as_bytes(), &format!("traces[{index}]")) {
            Ok(trace) => {
                valid.push(trace);
                valid_at.push(index);
                results.push(Value::Null);
            }
            Err(e) => results.push(json!({ "index": index, "result": "invalid", "error": ApiError::from(e).body })),
        }
    }
    Ok(ParsedBatch { results, valid, valid_at })
}

pub async fn create_batch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let org = caller.org_id.clone();
    // Parsing up to the body limit of JSON is CPU work: a large body is parsed off the async
    // runtime; a small one is not worth the hand-off.
    let ParsedBatch { mut results, valid, valid_at } = if body.len() > PARSE_OFF_RUNTIME_BYTES {
        tokio::task::spawn_blocking(move || parse_items(&body))
            .await
            .map_err(|e| aegis_core::Error::Internal(format!("parsing a batch panicked: {e}")))??
    } else {
        parse_items(&body)?
    };
    // The valid items are admitted together or not at all: no batch is half accepted.
    let limit = match admit(&state, &caller, valid.len() as u64).await {
        Ok(headers) => headers,
        Err(refused) => return Ok(refused),
    };
    let accepted = if valid.is_empty() { Vec::new() } else { state.ingestor.submit(&org, valid).await? };
    let mut counts = [0usize; 3];
    for (index, Accepted { trace_id, outcome }) in valid_at.into_iter().zip(accepted) {
        results[index] = match outcome {
            InsertOutcome::Created => {
                counts[0] += 1;
                json!({ "index": index, "result": "created", "trace_id": trace_id, "status": "queued" })
            }
            InsertOutcome::Duplicate(status) => {
                counts[1] += 1;
                json!({ "index": index, "result": "duplicate", "trace_id": trace_id, "status": status })
            }
            InsertOutcome::Conflict => {
                counts[2] += 1;
                json!({ "index": index, "result": "conflict", "trace_id": trace_id, "error": conflict(trace_id).body })
            }
        };
    }
    let invalid = results.len() - counts.iter().sum::<usize>();
    let body = json!({
        "created": counts[0], "duplicates": counts[1], "conflicts": counts[2], "invalid": invalid,
        "items": results,
    });
    Ok(limit.apply((StatusCode::MULTI_STATUS, Json(body)).into_response()))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    TraceIdPath(id): TraceIdPath,
) -> Result<Response, ApiError> {
    Ok(Json(traces::get(&state.store, &caller.as_actor(), id).await?).into_response())
}

/// `GET /traces?limit=&cursor=&domain=&status=&from=&to=` → `{"items", "next_cursor"}`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let query = list_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(Json(traces::list(&state.store, &caller.as_actor(), &query).await?).into_response())
}
