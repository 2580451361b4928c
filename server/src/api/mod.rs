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
mod params;
mod phi;
mod reviews;
mod traces;
mod transfer;
mod webhooks;

use aegis_core::access::Capability;
use axum::extract::DefaultBodyLimit;
use axum::routing::{on, MethodFilter};
use axum::Router;

use crate::state::AppState;
use error::ApiError;

/// One REST endpoint: its method and route (under `/api/v1`), the capability its caller needs,
/// and the query parameters it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub capability: Capability,
    pub query: &'static [&'static str],
}

/// The endpoint table and the router built from it, so no endpoint exists without a row
/// saying who may call it.
macro_rules! endpoints {
    ($($method:ident $path:literal => $handler:path, $capability:ident $(, query: $query:expr)?;)*) => {
        /// Every REST endpoint, in the order the router is built.
        pub const ENDPOINTS: &[Endpoint] = &[$(Endpoint {
            method: stringify!($method),
            path: $path,
            capability: Capability::$capability,
            query: endpoints!(@query $($query)?),
        }),*];

        fn routes(state: &AppState) -> Router<AppState> {
            Router::new()$(.route(
                $path,
                on(MethodFilter::$method, $handler).route_layer(axum::middleware::from_fn_with_state(
                    auth::Guard::new(state, Capability::$capability),
                    auth::authorize,
                )),
            ))*
        }
    };
    (@query $query:expr) => { $query };
    (@query) => { &[] };
}

endpoints! {
    POST "/traces" => traces::create, SendTraces;
    GET "/traces" => traces::list, ReadTraces, query: aegis_core::service::traces::LIST_PARAMETERS;
    POST "/traces/batch" => traces::create_batch, SendTraces;
    GET "/traces/{trace_id}" => traces::get, ReadTraces;
    GET "/evaluations/{trace_id}" => evaluations::get, ReadTraces;
    POST "/phi/scan" => phi::scan, ScanText;
    POST "/phi/deidentify" => phi::deidentify, ScanText;
    GET "/phi/policy" => phi::get_policy, ReadPhiPolicy;
    PUT "/phi/policy" => phi::put_policy, ManagePhiPolicy;
    POST "/phi/reidentify" => phi::reidentify, Reidentify;
    GET "/audit" => phi::audit, ReadAudit, query: &["limit"];
    GET "/analytics/overview" => analytics::overview, ReadAnalytics, query: aegis_core::service::analytics::PARAMETERS;
    GET "/analytics/trends" => analytics::trends, ReadAnalytics, query: aegis_core::service::analytics::PARAMETERS;
    GET "/analytics/domains/{domain}" => analytics::domain_dashboard, ReadAnalytics, query: aegis_core::service::analytics::PARAMETERS;
    GET "/costs" => costs::get, ReadAnalytics, query: aegis_core::service::costs::PARAMETERS;
    GET "/domains" => domains::list, ReadDomains;
    POST "/domains" => domains::create, ManageDomains;
    POST "/domains/reload" => domains::reload, ManageDomains;
    PUT "/domains/{domain}/modules/{module}" => domains::set_module, ManageDomains;
    POST "/webhooks" => webhooks::create, ManageIntegrations;
    GET "/webhooks" => webhooks::list, ReadIntegrations;
    GET "/webhooks/{id}" => webhooks::get, ReadIntegrations;
    PATCH "/webhooks/{id}" => webhooks::update, ManageIntegrations;
    DELETE "/webhooks/{id}" => webhooks::delete, ManageIntegrations;
    POST "/webhooks/{id}/rotate" => webhooks::rotate, ManageIntegrations;
    POST "/webhooks/{id}/test" => webhooks::test, ManageIntegrations;
    GET "/webhooks/{id}/deliveries" => webhooks::deliveries, ReadIntegrations, query: &["status", "limit", "cursor"];
    GET "/webhooks/{id}/deliveries/{delivery_id}" => webhooks::delivery, ReadIntegrations;
    POST "/webhooks/{id}/deliveries/{delivery_id}/replay" => webhooks::replay, ManageIntegrations;
    POST "/alert-channels" => alerts::create_channel, ManageIntegrations;
    GET "/alert-channels" => alerts::list_channels, ReadAlerts;
    DELETE "/alert-channels/{id}" => alerts::delete_channel, ManageIntegrations;
    POST "/alert-rules" => alerts::create_rule, ManageIntegrations;
    GET "/alert-rules" => alerts::list_rules, ReadAlerts;
    PUT "/alert-rules/{id}" => alerts::update_rule, ManageIntegrations;
    DELETE "/alert-rules/{id}" => alerts::delete_rule, ManageIntegrations;
    GET "/alerts" => alerts::list_alerts, ReadAlerts, query: &["limit"];
    POST "/alerts/{id}/resolve" => alerts::resolve, ResolveAlerts;
    POST "/transfer/pairs" => transfer::record, RecordOutcomes;
    POST "/transfer/predict" => transfer::predict, Predict;
    GET "/models" => models::list, ReadModels, query: &["domain"];
    POST "/models/retrain" => models::retrain, TrainModels;
    POST "/models/{id}/promote" => models::promote, TrainModels;
    GET "/expert-review/queue" => reviews::queue, ReadReviews, query: &["domain", "limit"];
    POST "/expert-review/queue" => reviews::enqueue, Review;
    GET "/expert-review/agreement" => reviews::agreement, ReadReviews, query: &["domain"];
    POST "/expert-review/{trace_id}" => reviews::submit, Review;
    GET "/expert-review/{trace_id}" => reviews::history, ReadReviews;
}

/// `/api/v1/...` routes.
pub fn v1(state: &AppState) -> Router<AppState> {
    routes(state)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .route_layer(axum::middleware::from_fn(params::only_known))
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
}
