//! Who is calling: the `Tenant`, `Admin` and `Caller` extractors.
//!
//! Handlers never read headers themselves: asking for a [`Tenant`] authenticates the key
//! (`Authorization: Bearer <key>`, or `?token=<key>` for WebSocket clients), checks it in
//! constant time against its stored hash, and applies the tenant's per-minute rate limit.

use ace_venture::{ApiKey, Plan, RateVerdict};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::header;

use crate::error::{ApiError, Code};
use crate::AppState;

/// An authenticated tenant within its rate limit.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its plan, with limits from the configuration in effect.
    pub plan: Plan,
    /// The key used for this request.
    pub key_id: String,
}

/// The operator, authenticated with the admin key.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

/// Either kind of caller, for routes both may use.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The operator.
    Admin,
    /// A tenant.
    Tenant(Tenant),
}

impl Caller {
    /// Whether this caller may act for tenant `tenant_id`.
    pub fn may_manage(&self, tenant_id: &str) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Tenant(t) => t.id == tenant_id,
        }
    }
}

fn presented_key(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let value = value.trim();
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or(value);
        return Some(token.trim().to_owned());
    }
    parts.uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned())
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let Some(secret) = presented_key(parts) else {
            return Err(ApiError::new(Code::Unauthorized, "missing API key: send Authorization: Bearer <key>"));
        };
        let invalid = || ApiError::new(Code::Unauthorized, "invalid or revoked API key");
        let prefix = ApiKey::prefix_of(&secret).ok_or_else(invalid)?;
        let candidates = state.store.keys_by_prefix(prefix).await?;
        let matched = candidates.into_iter().find(|m| ApiKey::verify(&secret, &m.key.hash)).ok_or_else(invalid)?;
        let Some(tenant) = matched.tenant else { return Ok(Caller::Admin) };
        let plan = state.config.plans.get(&tenant.plan).map_err(|e| ApiError::new(Code::Forbidden, e.to_string()))?;
        if let RateVerdict::Limited { retry_after } = state.limiter.check(&plan.name, &tenant.id) {
            let mut err = ApiError::new(
                Code::RateLimited,
                format!("rate limit of {} requests per minute exceeded", plan.limits.requests_per_minute),
            );
            err.retry_after = Some(retry_after);
            return Err(err);
        }
        Ok(Caller::Tenant(Tenant { id: tenant.id, name: tenant.name, plan, key_id: matched.key.id }))
    }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Tenant, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Tenant(t) => Ok(t),
            Caller::Admin => Err(ApiError::new(Code::Forbidden, "this endpoint needs a tenant's key, not the admin key")),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, ApiError> {
        match Caller::from_request_parts(parts, state).await? {
            Caller::Admin => Ok(Admin),
            Caller::Tenant(_) => Err(ApiError::new(Code::Forbidden, "this endpoint needs the admin key")),
        }
    }
}
