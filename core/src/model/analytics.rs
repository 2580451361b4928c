//! What the Overview, the Analytics charts and the live feed show. Computed from rollups per
//! organization, domain and UTC hour (see `store::rollups`), never by scanning traces.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{EvaluationStatus, Severity};

/// Evaluations of one time range: `GET /api/v1/analytics/overview`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Traces evaluated in the range.
    pub total_traces: i64,
    /// Share of evaluated traces that passed, 0 to 1; none without traces.
    pub pass_rate: Option<f64>,
    pub status_counts: StatusCounts,
    pub total_cost_micro_usd: i64,
    /// Micro-dollars, rounded to the nearest; none without traces.
    pub avg_cost_per_trace: Option<i64>,
    /// Latency of the evaluation itself (all tiers run), from an hourly histogram whose
    /// buckets are 5% wide; none without traces.
    pub p50_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
    /// How many traces each tier evaluated, and what it cost.
    pub tier_distribution: Vec<TierUsage>,
    /// The most frequent issue types, most frequent first; a trace counts once per type.
    pub error_types: Vec<IssueCount>,
}

/// Evaluations by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub pass: i64,
    pub fail: i64,
    pub needs_review: i64,
    pub error: i64,
}

impl StatusCounts {
    pub fn total(&self) -> i64 {
        self.pass + self.fail + self.needs_review + self.error
    }

    pub fn add(&mut self, status: EvaluationStatus, n: i64) {
        match status {
            EvaluationStatus::Pass => self.pass += n,
            EvaluationStatus::Fail => self.fail += n,
            EvaluationStatus::NeedsReview => self.needs_review += n,
            EvaluationStatus::Error => self.error += n,
        }
    }

    pub fn merge(&mut self, other: &StatusCounts) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.needs_review += other.needs_review;
        self.error += other.error;
    }

    /// Passed over all evaluated; none when nothing was.
    pub fn pass_rate(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| self.pass as f64 / total as f64)
    }
}

/// One tier's share of the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierUsage {
    pub tier: u8,
    /// Traces this tier evaluated.
    pub traces: i64,
    /// Of all evaluated traces, 0 to 1.
    pub share: f64,
    pub cost_micro_usd: i64,
}

/// How many traces raised one issue type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCount {
    pub code: String,
    pub count: i64,
}

/// The width of a time bucket in a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    #[default]
    Hour,
    Day,
}

impl Bucket {
    pub fn parse(s: &str) -> Option<Bucket> {
        match s {
            "hour" => Some(Bucket::Hour),
            "day" => Some(Bucket::Day),
            _ => None,
        }
    }

    pub fn micros(self) -> i64 {
        match self {
            Bucket::Hour => 3_600_000_000,
            Bucket::Day => 86_400_000_000,
        }
    }
}

/// Everything known about one time bucket; a trend picks its metric from these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The start of the bucket.
    pub t: DateTime<Utc>,
    pub status_counts: StatusCounts,
    pub cost_micro_usd: i64,
    /// Cost per tier, tiers 0 to 4.
    pub cost_by_tier: [i64; 5],
    pub p50_latency_ms: Option<f64>,
    pub p95_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
    /// Traces per issue type.
    pub issues: BTreeMap<String, i64>,
}

/// The metrics `GET /api/v1/analytics/trends` can chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Traces evaluated, per verdict.
    Volume,
    PassRate,
    /// Micro-dollars, per tier.
    Cost,
    /// p50, p95 and p99 evaluation latency, in milliseconds.
    Latency,
    /// Traces per issue type (the five most frequent over the range, and "other").
    Issues,
}

impl Metric {
    pub const ALL: [Metric; 5] = [Metric::Volume, Metric::PassRate, Metric::Cost, Metric::Latency, Metric::Issues];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Volume => "volume",
            Metric::PassRate => "pass_rate",
            Metric::Cost => "cost",
            Metric::Latency => "latency",
            Metric::Issues => "issues",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            Metric::Volume => "Traces evaluated",
            Metric::PassRate => "Pass rate",
            Metric::Cost => "Cost per tier (USD)",
            Metric::Latency => "Evaluation latency (ms)",
            Metric::Issues => "Issues by type",
        }
    }
}

/// A metric over time, as named series of `(bucket start, value)`; a bucket without traces
/// has no point in a ratio or latency series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub metric: Metric,
    pub bucket: Bucket,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

impl Trend {
    /// Picks `metric` out of the buckets.
    pub fn of(metric: Metric, bucket: Bucket, from: DateTime<Utc>, to: DateTime<Utc>, points: &[TrendPoint]) -> Trend {
        let series = |name: &str, value: &dyn Fn(&TrendPoint) -> Option<f64>| Series {
            name: name.to_string(),
            points: points.iter().filter_map(|p| Some((p.t, value(p)?))).collect(),
        };
        let series = match metric {
            Metric::Volume => vec![
                series("total", &|p| Some(p.status_counts.total() as f64)),
                series("pass", &|p| Some(p.status_counts.pass as f64)),
                series("fail", &|p| Some(p.status_counts.fail as f64)),
                series("needs_review", &|p| Some(p.status_counts.needs_review as f64)),
                series("error", &|p| Some(p.status_counts.error as f64)),
            ],
            Metric::PassRate => vec![series("pass_rate", &|p| p.status_counts.pass_rate())],
            Metric::Cost => (1..=4u8)
                .map(|tier| series(&format!("tier {tier}"), &move |p| Some(p.cost_by_tier[usize::from(tier)] as f64)))
                .collect(),
            Metric::Latency => vec![
                series("p50", &|p| p.p50_latency_ms),
                series("p95", &|p| p.p95_latency_ms),
                series("p99", &|p| p.p99_latency_ms),
            ],
            Metric::Issues => {
                let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
                for p in points {
                    for (code, n) in &p.issues {
                        *totals.entry(code).or_default() += n;
                    }
                }
                let mut ranked: Vec<_> = totals.into_iter().collect();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                let top: Vec<String> = ranked.iter().take(5).map(|(c, _)| c.to_string()).collect();
                let mut out: Vec<Series> = top
                    .iter()
                    .map(|code| series(code, &|p| Some(p.issues.get(code).copied().unwrap_or(0) as f64)))
                    .collect();
                if ranked.len() > top.len() {
                    out.push(series("other", &|p| {
                        Some(p.issues.iter().filter(|(c, _)| !top.contains(c)).map(|(_, n)| *n).sum::<i64>() as f64)
                    }));
                }
                out
            }
        };
        Trend { metric, bucket, from, to, series }
    }
}

/// One value of a facet on a domain dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// `meta.specialty`, `issue.drug_interaction`, `pnl`.
    pub facet: String,
    pub value: String,
    pub traces: i64,
    /// Traces that failed or went to review.
    pub flagged: i64,
    /// Summed PnL in hundredths (trajectories only).
    pub amount: i64,
}

/// A domain's dashboard: `GET /api/v1/analytics/domains/{domain}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDashboard {
    pub domain: String,
    pub title: String,
    pub overview: Overview,
    pub panels: Vec<Panel>,
}

/// One panel of a domain dashboard, as the pack's spec lays it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    pub title: String,
    pub facets: Vec<String>,
    /// Summed over the panel's facets by value.
    pub rows: Vec<FacetCount>,
}

/// One finished evaluation, as the live feed (`/ws/traces`) sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub trace_id: Uuid,
    pub application_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub status: EvaluationStatus,
    pub severity: Severity,
    /// The worst issue found, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_issue: Option<TopIssue>,
    pub cost_micro_usd: i64,
    pub latency_ms: f64,
    pub received_at: DateTime<Utc>,
    pub evaluated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopIssue {
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

/// What `GET /api/v1/costs` can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKey {
    Tier,
    Day,
    Hour,
    Domain,
}

impl CostKey {
    pub const ALL: [CostKey; 4] = [CostKey::Tier, CostKey::Day, CostKey::Hour, CostKey::Domain];

    pub fn as_str(self) -> &'static str {
        match self {
            CostKey::Tier => "tier",
            CostKey::Day => "day",
            CostKey::Hour => "hour",
            CostKey::Domain => "domain",
        }
    }

    pub fn parse(s: &str) -> Option<CostKey> {
        CostKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Spend in a range, in integer micro-dollars, grouped as asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Vec<CostKey>,
    pub total_micro_usd: i64,
    /// Module runs that cost something or nothing: every tier's run counts.
    pub runs: i64,
    pub groups: Vec<CostGroup>,
}

/// One group of a [`CostReport`]; the keys not grouped by are absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// `YYYY-MM-DD`, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// The start of the hour, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub micro_usd: i64,
    pub runs: i64,
}
