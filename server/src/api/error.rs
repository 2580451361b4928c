//! The API's error responses.

use aegis_core::{Error, FieldError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An error as the API returns it: a status and `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, body: ErrorBody { code, message: message.into(), field: None } }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body.field = Some(field.into());
        self
    }

    pub fn invalid(e: FieldError) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", format!("{}: {}", e.field, e.message))
            .with_field(e.field)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not accept that method")
    }

    fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred; it has been logged")
    }

    fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl From<aegis_core::access::Forbidden> for ApiError {
    fn from(refused: aegis_core::access::Forbidden) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", refused.to_string())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Malformed(message) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {message}"),
            ),
            Error::Invalid(field) => ApiError::invalid(field),
            Error::NotFound(message) => ApiError::not_found(message),
            Error::Forbidden(refused) => refused.into(),
            Error::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            Error::TurnedOff(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            e @ Error::Pack { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_domain_pack", e.to_string())
            }
            Error::Unavailable(message) => ApiError::unavailable(message),
            Error::Database(sqlx::Error::PoolTimedOut) => ApiError::unavailable("the database is busy; retry shortly"),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::internal()
            }
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::invalid(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Envelope {
            error: ErrorBody,
        }
        let retry = matches!(self.status, StatusCode::SERVICE_UNAVAILABLE);
        let mut response = (self.status, Json(Envelope { error: self.body })).into_response();
        if retry {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
