//! Analytics: the overview, trends and each domain's dashboard, read from the hourly rollups so
//! they cost the same with a thousand traces or a hundred million.

use chrono::{DateTime, Duration, Utc};

use crate::access::{Actor, Capability};
use crate::domains::Domains;
use crate::model::{Bucket, DomainDashboard, Metric, Overview, Trend};
use crate::store::Store;
use crate::{Error, FieldError, Result};

use super::time;

/// Hourly points a trend may have (a month), and daily ones (ten years).
const MAX_HOURS: i64 = 24 * 31;
const MAX_DAYS: i64 = 3_660;

/// The parameters the analytics endpoints take.
pub const PARAMETERS: &[&str] = &["from", "to", "domain", "bucket", "metric"];

/// What to read: a time range, an optional domain, and for trends the bucket and metric.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub domain: Option<String>,
    pub bucket: Bucket,
    pub metric: Metric,
}

impl AnalyticsQuery {
    /// From (name, value) pairs; by default the last 24 hours by hour, volume. An empty value is
    /// the same as none.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<AnalyticsQuery, FieldError> {
        let (mut from, mut to, mut domain, mut bucket, mut metric) = (None, None, None, Bucket::Hour, Metric::Volume);
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "from" => from = Some(time::parse("from", value)?),
                "to" => to = Some(time::parse_end("to", value)?),
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
        AnalyticsQuery::new(from, to, domain, bucket, metric)
    }

    /// A query for a range the caller already has; `from` must be before `to`.
    pub fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        domain: Option<String>,
        bucket: Bucket,
        metric: Metric,
    ) -> Result<AnalyticsQuery, FieldError> {
        if from >= to {
            return Err(FieldError::new("from", "must be before `to`"));
        }
        Ok(AnalyticsQuery { from, to, domain: domain.filter(|d| !d.is_empty()), bucket, metric })
    }

    /// A trend has a point per bucket: a month of hours, or ten years of days, at most.
    fn check_span(&self) -> Result<(), FieldError> {
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

/// Totals, pass rate, cost, latency, tiers and issue types for the range.
pub async fn overview(store: &Store, actor: &Actor, q: &AnalyticsQuery) -> Result<Overview> {
    actor.require(Capability::ReadAnalytics)?;
    store.overview(&actor.org_id, q.from, q.to, q.domain.as_deref()).await
}

/// One metric over the range, a point per bucket.
pub async fn trend(store: &Store, actor: &Actor, q: &AnalyticsQuery) -> Result<Trend> {
    actor.require(Capability::ReadAnalytics)?;
    q.check_span()?;
    let points = store.trend(&actor.org_id, q.from, q.to, q.domain.as_deref(), q.bucket).await?;
    Ok(Trend::of(q.metric, q.bucket, q.from, q.to, &points))
}

/// The domain's dashboard over the range, laid out by its pack.
pub async fn domain_dashboard(
    store: &Store,
    domains: &Domains,
    actor: &Actor,
    domain: &str,
    q: &AnalyticsQuery,
) -> Result<DomainDashboard> {
    actor.require(Capability::ReadAnalytics)?;
    let set = domains.current();
    let pack = set.route(&actor.org_id, domain).ok_or_else(|| Error::NotFound(format!("no domain pack {domain:?}")))?;
    crate::domains::dashboard::dashboard(store, &actor.org_id, pack, q.from, q.to).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[(&'static str, &'static str)]) -> Result<AnalyticsQuery, FieldError> {
        AnalyticsQuery::parse(items.iter().copied())
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
