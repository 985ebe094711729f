//! The `/chromium` CDP WebSocket proxy: a client gets its own incognito context on a pooled
//! browser and sees only its own targets.
//!
//! The client's connection is relayed to the browser's DevTools endpoint over a connection of
//! its own (so CDP sessions it attaches are its alone). Browser-level traffic is filtered:
//! - Contexts the client may use: the leased one (its *default* context: `createTarget` and
//!   storage/permission/download calls without a context id are pointed at it) and the ones
//!   it creates. `getBrowserContexts` and `getTargets` answers list only those; target events
//!   of other contexts are dropped.
//! - A command naming another context or another's target (attach, activate, close, ...) is
//!   answered with an error. Target ids are checked with a `Target.getTargetInfo` of the
//!   proxy's own, with ids from `PROXY_IDS` up, before the command goes on.
//! - Auto-attach reaching a foreign target is undone at once (resumed if paused, detached),
//!   so another client's page never waits on this one.
//! - `Browser.close` ends the session instead of the browser.
//!
//! The session ends when either side closes, when it has lasted `session_max_ms`, or after
//! `session_idle_ms` without a message; the client then gets a close frame. Its contexts are
//! disposed and its lease returned.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use async_tungstenite::tungstenite::Message as UpMessage;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};

use crate::{Lease, Pool, PoolConfig};

/// Ids at or above this are the proxy's own requests to the browser. Chromium wants ids that
/// fit an `i32`; clients count up from 1, so the top of that range is free.
const PROXY_IDS: u64 = 2_000_000_000;
/// Largest CDP message relayed (full-page screenshots are large base64 strings).
const MAX_MESSAGE: usize = 256 << 20;

/// Upgrades to a CDP session for `tenant`, limited to `limit` concurrent sessions.
pub fn upgrade(pool: Pool, tenant: String, limit: u32, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_MESSAGE).max_frame_size(MAX_MESSAGE).on_upgrade(move |socket| session(pool, tenant, limit, socket))
}

async fn close(mut client: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame { code, reason: reason.into() };
    let _ = client.send(Message::Close(Some(frame))).await;
}

async fn session(pool: Pool, tenant: String, limit: u32, client: WebSocket) {
    let metrics = pool.metrics().clone();
    let Some(_slot) = pool.open_session(&tenant, limit) else {
        metrics.sessions.with_label_values(&["limited"]).inc();
        return close(client, 1008, &format!("browser session limit reached ({limit} at once on this plan)")).await;
    };
    let lease = match pool.acquire().await {
        Ok(l) => l,
        Err(e) => {
            metrics.sessions.with_label_values(&[e.code()]).inc();
            return close(client, 1013, &e.to_string()).await;
        }
    };
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
    let upstream = match async_tungstenite::tokio::connect_async_with_config(lease.browser_ws_url(), Some(config)).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            tracing::warn!(error = %e, "could not connect to the pooled browser");
            metrics.sessions.with_label_values(&["browser_unreachable"]).inc();
            return close(client, 1011, "the browser could not be reached").await;
        }
    };
    tracing::info!(tenant, context = %lease.context_id().inner(), "CDP session opened");
    let mut relay = Relay::new(&lease);
    let outcome = relay.run(client, upstream, pool.config(), &lease).await;
    tracing::info!(tenant, outcome, "CDP session closed");
    metrics.sessions.with_label_values(&[outcome]).inc();
    // Contexts the client created die with its connection; make sure, then return the lease.
    for ctx in relay.created.drain() {
        let _ = tokio::time::timeout(Duration::from_secs(2), lease.browser().dispose_browser_context(ctx)).await;
    }
    drop(lease);
}

/// What to do with the browser's answer to a client's request.
enum Pending {
    /// Record the new context as the client's.
    CreateContext,
    /// List only the client's contexts.
    GetContexts,
    /// List only the client's targets.
    GetTargets,
}

/// What the proxy's own request was for.
enum Own {
    /// A target check for a held client command.
    Check(Value),
    /// Fire and forget (resume, detach).
    Ignore,
}

struct Relay {
    /// The leased context: the client's default.
    default_context: String,
    /// Contexts the client created.
    created: HashSet<String>,
    /// Targets known to be the client's.
    targets: HashSet<String>,
    /// Sessions auto-attached to foreign targets: their traffic is dropped.
    foreign_sessions: HashSet<String>,
    pending: HashMap<u64, Pending>,
    own: HashMap<u64, Own>,
    next_own: u64,
}

type Upstream = async_tungstenite::WebSocketStream<async_tungstenite::tokio::ConnectStream>;

impl Relay {
    fn new(lease: &Lease) -> Relay {
        Relay {
            default_context: lease.context_id().inner().clone(),
            created: HashSet::new(),
            targets: HashSet::new(),
            foreign_sessions: HashSet::new(),
            pending: HashMap::new(),
            own: HashMap::new(),
            next_own: PROXY_IDS,
        }
    }

    fn owns_context(&self, id: &str) -> bool {
        id == self.default_context || self.created.contains(id)
    }

    fn own_request(&mut self, method: &str, params: Value, session: Option<&str>, purpose: Own) -> String {
        let id = self.next_own;
        self.next_own = if id >= i32::MAX as u64 { PROXY_IDS } else { id + 1 };
        self.own.insert(id, purpose);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = Value::String(s.to_owned());
        }
        msg.to_string()
    }

    /// Relays until one side goes or a limit is hit; returns how it ended.
    async fn run(&mut self, client: WebSocket, upstream: Upstream, cfg: &PoolConfig, lease: &Lease) -> &'static str {
        let (mut c_tx, mut c_rx) = client.split();
        let (mut u_tx, mut u_rx) = upstream.split();
        let ends = tokio::time::Instant::now() + PoolConfig::ms(cfg.session_max_ms);
        let idle = PoolConfig::ms(cfg.session_idle_ms);
        let mut last = Instant::now();
        let dead = lease.browser_dead().clone();
        let (code, reason, outcome) = loop {
            let idle_left = idle.saturating_sub(last.elapsed());
            tokio::select! {
                _ = tokio::time::sleep_until(ends) => break (1008, "maximum session duration reached", "max_duration"),
                _ = tokio::time::sleep(idle_left) => break (1008, "session idle timeout", "idle"),
                _ = dead.cancelled() => break (1011, "the browser crashed", "browser_crashed"),
                m = c_rx.next() => {
                    last = Instant::now();
                    let text = match m {
                        Some(Ok(Message::Text(t))) => t.to_string(),
                        Some(Ok(Message::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break (1000, "", "client_closed"),
                    };
                    let (to_browser, to_client, end) = self.on_client_message(&text);
                    for m in to_browser {
                        if u_tx.send(UpMessage::text(m)).await.is_err() {
                            break;
                        }
                    }
                    for m in to_client {
                        let _ = c_tx.send(Message::text(m)).await;
                    }
                    if end {
                        break (1000, "browser closed", "client_closed");
                    }
                }
                m = u_rx.next() => {
                    last = Instant::now();
                    let text = match m {
                        Some(Ok(UpMessage::Text(t))) => t.to_string(),
                        Some(Ok(UpMessage::Binary(b))) => String::from_utf8_lossy(&b).into_owned(),
                        Some(Ok(UpMessage::Close(_))) | None | Some(Err(_)) => break (1011, "the browser connection closed", "browser_closed"),
                        Some(Ok(_)) => continue,
                    };
                    let (to_browser, to_client) = self.on_browser_message(&text);
                    for m in to_browser {
                        let _ = u_tx.send(UpMessage::text(m)).await;
                    }
                    for m in to_client {
                        if c_tx.send(Message::text(m)).await.is_err() {
                            break;
                        }
                    }
                }
            }
        };
        if code != 1000 || !reason.is_empty() {
            let _ = c_tx.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
        }
        let _ = c_tx.close().await;
        let _ = u_tx.close(None).await;
        outcome
    }

    fn error_reply(id: &Value, message: &str) -> String {
        json!({ "id": id, "error": { "code": -32000, "message": message } }).to_string()
    }

    /// Returns messages for the browser, for the client, and whether to end the session.
    fn on_client_message(&mut self, text: &str) -> (Vec<String>, Vec<String>, bool) {
        let Ok(mut msg) = serde_json::from_str::<Value>(text) else { return (vec![text.to_owned()], vec![], false) };
        tracing::trace!(default = %self.default_context, "client> {}", &text[..text.len().min(400)]);
        // Commands inside an attached session belong to this connection's own sessions.
        if msg.get("sessionId").is_some() {
            return (vec![text.to_owned()], vec![], false);
        }
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("").to_owned();
        let params = msg.get("params").cloned().unwrap_or(json!({}));
        let ctx_param = params.get("browserContextId").and_then(Value::as_str).map(str::to_owned);
        match method.as_str() {
            "Browser.close" => return (vec![], vec![json!({ "id": id, "result": {} }).to_string()], true),
            "Browser.crash" | "Browser.crashGpuProcess" | "Target.exposeDevToolsProtocol" | "SystemInfo.getProcessInfo" => {
                return (vec![], vec![Self::error_reply(&id, &format!("{method} is not allowed on a shared browser"))], false);
            }
            "Target.createBrowserContext" => {
                if let Some(n) = id.as_u64() {
                    self.pending.insert(n, Pending::CreateContext);
                }
            }
            "Target.getBrowserContexts" => {
                if let Some(n) = id.as_u64() {
                    self.pending.insert(n, Pending::GetContexts);
                }
            }
            "Target.getTargets" => {
                if let Some(n) = id.as_u64() {
                    self.pending.insert(n, Pending::GetTargets);
                }
            }
            "Target.disposeBrowserContext" => match ctx_param {
                Some(c) if c == self.default_context => {
                    // The leased context is disposed when the session ends.
                    return (vec![], vec![json!({ "id": id, "result": {} }).to_string()], false);
                }
                Some(c) if self.created.contains(&c) => {
                    self.created.remove(&c);
                }
                _ => return (vec![], vec![Self::error_reply(&id, "Failed to find context with id")], false),
            },
            "Target.createTarget"
            | "Browser.setDownloadBehavior"
            | "Browser.grantPermissions"
            | "Browser.resetPermissions"
            | "Storage.getCookies"
            | "Storage.setCookies"
            | "Storage.clearCookies"
            | "Browser.setPermission" => match ctx_param {
                None => msg["params"]["browserContextId"] = Value::String(self.default_context.clone()),
                Some(c) if self.owns_context(&c) => {}
                Some(_) => return (vec![], vec![Self::error_reply(&id, "Failed to find browser context with id")], false),
            },
            _ => {}
        }
        if let Some(target) = params.get("targetId").and_then(Value::as_str) {
            if !self.targets.contains(target) {
                // Hold the command until the browser says whose target this is.
                let check = self.own_request("Target.getTargetInfo", json!({ "targetId": target }), None, Own::Check(msg));
                return (vec![check], vec![], false);
            }
        }
        (vec![msg.to_string()], vec![], false)
    }

    fn target_is_ours(&mut self, info: &Value) -> bool {
        // The browser target itself has no context; clients expect to see it.
        if info.get("type").and_then(Value::as_str) == Some("browser") {
            return true;
        }
        let ctx = info.get("browserContextId").and_then(Value::as_str).unwrap_or("");
        let ours = self.owns_context(ctx);
        if ours {
            if let Some(t) = info.get("targetId").and_then(Value::as_str) {
                self.targets.insert(t.to_owned());
            }
        }
        ours
    }

    /// Returns messages for the browser and for the client.
    fn on_browser_message(&mut self, text: &str) -> (Vec<String>, Vec<String>) {
        let Ok(mut msg) = serde_json::from_str::<Value>(text) else { return (vec![], vec![text.to_owned()]) };
        tracing::trace!(default = %self.default_context, "browser> {}", &text[..text.len().min(400)]);
        if let Some(session) = msg.get("sessionId").and_then(Value::as_str) {
            if self.foreign_sessions.contains(session) {
                return (vec![], vec![]);
            }
            // Nested auto-attach inside one of the client's pages: still the client's.
            return (vec![], vec![text.to_owned()]);
        }
        if let Some(id) = msg.get("id").and_then(Value::as_u64) {
            if id >= PROXY_IDS {
                return match self.own.remove(&id) {
                    Some(Own::Check(held)) => {
                        let ours = msg.pointer("/result/targetInfo").map(|i| self.target_is_ours(i)).unwrap_or(false);
                        if ours {
                            (vec![held.to_string()], vec![])
                        } else {
                            let cid = held.get("id").cloned().unwrap_or(Value::Null);
                            (vec![], vec![Self::error_reply(&cid, "No target with given id found")])
                        }
                    }
                    _ => (vec![], vec![]),
                };
            }
            match self.pending.remove(&id) {
                Some(Pending::CreateContext) => {
                    if let Some(c) = msg.pointer("/result/browserContextId").and_then(Value::as_str) {
                        self.created.insert(c.to_owned());
                    }
                }
                Some(Pending::GetContexts) => {
                    if let Some(list) = msg.pointer_mut("/result/browserContextIds").and_then(Value::as_array_mut) {
                        let created = &self.created;
                        list.retain(|c| c.as_str().is_some_and(|c| created.contains(c)));
                    }
                    return (vec![], vec![msg.to_string()]);
                }
                Some(Pending::GetTargets) => {
                    if let Some(list) = msg.pointer_mut("/result/targetInfos").and_then(Value::as_array_mut) {
                        let infos = std::mem::take(list);
                        let kept: Vec<Value> = infos.into_iter().filter(|i| self.target_is_ours(i)).collect();
                        *list = kept;
                    }
                    return (vec![], vec![msg.to_string()]);
                }
                None => {}
            }
            return (vec![], vec![text.to_owned()]);
        }
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("").to_owned();
        match method.as_str() {
            "Target.targetCreated" | "Target.targetInfoChanged" => {
                let ours = msg.pointer("/params/targetInfo").cloned().map(|i| self.target_is_ours(&i)).unwrap_or(false);
                if !ours {
                    return (vec![], vec![]);
                }
            }
            "Target.attachedToTarget" => {
                let info = msg.pointer("/params/targetInfo").cloned().unwrap_or(Value::Null);
                if !self.target_is_ours(&info) {
                    let session = msg.pointer("/params/sessionId").and_then(Value::as_str).unwrap_or("").to_owned();
                    self.foreign_sessions.insert(session.clone());
                    let mut undo = Vec::new();
                    if msg.pointer("/params/waitingForDebugger").and_then(Value::as_bool).unwrap_or(false) {
                        undo.push(self.own_request("Runtime.runIfWaitingForDebugger", json!({}), Some(&session), Own::Ignore));
                    }
                    undo.push(self.own_request("Target.detachFromTarget", json!({ "sessionId": session }), None, Own::Ignore));
                    return (undo, vec![]);
                }
            }
            "Target.detachedFromTarget" => {
                let session = msg.pointer("/params/sessionId").and_then(Value::as_str).unwrap_or("");
                if self.foreign_sessions.remove(session) {
                    return (vec![], vec![]);
                }
            }
            "Target.targetDestroyed" | "Target.targetCrashed" => {
                let target = msg.pointer("/params/targetId").and_then(Value::as_str).unwrap_or("");
                if !self.targets.remove(target) {
                    return (vec![], vec![]);
                }
                if method == "Target.targetCrashed" {
                    self.targets.insert(target.to_owned());
                }
            }
            _ => {}
        }
        (vec![], vec![text.to_owned()])
    }
}
