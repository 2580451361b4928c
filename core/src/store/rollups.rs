//! Rollups per organization, domain and UTC hour: verdicts, cost, a latency histogram, tier
//! usage and issue types. They are added to in the transaction that records evaluations, so
//! they always agree with the evaluations, and the Overview, Analytics and cost figures read a
//! few rows per hour whatever the number of traces.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::{bind_all, from_micros, to_micros, Backend, Param, Store, WriteTx, ROWS_PER_STATEMENT};
use crate::model::{
    Bucket, CostGroup, CostKey, CostReport, Evaluation, EvaluationStatus, FacetCount, IssueCount, OrgId, Overview,
    StatusCounts, TierUsage, TrendPoint,
};
use crate::Result;

const HOUR_MICROS: i64 = 3_600_000_000;

/// Latency buckets are 5% wide from 0.01 ms: bucket `b` holds latencies up to `0.01 × 1.05^b`
/// ms, so a percentile read from them is at most 5% high. 400 buckets reach past an hour.
const LATENCY_BASE_MS: f64 = 0.01;
const LATENCY_GROWTH: f64 = 1.05;
const LATENCY_BUCKETS: i64 = 400;

pub(crate) fn latency_bucket(ms: f64) -> i64 {
    if ms.is_nan() || ms <= LATENCY_BASE_MS {
        return 0;
    }
    ((ms / LATENCY_BASE_MS).ln() / LATENCY_GROWTH.ln()).ceil().clamp(0.0, (LATENCY_BUCKETS - 1) as f64) as i64
}

fn bucket_upper_ms(bucket: i64) -> f64 {
    LATENCY_BASE_MS * LATENCY_GROWTH.powi(bucket as i32)
}

/// The `q` quantile (0 to 1) of a histogram of `(bucket, count)`, as the bucket's upper bound.
fn quantile(histogram: &BTreeMap<i64, i64>, q: f64) -> Option<f64> {
    let total: i64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (bucket, n) in histogram {
        seen += n;
        if seen >= rank {
            return Some(round3(bucket_upper_ms(*bucket)));
        }
    }
    None
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn hour_of(t: DateTime<Utc>) -> i64 {
    to_micros(t).div_euclid(HOUR_MICROS) * HOUR_MICROS
}

type Key = (String, i64, String);

/// The rollup increments of a batch of evaluations, summed per row before writing: one
/// statement may not update a row twice (Postgres), and rows in a fixed order keep concurrent
/// writers from deadlocking.
#[derive(Default)]
pub(crate) struct RollupBatch {
    hours: BTreeMap<Key, (StatusCounts, i64)>,
    latency: BTreeMap<(Key, i64), i64>,
    tiers: BTreeMap<(Key, i64), (i64, i64)>,
    issues: BTreeMap<(Key, String), i64>,
    facets: BTreeMap<(Key, String, String), (i64, i64, i64)>,
}

impl RollupBatch {
    pub(crate) fn add(&mut self, org: &OrgId, e: &Evaluation) {
        let key = (org.to_string(), hour_of(e.evaluated_at), e.domain.clone().unwrap_or_default());
        let hour = self.hours.entry(key.clone()).or_default();
        hour.0.add(e.status, 1);
        hour.1 += e.cost_micro_usd;
        *self.latency.entry((key.clone(), latency_bucket(e.latency_ms))).or_default() += 1;
        for cost in &e.cost_by_tier {
            let tier = self.tiers.entry((key.clone(), i64::from(cost.tier))).or_default();
            tier.0 += 1;
            tier.1 += cost.cost_micro_usd;
        }
        let codes: BTreeSet<&str> = e.issues.iter().map(|i| i.code.as_str()).collect();
        for code in codes {
            *self.issues.entry((key.clone(), code.to_string())).or_default() += 1;
        }
        let flagged = i64::from(matches!(e.status, EvaluationStatus::Fail | EvaluationStatus::NeedsReview));
        for f in &e.facets {
            let row = self.facets.entry((key.clone(), f.name.clone(), f.value.clone())).or_default();
            row.0 += 1;
            row.1 += flagged;
            row.2 += f.amount;
        }
    }

    pub(crate) async fn write(self, store: &Store, tx: &mut WriteTx) -> Result<()> {
        let hours: Vec<_> = self.hours.into_iter().collect();
        for chunk in hours.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO rollup_hours (org_id, hour, domain, pass, fail, needs_review, error, cost_micro_usd) \
                 VALUES {} ON CONFLICT (org_id, hour, domain) DO UPDATE SET \
                 pass = rollup_hours.pass + excluded.pass, fail = rollup_hours.fail + excluded.fail, \
                 needs_review = rollup_hours.needs_review + excluded.needs_review, \
                 error = rollup_hours.error + excluded.error, \
                 cost_micro_usd = rollup_hours.cost_micro_usd + excluded.cost_micro_usd",
                store.values_list(chunk.len(), 8, 1)
            );
            let mut query = sqlx::query(&sql);
            for ((org, hour, domain), (counts, cost)) in chunk {
                query = query
                    .bind(org)
                    .bind(*hour)
                    .bind(domain)
                    .bind(counts.pass)
                    .bind(counts.fail)
                    .bind(counts.needs_review)
                    .bind(counts.error)
                    .bind(*cost);
            }
            query.execute(&mut **tx).await?;
        }
        let latency: Vec<_> = self.latency.into_iter().map(|((k, b), n)| (k, vec![Param::Int(b)], vec![n])).collect();
        upsert_counts(store, tx, "rollup_latency", &["bucket"], &["n"], latency).await?;
        let tiers: Vec<_> =
            self.tiers.into_iter().map(|((k, t), (r, c))| (k, vec![Param::Int(t)], vec![r, c])).collect();
        upsert_counts(store, tx, "rollup_tiers", &["tier"], &["runs", "micro_usd"], tiers).await?;
        let issues: Vec<_> = self.issues.into_iter().map(|((k, c), n)| (k, vec![Param::Text(c)], vec![n])).collect();
        upsert_counts(store, tx, "rollup_issues", &["code"], &["n"], issues).await?;
        let facets: Vec<_> = self
            .facets
            .into_iter()
            .map(|((k, f, v), (n, flagged, amount))| {
                (k, vec![Param::Text(f), Param::Text(v)], vec![n, flagged, amount])
            })
            .collect();
        upsert_counts(store, tx, "rollup_facets", &["facet", "value"], &["traces", "flagged", "amount"], facets)
            .await?;
        Ok(())
    }
}

/// Adds `counts` to the rows of `table` keyed by (org, hour, domain, `columns`...).
async fn upsert_counts(
    store: &Store,
    tx: &mut WriteTx,
    table: &str,
    columns: &[&str],
    counts: &[&str],
    rows: Vec<(Key, Vec<Param>, Vec<i64>)>,
) -> Result<()> {
    let sums: Vec<String> = counts.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect();
    let (columns, width) = (columns.join(", "), 3 + columns.len() + counts.len());
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO {table} (org_id, hour, domain, {columns}, {}) VALUES {} \
             ON CONFLICT (org_id, hour, domain, {columns}) DO UPDATE SET {}",
            counts.join(", "),
            store.values_list(chunk.len(), width, 1),
            sums.join(", ")
        );
        let mut params = Vec::with_capacity(chunk.len() * width);
        for ((org, hour, domain), keys, values) in chunk {
            params.extend([Param::Text(org.clone()), Param::Int(*hour), Param::Text(domain.clone())]);
            params.extend(keys.iter().cloned());
            params.extend(values.iter().map(|v| Param::Int(*v)));
        }
        bind_all(sqlx::query(&sql), &params).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Which rollup rows a question covers: one organization, whole hours, maybe one domain.
struct Range<'a> {
    org: &'a OrgId,
    from: i64,
    to: i64,
    domain: Option<&'a str>,
}

impl Range<'_> {
    /// `WHERE ...` and its parameters, numbered from `$1`.
    fn filter(&self) -> (String, Vec<Param>) {
        let mut sql = "WHERE org_id = $1 AND hour >= $2 AND hour < $3".to_string();
        let mut params = vec![Param::Text(self.org.to_string()), Param::Int(self.from), Param::Int(self.to)];
        if let Some(domain) = self.domain {
            sql.push_str(" AND domain = $4");
            params.push(Param::Text(domain.to_string()));
        }
        (sql, params)
    }
}

impl Store {
    /// The Overview of `org`'s evaluations from `from` to `to` (whole UTC hours: `from` rounds
    /// down, `to` up), in one domain or all.
    pub async fn overview(
        &self,
        org: &OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        domain: Option<&str>,
    ) -> Result<Overview> {
        let range = Range { org, from: hour_of(from), to: ceil_hour(to), domain };
        let (filter, params) = range.filter();

        let sql = format!(
            "SELECT CAST(COALESCE(SUM(pass), 0) AS BIGINT) AS pass, CAST(COALESCE(SUM(fail), 0) AS BIGINT) AS fail, \
             CAST(COALESCE(SUM(needs_review), 0) AS BIGINT) AS needs_review, \
             CAST(COALESCE(SUM(error), 0) AS BIGINT) AS error, \
             CAST(COALESCE(SUM(cost_micro_usd), 0) AS BIGINT) AS cost FROM rollup_hours {filter}"
        );
        let row = bind_all(sqlx::query(&sql), &params).fetch_one(&self.pool).await?;
        let counts = StatusCounts {
            pass: row.try_get("pass")?,
            fail: row.try_get("fail")?,
            needs_review: row.try_get("needs_review")?,
            error: row.try_get("error")?,
        };
        let cost: i64 = row.try_get("cost")?;
        let total = counts.total();

        let sql = format!(
            "SELECT bucket, CAST(SUM(n) AS BIGINT) AS n FROM rollup_latency {filter} GROUP BY bucket ORDER BY bucket"
        );
        let histogram: BTreeMap<i64, i64> = bind_all(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("bucket")?, r.try_get("n")?)))
            .collect::<Result<_>>()?;

        let sql = format!(
            "SELECT tier, CAST(SUM(runs) AS BIGINT) AS runs, CAST(SUM(micro_usd) AS BIGINT) AS cost \
             FROM rollup_tiers {filter} GROUP BY tier ORDER BY tier"
        );
        let tier_distribution = bind_all(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let tier: i64 = r.try_get("tier")?;
                let runs: i64 = r.try_get("runs")?;
                Ok(TierUsage {
                    tier: tier as u8,
                    traces: runs,
                    share: if total > 0 { runs as f64 / total as f64 } else { 0.0 },
                    cost_micro_usd: r.try_get("cost")?,
                })
            })
            .collect::<Result<_>>()?;

        let sql = format!(
            "SELECT code, CAST(SUM(n) AS BIGINT) AS n FROM rollup_issues {filter} \
             GROUP BY code ORDER BY n DESC, code LIMIT 10"
        );
        let error_types = bind_all(sqlx::query(&sql), &params)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(IssueCount { code: r.try_get("code")?, count: r.try_get("n")? }))
            .collect::<Result<_>>()?;

        Ok(Overview {
            from: from_micros(range.from),
            to: from_micros(range.to),
            domain: domain.map(str::to_string),
            total_traces: total,
            pass_rate: counts.pass_rate(),
            status_counts: counts,
            total_cost_micro_usd: cost,
            avg_cost_per_trace: (total > 0).then(|| (cost as f64 / total as f64).round() as i64),
            p50_latency_ms: quantile(&histogram, 0.50),
            p95_latency_ms: quantile(&histogram, 0.95),
            p99_latency_ms: quantile(&histogram, 0.99),
            tier_distribution,
            error_types,
        })
    }

    /// Every bucket from `from` to `to` (empty ones included), oldest first.
    pub async fn trend(
        &self,
        org: &OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        domain: Option<&str>,
        bucket: Bucket,
    ) -> Result<Vec<TrendPoint>> {
        let width = bucket.micros();
        let start = to_micros(from).div_euclid(width) * width;
        let end = {
            let t = to_micros(to);
            t.div_euclid(width) * width + if t.rem_euclid(width) == 0 { 0 } else { width }
        };
        let range = Range { org, from: start, to: end, domain };
        let (filter, params) = range.filter();
        let slot = |hour: i64| hour.div_euclid(width) * width;

        #[derive(Default)]
        struct Acc {
            counts: StatusCounts,
            cost: i64,
            tiers: [i64; 5],
            latency: BTreeMap<i64, i64>,
            issues: BTreeMap<String, i64>,
        }
        let mut acc: BTreeMap<i64, Acc> = BTreeMap::new();
        let mut t = start;
        while t < end {
            acc.insert(t, Acc::default());
            t += width;
        }

        let sql = format!(
            "SELECT hour, CAST(SUM(pass) AS BIGINT) AS pass, CAST(SUM(fail) AS BIGINT) AS fail, \
             CAST(SUM(needs_review) AS BIGINT) AS needs_review, CAST(SUM(error) AS BIGINT) AS error, \
             CAST(SUM(cost_micro_usd) AS BIGINT) AS cost FROM rollup_hours {filter} GROUP BY hour"
        );
        for r in bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await? {
            let a = acc.entry(slot(r.try_get("hour")?)).or_default();
            a.counts.merge(&StatusCounts {
                pass: r.try_get("pass")?,
                fail: r.try_get("fail")?,
                needs_review: r.try_get("needs_review")?,
                error: r.try_get("error")?,
            });
            a.cost += r.try_get::<i64, _>("cost")?;
        }
        let sql = format!(
            "SELECT hour, tier, CAST(SUM(micro_usd) AS BIGINT) AS cost FROM rollup_tiers {filter} GROUP BY hour, tier"
        );
        for r in bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await? {
            let tier: i64 = r.try_get("tier")?;
            if (0..=4).contains(&tier) {
                acc.entry(slot(r.try_get("hour")?)).or_default().tiers[tier as usize] += r.try_get::<i64, _>("cost")?;
            }
        }
        let sql = format!(
            "SELECT hour, bucket, CAST(SUM(n) AS BIGINT) AS n FROM rollup_latency {filter} GROUP BY hour, bucket"
        );
        for r in bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await? {
            let a = acc.entry(slot(r.try_get("hour")?)).or_default();
            *a.latency.entry(r.try_get("bucket")?).or_default() += r.try_get::<i64, _>("n")?;
        }
        let sql =
            format!("SELECT hour, code, CAST(SUM(n) AS BIGINT) AS n FROM rollup_issues {filter} GROUP BY hour, code");
        for r in bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await? {
            let a = acc.entry(slot(r.try_get("hour")?)).or_default();
            *a.issues.entry(r.try_get("code")?).or_default() += r.try_get::<i64, _>("n")?;
        }

        Ok(acc
            .into_iter()
            .map(|(t, a)| TrendPoint {
                t: from_micros(t),
                status_counts: a.counts,
                cost_micro_usd: a.cost,
                cost_by_tier: a.tiers,
                p50_latency_ms: quantile(&a.latency, 0.50),
                p95_latency_ms: quantile(&a.latency, 0.95),
                p99_latency_ms: quantile(&a.latency, 0.99),
                issues: a.issues,
            })
            .collect())
    }

    /// The domain dashboard's breakdowns: every facet's values, most traces first (at most
    /// `per_facet` of each).
    pub async fn facets(
        &self,
        org: &OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        domain: &str,
        per_facet: usize,
    ) -> Result<Vec<FacetCount>> {
        let range = Range { org, from: hour_of(from), to: ceil_hour(to), domain: Some(domain) };
        let (filter, params) = range.filter();
        let sql = format!(
            "SELECT facet, value, CAST(SUM(traces) AS BIGINT) AS traces, CAST(SUM(flagged) AS BIGINT) AS flagged, \
             CAST(SUM(amount) AS BIGINT) AS amount FROM rollup_facets {filter} \
             GROUP BY facet, value ORDER BY facet, traces DESC, value"
        );
        let mut out: Vec<FacetCount> = Vec::new();
        for r in bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await? {
            let facet: String = r.try_get("facet")?;
            if out.iter().rev().take_while(|f| f.facet == facet).count() >= per_facet {
                continue;
            }
            out.push(FacetCount {
                facet,
                value: r.try_get("value")?,
                traces: r.try_get("traces")?,
                flagged: r.try_get("flagged")?,
                amount: r.try_get("amount")?,
            });
        }
        Ok(out)
    }

    /// What `org` has spent on `tier` today (UTC), in micro-dollars.
    pub async fn tier_cost_today(&self, org: &OrgId, tier: u8) -> Result<i64> {
        let day = Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(micro_usd), 0) AS BIGINT) AS spent FROM rollup_tiers \
             WHERE org_id = $1 AND hour >= $2 AND tier = $3",
        )
        .bind(org.to_string())
        .bind(to_micros(day))
        .bind(i64::from(tier))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("spent")?)
    }

    /// What `org` spent from `from` to `to` (whole UTC hours), grouped by `keys` in their order,
    /// oldest and lowest first. Read from the same transaction-maintained rollups as the
    /// budget, so it equals the sum of the recorded module costs.
    pub async fn costs(
        &self,
        org: &OrgId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        keys: &[CostKey],
    ) -> Result<CostReport> {
        let range = Range { org, from: hour_of(from), to: ceil_hour(to), domain: None };
        let (filter, params) = range.filter();
        let sql = format!("SELECT hour, domain, tier, runs, micro_usd FROM rollup_tiers {filter}");
        // (time, tier, domain) → (micro-dollars, runs); a key not grouped by is None.
        type Group = (Option<i64>, Option<u8>, Option<String>);
        let mut groups: BTreeMap<Group, (i64, i64)> = BTreeMap::new();
        let (mut total, mut runs) = (0i64, 0i64);
        for r in bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await? {
            let hour: i64 = r.try_get("hour")?;
            let tier: i64 = r.try_get("tier")?;
            let (cost, n): (i64, i64) = (r.try_get("micro_usd")?, r.try_get("runs")?);
            let time = if keys.contains(&CostKey::Hour) {
                Some(hour)
            } else if keys.contains(&CostKey::Day) {
                Some(hour.div_euclid(86_400_000_000) * 86_400_000_000)
            } else {
                None
            };
            let key = (
                time,
                keys.contains(&CostKey::Tier).then_some(tier as u8),
                keys.contains(&CostKey::Domain).then(|| r.try_get::<String, _>("domain")).transpose()?,
            );
            let g = groups.entry(key).or_default();
            g.0 += cost;
            g.1 += n;
            total += cost;
            runs += n;
        }
        let groups = groups
            .into_iter()
            .map(|((time, tier, domain), (micro_usd, runs))| CostGroup {
                tier,
                day: time
                    .filter(|_| keys.contains(&CostKey::Day))
                    .map(|t| from_micros(t).format("%Y-%m-%d").to_string()),
                hour: time.filter(|_| keys.contains(&CostKey::Hour)).map(from_micros),
                domain,
                micro_usd,
                runs,
            })
            .collect();
        Ok(CostReport {
            from: from_micros(range.from),
            to: from_micros(range.to),
            group_by: keys.to_vec(),
            total_micro_usd: total,
            runs,
            groups,
        })
    }

    /// Rolls up evaluations recorded before the rollups existed. Runs once, after the
    /// migration that created them: only while the rollups are empty and evaluations are not.
    pub(crate) async fn backfill_rollups(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // Another process migrating at the same time waits here, then finds the work done.
            sqlx::query("LOCK TABLE rollup_hours IN EXCLUSIVE MODE").execute(&mut *tx).await?;
        }
        let done = sqlx::query("SELECT 1 AS one FROM rollup_hours LIMIT 1").fetch_optional(&mut *tx).await?;
        let pending = sqlx::query("SELECT 1 AS one FROM evaluations LIMIT 1").fetch_optional(&mut *tx).await?;
        if done.is_some() || pending.is_none() {
            return Ok(());
        }
        tracing::info!("rolling up existing evaluations for analytics");
        let mut after = (String::new(), String::new());
        loop {
            let rows = sqlx::query(
                "SELECT org_id, trace_id, status, severity, tiers_run, modules, issues, cost_micro_usd, latency_ms, \
                 attempts, evaluated_at, details FROM evaluations WHERE (org_id, trace_id) > ($1, $2) \
                 ORDER BY org_id, trace_id LIMIT 5000",
            )
            .bind(&after.0)
            .bind(&after.1)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = (last.try_get("org_id")?, last.try_get("trace_id")?);
            let mut batch = RollupBatch::default();
            for row in &rows {
                let org: String = row.try_get("org_id")?;
                let org: OrgId = org.parse().map_err(|_| super::corrupt("evaluation", &org))?;
                let trace: String = row.try_get("trace_id")?;
                let trace = trace.parse().map_err(|_| super::corrupt("evaluation", &trace))?;
                batch.add(&org, &super::evaluations::evaluation_from_row(trace, row)?);
            }
            batch.write(self, &mut tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn ceil_hour(t: DateTime<Utc>) -> i64 {
    let us = to_micros(t);
    us.div_euclid(HOUR_MICROS) * HOUR_MICROS + if us.rem_euclid(HOUR_MICROS) == 0 { 0 } else { HOUR_MICROS }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_five_percent_wide() {
        assert_eq!(latency_bucket(0.0), 0);
        assert_eq!(latency_bucket(f64::NAN), 0);
        for ms in [0.02, 0.5, 1.0, 3.7, 120.0, 5_000.0] {
            let upper = bucket_upper_ms(latency_bucket(ms));
            assert!(upper >= ms * 0.999_999 && upper <= ms * 1.05 + 1e-9, "{ms} -> {upper}");
        }
        assert_eq!(latency_bucket(1e12), LATENCY_BUCKETS - 1);
    }

    #[test]
    fn quantiles_walk_the_histogram() {
        let mut h = BTreeMap::new();
        for ms in 1..=100 {
            *h.entry(latency_bucket(ms as f64)).or_insert(0) += 1;
        }
        let p95 = quantile(&h, 0.95).unwrap();
        assert!((95.0..=95.0 * 1.05).contains(&p95), "{p95}");
        let p50 = quantile(&h, 0.5).unwrap();
        assert!((50.0..=50.0 * 1.05).contains(&p50), "{p50}");
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
    }
}
