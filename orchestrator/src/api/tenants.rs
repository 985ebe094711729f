//! Tenants and their keys. Creating tenants is the operator's; a tenant manages its own keys.

use ace_venture::{ApiKey, PlanLimits};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiJson, Code, ErrorBody};
use crate::model::{iso, now_ms};
use crate::store::{KeyRecord, TenantRecord};
use crate::AppState;

/// `POST /v1/tenants` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTenant {
    /// Display name.
    pub name: String,
    /// Plan name (default `free`).
    #[serde(default)]
    pub plan: Option<String>,
}

/// A new tenant with its first key, shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTenant {
    /// Always true.
    pub success: bool,
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Plan name.
    pub plan: String,
    /// The key. Store it now: it is never shown again.
    pub api_key: String,
    /// The key's id, for revocation.
    pub key_id: String,
    /// The key's visible prefix.
    pub key_prefix: String,
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantDoc {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Plan name.
    pub plan: String,
    /// The plan's limits as configured now.
    #[schema(value_type = Option<Object>)]
    pub limits: Option<PlanLimits>,
    /// RFC 3339.
    pub created_at: String,
}

/// Tenants.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    /// Oldest first.
    pub tenants: Vec<TenantDoc>,
}

/// A new key, shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// Always true.
    pub success: bool,
    /// Key id.
    pub id: String,
    /// Visible prefix.
    pub prefix: String,
    /// The key. Store it now: it is never shown again.
    pub api_key: String,
}

/// A key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyDoc {
    /// Key id.
    pub id: String,
    /// Visible prefix.
    pub prefix: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if revoked.
    pub revoked_at: Option<String>,
}

/// A tenant's keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// Oldest first.
    pub keys: Vec<KeyDoc>,
}

fn tenant_doc(state: &AppState, t: TenantRecord) -> TenantDoc {
    let limits = state.config.plans.get(&t.plan).ok().map(|p| p.limits);
    TenantDoc { id: t.id, name: t.name, plan: t.plan, limits, created_at: iso(t.created_at) }
}

fn new_key(tenant_id: Option<&str>) -> (ApiKey, KeyRecord) {
    let key = ApiKey::generate();
    let record = KeyRecord {
        id: format!("key_{}", uuid::Uuid::new_v4().simple()),
        tenant_id: tenant_id.map(str::to_owned),
        prefix: key.prefix.clone(),
        hash: key.hash.clone(),
        created_at: now_ms(),
        revoked_at: None,
    };
    (key, record)
}

/// Create a tenant (admin).
#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", request_body = CreateTenant,
    responses((status = 201, body = CreatedTenant), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(State(state): State<AppState>, _: Admin, ApiJson(req): ApiJson<CreateTenant>) -> Result<(StatusCode, ApiJson<CreatedTenant>), ApiError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::new(Code::InvalidRequest, "name must be 1 to 200 characters"));
    }
    let plan = state.config.plans.get(req.plan.as_deref().unwrap_or("free")).map_err(|e| ApiError::new(Code::InvalidRequest, e.to_string()))?;
    let tenant = TenantRecord { id: format!("tn_{}", uuid::Uuid::new_v4().simple()), name: name.to_owned(), plan: plan.name.clone(), created_at: now_ms() };
    let (key, record) = new_key(Some(&tenant.id));
    state.store.create_tenant(&tenant, plan.limits.concurrent_jobs, &record).await?;
    tracing::info!(tenant = %tenant.id, plan = %plan.name, "tenant created");
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedTenant { success: true, id: tenant.id, name: tenant.name, plan: plan.name, api_key: key.secret, key_id: record.id, key_prefix: record.prefix }),
    ))
}

/// List tenants (admin).
#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", responses((status = 200, body = TenantList), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, _: Admin) -> Result<ApiJson<TenantList>, ApiError> {
    let tenants = state.store.list_tenants().await?.into_iter().map(|t| tenant_doc(&state, t)).collect();
    Ok(ApiJson(TenantList { tenants }))
}

async fn managed_tenant(state: &AppState, caller: &Caller, id: &str) -> Result<TenantRecord, ApiError> {
    if !caller.may_manage(id) {
        return Err(ApiError::not_found("tenant"));
    }
    state.store.get_tenant(id).await?.ok_or_else(|| ApiError::not_found("tenant"))
}

/// Read a tenant (admin, or the tenant itself).
#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, body = TenantDoc), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<ApiJson<TenantDoc>, ApiError> {
    let tenant = managed_tenant(&state, &caller, &id).await?;
    Ok(ApiJson(tenant_doc(&state, tenant)))
}

/// Create another key for a tenant (admin, or the tenant itself).
#[utoipa::path(post, path = "/v1/tenants/{id}/keys", tag = "tenants", params(("id" = String, Path, description = "Tenant id")),
    responses((status = 201, body = CreatedKey), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn create_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<(StatusCode, ApiJson<CreatedKey>), ApiError> {
    let tenant = managed_tenant(&state, &caller, &id).await?;
    let (key, record) = new_key(Some(&tenant.id));
    state.store.insert_key(&record).await?;
    Ok((StatusCode::CREATED, ApiJson(CreatedKey { success: true, id: record.id, prefix: record.prefix, api_key: key.secret })))
}

/// List a tenant's keys by prefix (admin, or the tenant itself).
#[utoipa::path(get, path = "/v1/tenants/{id}/keys", tag = "tenants", params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, body = KeyList), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_keys(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<ApiJson<KeyList>, ApiError> {
    let tenant = managed_tenant(&state, &caller, &id).await?;
    let keys = state
        .store
        .list_keys(&tenant.id)
        .await?
        .into_iter()
        .map(|k| KeyDoc { id: k.id, prefix: k.prefix, created_at: iso(k.created_at), revoked_at: k.revoked_at.map(iso) })
        .collect();
    Ok(ApiJson(KeyList { keys }))
}

/// Revoke a key at once (admin, or the tenant that owns it).
#[utoipa::path(delete, path = "/v1/keys/{key_id}", tag = "tenants", params(("key_id" = String, Path, description = "Key id")),
    responses((status = 200, description = "Revoked"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_key(State(state): State<AppState>, caller: Caller, Path(key_id): Path<String>) -> Result<ApiJson<serde_json::Value>, ApiError> {
    let key = state.store.get_key(&key_id).await?.ok_or_else(|| ApiError::not_found("key"))?;
    let owner = key.tenant_id.as_deref().ok_or_else(|| ApiError::not_found("key"))?;
    if !caller.may_manage(owner) {
        return Err(ApiError::not_found("key"));
    }
    if !state.store.revoke_key(&key.id, now_ms()).await? {
        return Err(ApiError::not_found("active key"));
    }
    tracing::info!(key = %key.id, tenant = %owner, "key revoked");
    Ok(ApiJson(serde_json::json!({ "success": true, "id": key.id, "revoked": true })))
}
