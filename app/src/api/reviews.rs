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
    let items = store
        .review_items(&user.org_id, domain.as_deref().filter(|d| !d.is_empty()), &reviewer, 50)
        .await
        .map_err(crate::session::internal)?;
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
    let (user, store) = crate::session::require_user().await?;
    if trace_ids.is_empty() {
        return Err(ServerFnError::new("Choose at least one trace."));
    }
    let phi = crate::session::phi()?.for_org(&user.org_id).await.map_err(crate::session::internal)?;
    let input =
        ReviewInput { label: Some(label), severity, issues: Some(issues), notes: Some(notes), corrected_output: None };
    let review = input.check(&phi).map_err(crate::session::invalid)?;
    let reviewer = format!("user:{}", user.email);
    let mut done = 0;
    let mut domains = std::collections::BTreeSet::new();
    for id in trace_ids {
        if let Some(r) =
            store.record_review(&user.org_id, id, &reviewer, &review).await.map_err(crate::session::internal)?
        {
            done += 1;
            domains.extend(r.domain);
        }
    }
    let after = crate::session::config()?.retrain_after_reviews;
    let packs = crate::session::domains()?.current();
    for pack in domains.iter().filter_map(|d| packs.route(d).cloned()) {
        if let Err(e) = aegis_core::review::retrain::retrain_if_due(&store, pack, &user.org_id, after).await {
            tracing::warn!(error = %e, "could not check whether retraining is due");
        }
    }
    Ok(done)
}

#[server]
pub async fn review_stats() -> Result<ReviewFigures, ServerFnError> {
    let (user, store) = crate::session::require_user().await?;
    let (reviewers, agreement) = tokio::try_join!(
        store.reviewer_progress(&user.org_id, chrono::Utc::now()),
        store.review_agreement(&user.org_id, None)
    )
    .map_err(crate::session::internal)?;
    Ok(ReviewFigures { me: format!("user:{}", user.email), reviewers, agreement })
}
