//! `GET /health` and `GET /metrics`: served by `aegis serve` and by `aegis worker --addr`.

use std::sync::Arc;

use aegis_core::store::Store;
use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;
use crate::telemetry::Telemetry;

/// What the operational endpoints need: a process without the API has it too.
#[derive(Clone)]
pub struct Ops {
    pub store: Store,
    pub telemetry: Arc<Telemetry>,
}

impl FromRef<AppState> for Ops {
    fn from_ref(state: &AppState) -> Ops {
        Ops { store: state.store.clone(), telemetry: state.telemetry.clone() }
    }
}

/// `/health` and `/metrics`, unauthenticated: for load balancers and Prometheus.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Ops: FromRef<S>,
{
    Router::new().route("/health", get(health)).route("/metrics", get(metrics))
}

/// `200` when the database answers, `503` when it does not.
async fn health(State(ops): State<Ops>) -> Response {
    let backend = ops.store.backend().name();
    match ops.store.ping().await {
        Ok(()) => Json(json!({
            "status": "ok", "database": "ok", "backend": backend, "version": env!("CARGO_PKG_VERSION"),
        }))
        .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": e.to_string(), "backend": backend })),
        )
            .into_response(),
    }
}

async fn metrics(State(ops): State<Ops>) -> Response {
    let body = ops.telemetry.render(&ops.store).await;
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}
