//! API-key authentication: `Authorization: Bearer <key>` → the key's organization.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aegis_core::auth::digest;
use aegis_core::model::OrgId;
use aegis_core::store::{ApiKeyRole, Principal, Store};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderValue;

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
pub struct Caller(pub Principal);

impl Caller {
    /// How the caller appears in the audit log.
    pub fn actor(&self) -> String {
        format!("api_key:{}", self.0.key_id)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing Authorization header; send `Authorization: Bearer <api key>`")
        })?;
        match state.api_keys.authenticate(&state.store, bearer(header)?).await? {
            Some(principal) => Ok(Caller(principal)),
            None => Err(ApiError::unauthorized("invalid or revoked API key")),
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

/// A caller with an admin key. Rejects other keys with 403.
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.0.role == ApiKeyRole::Admin {
            Ok(Admin(caller))
        } else {
            Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "this needs an admin API key; ingest keys can send traces and read results only",
            ))
        }
    }
}
