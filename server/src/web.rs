//! The whole HTTP surface: the API, the dashboard (Leptos SSR + server functions), its static
//! files, and the middleware around them.

use aegis_core::store::Store;
use app::{shell, App};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
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
        .layer(middleware::from_fn_with_state(state.store.clone(), require_session))
        .layer(middleware::from_fn_with_state(state.store.clone(), guard_server_functions));

    Router::new()
        .nest("/api/v1", api::v1(&state))
        .route("/ws/traces", axum::routing::get(live::traces))
        .merge(api::health::routes())
        .merge(dashboard)
        .with_state(state.clone())
        // At most `max_concurrent_requests` at once on this node, each at most
        // `request_timeout_ms`.
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(overloaded))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(state.config.max_concurrent_requests))
                .timeout(std::time::Duration::from_millis(state.config.request_timeout_ms)),
        )
        .layer(middleware::from_fn_with_state(state.telemetry.clone(), track_requests))
        .layer(CatchPanicLayer::custom(|panic: Box<dyn std::any::Any + Send + 'static>| {
            tracing::error!(panic = %panic_message(panic.as_ref()), "a request panicked");
            api::error::ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; it has been logged",
            )
            .into_response()
        }))
}

/// The answer when this node is full or a request ran out of time: a 503 with `Retry-After`,
/// so that a burst or a stuck dependency degrades into retries instead of a queue that grows
/// until memory runs out.
async fn overloaded(e: tower::BoxError) -> api::error::ApiError {
    let message = if e.is::<tower::timeout::error::Elapsed>() {
        "the request took longer than this node allows; retry shortly"
    } else {
        "this node is serving as many requests as it can; retry shortly"
    };
    api::error::ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
}

/// What a panic said, for the log: `panic!("...")` carries a `&str` or a `String`.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Server functions (`/api/<name>`) run only for a caller the permission table allows: the
/// signed-in user's role must have what the function's row in `app::access` names. A function
/// without a row is refused to everyone. The user found here rides along in the request's
/// extensions, so the function does not look the session up again.
async fn guard_server_functions(State(store): State<Store>, mut request: Request, next: Next) -> Response {
    use aegis_core::access::Capability;
    use app::access::Access;

    let path = request.uri().path();
    if !path.starts_with("/api/") {
        return next.run(request).await;
    }
    let refuse = |status: StatusCode, message: String| {
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], app::session::error_body(&message))
            .into_response()
    };
    let capability: Option<Capability> = match app::access::server_function_access(path) {
        Some(Access::Public) => return next.run(request).await,
        Some(Access::SignedIn) => None,
        Some(Access::Needs(capability)) => Some(capability),
        None => {
            tracing::error!(path, "a server function without a row in the permission table was called");
            return refuse(StatusCode::FORBIDDEN, "This action is not available.".into());
        }
    };
    let token = app::session::token_from_headers(request.headers());
    let user = match token {
        Some(token) => store.session_user(token).await,
        None => Ok(None),
    };
    let user = match user {
        Ok(Some(user)) => user,
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "Your session has ended. Please sign in again.".into()),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            let status = StatusCode::SERVICE_UNAVAILABLE;
            return refuse(status, "Something went wrong on our side. Please try again.".into());
        }
    };
    if let Some(Err(refused)) = capability.map(|c| app::session::actor(&user).require(c)) {
        return refuse(StatusCode::FORBIDDEN, format!("{refused}. Ask an owner or admin of your organization."));
    }
    request.extensions_mut().insert(user);
    next.run(request).await
}

/// Pages other than the sign-in page need a session: without one, go sign in.
async fn require_session(State(store): State<Store>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let public = path == "/login"
        || path == "/reset"
        || path.starts_with("/reset/")
        || path.starts_with("/invite/")
        || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/favicon")
        || !(request.method() == Method::GET || request.method() == Method::HEAD);
    if public {
        return next.run(request).await;
    }
    let token = app::session::token_from_headers(request.headers());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_are_logged_with_their_message() {
        let text = std::panic::catch_unwind(|| panic!("index {} out of range", 7)).unwrap_err();
        assert_eq!(panic_message(text.as_ref()), "index 7 out of range");
        let literal = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(literal.as_ref()), "plain");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(42)).unwrap_err();
        assert_eq!(panic_message(other.as_ref()), "a panic without a message");
    }
}
