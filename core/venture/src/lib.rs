//! Tenants, their plans and their API keys: who may call the service, and how much.
//!
//! In flows a presented key (from a header or `?token=`) and a plan table from config; out
//! flow a verdict (which tenant, or why not) and the tenant's limits. Keys are 32 random
//! bytes shown once ([`ApiKey::generate`]); the store keeps only the visible prefix and a
//! SHA-256 hash, and [`ApiKey::verify`] compares hashes in constant time. [`RateLimiter`]
//! applies each plan's requests-per-minute to each tenant.
//!
//! ```
//! use ace_venture::ApiKey;
//! let key = ApiKey::generate();
//! assert!(key.secret.starts_with("ace_"));
//! assert!(ApiKey::verify(&key.secret, &key.hash));
//! assert!(!ApiKey::verify("ace_wrong", &key.hash));
//! assert_eq!(ApiKey::prefix_of(&key.secret), Some(key.prefix.as_str()));
//! ```

mod keys;
mod plans;
mod rate;

pub use keys::ApiKey;
pub use plans::{Plan, PlanLimits, Plans};
pub use rate::{RateLimiter, RateVerdict};

/// What went wrong with tenants, plans or keys.
#[derive(Debug, thiserror::Error)]
pub enum VentureError {
    /// A tenant asked for a plan the configuration does not define.
    #[error("unknown plan {name:?}; configured plans are: {known}")]
    UnknownPlan {
        /// The plan asked for.
        name: String,
        /// The plans that exist, comma separated.
        known: String,
    },
    /// A plan limit that cannot work (zero requests per minute, say).
    #[error("plan {plan:?}: {field} must be at least 1")]
    InvalidLimit {
        /// The plan.
        plan: String,
        /// The offending limit.
        field: &'static str,
    },
}
