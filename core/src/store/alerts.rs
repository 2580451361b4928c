//! Alert channels and rules, the alerts raised, and the grouping of identical alerts.

use chrono::Utc;
use serde_json::json;
use sqlx::Row as _;
use uuid::Uuid;

use super::{corrupt, from_micros, now_micros, Backend, Store, WriteTx};
use crate::model::{Alert, AlertChannel, AlertRule, AlertStatus, ChannelTarget, OrgId, Severity, SinkKind};
use crate::Result;

/// What a rule is made of when created.
#[derive(Debug, Clone)]
pub struct NewAlertRule {
    pub name: String,
    pub min_severity: Severity,
    pub domains: Vec<String>,
    pub issue_types: Vec<String>,
    pub channels: Vec<String>,
    pub cooldown_secs: u64,
    pub enabled: bool,
}

/// The first alert of a group found in one batch of evaluations, and how many more came with it.
#[derive(Debug, Clone)]
pub struct GroupHit {
    pub org: OrgId,
    pub rule: AlertRule,
    /// What makes two alerts of one rule identical.
    pub group_key: String,
    pub domain: Option<String>,
    pub issue_type: String,
    pub severity: Severity,
    pub summary: String,
    pub first_trace: Uuid,
    pub last_trace: Uuid,
    pub count: u64,
}

/// A group whose cooldown window ended with hits no alert has reported yet.
#[derive(Debug, Clone)]
pub struct EndedGroup {
    pub org: OrgId,
    pub rule: AlertRule,
    pub group_key: String,
    pub domain: Option<String>,
    pub issue_type: String,
    pub severity: Severity,
    /// The hits left to report.
    pub count: u64,
    pub last_trace: Uuid,
}

const CHANNEL_COLUMNS: &str = "id, name, target, created_at";
const RULE_COLUMNS: &str = "id, name, min_severity, domains, issue_types, channels, cooldown_secs, enabled, created_at";

impl Store {
    pub async fn create_alert_channel(
        &self,
        org: &OrgId,
        actor: &str,
        name: &str,
        target: &ChannelTarget,
    ) -> Result<AlertChannel> {
        let channel = AlertChannel {
            id: format!("ch_{}", Uuid::now_v7().simple()),
            name: name.to_string(),
            target: target.clone(),
            created_at: super::from_micros(now_micros()),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO alert_channels (id, org_id, name, target, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&channel.id)
            .bind(org.to_string())
            .bind(name)
            .bind(serde_json::to_string(target)?)
            .bind(super::to_micros(channel.created_at))
            .execute(&mut *tx)
            .await?;
        let kind = target.kind().as_str();
        self.audit_in(
            &mut tx,
            org,
            actor,
            "alert_channel.created",
            json!({ "id": channel.id, "kind": kind, "name": name }),
        )
        .await?;
        tx.commit().await?;
        Ok(channel)
    }

    /// The organization's channels, with their secrets in full (mask them to show them).
    pub async fn alert_channels(&self, org: &OrgId) -> Result<Vec<AlertChannel>> {
        let rows = self.owned_rows("alert_channels", CHANNEL_COLUMNS, org).await?;
        rows.iter().map(channel_from_row).collect()
    }

    /// Channels by id, whatever their organization: for the sender.
    pub async fn channel_targets(&self, ids: &[&str]) -> Result<std::collections::HashMap<String, ChannelTarget>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql =
            format!("SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE id IN {}", self.values_list(1, ids.len(), 1));
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|r| channel_from_row(r).map(|c| (c.id, c.target))).collect()
    }

    pub async fn delete_alert_channel(&self, org: &OrgId, actor: &str, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = self.delete_owned(&mut tx, "alert_channels", org, id).await?;
        if done {
            self.audit_in(&mut tx, org, actor, "alert_channel.deleted", json!({ "id": id })).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    pub async fn create_alert_rule(&self, org: &OrgId, actor: &str, rule: &NewAlertRule) -> Result<AlertRule> {
        let id = format!("ar_{}", Uuid::now_v7().simple());
        let now = now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO alert_rules (id, org_id, name, min_severity, domains, issue_types, channels, \
             cooldown_secs, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(org.to_string())
        .bind(&rule.name)
        .bind(rule.min_severity.as_str())
        .bind(serde_json::to_string(&rule.domains)?)
        .bind(serde_json::to_string(&rule.issue_types)?)
        .bind(serde_json::to_string(&rule.channels)?)
        .bind(rule.cooldown_secs as i64)
        .bind(i64::from(rule.enabled))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.audit_in(&mut tx, org, actor, "alert_rule.created", json!({ "id": id, "name": rule.name })).await?;
        tx.commit().await?;
        self.alert_rule(org, &id).await?.ok_or_else(|| crate::Error::NotFound("alert rule not found".into()))
    }

    pub async fn alert_rules(&self, org: &OrgId) -> Result<Vec<AlertRule>> {
        let rows = self.owned_rows("alert_rules", RULE_COLUMNS, org).await?;
        rows.iter().map(rule_from_row).collect()
    }

    pub async fn alert_rule(&self, org: &OrgId, id: &str) -> Result<Option<AlertRule>> {
        let row = self.owned_row("alert_rules", RULE_COLUMNS, org, id).await?;
        row.as_ref().map(rule_from_row).transpose()
    }

    /// Replaces a rule's settings; `None` if there is no such rule.
    pub async fn update_alert_rule(
        &self,
        org: &OrgId,
        actor: &str,
        id: &str,
        rule: &NewAlertRule,
    ) -> Result<Option<AlertRule>> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE alert_rules SET name = $1, min_severity = $2, domains = $3, issue_types = $4, channels = $5, \
             cooldown_secs = $6, enabled = $7 WHERE org_id = $8 AND id = $9",
        )
        .bind(&rule.name)
        .bind(rule.min_severity.as_str())
        .bind(serde_json::to_string(&rule.domains)?)
        .bind(serde_json::to_string(&rule.issue_types)?)
        .bind(serde_json::to_string(&rule.channels)?)
        .bind(rule.cooldown_secs as i64)
        .bind(i64::from(rule.enabled))
        .bind(org.to_string())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(None);
        }
        self.audit_in(&mut tx, org, actor, "alert_rule.updated", json!({ "id": id, "name": rule.name })).await?;
        tx.commit().await?;
        self.alert_rule(org, id).await
    }

    pub async fn delete_alert_rule(&self, org: &OrgId, actor: &str, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = self.delete_owned(&mut tx, "alert_rules", org, id).await?;
        if done {
            sqlx::query("DELETE FROM alert_groups WHERE org_id = $1 AND rule_id = $2")
                .bind(org.to_string())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            self.audit_in(&mut tx, org, actor, "alert_rule.deleted", json!({ "id": id })).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// The organization's alerts, newest first.
    pub async fn alerts(&self, org: &OrgId, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT body, status, resolved_at FROM alerts WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(org.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Marks an alert resolved in `tx`, with an audit entry. `None` if there is no such alert;
    /// `Some((alert, false))` if it was resolved already, as it is.
    pub async fn resolve_alert(
        &self,
        tx: &mut WriteTx,
        org: &OrgId,
        actor: &str,
        id: &str,
    ) -> Result<Option<(Alert, bool)>> {
        let row = sqlx::query("SELECT body, status, resolved_at FROM alerts WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut alert = alert_from_row(&row)?;
        if alert.status == AlertStatus::Resolved {
            return Ok(Some((alert, false)));
        }
        let now = Utc::now();
        sqlx::query("UPDATE alerts SET status = 'resolved', resolved_at = $1 WHERE org_id = $2 AND id = $3")
            .bind(super::to_micros(now))
            .bind(org.to_string())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        alert.status = AlertStatus::Resolved;
        alert.resolved_at = Some(now);
        self.audit_in(tx, org, actor, "alert.resolved", json!({ "id": id })).await?;
        Ok(Some((alert, true)))
    }

    /// Counts one batch's hits into their groups. Returns the hits that opened a cooldown
    /// window, each with the count an earlier window left unreported: an alert goes out for
    /// each, standing for the hits grouped with it.
    pub async fn count_alert_hits(&self, tx: &mut WriteTx, hits: Vec<GroupHit>) -> Result<Vec<(GroupHit, u64)>> {
        let token = Uuid::new_v4().to_string();
        let now_us = now_micros();
        let mut opened = Vec::new();
        for hit in hits {
            let window_end = now_us + (hit.rule.cooldown_secs as i64) * 1_000_000;
            // In an open window every hit is counted; otherwise this write opens a new window,
            // carrying over whatever the last one counted and nobody has reported yet.
            let row = sqlx::query(
                "INSERT INTO alert_groups (org_id, rule_id, group_key, domain, issue_type, severity, window_ends_at, \
                 suppressed, carried, opened_by, last_trace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10) \
                 ON CONFLICT (org_id, rule_id, group_key) DO UPDATE SET \
                 carried = CASE WHEN alert_groups.window_ends_at > $11 THEN alert_groups.carried ELSE alert_groups.suppressed END, \
                 suppressed = CASE WHEN alert_groups.window_ends_at > $11 THEN alert_groups.suppressed + $12 ELSE $8 END, \
                 opened_by = CASE WHEN alert_groups.window_ends_at > $11 THEN alert_groups.opened_by ELSE $9 END, \
                 window_ends_at = CASE WHEN alert_groups.window_ends_at > $11 THEN alert_groups.window_ends_at ELSE $7 END, \
                 severity = $6, last_trace_id = $10 \
                 RETURNING opened_by, carried",
            )
            .bind(hit.org.to_string())
            .bind(&hit.rule.id)
            .bind(&hit.group_key)
            .bind(hit.domain.clone().unwrap_or_default())
            .bind(&hit.issue_type)
            .bind(hit.severity.as_str())
            .bind(window_end)
            .bind(hit.count as i64 - 1)
            .bind(&token)
            .bind(hit.last_trace.to_string())
            .bind(now_us)
            .bind(hit.count as i64)
            .fetch_one(&mut **tx)
            .await?;
            let opened_by: String = row.try_get("opened_by")?;
            if opened_by != token {
                continue;
            }
            // A fresh row has no carried count; an old window's unreported count rides along.
            let carried: i64 = row.try_get("carried")?;
            if hit.count > 1 {
                // The batch's other hits were counted as suppressed; the alert for this hit
                // reports them.
                sqlx::query(
                    "UPDATE alert_groups SET suppressed = suppressed - $1 WHERE org_id = $2 AND rule_id = $3 AND group_key = $4",
                )
                .bind(hit.count as i64 - 1)
                .bind(hit.org.to_string())
                .bind(&hit.rule.id)
                .bind(&hit.group_key)
                .execute(&mut **tx)
                .await?;
            }
            opened.push((hit, carried.max(0) as u64));
        }
        Ok(opened)
    }

    /// Takes, in `tx`, the counts of groups whose cooldown window has ended with hits nobody
    /// reported (up to 100): each is zeroed, for one summary alert to report it.
    pub async fn take_ended_groups(&self, tx: &mut WriteTx) -> Result<Vec<EndedGroup>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "SELECT org_id, rule_id, group_key, domain, issue_type, severity, suppressed, last_trace_id \
             FROM alert_groups WHERE suppressed > 0 AND window_ends_at <= $1 LIMIT 100{lock}"
        );
        let rows = sqlx::query(&sql).bind(now_micros()).fetch_all(&mut **tx).await?;
        let mut ended = Vec::with_capacity(rows.len());
        for row in &rows {
            let org: OrgId = row.try_get::<String, _>("org_id")?.parse().map_err(|e| corrupt("alert group", e))?;
            let rule_id: String = row.try_get("rule_id")?;
            let group_key: String = row.try_get("group_key")?;
            let count: i64 = row.try_get("suppressed")?;
            sqlx::query(
                "UPDATE alert_groups SET suppressed = suppressed - $1 WHERE org_id = $2 AND rule_id = $3 AND group_key = $4",
            )
            .bind(count)
            .bind(org.to_string())
            .bind(&rule_id)
            .bind(&group_key)
            .execute(&mut **tx)
            .await?;
            let Some(rule) = self.rule_in(tx, &org, &rule_id).await? else { continue };
            let domain: String = row.try_get("domain")?;
            let trace: String = row.try_get("last_trace_id")?;
            let severity: String = row.try_get("severity")?;
            ended.push(EndedGroup {
                severity: Severity::parse(&severity).unwrap_or(rule.min_severity),
                org,
                rule,
                group_key,
                domain: Some(domain).filter(|d| !d.is_empty()),
                issue_type: row.try_get("issue_type")?,
                count: count.max(0) as u64,
                last_trace: trace.parse().map_err(|e| corrupt("alert group", e))?,
            });
        }
        Ok(ended)
    }

    /// Writes alerts raised in `tx`.
    pub async fn insert_alerts(&self, tx: &mut WriteTx, alerts: &[(OrgId, Alert)]) -> Result<()> {
        for (org, alert) in alerts {
            self.insert_alert(tx, org, alert).await?;
        }
        Ok(())
    }

    async fn insert_alert(&self, tx: &mut WriteTx, org: &OrgId, alert: &Alert) -> Result<()> {
        sqlx::query(
            "INSERT INTO alerts (id, org_id, rule_id, body, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&alert.id)
        .bind(org.to_string())
        .bind(&alert.rule_id)
        .bind(serde_json::to_string(alert)?)
        .bind(alert.status.as_str())
        .bind(super::to_micros(alert.created_at))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn rule_in(&self, tx: &mut WriteTx, org: &OrgId, id: &str) -> Result<Option<AlertRule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.to_string()).bind(id).fetch_optional(&mut **tx).await?;
        row.as_ref().map(rule_from_row).transpose()
    }

    /// The rules switched on in `orgs`.
    pub async fn rules_in(&self, tx: &mut WriteTx, orgs: &[OrgId]) -> Result<Vec<(OrgId, AlertRule)>> {
        let select = format!("SELECT org_id, {RULE_COLUMNS} FROM alert_rules WHERE enabled = 1 AND org_id IN");
        let orgs: Vec<String> = orgs.iter().map(OrgId::to_string).collect();
        let rows = self.rows_of_orgs(tx, &select, &orgs).await?;
        rows.iter()
            .map(|row| {
                let org: String = row.try_get("org_id")?;
                Ok((org.parse().map_err(|e| corrupt("alert rule", e))?, rule_from_row(row)?))
            })
            .collect()
    }

    /// The kinds of the channels `ids` that exist in `org`.
    pub async fn channel_kinds_in(
        &self,
        tx: &mut WriteTx,
        org: &OrgId,
        ids: &[String],
    ) -> Result<Vec<(String, SinkKind)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {CHANNEL_COLUMNS} FROM alert_channels WHERE org_id = {} AND id IN {}",
            self.placeholder(1),
            self.values_list(1, ids.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(org.to_string());
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(&mut **tx).await?;
        rows.iter().map(|r| channel_from_row(r).map(|c| (c.id, c.target.kind()))).collect()
    }
}

fn channel_from_row(row: &sqlx::any::AnyRow) -> Result<AlertChannel> {
    let target: String = row.try_get("target")?;
    Ok(AlertChannel {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        target: serde_json::from_str(&target).map_err(|e| corrupt("alert channel", e))?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

fn rule_from_row(row: &sqlx::any::AnyRow) -> Result<AlertRule> {
    let list = |column: &str| -> Result<Vec<String>> {
        let raw: String = row.try_get(column)?;
        serde_json::from_str(&raw).map_err(|e| corrupt("alert rule", e))
    };
    let severity: String = row.try_get("min_severity")?;
    Ok(AlertRule {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        min_severity: Severity::parse(&severity).ok_or_else(|| corrupt("alert rule", &severity))?,
        domains: list("domains")?,
        issue_types: list("issue_types")?,
        channels: list("channels")?,
        cooldown_secs: row.try_get::<i64, _>("cooldown_secs")?.max(0) as u64,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

fn alert_from_row(row: &sqlx::any::AnyRow) -> Result<Alert> {
    let body: String = row.try_get("body")?;
    let mut alert: Alert = serde_json::from_str(&body).map_err(|e| corrupt("alert", e))?;
    if row.try_get::<String, _>("status")? == "resolved" {
        alert.status = AlertStatus::Resolved;
        alert.resolved_at = row.try_get::<Option<i64>, _>("resolved_at")?.map(from_micros);
    }
    Ok(alert)
}
