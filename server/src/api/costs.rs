//! `GET /costs`: what the organization spent, to the micro-dollar, grouped as asked.

use aegis_core::model::CostKey;
use aegis_core::FieldError;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, Utc};

use super::auth::Org;
use super::error::ApiError;
use super::extract::timestamp;
use crate::state::AppState;

/// `?from=&to=&group_by=tier,day,domain` (default: the last 30 days, grouped by day) →
/// `{"from", "to", "group_by", "total_micro_usd", "runs", "groups": [{"tier"?, "day"?,
/// "hour"?, "domain"?, "micro_usd", "runs"}]}`.
pub async fn get(
    State(state): State<AppState>,
    Org(org): Org,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let (mut from, mut to, mut keys) = (None, None, vec![CostKey::Day]);
    for (key, value) in &pairs {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "from" => from = Some(timestamp("from", value)?),
            "to" => to = Some(timestamp("to", value)?),
            "group_by" => keys = group_by(value)?,
            _ => {}
        }
    }
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(FieldError::new("from", "must be before `to`").into());
    }
    if keys.contains(&CostKey::Hour) && to - from > Duration::days(31) {
        return Err(FieldError::new("group_by", "hourly groups cover at most 31 days").into());
    }
    Ok(Json(state.store.costs(&org, from, to, &keys).await?).into_response())
}

fn group_by(value: &str) -> Result<Vec<CostKey>, FieldError> {
    let mut keys = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let key = CostKey::parse(name)
            .ok_or_else(|| FieldError::new("group_by", format!("{name:?} is not one of tier, day, hour, domain")))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_names_its_keys() {
        assert_eq!(group_by("tier, day,tier").unwrap(), [CostKey::Tier, CostKey::Day]);
        assert_eq!(group_by("").unwrap(), []);
        assert_eq!(group_by("tier,planet").unwrap_err().field, "group_by");
    }
}
