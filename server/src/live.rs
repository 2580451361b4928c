//! `GET /ws/traces`: the live feed of finished evaluations, over a websocket.
//!
//! A subscriber authenticates with an API key (`Authorization: Bearer`) or the dashboard's
//! session cookie, and receives its own organization's evaluations only, optionally filtered
//! by `domain` and `min_severity`. Each connection reads its own copy of the process's
//! broadcast, so a slow subscriber can never hold up the pipeline: one that falls too far
//! behind, or whose socket stops taking data, is closed with a reason.

use std::sync::Arc;
use std::time::Duration;

use aegis_core::access::{Actor, Capability};
use aegis_core::live::OrgEvent;
use aegis_core::model::{LiveEvent, OrgId, Severity};
use aegis_core::FieldError;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use crate::api::auth::bearer;
use crate::api::error::ApiError;
use crate::state::AppState;

/// A send that takes longer than this means the client stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Keeps idle connections open through proxies that close silent ones.
const PING_EVERY: Duration = Duration::from_secs(20);
/// Close code for a subscriber dropped for being too slow (RFC 6455: policy violation).
const CLOSE_TOO_SLOW: u16 = 1008;
const CLOSE_GOING_AWAY: u16 = 1001;

/// What a subscriber wants to see.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Subscription {
    pub domain: Option<String>,
    pub min_severity: Severity,
}

impl Subscription {
    pub fn parse(pairs: &[(String, String)]) -> Result<Subscription, FieldError> {
        let mut s = Subscription::default();
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "domain" if !value.is_empty() => s.domain = Some(value.to_string()),
                "min_severity" if !value.is_empty() => {
                    s.min_severity = Severity::parse(value).ok_or_else(|| {
                        FieldError::new("min_severity", "must be one of none, low, medium, high, critical")
                    })?;
                }
                _ => {}
            }
        }
        Ok(s)
    }

    fn wants(&self, org: &OrgId, e: &OrgEvent) -> bool {
        e.org_id == *org
            && e.event.severity >= self.min_severity
            && self.domain.as_ref().is_none_or(|d| e.event.domain.as_ref() == Some(d))
    }
}

/// Checks the caller and the filters before upgrading, so that a refusal is a plain HTTP
/// answer (401, 422) a client can read.
pub async fn traces(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let actor = subscriber(&state, &headers).await?;
    actor.require(Capability::ReadTraces)?;
    let org = actor.org_id;
    let Query(pairs) =
        query.map_err(|e| ApiError::new(axum::http::StatusCode::BAD_REQUEST, "malformed_query", e.body_text()))?;
    let subscription = Subscription::parse(&pairs)?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(e.status(), "websocket_required", "connect with a websocket client (Upgrade: websocket)")
    })?;
    // Subscribed before the upgrade completes, so nothing finished in between is missed.
    let events = state.live.subscribe();
    Ok(upgrade.on_upgrade(move |socket| forward(socket, events, org, subscription)))
}

/// Who subscribes: the API key or the dashboard session.
async fn subscriber(state: &AppState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        return match state.api_keys.authenticate(&state.store, bearer(value)?).await? {
            Some(principal) => Ok(crate::api::auth::Caller(principal).as_actor()),
            None => Err(ApiError::unauthorized("invalid or revoked API key")),
        };
    }
    let token = app::session::token_from_headers(headers);
    match token {
        Some(token) => match state.store.session_user(token).await? {
            Some(user) => Ok(app::session::actor(&user)),
            None => Err(ApiError::unauthorized("the session has ended; sign in again")),
        },
        None => {
            Err(ApiError::unauthorized("send `Authorization: Bearer <api key>`, or connect from a signed-in dashboard"))
        }
    }
}

async fn forward(mut socket: WebSocket, mut events: Receiver<Arc<OrgEvent>>, org: OrgId, wanted: Subscription) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) if wanted.wants(&org, &e) => {
                    if !send(&mut socket, &e.event).await {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    let reason = format!("too slow: {missed} events missed; reconnect to resume");
                    tracing::info!(%org, missed, "dropping a slow live-feed subscriber");
                    close(socket, CLOSE_TOO_SLOW, reason).await;
                    return;
                }
                Err(RecvError::Closed) => {
                    close(socket, CLOSE_GOING_AWAY, "the server is shutting down".into()).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                // Pings are answered by the websocket layer; nothing else is expected.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if !matches!(tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Default::default()))).await, Ok(Ok(()))) {
                    return;
                }
            }
        }
    }
}

/// Sends one event; false when the connection is gone or was closed for being too slow.
async fn send(socket: &mut WebSocket, event: &LiveEvent) -> bool {
    let Ok(json) = serde_json::to_string(event) else { return true };
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(json.into()))).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::info!("dropping a live-feed subscriber that stopped reading");
            false
        }
    }
}

async fn close(mut socket: WebSocket, code: u16, reason: String) {
    let frame = CloseFrame { code, reason: reason.into() };
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_name_the_bad_field() {
        let pairs =
            |items: &[(&str, &str)]| items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let s = Subscription::parse(&pairs(&[("domain", "healthcare"), ("min_severity", "high")])).unwrap();
        assert_eq!(s, Subscription { domain: Some("healthcare".into()), min_severity: Severity::High });
        assert_eq!(Subscription::parse(&pairs(&[("min_severity", "dire")])).unwrap_err().field, "min_severity");
    }
}
