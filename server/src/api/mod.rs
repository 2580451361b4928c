//! The public REST API, `/api/v1`, plus `/health` and `/metrics`.
//! One module per endpoint group; every error is `{"error": {"code", "message", "field"?}}`.

mod alerts;
mod analytics;
pub mod auth;
mod costs;
mod domains;
pub mod error;
mod evaluations;
pub mod extract;
pub mod health;
mod limits;
mod models;
mod phi;
mod reviews;
mod traces;
mod transfer;
mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
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
        .route("/domains/{domain}/modules/{module}", put(domains::set_module))
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/webhooks/{id}", get(webhooks::get).patch(webhooks::update).delete(webhooks::delete))
        .route("/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}", get(webhooks::delivery))
        .route("/webhooks/{id}/deliveries/{delivery_id}/replay", post(webhooks::replay))
        .route("/alert-channels", post(alerts::create_channel).get(alerts::list_channels))
        .route("/alert-channels/{id}", axum::routing::delete(alerts::delete_channel))
        .route("/alert-rules", post(alerts::create_rule).get(alerts::list_rules))
        .route("/alert-rules/{id}", put(alerts::update_rule).delete(alerts::delete_rule))
        .route("/alerts", get(alerts::list_alerts))
        .route("/transfer/pairs", post(transfer::record))
        .route("/transfer/predict", post(transfer::predict))
        .route("/models", get(models::list))
        .route("/models/retrain", post(models::retrain))
        .route("/models/{id}/promote", post(models::promote))
        .route("/expert-review/queue", get(reviews::queue).post(reviews::enqueue))
        .route("/expert-review/agreement", get(reviews::agreement))
        .route("/expert-review/{trace_id}", post(reviews::submit).get(reviews::history))
        .route("/alerts/{id}/resolve", post(alerts::resolve))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
}
