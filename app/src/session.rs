//! Dashboard sessions: an opaque token in an HttpOnly cookie, looked up in the store.

use std::time::Duration;

use aegis_core::store::{SessionUser, Store};
use http::header::{COOKIE, SET_COOKIE};
use http::HeaderValue;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

pub const COOKIE_NAME: &str = "aegis_session";
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The store, provided as context by the server.
pub fn store() -> Result<Store, ServerFnError> {
    use_context::<Store>().ok_or_else(|| ServerFnError::new("the store is not available"))
}

/// The loaded domain packs, provided as context by the server.
pub fn domains() -> Result<aegis_core::domains::Domains, ServerFnError> {
    use_context::<aegis_core::domains::Domains>()
        .ok_or_else(|| ServerFnError::new("the domain packs are not available"))
}

/// The de-identification service, provided as context by the server.
pub fn phi() -> Result<aegis_core::phi::PhiService, ServerFnError> {
    use_context::<aegis_core::phi::PhiService>().ok_or_else(|| ServerFnError::new("de-identification is not available"))
}

/// The installation's configuration, provided as context by the server.
pub fn config() -> Result<std::sync::Arc<aegis_core::config::Config>, ServerFnError> {
    use_context::<std::sync::Arc<aegis_core::config::Config>>()
        .ok_or_else(|| ServerFnError::new("the configuration is not available"))
}

/// `url: is not a URL` and the like, for a form.
pub fn invalid(e: aegis_core::FieldError) -> ServerFnError {
    ServerFnError::new(format!("{}: {}", e.field, e.message))
}

/// Logs the cause and shows the user something they can act on.
pub fn internal(e: aegis_core::Error) -> ServerFnError {
    tracing::error!(error = %e, "dashboard request failed");
    ServerFnError::new("Something went wrong on our side. Please try again.")
}

/// The session token in a `Cookie` header value, if any.
pub fn token_from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

async fn request_token() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let header = parts.headers.get(COOKIE)?.to_str().ok()?;
    token_from_cookie_header(header).map(str::to_string)
}

pub async fn user() -> Result<Option<SessionUser>, ServerFnError> {
    let Some(token) = request_token().await else { return Ok(None) };
    store()?.session_user(&token).await.map_err(internal)
}

/// The signed-in user and the store, or an error the page turns into a sign-in prompt.
pub async fn require_user() -> Result<(SessionUser, Store), ServerFnError> {
    let user = user().await?.ok_or_else(|| ServerFnError::new("Your session has ended. Please sign in again."))?;
    Ok((user, store()?))
}

pub async fn login(email: &str, password: &str) -> Result<(), ServerFnError> {
    let store = store()?;
    let user = store
        .authenticate_user(email, password)
        .await
        .map_err(internal)?
        .ok_or_else(|| ServerFnError::new("Wrong email or password."))?;
    let token = store.create_session(user.id, SESSION_TTL).await.map_err(internal)?;
    set_cookie(&format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}", SESSION_TTL.as_secs()));
    Ok(())
}

pub async fn logout() -> Result<(), ServerFnError> {
    if let Some(token) = request_token().await {
        store()?.delete_session(&token).await.map_err(internal)?;
    }
    set_cookie(&format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    Ok(())
}

fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(value)) {
        response.append_header(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_among_other_cookies() {
        assert_eq!(token_from_cookie_header("a=1; aegis_session=tok; b=2"), Some("tok"));
        assert_eq!(token_from_cookie_header("aegis_session="), None);
        assert_eq!(token_from_cookie_header("other=1"), None);
    }
}
