//! `POST /traces`, `POST /traces/batch`, `GET /traces`, `GET /traces/{id}`.

use aegis_core::ingest::parse::{parse_batch, parse_trace};
use aegis_core::ingest::Accepted;
use aegis_core::model::{Severity, TraceInput, TraceStatus};
use aegis_core::store::{InsertOutcome, ListQuery};
use aegis_core::{Error, FieldError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use uuid::Uuid;

use super::auth::{Caller, Org};
use super::error::ApiError;
use super::extract::{not_found, timestamp, JsonBody, TraceIdPath};
use super::limits::admit;
use crate::state::AppState;

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 1_000;

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
pub async fn create_batch(
    State(state): State<AppState>,
    Caller(caller): Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let org = caller.org_id.clone();
    let items = parse_batch(&body)?;
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
    Org(org): Org,
    TraceIdPath(id): TraceIdPath,
) -> Result<Response, ApiError> {
    match state.store.get_trace(&org, id).await? {
        Some(trace) => Ok(Json(trace).into_response()),
        None => Err(not_found(&id.to_string())),
    }
}

/// `GET /traces?limit=&cursor=&domain=&status=&from=&to=` → `{"items", "next_cursor"}`.
pub async fn list(
    State(state): State<AppState>,
    Org(org): Org,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let query = list_query(&pairs)?;
    Ok(Json(state.store.list_traces(&org, &query).await?).into_response())
}

fn list_query(pairs: &[(String, String)]) -> Result<ListQuery, FieldError> {
    let mut q = ListQuery { limit: DEFAULT_LIMIT, ..ListQuery::default() };
    for (key, value) in pairs {
        match key.as_str() {
            "limit" => {
                q.limit =
                    value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                        FieldError::new("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))
                    })?;
            }
            "cursor" if !value.is_empty() => q.cursor = Some(value.clone()),
            "domain" if !value.is_empty() => q.domain = Some(value.clone()),
            "status" if !value.is_empty() => {
                q.status = Some(TraceStatus::parse(value).ok_or_else(|| {
                    FieldError::new("status", "must be one of queued, pass, fail, needs_review, error")
                })?);
            }
            "application" if !value.is_empty() => q.application = Some(value.clone()),
            "severity" if !value.is_empty() => {
                q.severity =
                    Some(Severity::parse(value).ok_or_else(|| {
                        FieldError::new("severity", "must be one of none, low, medium, high, critical")
                    })?);
            }
            "q" if !value.trim().is_empty() => {
                if value.chars().count() > 500 {
                    return Err(FieldError::new("q", "must be at most 500 characters"));
                }
                q.q = Some(value.clone());
            }
            "sort" if !value.is_empty() => {
                q.oldest_first = match value.as_str() {
                    "newest" => false,
                    "oldest" => true,
                    _ => return Err(FieldError::new("sort", "must be newest or oldest")),
                };
            }
            "from" if !value.is_empty() => q.from = Some(timestamp("from", value)?),
            "to" if !value.is_empty() => q.to = Some(timestamp("to", value)?),
            _ => {}
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn list_parameters_are_checked_and_named() {
        let q = list_query(&pairs(&[("limit", "10"), ("status", "fail"), ("domain", "trading")])).unwrap();
        assert_eq!((q.limit, q.status, q.domain.as_deref()), (10, Some(TraceStatus::Fail), Some("trading")));
        assert_eq!(list_query(&pairs(&[("limit", "0")])).unwrap_err().field, "limit");
        assert_eq!(list_query(&pairs(&[("limit", "ten")])).unwrap_err().field, "limit");
        assert_eq!(list_query(&pairs(&[("status", "great")])).unwrap_err().field, "status");
        assert_eq!(list_query(&pairs(&[("from", "yesterday")])).unwrap_err().field, "from");
        assert_eq!(list_query(&pairs(&[])).unwrap().limit, DEFAULT_LIMIT);
        assert!(list_query(&pairs(&[("sort", "oldest")])).unwrap().oldest_first);
        assert!(!list_query(&pairs(&[("sort", "newest")])).unwrap().oldest_first);
        assert_eq!(list_query(&pairs(&[("sort", "random")])).unwrap_err().field, "sort");
    }
}
