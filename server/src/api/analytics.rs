//! `GET /analytics/overview` and `GET /analytics/trends`: read from the hourly rollups, so
//! they cost the same with a thousand traces or a hundred million.

use aegis_core::model::{Bucket, Metric, Trend};
use aegis_core::FieldError;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};

use super::auth::Org;
use super::error::ApiError;
use super::extract::timestamp;
use crate::state::AppState;

type Pairs = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

/// Hourly points a trend may have (a month), and daily ones (ten years).
const MAX_HOURS: i64 = 24 * 31;
const MAX_DAYS: i64 = 3_660;

/// `{"total_traces", "pass_rate", "avg_cost_per_trace", "p95_latency_ms", "tier_distribution",
/// "error_types", ...}` for `from`..`to` (default: the last 24 hours) and an optional domain.
pub async fn overview(State(state): State<AppState>, Org(org): Org, query: Pairs) -> Result<Response, ApiError> {
    let q = AnalyticsQuery::parse(&pairs(query)?)?;
    let overview = state.store.overview(&org, q.from, q.to, q.domain.as_deref()).await?;
    Ok(Json(overview).into_response())
}

/// `{"metric", "bucket", "from", "to", "series": [{"name", "points": [[t, value], ...]}]}`.
pub async fn trends(State(state): State<AppState>, Org(org): Org, query: Pairs) -> Result<Response, ApiError> {
    let q = AnalyticsQuery::parse(&pairs(query)?)?;
    q.check_span()?;
    let points = state.store.trend(&org, q.from, q.to, q.domain.as_deref(), q.bucket).await?;
    Ok(Json(Trend::of(q.metric, q.bucket, q.from, q.to, &points)).into_response())
}

/// `{"domain", "title", "overview", "panels": [{"title", "facets", "rows": [{"value", "traces",
/// "flagged", "amount"}]}]}`: the domain's dashboard, laid out by its pack.
pub async fn domain_dashboard(
    State(state): State<AppState>,
    Org(org): Org,
    Path(domain): Path<String>,
    query: Pairs,
) -> Result<Response, ApiError> {
    let q = AnalyticsQuery::parse(&pairs(query)?)?;
    let set = state.domains.current();
    let domain = set.route(&domain).ok_or_else(|| ApiError::not_found(format!("no domain pack {domain:?}")))?;
    let dashboard = aegis_core::domains::dashboard::dashboard(&state.store, &org, domain, q.from, q.to).await?;
    Ok(Json(dashboard).into_response())
}

fn pairs(query: Pairs) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(pairs)| pairs)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))
}

/// The query both endpoints take.
#[derive(Debug, PartialEq)]
pub struct AnalyticsQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub domain: Option<String>,
    pub bucket: Bucket,
    pub metric: Metric,
}

impl AnalyticsQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<AnalyticsQuery, FieldError> {
        let (mut from, mut to, mut domain, mut bucket, mut metric) = (None, None, None, Bucket::Hour, Metric::Volume);
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "from" => from = Some(timestamp("from", value)?),
                "to" => to = Some(timestamp("to", value)?),
                "domain" => domain = Some(value.to_string()),
                "bucket" => {
                    bucket = Bucket::parse(value).ok_or_else(|| FieldError::new("bucket", "must be hour or day"))?
                }
                "metric" => {
                    metric = Metric::parse(value).ok_or_else(|| {
                        let names: Vec<_> = Metric::ALL.iter().map(|m| m.as_str()).collect();
                        FieldError::new("metric", format!("must be one of {}", names.join(", ")))
                    })?
                }
                _ => {}
            }
        }
        let to = to.unwrap_or_else(Utc::now);
        let from = from.unwrap_or(to - Duration::hours(24));
        if from >= to {
            return Err(FieldError::new("from", "must be before `to`"));
        }
        Ok(AnalyticsQuery { from, to, domain, bucket, metric })
    }

    /// A trend has a point per bucket: a month of hours, or ten years of days, at most.
    pub fn check_span(&self) -> Result<(), FieldError> {
        let span = self.to - self.from;
        match self.bucket {
            Bucket::Hour if span > Duration::hours(MAX_HOURS) => {
                Err(FieldError::new("bucket", "hourly trends cover at most 31 days; use bucket=day"))
            }
            Bucket::Day if span > Duration::days(MAX_DAYS) => {
                Err(FieldError::new("from", "trends cover at most ten years"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[(&str, &str)]) -> Result<AnalyticsQuery, FieldError> {
        AnalyticsQuery::parse(&items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_to_the_last_day_by_hour() {
        let q = parse(&[]).unwrap();
        assert_eq!(q.to - q.from, Duration::hours(24));
        assert_eq!((q.bucket, q.metric, q.domain), (Bucket::Hour, Metric::Volume, None));
    }

    #[test]
    fn names_the_bad_field() {
        assert_eq!(parse(&[("bucket", "week")]).unwrap_err().field, "bucket");
        assert_eq!(parse(&[("metric", "vibes")]).unwrap_err().field, "metric");
        assert_eq!(parse(&[("from", "yesterday")]).unwrap_err().field, "from");
        assert_eq!(parse(&[("from", "2026-11-26"), ("to", "2026-11-25")]).unwrap_err().field, "from");
        let year = parse(&[("from", "2026-01-01"), ("to", "2026-11-25")]).unwrap();
        assert_eq!(year.check_span().unwrap_err().field, "bucket", "a year of hours is too many points");
        let q = parse(&[("from", "2026-01-01"), ("to", "2026-11-25"), ("bucket", "day"), ("metric", "cost")]).unwrap();
        assert_eq!(q.metric, Metric::Cost);
    }
}
