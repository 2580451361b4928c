//! Request parts: JSON bodies within the size limit and trace ids in paths, with errors in the
//! API's format.

use aegis_core::FieldError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::ApiError;
use crate::state::AppState;

/// The raw bytes of a JSON body. Parsing is left to the handler, so that errors can name
/// the field at fault (and a batch can fail item by item).
pub struct JsonBody(pub Bytes);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let limit = state.config.max_body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is larger than the {limit}-byte limit; send smaller batches"),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", rejection.body_text())
            }
        })?;
        Ok(JsonBody(bytes))
    }
}

/// The `{trace_id}` of a path. Something that is not a UUID names no trace: `404`, like an
/// id of another organization.
pub struct TraceIdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for TraceIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found("no such trace"))?;
        raw.parse().map(TraceIdPath).map_err(|_| not_found(&raw))
    }
}

/// The answer for a trace this organization does not have.
pub fn not_found(trace_id: &str) -> ApiError {
    ApiError::not_found(format!("no trace {trace_id:?} in this organization"))
}

/// A `limit` query value: `default` when absent or empty, else a whole number from 1 to `max`.
pub fn limit(raw: Option<&str>, default: i64, max: i64) -> Result<i64, FieldError> {
    match raw {
        None | Some("") => Ok(default),
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| FieldError::new("limit", format!("must be a whole number from 1 to {max}"))),
    }
}
