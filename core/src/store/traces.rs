//! Traces: the group-committed insert that writes each trace with its evaluation job, and the
//! keyset-paginated reads.

use std::collections::HashSet;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sqlx::Row as _;
use uuid::Uuid;

use super::{
    bind_all, corrupt, from_micros, now_micros, to_micros, Backend, Param, Priority, Store, WriteTx, ROWS_PER_STATEMENT,
};
use crate::model::{AiProcessing, OrgId, Page, Severity, Trace, TraceStatus, TraceSummary};
use crate::{Error, Result};

/// A validated trace, serialized and ready to be written.
#[derive(Debug, Clone)]
pub struct NewTrace {
    pub org_id: OrgId,
    pub trace_id: Uuid,
    pub application_id: String,
    pub ai_processing: AiProcessing,
    /// `steps` as a JSON array.
    pub steps_json: String,
    /// `metadata` as a JSON object.
    pub metadata_json: String,
    pub domain: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// Hash of the submitted content: a resubmission with the same id is a harmless retry only
    /// if this matches.
    pub content_hash: String,
    /// The originals of the identifiers replaced in this trace, sealed, for the vault.
    pub vault: Vec<super::VaultEntry>,
    /// Identifiers only the second pass caught, by type: written to the audit log with the trace.
    pub second_pass: std::collections::BTreeMap<crate::model::PhiType, u32>,
    /// What replaced identifiers, with the tokens behind stand-ins ([`super::put_in_json`]), for the
    /// trace view. Built in the caller's task: the writer's time is the ingest bottleneck.
    pub phi_replaced: String,
}

/// What became of one trace in [`Store::insert_traces`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now, with its evaluation job.
    Created,
    /// Already stored with the same content: a client retry. Carries the current status.
    Duplicate(TraceStatus),
    /// Already stored with different content under the same id.
    Conflict,
}

const TRACE_COLUMNS: usize = 18;

/// Filters and position for listing traces, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub limit: u32,
    pub cursor: Option<String>,
    pub domain: Option<String>,
    pub status: Option<TraceStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub application: Option<String>,
    pub severity: Option<Severity>,
    /// Full-text search over the (de-identified) input and output; every word must match.
    pub q: Option<String>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
}

const FULL_COLUMNS: &str = "id, application_id, model, input, output, prompt_tokens, \
    completion_tokens, latency_ms, steps, metadata, ts, received_at, status, severity";
const SUMMARY_COLUMNS: &str = "id, application_id, model, domain, substr(input, 1, 160) AS input, \
    substr(output, 1, 160) AS output, ts, status, severity";

/// `latency_ms` goes in as text cast by the database: sqlx 0.8's `Any` driver sends a missing
/// float as a `real` null, and on Postgres a statement first prepared with one fails every
/// later call that has a value ("incorrect binary data format"). Text has one type either way,
/// and Rust prints floats so that they parse back exactly.
const LATENCY_CAST: (usize, &str) = (8, "DOUBLE PRECISION");

impl Store {
    /// Writes traces and their evaluation jobs in one transaction: after it returns `Ok`, every
    /// `Created` trace is durable and will be evaluated; on `Err`, nothing was written.
    pub async fn insert_traces(&self, traces: &[NewTrace]) -> Result<Vec<InsertOutcome>> {
        let mut tx = self.begin_write_as(Priority::Ingest).await?;
        let mut inserted: HashSet<(String, String)> = HashSet::with_capacity(traces.len());
        // Rows go in key order (see the vault below): retries of one trace racing on two
        // Postgres writers then queue instead of deadlocking.
        let mut ordered: Vec<&NewTrace> = traces.iter().collect();
        ordered.sort_unstable_by(|a, b| (&a.org_id, a.trace_id).cmp(&(&b.org_id, b.trace_id)));
        for chunk in ordered.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO traces (org_id, id, application_id, model, input, output, \
                 prompt_tokens, completion_tokens, latency_ms, steps, metadata, domain, ts, \
                 received_at, status, severity, content_hash, phi_replaced) VALUES {} \
                 ON CONFLICT (org_id, id) DO NOTHING RETURNING org_id, id",
                self.values_list_cast(chunk.len(), TRACE_COLUMNS, 1, &[LATENCY_CAST])
            );
            let mut query = sqlx::query(&sql);
            for t in chunk {
                let ai = &t.ai_processing;
                query = query
                    .bind(t.org_id.to_string())
                    .bind(t.trace_id.to_string())
                    .bind(t.application_id.as_str())
                    .bind(ai.model.as_str())
                    .bind(ai.input.as_str())
                    .bind(ai.output.as_str())
                    .bind(ai.prompt_tokens.map(i64::from))
                    .bind(ai.completion_tokens.map(i64::from))
                    .bind(ai.latency_ms.map(|ms| ms.to_string()))
                    .bind(t.steps_json.as_str())
                    .bind(t.metadata_json.as_str())
                    .bind(t.domain.as_deref())
                    .bind(to_micros(t.timestamp))
                    .bind(to_micros(t.received_at))
                    .bind(TraceStatus::Queued.as_str())
                    .bind(None::<String>)
                    .bind(t.content_hash.as_str())
                    .bind(t.phi_replaced.as_str());
            }
            for row in query.fetch_all(&mut *tx).await? {
                inserted.insert((row.try_get("org_id")?, row.try_get("id")?));
            }
        }

        let mut outcomes = Vec::with_capacity(traces.len());
        let mut jobs = Vec::with_capacity(inserted.len());
        for t in traces {
            let key = (t.org_id.to_string(), t.trace_id.to_string());
            // `remove`: a second copy of the same id in this batch is a duplicate of the first.
            if inserted.remove(&key) {
                outcomes.push(InsertOutcome::Created);
                jobs.push(key);
                continue;
            }
            let row = sqlx::query("SELECT content_hash, status FROM traces WHERE org_id = $1 AND id = $2")
                .bind(&key.0)
                .bind(&key.1)
                .fetch_one(&mut *tx)
                .await?;
            let hash: String = row.try_get("content_hash")?;
            let status: String = row.try_get("status")?;
            outcomes.push(if hash == t.content_hash {
                InsertOutcome::Duplicate(TraceStatus::parse(&status).ok_or_else(|| corrupt("trace", &status))?)
            } else {
                InsertOutcome::Conflict
            });
        }

        let now = now_micros();
        // The vault, in the same transaction: no stored token without its original.
        let vault: Vec<(&OrgId, &super::VaultEntry)> =
            traces.iter().flat_map(|t| t.vault.iter().map(move |v| (&t.org_id, v))).collect();
        self.write_vault(&mut tx, &vault).await?;
        // What the first pass missed is on record with the trace it was found in: the trace id and
        // the count by type, never the text.
        for (t, outcome) in traces.iter().zip(&outcomes) {
            if !t.second_pass.is_empty() && *outcome == InsertOutcome::Created {
                let detail = serde_json::json!({ "trace_id": t.trace_id, "found": t.second_pass });
                self.audit_in(&mut tx, &t.org_id, "ingest", "phi.second_pass", detail).await?;
            }
        }
        for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO evaluation_jobs (org_id, trace_id, attempts, available_at, created_at) VALUES {}",
                self.values_list(chunk.len(), 5, 1)
            );
            let mut query = sqlx::query(&sql);
            for (org, id) in chunk {
                query = query.bind(org.as_str()).bind(id.as_str()).bind(0_i64).bind(now).bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(outcomes)
    }

    /// The distinct texts de-identification put into a trace (tokens or stand-ins), for the
    /// trace view to mark.
    pub async fn trace_replacements(&self, org: &OrgId, trace_id: Uuid) -> Result<Vec<String>> {
        Ok(self.trace_put_in(org, trace_id).await?.unwrap_or_default().into_iter().map(|p| p.text).collect())
    }

    /// What de-identification put into a trace, with the tokens behind it; `None` when `org`
    /// has no such trace.
    pub async fn trace_put_in(&self, org: &OrgId, trace_id: Uuid) -> Result<Option<Vec<super::PutIn>>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT phi_replaced FROM traces WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(trace_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(json,)| super::phi::parse_put_in(&json)).transpose()
    }

    pub async fn get_trace(&self, org: &OrgId, trace_id: Uuid) -> Result<Option<Trace>> {
        let sql = format!("SELECT {FULL_COLUMNS} FROM traces WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(&sql).bind(org.to_string()).bind(trace_id.to_string()).fetch_optional(&self.pool).await?;
        row.map(|r| trace_from_row(&r)).transpose()
    }

    /// Loads several traces of possibly several organizations (the worker's batch).
    /// Inside a write: the domain of trace `trace_id` of `org` ('' for none), or `None` if the
    /// organization has no such trace.
    pub(crate) async fn trace_domain_in(
        &self,
        tx: &mut WriteTx,
        org: &OrgId,
        trace_id: Uuid,
    ) -> Result<Option<String>> {
        let row = sqlx::query("SELECT domain FROM traces WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(trace_id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| Ok(r.try_get::<Option<String>, _>("domain")?.unwrap_or_default())).transpose()
    }

    pub async fn get_traces(&self, keys: &[(OrgId, Uuid)]) -> Result<Vec<(OrgId, Trace)>> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            // A join, not `(org_id, id) IN (VALUES ...)`: SQLite plans the latter as a full scan.
            let sql = format!(
                "SELECT org_id, {FULL_COLUMNS} FROM (VALUES {}) AS v \
                 JOIN traces ON traces.org_id = v.column1 AND traces.id = v.column2",
                self.values_list(chunk.len(), 2, 1)
            );
            let mut query = sqlx::query(&sql);
            for (org, id) in chunk {
                query = query.bind(org.to_string()).bind(id.to_string());
            }
            for row in query.fetch_all(&self.pool).await? {
                let org: String = row.try_get("org_id")?;
                let org = org.parse().map_err(|e| corrupt("trace", e))?;
                out.push((org, trace_from_row(&row)?));
            }
        }
        Ok(out)
    }

    /// Traces of one organization, newest first, for the API.
    pub async fn list_traces(&self, org: &OrgId, q: &ListQuery) -> Result<Page<Trace>> {
        let rows = self.list_rows(org, q, FULL_COLUMNS).await?;
        page(rows, q.limit, trace_from_row, |t| (t.timestamp, t.trace_id))
    }

    /// Traces of one organization, newest first, with only what a table shows.
    pub async fn list_trace_summaries(&self, org: &OrgId, q: &ListQuery) -> Result<Page<TraceSummary>> {
        let rows = self.list_rows(org, q, SUMMARY_COLUMNS).await?;
        page(rows, q.limit, summary_from_row, |t| (t.timestamp, t.trace_id))
    }

    async fn list_rows(&self, org: &OrgId, q: &ListQuery, columns: &str) -> Result<Vec<sqlx::any::AnyRow>> {
        let words = q.q.as_deref().map(search_words).unwrap_or_default();
        let indexed = q.status != Some(TraceStatus::Queued);
        let needs_match = !words.is_empty() || q.severity.is_some() || q.application.is_some();
        if indexed && needs_match {
            return self.search_rows(org, q, &words, columns).await;
        }
        let mut params = vec![Param::Text(org.to_string())];
        let mut sql = format!("SELECT {columns} FROM traces WHERE org_id = $1");
        let mut push = |sql: &mut String, clause: &str, p: Param| {
            params.push(p);
            sql.push_str(&clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(domain) = &q.domain {
            push(&mut sql, " AND domain = ?", Param::Text(domain.clone()));
        }
        if let Some(status) = q.status {
            push(&mut sql, " AND status = ?", Param::Text(status.as_str().into()));
        }
        if let Some(application) = &q.application {
            push(&mut sql, " AND application_id = ?", Param::Text(application.clone()));
        }
        if let Some(severity) = q.severity {
            push(&mut sql, " AND severity = ?", Param::Text(severity.as_str().into()));
        }
        page_clauses(q, "ts", i64::from(q.limit) + 1, &mut sql, &mut params)?;
        Ok(bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await?)
    }
}

/// The date range, the cursor and the order of a page of traces, appended to `sql` (whose
/// placeholders are numbered). `ts` is how the order names the column, so that a plan can be
/// kept off its index (`+ts`, `ts + 0`).
fn page_clauses(q: &ListQuery, ts: &str, limit: i64, sql: &mut String, params: &mut Vec<Param>) -> Result<()> {
    let mut push = |clause: &str, p: Param| {
        params.push(p);
        sql.push_str(&clause.replace('?', &format!("${}", params.len())));
    };
    if let Some(from) = q.from {
        push(" AND ts >= ?", Param::Int(to_micros(from)));
    }
    if let Some(to) = q.to {
        push(" AND ts < ?", Param::Int(to_micros(to)));
    }
    let (after, direction) = if q.oldest_first { (">", "ASC") } else { ("<", "DESC") };
    if let Some(cursor) = &q.cursor {
        let (at, id) = decode_cursor(cursor)?;
        push(&format!(" AND (ts {after} ?"), Param::Int(at));
        push(" OR (ts = ?", Param::Int(at));
        push(&format!(" AND id {after} ?))"), Param::Text(id.to_string()));
    }
    push(&format!(" ORDER BY {ts} {direction}, id {direction} LIMIT ?"), Param::Int(limit));
    Ok(())
}

impl Store {
    /// A search, or filters without an index of their own, answered from the full-text index,
    /// where the filters are tokens too ([`SQLITE_SEARCH_TAGS`], [`POSTGRES_SEARCH_TAGS`]).
    /// Rare matches are read through that index and sorted; common ones are met by walking the
    /// time index newest first until the page is full. SQLite counts the matches in its index
    /// to choose ([`FEW_MATCHES`]); Postgres, which cannot count without reading rows, tries
    /// the newest [`SEARCH_WINDOW`] traces first. Either way the page is in time order.
    async fn search_rows(
        &self,
        org: &OrgId,
        q: &ListQuery,
        words: &[String],
        columns: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        // The organization is not a token: every trace of a tenant would carry it, and the
        // rows read are few either way. It is checked on the rows.
        let mut tags = Vec::new();
        if let Some(status) = q.status {
            tags.push(search_tag("zs", status.as_str()));
        }
        if let Some(severity) = q.severity {
            tags.push(search_tag("zv", severity.as_str()));
        }
        if let Some(domain) = &q.domain {
            tags.push(search_tag("zd", domain));
        }
        if let Some(application) = &q.application {
            tags.push(search_tag("za", application));
        }
        let (matches, mut params) = match self.backend {
            Backend::Sqlite => {
                // Each word quoted: the user's text is data, never FTS5 syntax.
                let mut terms: Vec<String> =
                    words.iter().map(|w| format!("{{input output}} : \"{}\"", w.replace('"', ""))).collect();
                terms.extend(tags.iter().map(|t| format!("tags : {t}")));
                (
                    "rowid IN (SELECT rowid FROM trace_search WHERE trace_search MATCH $1)",
                    vec![Param::Text(terms.join(" AND "))],
                )
            }
            Backend::Postgres if words.is_empty() => {
                ("search @@ to_tsquery('simple', $1)", vec![Param::Text(tags.join(" & "))])
            }
            Backend::Postgres if tags.is_empty() => {
                ("search @@ plainto_tsquery('simple', $1)", vec![Param::Text(words.join(" "))])
            }
            Backend::Postgres => (
                "search @@ (plainto_tsquery('simple', $1) && to_tsquery('simple', $2))",
                vec![Param::Text(words.join(" ")), Param::Text(tags.join(" & "))],
            ),
        };

        let page = i64::from(q.limit) + 1;
        match self.backend {
            Backend::Sqlite => {
                // The full-text index alone says how many match: no trace row is read.
                let probe = format!(
                    "SELECT COUNT(*) AS n FROM (SELECT rowid FROM trace_search WHERE trace_search MATCH $1 LIMIT {})",
                    FEW_MATCHES + 1
                );
                let found: i64 = bind_all(sqlx::query(&probe), &params).fetch_one(&self.pool).await?.try_get("n")?;
                params.push(Param::Text(org.to_string()));
                let org_param = params.len();
                // Few: read them by rowid (`+` keeps the planner off the org_id and ts indexes,
                // which it would walk whole). Many: walk the time index newest first.
                let (source, org_column, ts) = if found <= FEW_MATCHES {
                    ("traces", "+org_id", "+ts")
                } else {
                    ("traces INDEXED BY traces_by_time", "org_id", "ts")
                };
                let mut sql = format!("SELECT {columns} FROM {source} WHERE {org_column} = ${org_param} AND {matches}");
                page_clauses(q, ts, page, &mut sql, &mut params)?;
                Ok(bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await?)
            }
            Backend::Postgres => {
                // First the newest traces of the organization, through the time index, up to a
                // window: if a page of matches is among them, it is the page (anything older
                // would come after it). Common words end here after a few hundred rows.
                let mut window_params = params.clone();
                window_params.push(Param::Text(org.to_string()));
                let mut inner = format!("SELECT {columns}, search FROM traces WHERE org_id = ${}", window_params.len());
                page_clauses(q, "ts", SEARCH_WINDOW, &mut inner, &mut window_params)?;
                let direction = if q.oldest_first { "ASC" } else { "DESC" };
                let outer_columns = outer_names(columns);
                let sql = format!(
                    "SELECT {outer_columns} FROM ({inner}) AS recent WHERE {matches} \
                     ORDER BY ts {direction}, id {direction} LIMIT {page}"
                );
                let rows = bind_all(sqlx::query(&sql), &window_params).fetch_all(&self.pool).await?;
                if rows.len() as i64 == page {
                    return Ok(rows);
                }
                // Fewer: the matches are rare, so read them all through the GIN index and sort.
                // `org_id || ''` keeps the planner from intersecting with the organization's
                // index, which holds every trace of a tenant.
                params.push(Param::Text(org.to_string()));
                let mut sql =
                    format!("SELECT {columns} FROM traces WHERE (org_id || '') = ${} AND {matches}", params.len());
                page_clauses(q, "ts + 0", page, &mut sql, &mut params)?;
                Ok(bind_all(sqlx::query(&sql), &params).fetch_all(&self.pool).await?)
            }
        }
    }
}

/// How the filters of a trace are indexed for search on SQLite: the status, severity, domain
/// and application as tokens, a prefix and the value in hex (whole values
/// match exactly, whatever they contain). Migration 0008 repeats it for existing traces.
pub(crate) const SQLITE_SEARCH_TAGS: &str = "'zs' || hex(traces.status) \
     || ' zv' || hex(coalesce(traces.severity, 'none')) || ' zd' || hex(coalesce(traces.domain, '')) \
     || ' za' || hex(traces.application_id)";

/// The same tokens in a Postgres `search` vector (the tokenizers fold case alike).
pub(crate) const POSTGRES_SEARCH_TAGS: &str = "'zs' || encode(convert_to(traces.status, 'UTF8'), 'hex') \
     || ' zv' || encode(convert_to(coalesce(traces.severity, 'none'), 'UTF8'), 'hex') \
     || ' zd' || encode(convert_to(coalesce(traces.domain, ''), 'UTF8'), 'hex') \
     || ' za' || encode(convert_to(traces.application_id, 'UTF8'), 'hex')";

/// SQLite: up to this many matches are read through the full-text index and sorted; more are
/// found by walking the time index.
const FEW_MATCHES: i64 = 5_000;

/// Postgres: how many of the newest traces a search looks through before it reads the
/// matches through the full-text index instead.
const SEARCH_WINDOW: i64 = 4_000;

/// The names `columns` gives its values (`substr(input, 1, 160) AS input` → `input`), to
/// select them again from a subquery.
fn outer_names(columns: &str) -> String {
    // Split at the commas outside parentheses.
    let (mut names, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in columns.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                names.push(&columns[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    names.push(&columns[start..]);
    names.iter().map(|c| c.rsplit(" AS ").next().unwrap_or(c).trim()).collect::<Vec<_>>().join(", ")
}

/// The token the tags expressions write for `value`.
fn search_tag(prefix: &str, value: &str) -> String {
    format!("{prefix}{}", hex::encode(value.as_bytes()))
}

/// The words of a search, lower-cased, without punctuation (a pseudonym token such as
/// `[NAME_3f9a1c2b7d4e]` stays one word). At most 16, of at most 64 characters.
fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
        .take(16)
        .collect()
}

/// Turns `limit + 1` rows into a page and the cursor after its last item.
fn page<T>(
    rows: Vec<sqlx::any::AnyRow>,
    limit: u32,
    convert: impl Fn(&sqlx::any::AnyRow) -> Result<T>,
    position: impl Fn(&T) -> (DateTime<Utc>, Uuid),
) -> Result<Page<T>> {
    let has_more = rows.len() > limit as usize;
    let mut items = rows.iter().take(limit as usize).map(convert).collect::<Result<Vec<T>>>()?;
    items.shrink_to_fit();
    let next_cursor = match (has_more, items.last()) {
        (true, Some(last)) => {
            let (ts, id) = position(last);
            Some(encode_cursor(to_micros(ts), id))
        }
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// Cursors are opaque to clients: base64 of the last item's position.
fn encode_cursor(ts: i64, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{ts}:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(i64, Uuid)> {
    let invalid = || Error::Invalid(crate::FieldError::new("cursor", "is not a cursor this API returned"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (ts, id) = text.split_once(':').ok_or_else(invalid)?;
    Ok((ts.parse().map_err(|_| invalid())?, id.parse().map_err(|_| invalid())?))
}

fn parse_status(row: &sqlx::any::AnyRow) -> Result<(TraceStatus, Option<Severity>)> {
    let status: String = row.try_get("status")?;
    let severity: Option<String> = row.try_get("severity")?;
    let status = TraceStatus::parse(&status).ok_or_else(|| corrupt("trace", &status))?;
    let severity = match severity {
        Some(s) => Some(Severity::parse(&s).ok_or_else(|| corrupt("trace", &s))?),
        None => None,
    };
    Ok((status, severity))
}

fn parse_id(row: &sqlx::any::AnyRow) -> Result<Uuid> {
    let id: String = row.try_get("id")?;
    id.parse().map_err(|e| corrupt("trace", e))
}

fn trace_from_row(row: &sqlx::any::AnyRow) -> Result<Trace> {
    let (status, severity) = parse_status(row)?;
    let prompt_tokens: Option<i64> = row.try_get("prompt_tokens")?;
    let completion_tokens: Option<i64> = row.try_get("completion_tokens")?;
    let steps: String = row.try_get("steps")?;
    let metadata: String = row.try_get("metadata")?;
    Ok(Trace {
        trace_id: parse_id(row)?,
        application_id: row.try_get("application_id")?,
        ai_processing: AiProcessing {
            model: row.try_get("model")?,
            input: row.try_get("input")?,
            output: row.try_get("output")?,
            prompt_tokens: prompt_tokens.map(|n| n as u32),
            completion_tokens: completion_tokens.map(|n| n as u32),
            latency_ms: row.try_get("latency_ms")?,
        },
        steps: serde_json::from_str(&steps)?,
        metadata: serde_json::from_str(&metadata)?,
        timestamp: from_micros(row.try_get("ts")?),
        received_at: from_micros(row.try_get("received_at")?),
        status,
        severity,
    })
}

fn summary_from_row(row: &sqlx::any::AnyRow) -> Result<TraceSummary> {
    let (status, severity) = parse_status(row)?;
    Ok(TraceSummary {
        trace_id: parse_id(row)?,
        application_id: row.try_get("application_id")?,
        model: row.try_get("model")?,
        domain: row.try_get("domain")?,
        input_preview: row.try_get("input")?,
        output_preview: row.try_get("output")?,
        timestamp: from_micros(row.try_get("ts")?),
        status,
        severity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subqueries_select_the_names_of_the_columns() {
        assert_eq!(
            outer_names(SUMMARY_COLUMNS),
            "id, application_id, model, domain, input, output, ts, status, severity"
        );
        assert_eq!(outer_names(FULL_COLUMNS), FULL_COLUMNS);
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let id = Uuid::new_v4();
        assert_eq!(decode_cursor(&encode_cursor(42, id)).unwrap(), (42, id));
        assert!(matches!(decode_cursor("not-a-cursor"), Err(Error::Invalid(f)) if f.field == "cursor"));
    }
}
