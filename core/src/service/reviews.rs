//! Expert review: the queue, verdicts (one trace or a batch of similar ones), each trace's
//! history, and how often experts agree. Reviews name their reviewer as `user:<email>` from
//! the dashboard and `api_key:<id>` over the API; the adapters pass it in.

use uuid::Uuid;

use crate::access::{Actor, Capability};
use crate::config::Config;
use crate::domains::Domains;
use crate::model::{Agreement, Review, ReviewItem, ReviewerProgress};
use crate::phi::PhiService;
use crate::review::ReviewInput;
use crate::store::Store;
use crate::{FieldError, Result};

use super::traces::no_trace;

/// The queue as `reviewer` sees it, highest priority first, without what they already reviewed.
pub async fn queue(
    store: &Store,
    actor: &Actor,
    reviewer: &str,
    domain: Option<&str>,
    limit: i64,
) -> Result<Vec<ReviewItem>> {
    actor.require(Capability::ReadReviews)?;
    store.review_items(&actor.org_id, domain.filter(|d| !d.is_empty()), reviewer, limit).await
}

/// A trace sent to the experts by hand (again, if it was reviewed).
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue {
    pub trace_id: Uuid,
    pub reason: Option<String>,
    pub priority: Option<f64>,
    pub reviews_needed: Option<u32>,
}

/// What was queued: the reason, priority and reviews needed, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub reason: String,
    pub priority: f64,
    pub reviews_needed: u32,
}

pub async fn enqueue(store: &Store, actor: &Actor, input: Enqueue) -> Result<Queued> {
    actor.require(Capability::Review)?;
    let reason = input.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    let reason = reason.unwrap_or_else(|| format!("sent by {}", actor.audit_name()));
    if reason.chars().count() > 500 {
        return Err(FieldError::new("reason", "is longer than 500 characters").into());
    }
    let priority = input.priority.unwrap_or(1.0);
    if !priority.is_finite() {
        return Err(FieldError::new("priority", "must be a number").into());
    }
    let reviews_needed = input.reviews_needed.unwrap_or(1);
    if !(1..=5).contains(&reviews_needed) {
        return Err(FieldError::new("reviews_needed", "must be 1 to 5").into());
    }
    let trace = store.get_trace(&actor.org_id, input.trace_id).await?.ok_or_else(|| no_trace(input.trace_id))?;
    let domain = trace.metadata.get("domain").cloned().unwrap_or_default();
    store.queue_for_review(&actor.org_id, input.trace_id, &domain, &reason, priority, reviews_needed).await?;
    Ok(Queued { reason, priority, reviews_needed })
}

/// One expert's verdict on one or more traces.
pub struct Verdict<'a> {
    /// How the reviews name the reviewer.
    pub reviewer: &'a str,
    pub trace_ids: &'a [Uuid],
    pub input: ReviewInput,
}

/// Records the verdict on every trace it names (one, or a batch of similar ones), after
/// scrubbing identifiers from the expert's own words; then retrains each domain's model if
/// enough reviews came in. Traces the organization does not hold are skipped.
pub async fn submit(
    store: &Store,
    phi: &PhiService,
    domains: &Domains,
    config: &Config,
    actor: &Actor,
    verdict: Verdict<'_>,
) -> Result<Vec<Review>> {
    actor.require(Capability::Review)?;
    let Verdict { reviewer, trace_ids, input } = verdict;
    if trace_ids.is_empty() {
        return Err(FieldError::new("trace_ids", "choose at least one trace").into());
    }
    let review = input.check(&*phi.for_org(&actor.org_id).await?)?;
    let mut recorded = Vec::with_capacity(trace_ids.len());
    for id in trace_ids {
        if let Some(r) = store.record_review(&actor.org_id, *id, reviewer, &review).await? {
            recorded.push(r);
        }
    }
    let mut touched: Vec<&str> = recorded.iter().filter_map(|r| r.domain.as_deref()).collect();
    touched.sort_unstable();
    touched.dedup();
    let packs = domains.current();
    for pack in touched.into_iter().filter_map(|d| packs.route(&actor.org_id, d).cloned()) {
        // The reviews are recorded either way; a failed check is logged, not the caller's problem.
        let due = crate::review::retrain::retrain_if_due(store, pack, &actor.org_id, config.retrain_after_reviews);
        if let Err(e) = due.await {
            tracing::warn!(error = %e, "could not check whether retraining is due");
        }
    }
    Ok(recorded)
}

/// The trace's reviews, oldest first.
pub async fn history(store: &Store, actor: &Actor, trace_id: Uuid) -> Result<Vec<Review>> {
    actor.require(Capability::ReadReviews)?;
    store.get_trace(&actor.org_id, trace_id).await?.ok_or_else(|| no_trace(trace_id))?;
    store.reviews_of(&actor.org_id, trace_id).await
}

/// How often experts agree, per domain, and each reviewer's progress.
pub async fn agreement(
    store: &Store,
    actor: &Actor,
    domain: Option<&str>,
) -> Result<(Vec<Agreement>, Vec<ReviewerProgress>)> {
    actor.require(Capability::ReadReviews)?;
    let domain = domain.filter(|d| !d.is_empty());
    tokio::try_join!(
        store.review_agreement(&actor.org_id, domain),
        store.reviewer_progress(&actor.org_id, chrono::Utc::now())
    )
}
