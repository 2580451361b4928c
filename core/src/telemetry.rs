//! Prometheus metrics of the core: what was ingested and evaluated, and how fast.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhiTypeLabel {
    pub r#type: String,
}

/// Handles to the core's metrics; clones share the same series.
#[derive(Clone, Debug)]
pub struct CoreMetrics {
    pub traces_ingested: Counter,
    pub traces_duplicate: Counter,
    pub group_commit_traces: Histogram,
    pub evaluations: Family<StatusLabel, Counter>,
    pub evaluation_seconds: Histogram,
    pub job_retries: Counter,
    /// Traces that named a domain no loaded pack serves, recorded as `unknown_domain` errors.
    pub traces_without_domain: Counter,
    /// Identifiers the recognizers missed and the second pass caught before storing, by type.
    pub phi_second_pass: Family<PhiTypeLabel, Counter>,
}

impl CoreMetrics {
    pub fn register(registry: &mut Registry) -> CoreMetrics {
        let m = CoreMetrics {
            traces_ingested: Counter::default(),
            traces_duplicate: Counter::default(),
            group_commit_traces: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            evaluations: Family::default(),
            evaluation_seconds: Histogram::new(exponential_buckets(0.000_01, 4.0, 12)),
            job_retries: Counter::default(),
            traces_without_domain: Counter::default(),
            phi_second_pass: Family::default(),
        };
        registry.register(
            "aegis_traces_ingested",
            "Traces stored and queued for evaluation",
            m.traces_ingested.clone(),
        );
        registry.register(
            "aegis_traces_duplicate",
            "Resubmitted traces answered from the store",
            m.traces_duplicate.clone(),
        );
        registry.register(
            "aegis_group_commit_traces",
            "Traces written per group-commit transaction",
            m.group_commit_traces.clone(),
        );
        registry.register("aegis_evaluations", "Evaluations completed, by status", m.evaluations.clone());
        registry.register(
            "aegis_evaluation_seconds",
            "Time to evaluate one trace through the cascade",
            m.evaluation_seconds.clone(),
        );
        registry.register("aegis_job_retries", "Evaluation jobs put back for a retry", m.job_retries.clone());
        registry.register(
            "aegis_traces_without_domain",
            "Traces that named a domain no loaded pack serves: recorded as errors, not evaluated for their domain",
            m.traces_without_domain.clone(),
        );
        registry.register(
            "aegis_phi_second_pass",
            "Identifiers the recognizers missed and the second pass replaced before storing, by type",
            m.phi_second_pass.clone(),
        );
        m
    }

    /// Metrics that go nowhere, for tools that do not export them.
    pub fn unregistered() -> CoreMetrics {
        CoreMetrics::register(&mut Registry::default())
    }
}
