//! Per-tenant request rate limits: one keyed GCRA limiter (governor) per plan.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::Plans;

/// Whether a request may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateVerdict {
    /// Within the rate.
    Allowed,
    /// Over the rate; the earliest moment a retry can succeed.
    Limited {
        /// How long to wait.
        retry_after: Duration,
    },
}

/// Applies each plan's requests-per-minute to every tenant on it, keyed by tenant id.
///
/// Governor's keyed limiter has one quota for all its keys, so there is one limiter per plan.
/// Keys of tenants that stop calling are dropped by [`RateLimiter::retain_recent`].
pub struct RateLimiter {
    /// Plan name to that plan's keyed limiter.
    by_plan: HashMap<String, DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("plans", &self.by_plan.len()).finish()
    }
}

impl RateLimiter {
    /// One limiter per configured plan. Plans must have been validated (rates at least 1).
    pub fn new(plans: &Plans) -> RateLimiter {
        let by_plan = plans
            .iter()
            .map(|plan| {
                let rpm = NonZeroU32::new(plan.limits.requests_per_minute).unwrap_or(NonZeroU32::MIN);
                (plan.name, DefaultKeyedRateLimiter::keyed(Quota::per_minute(rpm)))
            })
            .collect();
        RateLimiter { by_plan, clock: DefaultClock::default() }
    }

    /// Counts one request of `tenant_id` on `plan` and says whether it may proceed.
    /// A plan missing from the table (removed from config) is not limited here.
    pub fn check(&self, plan: &str, tenant_id: &str) -> RateVerdict {
        let Some(limiter) = self.by_plan.get(plan) else { return RateVerdict::Allowed };
        match limiter.check_key(&tenant_id.to_owned()) {
            Ok(()) => RateVerdict::Allowed,
            Err(not_until) => {
                RateVerdict::Limited { retry_after: not_until.wait_time_from(self.clock.now()) }
            }
        }
    }

    /// Forgets tenants whose buckets are full again, so memory follows active tenants only.
    pub fn retain_recent(&self) {
        for limiter in self.by_plan.values() {
            limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PlanLimits;

    fn plans(rpm: u32) -> Plans {
        let mut plans = Plans::default();
        plans.0.insert(
            "tiny".into(),
            PlanLimits { requests_per_minute: rpm, concurrent_jobs: 1, browser_sessions: 1, pages_per_month: 1 },
        );
        plans
    }

    #[test]
    fn burst_of_a_minute_then_limited_with_a_wait() {
        let limiter = RateLimiter::new(&plans(3));
        for _ in 0..3 {
            assert_eq!(limiter.check("tiny", "t1"), RateVerdict::Allowed);
        }
        match limiter.check("tiny", "t1") {
            RateVerdict::Limited { retry_after } => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(20))
            }
            RateVerdict::Allowed => panic!("fourth request within the minute must be limited"),
        }
    }

    #[test]
    fn tenants_do_not_share_a_bucket() {
        let limiter = RateLimiter::new(&plans(1));
        assert_eq!(limiter.check("tiny", "a"), RateVerdict::Allowed);
        assert_eq!(limiter.check("tiny", "b"), RateVerdict::Allowed);
        assert!(matches!(limiter.check("tiny", "a"), RateVerdict::Limited { .. }));
    }
}
