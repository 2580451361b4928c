//! Server functions of the Expert Review page: the queue with what each trace said and what
//! the tiers found, verdicts (one trace or a batch), and progress and agreement.

use aegis_core::model::{Agreement, Issue, ReviewItem, ReviewLabel, ReviewerProgress, Severity};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A queued trace with what the reviewer needs to judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewCard {
    pub item: ReviewItem,
    pub application_id: String,
    pub input: String,
    pub output: String,
    /// The cascade's verdict and findings.
    pub status: Option<String>,
    pub severity: Option<Severity>,
    pub issues: Vec<Issue>,
}

impl ReviewCard {
    /// What makes traces similar enough to judge together: the worst issue the tiers found.
    pub fn kind(&self) -> String {
        self.issues.iter().max_by_key(|i| i.severity).map(|i| i.code.clone()).unwrap_or_else(|| "no issue".into())
    }
}

/// The reviewer's progress and the organization's agreement figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewFigures {
    pub me: String,
    pub reviewers: Vec<ReviewerProgress>,
    pub agreement: Vec<Agreement>,
}

/// The queue as the signed-in reviewer sees it (up to 50), highest priority first.
#[server]
pub async fn review_cards(domain: Option<String>) -> Result<Vec<ReviewCard>, ServerFnError> {
    use aegis_core::store::EvaluationLookup;
    let (user, store) = crate::session::require_user().await?;
    let reviewer = format!("user:{}", user.email);
    let items =
        aegis_core::service::reviews::queue(&store, &crate::session::actor(&user), &reviewer, domain.as_deref(), 50)
            .await
            .map_err(crate::session::user_error)?;
    let mut cards = Vec::with_capacity(items.len());
    for item in items {
        let Some(trace) = store.get_trace(&user.org_id, item.trace_id).await.map_err(crate::session::internal)? else {
            continue;
        };
        let evaluation =
            match store.get_evaluation(&user.org_id, item.trace_id).await.map_err(crate::session::internal)? {
                EvaluationLookup::Done(e) => Some(*e),
                _ => None,
            };
        cards.push(ReviewCard {
            item,
            application_id: trace.application_id,
            input: trace.ai_processing.input,
            output: trace.ai_processing.output,
            status: evaluation.as_ref().map(|e| e.status.as_str().to_string()),
            severity: evaluation.as_ref().map(|e| e.severity),
            issues: evaluation.map(|e| e.issues).unwrap_or_default(),
        });
    }
    Ok(cards)
}

/// Records the same verdict on every trace of `trace_ids` (one, or a batch of similar ones).
#[server(input = leptos::server_fn::codec::Json)]
pub async fn submit_reviews(
    trace_ids: Vec<uuid::Uuid>,
    label: ReviewLabel,
    severity: Option<Severity>,
    issues: Vec<String>,
    notes: String,
) -> Result<usize, ServerFnError> {
    use aegis_core::review::ReviewInput;
    use aegis_core::service::reviews::{self, Verdict};
    let (user, store) = crate::session::require_user().await?;
    let (phi, domains, config) = (crate::session::phi()?, crate::session::domains()?, crate::session::config()?);
    let input =
        ReviewInput { label: Some(label), severity, issues: Some(issues), notes: Some(notes), corrected_output: None };
    let reviewer = format!("user:{}", user.email);
    let verdict = Verdict { reviewer: &reviewer, trace_ids: &trace_ids, input };
    let recorded = reviews::submit(&store, &phi, &domains, &config, &crate::session::actor(&user), verdict)
        .await
        .map_err(crate::session::user_error)?;
    Ok(recorded.len())
}

#[server]
pub async fn review_stats() -> Result<ReviewFigures, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let (agreement, reviewers) = aegis_core::service::reviews::agreement(&store, &crate::session::actor(&user), None)
        .await
        .map_err(crate::session::user_error)?;
    Ok(ReviewFigures { me: format!("user:{}", user.email), reviewers, agreement })
}
