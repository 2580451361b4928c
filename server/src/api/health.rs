//! `GET /health` and `GET /metrics`: served by `aegis serve` and by `aegis worker --addr`.

use std::sync::Arc;

use aegis_core::config::Config;
use aegis_core::domains::Domains;
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
    pub domains: Domains,
    pub config: Arc<Config>,
}

impl FromRef<AppState> for Ops {
    fn from_ref(state: &AppState) -> Ops {
        Ops {
            store: state.store.clone(),
            telemetry: state.telemetry.clone(),
            domains: state.domains.clone(),
            config: state.config.clone(),
        }
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

/// `200` when the database answers, `503` when it does not; either way, what this process
/// evaluates with: its shared packs with their Tier 2 model versions, how many packs
/// organizations own (never their names: `/health` is unauthenticated), and the judge (no
/// secrets).
async fn health(State(ops): State<Ops>) -> Response {
    let backend = ops.store.backend().name();
    let set = ops.domains.current();
    let packs: Vec<_> = set
        .domains()
        .iter()
        .filter(|d| d.owner.is_none())
        .map(|d| {
            let s = d.summary();
            json!({
                "name": s.name,
                "version": s.version,
                "source": if d.dir.folder().is_some() { d.dir.to_string() } else { "built-in".into() },
                "rules": s.rules.len(),
                "classifier": s.classifier,
                "judge_rubric": s.judge,
            })
        })
        .collect();
    let organization_packs = set.domains().iter().filter(|d| d.owner.is_some()).count();
    let judge = &ops.config.judge;
    let judge = judge.provider.map(|p| json!({ "provider": p, "model": judge.model }));
    let (code, status, database) = match ops.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok", "ok".to_string()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()),
    };
    let body = json!({
        "status": status, "database": database, "backend": backend, "version": env!("CARGO_PKG_VERSION"),
        "packs": packs, "organization_packs": organization_packs, "judge": judge,
    });
    (code, Json(body)).into_response()
}

async fn metrics(State(ops): State<Ops>) -> Response {
    let body = ops.telemetry.render(&ops.store).await;
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], body).into_response()
}
