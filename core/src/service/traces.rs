//! Reading traces: the filters the Traces page and `GET /api/v1/traces` take, read one way,
//! and one trace with its evaluation.

use uuid::Uuid;

use crate::access::{Actor, Capability};
use crate::model::{Evaluation, Page, Severity, Trace, TraceStatus, TraceSummary};
use crate::store::{EvaluationLookup, ListQuery, Store};
use crate::{Error, FieldError, Result};

use super::time;

/// Traces per page when the request does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most traces one page may hold.
pub const MAX_LIMIT: u32 = 1_000;
/// The longest search text.
pub const MAX_QUERY_CHARS: usize = 500;

/// The parameters a trace list takes, by name.
pub const LIST_PARAMETERS: &[&str] =
    &["limit", "cursor", "domain", "status", "application", "severity", "q", "sort", "from", "to"];

/// Reads a trace list's parameters (name, value). An empty value is the same as none; any
/// value that cannot be used is an error naming its parameter, never silently dropped or cut.
pub fn list_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> std::result::Result<ListQuery, FieldError> {
    let mut q = ListQuery { limit: DEFAULT_LIMIT, ..ListQuery::default() };
    for (key, value) in pairs {
        if value.trim().is_empty() {
            if !LIST_PARAMETERS.contains(&key) {
                return Err(unknown(key));
            }
            continue;
        }
        match key {
            "limit" => {
                q.limit =
                    value.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                        FieldError::new("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))
                    })?;
            }
            "cursor" => q.cursor = Some(value.to_string()),
            "domain" => q.domain = Some(value.to_string()),
            "application" => q.application = Some(value.to_string()),
            "status" => {
                q.status = Some(TraceStatus::parse(value).ok_or_else(|| {
                    FieldError::new("status", "must be one of queued, pass, fail, needs_review, error")
                })?);
            }
            "severity" => {
                q.severity =
                    Some(Severity::parse(value).ok_or_else(|| {
                        FieldError::new("severity", "must be one of none, low, medium, high, critical")
                    })?);
            }
            "q" => {
                if value.chars().count() > MAX_QUERY_CHARS {
                    return Err(FieldError::new("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
                }
                q.q = Some(value.to_string());
            }
            "sort" => {
                q.oldest_first = match value {
                    "newest" => false,
                    "oldest" => true,
                    _ => return Err(FieldError::new("sort", "must be newest or oldest")),
                };
            }
            "from" => q.from = Some(time::parse("from", value)?),
            "to" => q.to = Some(time::parse_end("to", value)?),
            other => return Err(unknown(other)),
        }
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from >= to {
            return Err(FieldError::new("from", "must be before `to`"));
        }
    }
    Ok(q)
}

/// A page of the organization's traces, whole.
pub async fn list(store: &Store, actor: &Actor, query: &ListQuery) -> Result<Page<Trace>> {
    actor.require(Capability::ReadTraces)?;
    store.list_traces(&actor.org_id, query).await
}

/// A page of the organization's traces, as the Traces page lists them.
pub async fn list_summaries(store: &Store, actor: &Actor, query: &ListQuery) -> Result<Page<TraceSummary>> {
    actor.require(Capability::ReadTraces)?;
    store.list_trace_summaries(&actor.org_id, query).await
}

/// The error for a trace the organization does not hold.
pub(crate) fn no_trace(id: Uuid) -> Error {
    Error::NotFound(format!("no trace \"{id}\" in this organization"))
}

/// One trace, as stored (de-identified).
pub async fn get(store: &Store, actor: &Actor, id: Uuid) -> Result<Trace> {
    actor.require(Capability::ReadTraces)?;
    store.get_trace(&actor.org_id, id).await?.ok_or_else(|| no_trace(id))
}

/// The trace's evaluation, `None` while it is pending; not found if there is no such trace.
pub async fn evaluation(store: &Store, actor: &Actor, id: Uuid) -> Result<Option<Evaluation>> {
    actor.require(Capability::ReadTraces)?;
    match store.get_evaluation(&actor.org_id, id).await? {
        EvaluationLookup::Done(evaluation) => Ok(Some(*evaluation)),
        EvaluationLookup::Pending => Ok(None),
        EvaluationLookup::NotFound => Err(no_trace(id)),
    }
}

fn unknown(name: &str) -> FieldError {
    FieldError::new(name, format!("is not a filter of the trace list; it takes {}", LIST_PARAMETERS.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(items: &[(&'static str, &'static str)]) -> std::result::Result<ListQuery, FieldError> {
        list_query(items.iter().copied())
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let q = parse(&[("limit", "10"), ("status", "fail"), ("domain", "trading"), ("q", "")]).unwrap();
        assert_eq!((q.limit, q.status, q.domain.as_deref(), q.q), (10, Some(TraceStatus::Fail), Some("trading"), None));
        for (bad, field) in [
            (("limit", "0"), "limit"),
            (("limit", "ten"), "limit"),
            (("status", "great"), "status"),
            (("from", "yesterday"), "from"),
            (("sort", "random"), "sort"),
            (("offset", "10"), "offset"),
            (("start_date", "2026-01-01"), "start_date"),
        ] {
            assert_eq!(parse(&[bad]).unwrap_err().field, field, "{bad:?}");
        }
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(list_query([("q", long.as_str())]).unwrap_err().field, "q", "a long search is refused, not cut");
        assert_eq!(parse(&[]).unwrap().limit, DEFAULT_LIMIT);
        assert!(parse(&[("sort", "oldest")]).unwrap().oldest_first);
    }

    #[test]
    fn a_date_alone_ends_after_its_day() {
        let q = parse(&[("from", "2026-11-26"), ("to", "2026-11-26")]).unwrap();
        assert_eq!(q.to.unwrap() - q.from.unwrap(), chrono::Duration::days(1));
        assert_eq!(parse(&[("from", "2026-11-27"), ("to", "2026-11-26")]).unwrap_err().field, "from");
    }
}
