//! Per-organization rate limits with GCRA (the generic cell rate algorithm): each key keeps one
//! number, its theoretical arrival time, so a limit costs a map entry (or one Redis key) however
//! busy the organization is. Bursts up to the whole limit are allowed, then the rate.
//!
//! In-process by default; with Redis (`REDIS_URL`) every node shares the same state, decided
//! atomically by a script on the Redis server's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::OrgId;
use crate::{Error, Result};

/// `limit` units per `period`; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u64,
    pub period: Duration,
}

impl Quota {
    pub fn per_minute(limit: u64) -> Quota {
        Quota { limit, period: Duration::from_secs(60) }
    }

    pub fn per_day(limit: u64) -> Quota {
        Quota { limit, period: Duration::from_secs(86_400) }
    }

    /// Nanoseconds between two units at the steady rate.
    fn interval_ns(self) -> i64 {
        (self.period.as_nanos() / u128::from(self.limit.max(1))) as i64
    }
}

/// What a limiter answered: whether to go ahead, and what the `X-RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u64,
    /// Units that could still be taken now.
    pub remaining: u64,
    /// Until the limiter is back to a full burst.
    pub reset_after: Duration,
    /// When refused: how long until the request would fit.
    pub retry_after: Option<Duration>,
}

impl Decision {
    fn unlimited() -> Decision {
        Decision { allowed: true, limit: 0, remaining: u64::MAX, reset_after: Duration::ZERO, retry_after: None }
    }
}

/// GCRA for `n` units at `now` given the key's theoretical arrival time: the decision and the
/// new arrival time to store when allowed. All times in nanoseconds.
fn gcra(tat: Option<i64>, now: i64, n: u64, quota: Quota) -> (Decision, Option<i64>) {
    let t = quota.interval_ns();
    let burst = t.saturating_mul(quota.limit as i64);
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(t.saturating_mul(n as i64));
    let allow_at = new_tat - burst;
    let ns = |x: i64| Duration::from_nanos(x.max(0) as u64);
    if allow_at > now {
        let remaining = ((burst - (tat - now)) / t).max(0) as u64;
        let decision = Decision {
            allowed: false,
            limit: quota.limit,
            remaining,
            reset_after: ns(tat - now),
            retry_after: Some(ns(allow_at - now)),
        };
        return (decision, None);
    }
    let remaining = ((burst - (new_tat - now)) / t).max(0) as u64;
    let decision =
        Decision { allowed: true, limit: quota.limit, remaining, reset_after: ns(new_tat - now), retry_after: None };
    (decision, Some(new_tat))
}

/// The same algorithm as [`gcra`], run atomically in Redis on its own clock. KEYS[1] holds the
/// arrival time in microseconds; ARGV: interval (µs), burst (µs), units.
const GCRA_LUA: &str = r#"
local t = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + t * n
local allow_at = new_tat - burst
if allow_at > now then
  return {0, math.floor(math.max(burst - (tat - now), 0) / t), tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor(math.max(burst - (new_tat - now), 0) / t), new_tat - now, 0}
"#;

/// Where the limiters keep their state.
#[derive(Clone)]
pub enum RateLimiter {
    Memory(Arc<Mutex<HashMap<String, i64>>>),
    Redis(redis::aio::ConnectionManager),
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RateLimiter::Memory(_) => "RateLimiter::Memory",
            RateLimiter::Redis(_) => "RateLimiter::Redis",
        })
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::Memory(Arc::default())
    }
}

impl RateLimiter {
    /// Shared through the Redis at `url` (`redis://host:port/db`).
    pub async fn redis(url: &str) -> Result<RateLimiter> {
        let client = redis::Client::open(url).map_err(|e| Error::Config(format!("REDIS_URL: {e}")))?;
        let conn = client
            .get_connection_manager()
            .await
            .map_err(|e| Error::Unavailable(format!("cannot reach Redis at {url}: {e}")))?;
        Ok(RateLimiter::Redis(conn))
    }

    /// Takes `n` units of `quota` from `key` if they fit; takes nothing otherwise.
    pub async fn check(&self, key: &str, n: u64, quota: Quota) -> Result<Decision> {
        if quota.limit == 0 {
            return Ok(Decision::unlimited());
        }
        match self {
            RateLimiter::Memory(state) => {
                let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
                let mut state = state.lock().map_err(|_| Error::Internal("rate limiter lock poisoned".into()))?;
                let (decision, new_tat) = gcra(state.get(key).copied(), now, n, quota);
                if let Some(tat) = new_tat {
                    state.insert(key.to_string(), tat);
                }
                // Keys whose arrival time has passed carry no state: drop them now and then.
                if state.len() > 100_000 {
                    state.retain(|_, tat| *tat > now);
                }
                Ok(decision)
            }
            RateLimiter::Redis(conn) => {
                let t = (quota.interval_ns() / 1_000).max(1);
                let burst = t.saturating_mul(quota.limit as i64);
                let mut conn = conn.clone();
                let (allowed, remaining, reset_us, retry_us): (i64, i64, i64, i64) = redis::Script::new(GCRA_LUA)
                    .key(key)
                    .arg(t)
                    .arg(burst)
                    .arg(n)
                    .invoke_async(&mut conn)
                    .await
                    .map_err(|e| Error::Unavailable(format!("the rate limiter's Redis failed: {e}")))?;
                let us = |x: i64| Duration::from_micros(x.max(0) as u64);
                Ok(Decision {
                    allowed: allowed == 1,
                    limit: quota.limit,
                    remaining: remaining.max(0) as u64,
                    reset_after: us(reset_us),
                    retry_after: (allowed != 1).then(|| us(retry_us)),
                })
            }
        }
    }
}

/// The limits of one plan; 0 is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    /// Traces accepted per minute (bursts up to the whole minute's worth).
    pub traces_per_minute: u64,
    /// LLM-judge calls per day (a rolling 24 hours, bursts up to the whole day's worth).
    pub judge_calls_per_day: u64,
}

/// Rate limits per organization, by plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Share the limits across nodes through this Redis (`REDIS_URL`); unset, each process
    /// keeps its own.
    pub redis_url: Option<String>,
    /// The plan of organizations that have none.
    pub default_plan: String,
    pub plans: std::collections::BTreeMap<String, PlanLimits>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let plan = |traces_per_minute, judge_calls_per_day| PlanLimits { traces_per_minute, judge_calls_per_day };
        LimitsConfig {
            redis_url: None,
            default_plan: "team".into(),
            plans: [
                ("free".to_string(), plan(600, 100)),
                ("team".to_string(), plan(60_000, 10_000)),
                ("enterprise".to_string(), plan(600_000, 200_000)),
                ("unlimited".to_string(), plan(0, 0)),
            ]
            .into(),
        }
    }
}

/// The limits in force: the plans, and where their state is kept. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    config: Arc<LimitsConfig>,
    limiter: RateLimiter,
}

impl Limits {
    /// In-process, or shared through Redis when the configuration names one.
    pub async fn open(config: &LimitsConfig) -> Result<Limits> {
        let limiter = match &config.redis_url {
            Some(url) => RateLimiter::redis(url).await?,
            None => RateLimiter::default(),
        };
        Ok(Limits { config: Arc::new(config.clone()), limiter })
    }

    pub fn new(config: LimitsConfig, limiter: RateLimiter) -> Limits {
        Limits { config: Arc::new(config), limiter }
    }

    /// The limits of `plan`, or of the default plan when it has none or an unknown one.
    pub fn plan(&self, plan: Option<&str>) -> PlanLimits {
        let named = plan.and_then(|p| self.config.plans.get(p));
        named
            .or_else(|| self.config.plans.get(&self.config.default_plan))
            .copied()
            .unwrap_or(PlanLimits { traces_per_minute: 0, judge_calls_per_day: 0 })
    }

    /// Takes `n` traces of the organization's per-minute allowance, all or none.
    pub async fn admit_traces(&self, org: &OrgId, plan: Option<&str>, n: u64) -> Result<Decision> {
        let quota = Quota::per_minute(self.plan(plan).traces_per_minute);
        self.limiter.check(&format!("aegis:rl:{org}:traces"), n, quota).await
    }

    /// Takes one judge call of the organization's daily allowance.
    pub async fn take_judge_call(&self, org: &OrgId, plan: Option<&str>) -> Result<bool> {
        let quota = Quota::per_day(self.plan(plan).judge_calls_per_day);
        Ok(self.limiter.check(&format!("aegis:rl:{org}:judge"), 1, quota).await?.allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn allows_a_burst_then_the_rate() {
        let q = Quota::per_minute(60); // one a second, bursts of 60
        let mut tat = None;
        for i in 0..60 {
            let (d, new) = gcra(tat, 0, 1, q);
            assert!(d.allowed, "unit {i} of the burst");
            assert_eq!(d.remaining, 59 - i);
            tat = new;
        }
        let (refused, none) = gcra(tat, 0, 1, q);
        assert!(!refused.allowed && none.is_none());
        assert_eq!(refused.retry_after, Some(Duration::from_secs(1)));
        assert_eq!(refused.reset_after, Duration::from_secs(60));
        // A second later exactly one more fits.
        let (d, new) = gcra(tat, S, 1, q);
        assert!(d.allowed);
        assert!(!gcra(new, S, 1, q).0.allowed);
    }

    #[test]
    fn a_batch_is_taken_whole_or_not_at_all() {
        let q = Quota::per_minute(100);
        let (d, tat) = gcra(None, 0, 80, q);
        assert!(d.allowed);
        assert_eq!(d.remaining, 20);
        let (d, none) = gcra(tat, 0, 30, q);
        assert!(!d.allowed && none.is_none(), "30 do not fit in 20");
        assert_eq!(d.retry_after, Some(Duration::from_secs(6)), "10 more units at 0.6 s each");
        let (d, _) = gcra(tat, 0, 20, q);
        assert!(d.allowed);
        assert!(!gcra(None, 0, 101, q).0.allowed, "more than the burst never fits");
    }

    #[tokio::test]
    async fn memory_limiter_keeps_keys_apart_and_zero_is_unlimited() {
        let limiter = RateLimiter::default();
        let q = Quota::per_minute(2);
        assert!(limiter.check("a", 2, q).await.unwrap().allowed);
        assert!(!limiter.check("a", 1, q).await.unwrap().allowed);
        assert!(limiter.check("b", 1, q).await.unwrap().allowed);
        assert!(limiter.check("a", 1_000_000, Quota::per_minute(0)).await.unwrap().allowed);
    }

    /// The shared limiter against the machine's Redis: two limiters (two nodes) share one limit.
    #[tokio::test]
    async fn redis_limiter_is_shared_across_nodes() {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
        let a = RateLimiter::redis(&url).await.unwrap_or_else(|e| panic!("Redis is required for the tests: {e}"));
        let b = RateLimiter::redis(&url).await.unwrap();
        let key = format!("aegis:test:{}", uuid::Uuid::now_v7());
        let q = Quota::per_minute(10);
        let first = a.check(&key, 6, q).await.unwrap();
        assert!(first.allowed);
        assert_eq!(first.remaining, 4);
        let second = b.check(&key, 5, q).await.unwrap();
        assert!(!second.allowed, "the other node sees the first one's units");
        let retry = second.retry_after.unwrap();
        assert!(retry > Duration::from_secs(5) && retry <= Duration::from_secs(6), "{retry:?}");
        assert!(b.check(&key, 4, q).await.unwrap().allowed);
        assert!(!a.check(&key, 1, q).await.unwrap().allowed);
    }
}
