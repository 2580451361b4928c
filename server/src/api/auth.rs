//! API-key authentication: `Authorization: Bearer <key>` → the key's organization.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aegis_core::access::{Actor, ActorId, Capability, Grantee};
use aegis_core::auth::digest;
use aegis_core::model::OrgId;
use aegis_core::store::{Principal, Store};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::state::AppState;

/// How long a verified key is trusted without asking the database again; a revoked key
/// stops working on other nodes within this time (at once on the node that revoked it).
const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX_ENTRIES: usize = 10_000;

/// Verified keys by digest, so the hot ingest path does not query the database per request.
#[derive(Clone, Default)]
pub struct ApiKeyCache {
    entries: Arc<RwLock<HashMap<String, (Principal, Instant)>>>,
}

impl ApiKeyCache {
    pub async fn authenticate(&self, store: &Store, key: &str) -> Result<Option<Principal>, aegis_core::Error> {
        let hash = digest(key);
        if let Ok(entries) = self.entries.read() {
            if let Some((principal, at)) = entries.get(&hash) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(Some(principal.clone()));
                }
            }
        }
        let principal = store.authenticate_api_key(key).await?;
        if let (Some(principal), Ok(mut entries)) = (&principal, self.entries.write()) {
            if entries.len() >= CACHE_MAX_ENTRIES {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(hash, (principal.clone(), Instant::now()));
        }
        Ok(principal)
    }

    /// Forgets every cached key, e.g. after a revocation on this node.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

/// The key in an `Authorization: Bearer <key>` header.
pub fn bearer(header: &HeaderValue) -> Result<&str, ApiError> {
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <api key>`"))
}

/// Who called, from the request's API key. Rejects with 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// How the caller appears in the audit log.
    pub fn actor(&self) -> String {
        self.as_actor().audit_name()
    }

    /// The caller as the permission table sees it.
    pub fn as_actor(&self) -> Actor {
        Actor { org_id: self.0.org_id.clone(), id: ActorId::Key(self.0.key_id), grantee: Grantee::Key(self.0.role) }
    }

    async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Caller, ApiError> {
        let header = headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing Authorization header; send `Authorization: Bearer <api key>`")
        })?;
        match state.api_keys.authenticate(&state.store, bearer(header)?).await? {
            Some(principal) => Ok(Caller(principal)),
            None => Err(ApiError::unauthorized("invalid or revoked API key")),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Endpoints in the table were authenticated and authorized by `authorize`.
        match parts.extensions.get::<Caller>() {
            Some(caller) => Ok(caller.clone()),
            None => Caller::authenticate(&parts.headers, state).await,
        }
    }
}

/// The organization of the request's API key. Rejects with 401.
pub struct Org(pub OrgId);

impl FromRequestParts<AppState> for Org {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Caller::from_request_parts(parts, state).await.map(|Caller(p)| Org(p.org_id))
    }
}

/// What one endpoint's `authorize` layer needs: the app (to look keys up) and the capability
/// the endpoint's row in `ENDPOINTS` names.
#[derive(Clone)]
pub struct Guard {
    state: AppState,
    capability: Capability,
}

impl Guard {
    pub fn new(state: &AppState, capability: Capability) -> Guard {
        Guard { state: state.clone(), capability }
    }
}

/// The door of every REST endpoint: 401 without a valid key, 403 when the key's scope lacks
/// the endpoint's capability; otherwise the caller rides along in the request's extensions.
pub async fn authorize(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let caller = match Caller::authenticate(request.headers(), &guard.state).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if let Err(refused) = caller.as_actor().require(guard.capability) {
        return ApiError::from(refused).into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}
