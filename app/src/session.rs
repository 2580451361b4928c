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

/// The session token in a request's `Cookie` header, if any.
pub fn token_from_headers(headers: &http::HeaderMap) -> Option<&str> {
    headers.get(COOKIE)?.to_str().ok().and_then(token_from_cookie_header)
}

async fn request_token() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    token_from_headers(&parts.headers).map(str::to_string)
}

/// The signed-in user: the one the server's guard already looked up for this request, else
/// from the session cookie.
pub async fn user() -> Result<Option<SessionUser>, ServerFnError> {
    if let Some(user) = use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<SessionUser>().cloned()) {
        return Ok(Some(user));
    }
    let Some(token) = request_token().await else { return Ok(None) };
    store()?.session_user(&token).await.map_err(internal)
}

/// The signed-in user and the store, or an error the page turns into a sign-in prompt.
pub async fn require_user() -> Result<(SessionUser, Store), ServerFnError> {
    let user = user().await?.ok_or_else(|| ServerFnError::new("Your session has ended. Please sign in again."))?;
    Ok((user, store()?))
}

/// A server function's error response body, for answers given before the function runs.
pub fn error_body(message: &str) -> Vec<u8> {
    use leptos::server_fn::error::FromServerFnError as _;
    ServerFnError::new(message).ser().to_vec()
}

/// The signed-in user's account record.
pub async fn account(store: &Store, user: &SessionUser) -> Result<aegis_core::store::User, ServerFnError> {
    store
        .get_user(&user.org_id, user.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ServerFnError::new("Your session has ended. Please sign in again."))
}

/// The signed-in user as the permission table sees them.
pub fn actor(user: &SessionUser) -> aegis_core::access::Actor {
    use aegis_core::access::{Actor, ActorId, Grantee};
    Actor { org_id: user.org_id.clone(), id: ActorId::User(user.user_id), grantee: Grantee::User(user.role) }
}

/// A refusal by the permission table, as the page shows it.
pub fn refused(e: aegis_core::access::Forbidden) -> ServerFnError {
    ServerFnError::new(format!("{e}. Ask an owner or admin of your organization."))
}

pub async fn login(email: &str, password: &str, code: Option<&str>) -> Result<(), ServerFnError> {
    use aegis_core::store::SignIn;
    let store = store()?;
    let client = client_address(config()?.client_address_header.as_deref());
    let user = match store.sign_in(email, password, &client).await.map_err(internal)? {
        SignIn::Signed(user) => user,
        SignIn::Refused => return Err(ServerFnError::new("Wrong email or password.")),
        SignIn::Throttled { retry_after } => {
            if let Some(response) = use_context::<ResponseOptions>() {
                response.set_status(http::StatusCode::TOO_MANY_REQUESTS);
                if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                    response.insert_header(http::header::RETRY_AFTER, value);
                }
            }
            let minutes = retry_after.as_secs().div_ceil(60);
            return Err(ServerFnError::new(format!(
                "Too many failed sign-ins for this email. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )));
        }
    };
    let now = chrono::Utc::now().timestamp();
    let phi = phi()?;
    if !aegis_core::service::users::second_factor(&store, &phi, &user, code, now).await.map_err(internal)? {
        if code.is_some_and(|c| !c.trim().is_empty()) {
            store.record_sign_in_failure(&user, &client).await.map_err(internal)?;
            return Err(ServerFnError::new(format!(
                "{} Check the code in your authenticator app.",
                crate::api::WRONG_CODE
            )));
        }
        return Err(ServerFnError::new(format!(
            "{} Enter the 6-digit code from your authenticator app.",
            crate::api::ASK_FOR_CODE
        )));
    }
    start_session(&store, user.id).await
}

/// The address this request came from: the last address of `header` when behind a proxy
/// that sets it, else the connection's peer.
fn client_address(header: Option<&str>) -> String {
    let Some(parts) = use_context::<http::request::Parts>() else { return "unknown".into() };
    let forwarded = header
        .and_then(|name| parts.headers.get(name))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    forwarded
        .or_else(|| {
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Starts a session for `user` in this browser: the cookie, and the browser remembered.
pub async fn start_session(store: &Store, user: uuid::Uuid) -> Result<(), ServerFnError> {
    let user_agent = use_context::<http::request::Parts>()
        .and_then(|p| p.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string))
        .unwrap_or_default();
    let token = store.create_session_from(user, SESSION_TTL, &user_agent).await.map_err(internal)?;
    set_cookie(&format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}", SESSION_TTL.as_secs()));
    Ok(())
}

/// An error the user can act on shown as it is; anything else logged and shown as ours.
pub fn user_error(e: aegis_core::Error) -> ServerFnError {
    use aegis_core::Error;
    match e {
        Error::Invalid(e) => invalid(e),
        Error::Forbidden(refused) => self::refused(refused),
        Error::Conflict(message)
        | Error::Unavailable(message)
        | Error::NotFound(message)
        | Error::TurnedOff(message) => ServerFnError::new(message),
        e @ Error::Pack { .. } => ServerFnError::new(e.to_string()),
        e => internal(e),
    }
}

/// The session token of this request, for telling the current session apart.
pub async fn current_token() -> Option<String> {
    request_token().await
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
