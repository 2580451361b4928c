//! The whole HTTP surface: the API, the dashboard (Leptos SSR + server functions), its static
//! files, and the middleware around them.

use aegis_core::store::Store;
use app::{shell, App};
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::catch_panic::CatchPanicLayer;

use crate::state::AppState;
use crate::telemetry::track_requests;
use crate::{api, live};

/// Leptos settings for a binary that may run outside cargo-leptos: the site (JS, WASM, CSS)
/// is read from `LEPTOS_SITE_ROOT`, by default `target/site` under the working directory.
pub fn leptos_options() -> aegis_core::Result<LeptosOptions> {
    // cargo-leptos bakes the site's name into the binary; a plain `cargo build` (tests) does not.
    if option_env!("LEPTOS_OUTPUT_NAME").is_none() && std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
        return Ok(LeptosOptions::builder().output_name("aegis").site_root(site_root).build());
    }
    let mut options = leptos::config::get_configuration(None)
        .map_err(|e| aegis_core::Error::Config(format!("LEPTOS_* settings: {e}")))?
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "aegis".into();
    }
    Ok(options)
}

/// Every route of `aegis serve`.
pub fn app(state: AppState) -> Router {
    let (store, phi, domains) = (state.store.clone(), state.phi.clone(), state.domains.clone());
    let config = state.config.clone();
    let context = move || {
        provide_context(store.clone());
        provide_context(phi.clone());
        provide_context(domains.clone());
        provide_context(config.clone());
    };
    let routes = generate_route_list(App);
    let dashboard = Router::new()
        .leptos_routes_with_context(&state, routes, context, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.store.clone(), require_session));

    Router::new()
        .nest("/api/v1", api::v1(&state))
        .route("/ws/traces", axum::routing::get(live::traces))
        .merge(api::health::routes())
        .merge(dashboard)
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(state.telemetry.clone(), track_requests))
        .layer(CatchPanicLayer::custom(|_| {
            api::error::ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; it has been logged",
            )
            .into_response()
        }))
}

/// Pages other than the sign-in page need a session: without one, go sign in.
async fn require_session(State(store): State<Store>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let public = path == "/login"
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/favicon")
        || !(request.method() == Method::GET || request.method() == Method::HEAD);
    if public {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(app::session::token_from_cookie_header);
    let signed_in = match token {
        Some(token) => matches!(store.session_user(token).await, Ok(Some(_))),
        None => false,
    };
    if signed_in {
        next.run(request).await
    } else {
        Redirect::to("/login").into_response()
    }
}
