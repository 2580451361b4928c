//! Server functions: the dashboard's only way to reach the core. Each checks the session
//! cookie and reads nothing outside the user's organization.

use aegis_core::model::{Evaluation, Page, Trace, TraceSummary};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user, as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInUser {
    pub email: String,
    pub organization: String,
}

/// A trace with its evaluation, when there is one yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceWithEvaluation {
    pub trace: Trace,
    pub evaluation: Option<Evaluation>,
}

/// Traces shown per page of the table.
pub const PAGE_SIZE: u32 = 50;

#[server]
pub async fn current_user() -> Result<Option<SignedInUser>, ServerFnError> {
    Ok(crate::session::user().await?.map(|u| SignedInUser { email: u.email, organization: u.org_name }))
}

#[server]
pub async fn login(email: String, password: String) -> Result<(), ServerFnError> {
    crate::session::login(&email, &password).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn logout() -> Result<(), ServerFnError> {
    crate::session::logout().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// What the Traces page filters by: the URL's parameters, each optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceFilters {
    pub q: Option<String>,
    pub status: Option<String>,
    pub domain: Option<String>,
    pub severity: Option<String>,
    pub application: Option<String>,
    /// `YYYY-MM-DD`, UTC; `to` includes its whole day.
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
}

/// A page of the organization's traces, newest first: filtered, and searched by words of the
/// (de-identified) input and output. The filters travel as JSON: a URL-encoded body cannot
/// carry a nested struct.
#[server(input = leptos::server_fn::codec::Json)]
pub async fn list_traces(filters: TraceFilters) -> Result<Page<TraceSummary>, ServerFnError> {
    use aegis_core::model::{Severity, TraceStatus};
    use aegis_core::store::ListQuery;

    let (user, store) = crate::session::require_user().await?;
    let TraceFilters { q, status, domain, severity, application, from, to, cursor } = filters;
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let status = match nonempty(status) {
        Some(s) => Some(TraceStatus::parse(&s).ok_or_else(|| ServerFnError::new(format!("unknown status {s:?}")))?),
        None => None,
    };
    let severity = match nonempty(severity) {
        Some(s) => Some(Severity::parse(&s).ok_or_else(|| ServerFnError::new(format!("unknown severity {s:?}")))?),
        None => None,
    };
    // Dates from the page's date pickers: a day, UTC; `to` includes its whole day.
    let day = |v: Option<String>, field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ServerFnError> {
        match nonempty(v) {
            Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map(|d| Some(d.and_time(chrono::NaiveTime::MIN).and_utc()))
                .map_err(|_| ServerFnError::new(format!("{field} must be a date such as 2026-11-26"))),
            None => Ok(None),
        }
    };
    let query = ListQuery {
        limit: PAGE_SIZE,
        cursor: nonempty(cursor),
        domain: nonempty(domain),
        status,
        severity,
        application: nonempty(application),
        q: nonempty(q).map(|q| q.chars().take(500).collect()),
        from: day(from, "from")?,
        to: day(to, "to")?.map(|t| t + chrono::Duration::days(1)),
    };
    store.list_trace_summaries(&user.org_id, &query).await.map_err(crate::session::internal)
}

/// One trace in full, with its evaluation.
#[server]
pub async fn trace_detail(trace_id: uuid::Uuid) -> Result<TraceWithEvaluation, ServerFnError> {
    use aegis_core::store::EvaluationLookup;

    let (user, store) = crate::session::require_user().await?;
    let trace = store
        .get_trace(&user.org_id, trace_id)
        .await
        .map_err(crate::session::internal)?
        .ok_or_else(|| ServerFnError::new("This trace does not exist in your organization."))?;
    let evaluation = match store.get_evaluation(&user.org_id, trace_id).await.map_err(crate::session::internal)? {
        EvaluationLookup::Done(e) => Some(*e),
        EvaluationLookup::Pending | EvaluationLookup::NotFound => None,
    };
    Ok(TraceWithEvaluation { trace, evaluation })
}
