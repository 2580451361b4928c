//! The public REST API, `/api/v1`, plus `/health` and `/metrics`.
//! One module per endpoint group; every error is `{"error": {"code", "message", "field"?}}`.

mod analytics;
pub mod auth;
mod costs;
mod domains;
pub mod error;
mod evaluations;
pub mod extract;
pub mod health;
mod limits;
mod phi;
mod traces;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use error::ApiError;

/// `/api/v1/...` routes.
pub fn v1(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/traces", post(traces::create).get(traces::list))
        .route("/traces/batch", post(traces::create_batch))
        .route("/traces/{trace_id}", get(traces::get))
        .route("/evaluations/{trace_id}", get(evaluations::get))
        .route("/phi/scan", post(phi::scan))
        .route("/phi/deidentify", post(phi::deidentify))
        .route("/phi/policy", get(phi::get_policy).put(phi::put_policy))
        .route("/phi/reidentify", post(phi::reidentify))
        .route("/audit", get(phi::audit))
        .route("/analytics/overview", get(analytics::overview))
        .route("/analytics/trends", get(analytics::trends))
        .route("/analytics/domains/{domain}", get(analytics::domain_dashboard))
        .route("/costs", get(costs::get))
        .route("/domains", get(domains::list).post(domains::create))
        .route("/domains/reload", post(domains::reload))
        .route("/domains/{domain}/modules/{module}", axum::routing::put(domains::set_module))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
}
