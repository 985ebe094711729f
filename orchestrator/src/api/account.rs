//! What a tenant consumed (core/finance) and which agents worked for it (core/agents).

use ace_agents::Agent;
use ace_finance::{BillingPeriod, UsageSummary};
use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, Tenant};
use crate::error::{ApiError, ApiJson, Code, ErrorBody};
use crate::AppState;

/// `GET /v1/usage` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UsageQuery {
    /// Start, RFC 3339 or YYYY-MM-DD (default: start of this month).
    pub from: Option<String>,
    /// End, exclusive (default: start of next month).
    pub to: Option<String>,
}

/// Metered usage over a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDoc {
    /// Tenant id.
    pub tenant_id: String,
    /// Window start.
    pub from: String,
    /// Window end.
    pub to: String,
    /// Sums per metric.
    #[schema(value_type = Object)]
    pub usage: UsageSummary,
    /// Pages counted against this month's quota.
    pub pages_this_month: i64,
    /// The plan's monthly page quota.
    pub pages_per_month: u64,
}

fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.to_utc());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| ApiError::new(Code::InvalidRequest, format!("{field} must be RFC 3339 or YYYY-MM-DD")))
}

/// The calling tenant's usage.
#[utoipa::path(get, path = "/v1/usage", tag = "account", params(UsageQuery),
    responses((status = 200, body = UsageDoc), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn usage(State(state): State<AppState>, tenant: Tenant, Query(q): Query<UsageQuery>) -> Result<ApiJson<UsageDoc>, ApiError> {
    let month = BillingPeriod::containing(Utc::now());
    let from = q.from.as_deref().map(|s| parse_time("from", s)).transpose()?.unwrap_or(month.start);
    let to = q.to.as_deref().map(|s| parse_time("to", s)).transpose()?.unwrap_or(month.end);
    if to <= from {
        return Err(ApiError::new(Code::InvalidRequest, "to must be after from"));
    }
    let usage = state.store.usage(&tenant.id, from.timestamp_millis(), to.timestamp_millis()).await?;
    let pages_this_month = state.store.pages_in_period(&tenant.id, month.start.timestamp_millis()).await?;
    Ok(ApiJson(UsageDoc {
        tenant_id: tenant.id,
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        usage,
        pages_this_month,
        pages_per_month: tenant.plan.limits.pages_per_month,
    }))
}

/// An agent with its task counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentDoc {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub role: String,
    /// Tasks running now.
    pub running: i64,
    /// Tasks that succeeded.
    pub succeeded: i64,
    /// Tasks that failed or were abandoned.
    pub failed: i64,
}

/// The registry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentList {
    /// Every agent.
    pub agents: Vec<AgentDoc>,
}

/// The agents, with task counts (a tenant sees its own tasks; the admin sees all).
#[utoipa::path(get, path = "/v1/agents", tag = "account", responses((status = 200, body = AgentList)), security(("bearer" = [])))]
pub async fn agents(State(state): State<AppState>, caller: Caller) -> Result<ApiJson<AgentList>, ApiError> {
    let scope = match &caller {
        Caller::Admin => None,
        Caller::Tenant(t) => Some(t.id.as_str()),
    };
    let stats = state.store.agent_stats(scope).await?;
    let agents = Agent::ALL
        .iter()
        .map(|a| {
            let s = stats.iter().find(|s| s.agent == a.id()).cloned().unwrap_or_default();
            AgentDoc { id: a.id().into(), name: a.name().into(), role: a.role().into(), running: s.running, succeeded: s.succeeded, failed: s.failed }
        })
        .collect();
    Ok(ApiJson(AgentList { agents }))
}

/// `GET /v1/agents/tasks` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TasksQuery {
    /// Job id.
    pub job: String,
}

/// A job's agent tasks, one per attempt.
#[utoipa::path(get, path = "/v1/agents/tasks", tag = "account", params(TasksQuery),
    responses((status = 200, description = "{\"tasks\": [...]}"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn tasks(State(state): State<AppState>, caller: Caller, Query(q): Query<TasksQuery>) -> Result<ApiJson<serde_json::Value>, ApiError> {
    let scope = match &caller {
        Caller::Admin => None,
        Caller::Tenant(t) => Some(t.id.as_str()),
    };
    state.store.get_job(scope, &q.job).await?.ok_or_else(|| ApiError::not_found("job"))?;
    let tasks = state.store.agent_tasks(&q.job).await?;
    Ok(ApiJson(serde_json::json!({ "tasks": tasks })))
}
