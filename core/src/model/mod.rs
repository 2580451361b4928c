//! The domain model shared by the core, the server and the browser.

mod analytics;
mod evaluation;
mod phi;
mod review;
mod sinks;
mod trace;
mod transfer;
mod users;

pub use analytics::{
    Bucket, CostGroup, CostKey, CostReport, DomainDashboard, FacetCount, IssueCount, LiveEvent, Metric, Overview,
    Panel, Series, StatusCounts, TierUsage, TopIssue, Trend, TrendPoint,
};

pub use evaluation::{
    pnl_bucket, Decision, Evaluation, EvaluationStatus, Evidence, Facet, Issue, ModuleResult, ReviewRequest, Severity,
    TierCost, PNL_BUCKETS,
};
pub use phi::{PhiType, Sealed};
pub use review::{
    cohens_kappa, Agreement, ModelStage, RegisteredModel, Review, ReviewItem, ReviewLabel, ReviewerProgress,
};
pub use sinks::{
    Alert, AlertChannel, AlertRule, AlertStatus, ChannelTarget, Delivery, DeliveryAttempt, DeliveryStatus, Envelope,
    EvaluationEvent, EventType, SinkKind, WebhookEndpoint,
};
pub use trace::{AiProcessing, Step, Trace, TraceInput, TraceStatus, TraceSummary};
pub use transfer::TransferPair;
pub use users::{LinkKind, SessionInfo};

/// One page of a keyset-paginated list; pass `next_cursor` back to get the next page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The identifier of an organization (tenant). Every row Aegis stores belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct OrgId(pub uuid::Uuid);

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for OrgId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(OrgId)
    }
}
