//! Rate limits on the API: each organization's traces per minute, by plan (GCRA, in-process
//! or through Redis). Answers carry `X-RateLimit-Limit`, `-Remaining` and `-Reset`; a request
//! over the limit is `429` with `Retry-After`, and none of it is accepted.

use aegis_core::limits::Decision;
use aegis_core::store::Principal;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::state::AppState;

/// The limiter's answer, to put on the response.
pub struct RateHeaders(Option<Decision>);

impl RateHeaders {
    pub fn apply(&self, mut response: Response) -> Response {
        if let Some(d) = &self.0 {
            set(response.headers_mut(), d);
        }
        response
    }
}

fn set(headers: &mut HeaderMap, d: &Decision) {
    let secs = |x: std::time::Duration| x.as_secs() + u64::from(x.subsec_nanos() > 0);
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(secs(d.reset_after)));
    if let Some(retry) = d.retry_after {
        headers.insert("retry-after", HeaderValue::from(secs(retry).max(1)));
    }
}

/// Takes `traces` traces of the caller's organization's allowance, or answers 429.
pub async fn admit(state: &AppState, caller: &Principal, traces: u64) -> Result<RateHeaders, Response> {
    if traces == 0 {
        return Ok(RateHeaders(None));
    }
    let decision = match state.limits.admit_traces(&caller.org_id, caller.plan.as_deref(), traces).await {
        Ok(d) => d,
        Err(e) => {
            // Accepting unmetered beats refusing every trace while the limiter is away.
            tracing::warn!(error = %e, "rate limiter unavailable; accepting without a limit");
            return Ok(RateHeaders(None));
        }
    };
    if decision.limit == 0 {
        return Ok(RateHeaders(None));
    }
    if decision.allowed {
        return Ok(RateHeaders(Some(decision)));
    }
    let retry = decision.retry_after.unwrap_or_default();
    let message = if traces > decision.limit {
        format!(
            "{traces} traces are more than this organization may send in a minute ({}); send smaller batches",
            decision.limit
        )
    } else {
        format!(
            "this organization may send {} traces a minute; {} fit now, retry in {:.1} s",
            decision.limit,
            decision.remaining,
            retry.as_secs_f64()
        )
    };
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).into_response();
    set(response.headers_mut(), &decision);
    Err(response)
}
