use aegis_core::model::{Severity, TraceStatus};
use leptos::prelude::*;

#[component]
pub fn StatusBadge(status: TraceStatus) -> impl IntoView {
    let label = match status {
        TraceStatus::Queued => "Queued",
        TraceStatus::Pass => "Pass",
        TraceStatus::Fail => "Fail",
        TraceStatus::NeedsReview => "Needs review",
        TraceStatus::Error => "Error",
    };
    view! { <span class=format!("badge status-{}", status.as_str())>{label}</span> }
}

#[component]
pub fn SeverityBadge(severity: Option<Severity>) -> impl IntoView {
    severity.filter(|s| *s != Severity::None).map(|s| {
        view! { <span class=format!("severity severity-{}", s.as_str())>{s.as_str()}</span> }
    })
}
