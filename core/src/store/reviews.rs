//! Expert reviews: recorded against a trace, kept as its history, and taken off the review
//! queue once a trace has the reviews it needs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, to_micros, Store};
use crate::model::{cohens_kappa, Agreement, OrgId, Review, ReviewItem, ReviewLabel, ReviewerProgress, Severity};
use crate::Result;

/// What an expert submits, already checked (see the review module's `ReviewInput`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    pub label: ReviewLabel,
    pub severity: Option<Severity>,
    pub issues: Vec<String>,
    pub notes: String,
    pub corrected_output: Option<String>,
}

const REVIEW_COLUMNS: &str =
    "id, trace_id, reviewer, label, severity, issues, notes, corrected_output, domain, created_at";

impl Store {
    /// Records `reviewer`'s review of a trace of `org`; `None` if the organization has no
    /// such trace. The trace leaves the queue once it has the reviews it needs.
    pub async fn record_review(
        &self,
        org: &OrgId,
        trace_id: Uuid,
        reviewer: &str,
        review: &NewReview,
    ) -> Result<Option<Review>> {
        let mut tx = self.begin_write().await?;
        let Some(domain) = self.trace_domain_in(&mut tx, org, trace_id).await? else { return Ok(None) };
        let domain = Some(domain).filter(|d| !d.is_empty());
        let created = Review {
            id: format!("rv_{}", Uuid::now_v7().simple()),
            trace_id,
            reviewer: reviewer.to_string(),
            label: review.label,
            severity: review.severity,
            issues: review.issues.clone(),
            notes: review.notes.clone(),
            corrected_output: review.corrected_output.clone(),
            domain: domain.clone(),
            created_at: from_micros(now_micros()),
        };
        sqlx::query(&format!(
            "INSERT INTO reviews (org_id, {REVIEW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(org.to_string())
        .bind(&created.id)
        .bind(trace_id.to_string())
        .bind(reviewer)
        .bind(review.label.as_str())
        .bind(review.severity.map(|s| s.as_str()))
        .bind(serde_json::to_string(&review.issues)?)
        .bind(&review.notes)
        .bind(review.corrected_output.as_deref())
        .bind(domain.unwrap_or_default())
        .bind(to_micros(created.created_at))
        .execute(&mut *tx)
        .await?;
        // Done once it has as many reviews, by different reviewers, as it needs.
        sqlx::query(
            "DELETE FROM review_queue WHERE org_id = $1 AND trace_id = $2 AND reviews_needed <= \
             (SELECT COUNT(DISTINCT reviewer) FROM reviews WHERE org_id = $1 AND trace_id = $2)",
        )
        .bind(org.to_string())
        .bind(trace_id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    /// A trace's reviews, oldest first.
    pub async fn reviews_of(&self, org: &OrgId, trace_id: Uuid) -> Result<Vec<Review>> {
        let rows = sqlx::query(&format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews WHERE org_id = $1 AND trace_id = $2 ORDER BY created_at, id"
        ))
        .bind(org.to_string())
        .bind(trace_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// The queue as `reviewer` sees it: highest priority first, without the traces they
    /// already reviewed.
    pub async fn review_items(
        &self,
        org: &OrgId,
        domain: Option<&str>,
        reviewer: &str,
        limit: i64,
    ) -> Result<Vec<ReviewItem>> {
        let (domain_clause, limit_at) = if domain.is_some() { (" AND q.domain = $3", 4) } else { ("", 3) };
        let sql = format!(
            "SELECT q.trace_id, q.domain, q.reason, q.priority, q.reviews_needed, q.created_at, \
             (SELECT COUNT(*) FROM reviews r WHERE r.org_id = q.org_id AND r.trace_id = q.trace_id) AS reviews \
             FROM review_queue q WHERE q.org_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM reviews r WHERE r.org_id = q.org_id AND r.trace_id = q.trace_id AND r.reviewer = $2)\
             {domain_clause} ORDER BY q.priority DESC, q.created_at LIMIT ${limit_at}"
        );
        let mut query = sqlx::query(&sql).bind(org.to_string()).bind(reviewer);
        if let Some(domain) = domain {
            query = query.bind(domain);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("trace_id")?;
                let domain: String = r.try_get("domain")?;
                Ok(ReviewItem {
                    trace_id: id.parse().map_err(|_| corrupt("review queue", &id))?,
                    domain: Some(domain).filter(|d| !d.is_empty()),
                    reason: r.try_get("reason")?,
                    priority: r.try_get("priority")?,
                    reviews: r.try_get::<i64, _>("reviews")?.max(0) as u32,
                    reviews_needed: r.try_get::<i64, _>("reviews_needed")?.max(1) as u32,
                    queued_at: from_micros(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Cohen's kappa per domain, over the first two reviewers of each trace reviewed twice.
    pub async fn review_agreement(&self, org: &OrgId, domain: Option<&str>) -> Result<Vec<Agreement>> {
        let rows = sqlx::query(
            "SELECT trace_id, domain, reviewer, label FROM reviews WHERE org_id = $1 ORDER BY trace_id, created_at, id",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        // domain → trace → the first label of each of its first two reviewers.
        let mut by_domain: BTreeMap<String, BTreeMap<String, Vec<(String, ReviewLabel)>>> = BTreeMap::new();
        for row in &rows {
            let d: String = row.try_get("domain")?;
            if domain.is_some_and(|want| want != d) {
                continue;
            }
            let label: String = row.try_get("label")?;
            let label = ReviewLabel::parse(&label).ok_or_else(|| corrupt("review", &label))?;
            let reviewer: String = row.try_get("reviewer")?;
            let labels = by_domain.entry(d).or_default().entry(row.try_get("trace_id")?).or_default();
            if labels.len() < 2 && labels.iter().all(|(who, _)| *who != reviewer) {
                labels.push((reviewer, label));
            }
        }
        Ok(by_domain
            .into_iter()
            .map(|(domain, traces)| {
                let pairs: Vec<(ReviewLabel, ReviewLabel)> =
                    traces.values().filter(|l| l.len() == 2).map(|l| (l[0].1, l[1].1)).collect();
                let (observed, expected, kappa) = cohens_kappa(&pairs);
                Agreement { domain, traces: pairs.len() as u32, observed, expected, kappa }
            })
            .collect())
    }

    /// Reviews per reviewer, today (UTC) and in all.
    pub async fn reviewer_progress(&self, org: &OrgId, now: DateTime<Utc>) -> Result<Vec<ReviewerProgress>> {
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let rows = sqlx::query(
            "SELECT reviewer, COUNT(*) AS total, SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END) AS today, \
             MAX(created_at) AS last_at FROM reviews WHERE org_id = $1 GROUP BY reviewer ORDER BY total DESC, reviewer",
        )
        .bind(org.to_string())
        .bind(to_micros(midnight))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewerProgress {
                    reviewer: r.try_get("reviewer")?,
                    today: r.try_get::<i64, _>("today")?.max(0) as u32,
                    total: r.try_get::<i64, _>("total")?.max(0) as u32,
                    last_at: r.try_get::<Option<i64>, _>("last_at")?.map(from_micros),
                })
            })
            .collect()
    }
}

fn review_from_row(row: &sqlx::any::AnyRow) -> Result<Review> {
    let trace: String = row.try_get("trace_id")?;
    let label: String = row.try_get("label")?;
    let issues: String = row.try_get("issues")?;
    let domain: String = row.try_get("domain")?;
    Ok(Review {
        id: row.try_get("id")?,
        trace_id: trace.parse().map_err(|_| corrupt("review", &trace))?,
        reviewer: row.try_get("reviewer")?,
        label: ReviewLabel::parse(&label).ok_or_else(|| corrupt("review", &label))?,
        severity: row.try_get::<Option<String>, _>("severity")?.and_then(|s| Severity::parse(&s)),
        issues: serde_json::from_str(&issues).map_err(|e| corrupt("review", e))?,
        notes: row.try_get("notes")?,
        corrected_output: row.try_get("corrected_output")?,
        domain: Some(domain).filter(|d| !d.is_empty()),
        created_at: from_micros(row.try_get("created_at")?),
    })
}

/// Every tenth trace sent to review needs a second expert, so that agreement can be measured.
const SECOND_OPINION_EVERY: u128 = 10;

/// How many reviews, by different experts, the trace needs before it leaves the queue.
pub(super) fn reviews_needed(trace_id: Uuid) -> i64 {
    // The low bits of a UUIDv7 (or v4) are random: a fair, repeatable draw.
    if trace_id.as_u128().is_multiple_of(SECOND_OPINION_EVERY) {
        2
    } else {
        1
    }
}

impl Store {
    /// Puts a trace of `org` in the review queue (again), as Tier 4 does or a user asks;
    /// `false` if the organization has no such trace.
    pub async fn queue_for_review(
        &self,
        org: &OrgId,
        trace_id: Uuid,
        domain: &str,
        reason: &str,
        priority: f64,
        reviews_needed: u32,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if self.trace_domain_in(&mut tx, org, trace_id).await?.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO review_queue (org_id, trace_id, domain, reason, priority, created_at, reviews_needed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, trace_id) DO UPDATE SET \
             reason = excluded.reason, priority = excluded.priority, reviews_needed = excluded.reviews_needed",
        )
        .bind(org.to_string())
        .bind(trace_id.to_string())
        .bind(domain)
        .bind(reason)
        .bind(priority)
        .bind(now_micros())
        .bind(i64::from(reviews_needed.max(1)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
