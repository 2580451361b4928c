//! The process's Prometheus registry: the core's metrics plus HTTP request metrics.

use std::time::Instant;

use aegis_core::store::Store;
use aegis_core::telemetry::CoreMetrics;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route pattern (`/api/v1/traces/{id}`), never the raw path, to bound cardinality.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

pub struct Telemetry {
    registry: Registry,
    pub core: CoreMetrics,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram>,
    queue_depth: Gauge,
}

impl Telemetry {
    pub fn new() -> Telemetry {
        let mut registry = Registry::default();
        let core = CoreMetrics::register(&mut registry);
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        let queue_depth = Gauge::default();
        registry.register("aegis_http_requests", "HTTP requests served", requests.clone());
        registry.register("aegis_http_request_duration_seconds", "HTTP request latency", request_seconds.clone());
        registry.register("aegis_queue_depth", "Evaluation jobs waiting or running", queue_depth.clone());
        Telemetry { registry, core, requests, request_seconds, queue_depth }
    }

    /// The metrics in the Prometheus text exposition format. Reads the queue depth fresh.
    pub async fn render(&self, store: &Store) -> String {
        match store.queue_depth().await {
            Ok(depth) => {
                self.queue_depth.set(depth);
            }
            Err(e) => tracing::warn!(error = %e, "could not read the queue depth"),
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        out
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}

/// Middleware counting and timing every request by route.
pub async fn track_requests(
    State(telemetry): State<std::sync::Arc<Telemetry>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_string(),
        None if request.uri().path().starts_with("/pkg/") => "/pkg/*".to_string(),
        None => "unmatched".to_string(),
    };
    let response = next.run(request).await;
    let status = response.status().as_u16();
    telemetry
        .request_seconds
        .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
        .observe(started.elapsed().as_secs_f64());
    telemetry.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    response
}
