//! The query parameters each endpoint takes (its row in `ENDPOINTS`). Any other is a `422` naming it: a caller who sends
//! `offset` or `start_date` must learn that it was not applied, not get the wrong page.

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The parameters `method` on `route` (as registered, without `/api/v1`) takes, from the
/// endpoint table. A route not listed there takes none.
pub fn accepted(method: &Method, route: &str) -> &'static [&'static str] {
    super::ENDPOINTS.iter().find(|e| e.method == method.as_str() && e.path == route).map_or(&[], |e| e.query)
}

/// Refuses a request whose query names a parameter its endpoint does not take.
pub async fn only_known(request: Request, next: Next) -> Response {
    let (Some(route), Some(query)) = (request.extensions().get::<MatchedPath>(), request.uri().query()) else {
        return next.run(request).await;
    };
    let route = route.as_str().strip_prefix("/api/v1").unwrap_or(route.as_str());
    let known = accepted(request.method(), route);
    let unknown = form_urlencoded::parse(query.as_bytes())
        .map(|(name, _)| name)
        .find(|name| !name.is_empty() && !known.contains(&name.as_ref()));
    match unknown {
        None => next.run(request).await,
        Some(name) => {
            let takes = if known.is_empty() {
                "this endpoint takes no query parameters".to_string()
            } else {
                format!("this endpoint takes {}", known.join(", "))
            };
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_parameter",
                format!("{name}: is not a parameter of {} {route}; {takes}", request.method()),
            )
            .with_field(name)
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_looked_up_by_method_and_route() {
        assert!(accepted(&Method::GET, "/traces").contains(&"cursor"));
        assert!(accepted(&Method::POST, "/traces").is_empty());
        assert!(accepted(&Method::GET, "/traces/{trace_id}").is_empty());
    }
}
