use std::sync::Arc;

use aegis_core::config::Config;
use aegis_core::domains::Domains;
use aegis_core::ingest::Ingestor;
use aegis_core::limits::Limits;
use aegis_core::live::LiveFeed;
use aegis_core::phi::PhiService;
use aegis_core::store::Store;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::api::auth::ApiKeyCache;
use crate::telemetry::Telemetry;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub ingestor: Ingestor,
    pub phi: PhiService,
    pub domains: Domains,
    pub config: Arc<Config>,
    pub telemetry: Arc<Telemetry>,
    /// Finished evaluations, for `/ws/traces`.
    pub live: LiveFeed,
    pub limits: Limits,
    pub api_keys: ApiKeyCache,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
