//! API-key authentication: `Authorization: Bearer <key>` → the key's organization.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aegis_core::auth::digest;
use aegis_core::model::OrgId;
use aegis_core::store::Store;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::state::AppState;

/// How long a verified key is trusted without asking the database again; a revoked key
/// stops working on other nodes within this time (at once on the node that revoked it).
const CACHE_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX_ENTRIES: usize = 10_000;

/// Verified keys by digest, so the hot ingest path does not query the database per request.
#[derive(Clone, Default)]
pub struct ApiKeyCache {
    entries: Arc<RwLock<HashMap<String, (OrgId, Instant)>>>,
}

impl ApiKeyCache {
    pub async fn authenticate(&self, store: &Store, key: &str) -> Result<Option<OrgId>, aegis_core::Error> {
        let hash = digest(key);
        if let Ok(entries) = self.entries.read() {
            if let Some((org, at)) = entries.get(&hash) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(Some(org.clone()));
                }
            }
        }
        let org = store.authenticate_api_key(key).await?;
        if let (Some(org), Ok(mut entries)) = (&org, self.entries.write()) {
            if entries.len() >= CACHE_MAX_ENTRIES {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(hash, (org.clone(), Instant::now()));
        }
        Ok(org)
    }

    /// Forgets every cached key, e.g. after a revocation on this node.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

/// The organization of the request's API key. Rejects with 401.
pub struct Org(pub OrgId);

impl FromRequestParts<AppState> for Org {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing Authorization header; send `Authorization: Bearer <api key>`")
        })?;
        let key = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <api key>`"))?;
        match state.api_keys.authenticate(&state.store, key).await? {
            Some(org) => Ok(Org(org)),
            None => Err(ApiError::unauthorized("invalid or revoked API key")),
        }
    }
}
