//! What an organization spent, to the micro-dollar, grouped as asked.

use chrono::{DateTime, Duration, Utc};

use crate::access::{Actor, Capability};
use crate::model::{CostKey, CostReport};
use crate::store::Store;
use crate::{FieldError, Result};

use super::time;

/// The parameters the cost report takes.
pub const PARAMETERS: &[&str] = &["from", "to", "group_by"];

/// A time range and the keys to group by.
#[derive(Debug, Clone, PartialEq)]
pub struct CostQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Vec<CostKey>,
}

impl CostQuery {
    /// From (name, value) pairs; by default the last 30 days grouped by day.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<CostQuery, FieldError> {
        let (mut from, mut to, mut keys) = (None, None, vec![CostKey::Day]);
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "from" => from = Some(time::parse("from", value)?),
                "to" => to = Some(time::parse_end("to", value)?),
                "group_by" => keys = group_by(value)?,
                _ => {}
            }
        }
        let to = to.unwrap_or_else(Utc::now);
        CostQuery::new(from.unwrap_or(to - Duration::days(30)), to, keys)
    }

    /// `from` must be before `to`; hourly groups cover at most 31 days.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, group_by: Vec<CostKey>) -> Result<CostQuery, FieldError> {
        if from >= to {
            return Err(FieldError::new("from", "must be before `to`"));
        }
        if group_by.contains(&CostKey::Hour) && to - from > Duration::days(31) {
            return Err(FieldError::new("group_by", "hourly groups cover at most 31 days"));
        }
        Ok(CostQuery { from, to, group_by })
    }
}

fn group_by(value: &str) -> Result<Vec<CostKey>, FieldError> {
    let mut keys = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let key = CostKey::parse(name)
            .ok_or_else(|| FieldError::new("group_by", format!("{name:?} is not one of tier, day, hour, domain")))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The spend in the range, in total and by the query's groups.
pub async fn report(store: &Store, actor: &Actor, q: &CostQuery) -> Result<CostReport> {
    actor.require(Capability::ReadAnalytics)?;
    store.costs(&actor.org_id, q.from, q.to, &q.group_by).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_names_its_keys() {
        assert_eq!(group_by("tier, day,tier").unwrap(), [CostKey::Tier, CostKey::Day]);
        assert_eq!(group_by("").unwrap(), []);
        assert_eq!(group_by("tier,planet").unwrap_err().field, "group_by");
    }

    #[test]
    fn hours_cover_a_month_at_most() {
        let q = CostQuery::parse([("from", "2026-01-01"), ("to", "2026-03-01"), ("group_by", "hour")]);
        assert_eq!(q.unwrap_err().field, "group_by");
        assert_eq!(CostQuery::parse([]).unwrap().group_by, [CostKey::Day]);
    }
}
