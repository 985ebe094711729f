//! Plans and their limits, as configured by the operator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::VentureError;

/// The limits one plan grants each of its tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    /// API requests per minute, across all of the tenant's keys (429 beyond it).
    pub requests_per_minute: u32,
    /// Jobs of the tenant that may run at once; the rest wait in the queue.
    pub concurrent_jobs: u32,
    /// Browser sessions (renders and CDP connections) the tenant may hold at once.
    pub browser_sessions: u32,
    /// Pages (fetched or rendered) per calendar month (402 beyond it).
    pub pages_per_month: u64,
}

impl PlanLimits {
    fn validate(&self, plan: &str) -> Result<(), VentureError> {
        let invalid = |field| Err(VentureError::InvalidLimit { plan: plan.to_owned(), field });
        if self.requests_per_minute == 0 {
            return invalid("requests_per_minute");
        }
        if self.concurrent_jobs == 0 {
            return invalid("concurrent_jobs");
        }
        if self.browser_sessions == 0 {
            return invalid("browser_sessions");
        }
        Ok(())
    }
}

/// A named plan with its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Its name, as tenants refer to it.
    pub name: String,
    /// What it grants.
    pub limits: PlanLimits,
}

/// The plan table: `free`, `pro` and `enterprise` unless the operator configures others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Plans(pub BTreeMap<String, PlanLimits>);

impl Default for Plans {
    fn default() -> Plans {
        let plan = |rpm, jobs, sessions, pages| PlanLimits {
            requests_per_minute: rpm,
            concurrent_jobs: jobs,
            browser_sessions: sessions,
            pages_per_month: pages,
        };
        Plans(BTreeMap::from([
            ("free".to_owned(), plan(60, 2, 1, 1_000)),
            ("pro".to_owned(), plan(600, 10, 5, 100_000)),
            ("enterprise".to_owned(), plan(6_000, 50, 20, 10_000_000)),
        ]))
    }
}

impl Plans {
    /// The plan called `name`.
    pub fn get(&self, name: &str) -> Result<Plan, VentureError> {
        match self.0.get(name) {
            Some(limits) => Ok(Plan { name: name.to_owned(), limits: *limits }),
            None => Err(VentureError::UnknownPlan {
                name: name.to_owned(),
                known: self.0.keys().cloned().collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// Checks every plan's limits.
    pub fn validate(&self) -> Result<(), VentureError> {
        self.0.iter().try_for_each(|(name, limits)| limits.validate(name))
    }

    /// Every plan.
    pub fn iter(&self) -> impl Iterator<Item = Plan> + '_ {
        self.0.iter().map(|(name, limits)| Plan { name: name.clone(), limits: *limits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ordered_by_generosity() {
        let plans = Plans::default();
        plans.validate().unwrap();
        let free = plans.get("free").unwrap().limits;
        let pro = plans.get("pro").unwrap().limits;
        assert!(free.requests_per_minute < pro.requests_per_minute);
        assert!(free.pages_per_month < pro.pages_per_month);
    }

    #[test]
    fn unknown_plan_names_the_known_ones() {
        let err = Plans::default().get("gold").unwrap_err().to_string();
        assert!(err.contains("gold") && err.contains("enterprise, free, pro"), "{err}");
    }

    #[test]
    fn zero_rate_is_rejected_with_its_field() {
        let mut plans = Plans::default();
        plans.0.get_mut("free").unwrap().requests_per_minute = 0;
        let err = plans.validate().unwrap_err().to_string();
        assert!(err.contains("free") && err.contains("requests_per_minute"), "{err}");
    }
}
