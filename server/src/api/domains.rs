//! `/domains`: the loaded domain packs, and reloading them after an edit (admin keys only).

use aegis_core::domains::DomainSet;
use aegis_core::Error;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::auth::{Admin, Org};
use super::error::ApiError;
use crate::state::AppState;

fn listing(set: &DomainSet) -> Response {
    let items: Vec<_> = set.domains().iter().map(|d| d.summary()).collect();
    Json(json!({ "items": items })).into_response()
}

/// `GET /domains` → `{"items": [{"name", "title", "version", "aliases", "drugs", "rules"}]}`.
pub async fn list(State(state): State<AppState>, Org(_): Org) -> Response {
    listing(&state.domains.current())
}

/// `POST /domains/reload`: reads the packs again. A broken pack is a 422 naming its file and
/// line, and the packs in use stay as they were.
pub async fn reload(State(state): State<AppState>, Admin(_): Admin) -> Result<Response, ApiError> {
    match state.domains.reload() {
        Ok(set) => Ok(listing(&set)),
        Err(e @ Error::Pack { .. }) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_domain_pack", e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
