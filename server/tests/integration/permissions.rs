//! The permission table, generated into requests: every REST endpoint is called with every key
//! scope and every server function as every role, and each answer is what the table says:
//! refused with 403, or let through the door (whatever the handler then makes of an empty body).
//! A server function registered without a row in `app::access` fails here.

use aegis_core::access::{allows, ApiKeyRole, Grantee, Role};
use aegis_core::store::Backend;
use aegis_server::api::ENDPOINTS;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use uuid::Uuid;

use crate::common::{Reply, TestApp};

/// A concrete path for a route: ids that exist nowhere, the shipped healthcare pack.
fn concrete(route: &str) -> String {
    let nil = Uuid::nil().to_string();
    route
        .replace("{trace_id}", &nil)
        .replace("{delivery_id}", &nil)
        .replace("{id}", &nil)
        .replace("{domain}", "healthcare")
        .replace("{module}", "medication_overdose")
}

fn through_the_door(reply: &Reply) -> bool {
    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&reply.status) && !reply.status.is_server_error()
}

#[tokio::test]
async fn every_endpoint_answers_every_key_scope_as_the_table_says() {
    let app = TestApp::new(Backend::Sqlite).await;
    let mut checked = 0;
    for scope in ApiKeyRole::ALL {
        let key = app.key(scope).await;
        for endpoint in ENDPOINTS {
            let path = format!("/api/v1{}", concrete(endpoint.path));
            let request = Request::builder()
                .method(endpoint.method)
                .uri(&path)
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let reply = app.send(request).await;
            let what =
                format!("{} {path} with {} key: {} {}", endpoint.method, scope.as_str(), reply.status, reply.text);
            if allows(Grantee::Key(scope), endpoint.capability) {
                assert!(through_the_door(&reply), "allowed, so past the door: {what}");
            } else {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
                assert_eq!(reply.body["error"]["code"], "forbidden", "{what}");
                let message = reply.body["error"]["message"].as_str().unwrap_or_default();
                assert!(message.contains(&endpoint.capability.as_str()), "the refusal names what is needed: {what}");
            }
            checked += 1;
        }
    }
    // Without a key, every endpoint is a 401.
    for endpoint in ENDPOINTS {
        let request = Request::builder()
            .method(endpoint.method)
            .uri(format!("/api/v1{}", concrete(endpoint.path)))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::UNAUTHORIZED, "{} {}", endpoint.method, endpoint.path);
    }
    assert_eq!(checked, ENDPOINTS.len() * ApiKeyRole::ALL.len());
}

#[tokio::test]
async fn every_server_function_answers_every_role_as_the_table_says() {
    use app::access::{server_function_access, Access};

    let app = TestApp::new(Backend::Sqlite).await;
    let registered: Vec<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_string(), method.to_string()))
        .collect();
    assert!(registered.len() >= 40, "the dashboard's server functions are registered: {registered:?}");
    let missing: Vec<&str> =
        registered.iter().filter(|(path, _)| server_function_access(path).is_none()).map(|(p, _)| p.as_str()).collect();
    assert!(missing.is_empty(), "server functions without a row in app::access::SERVER_FUNCTIONS: {missing:?}");

    for role in Role::ALL {
        let (_, cookie) = app.signed_in(&format!("{}@acme.test", role.as_str()), role).await;
        for (path, method) in &registered {
            let capability = match server_function_access(path) {
                Some(Access::Needs(capability)) => Some(capability),
                Some(Access::SignedIn) => None,
                _ => continue,
            };
            let request = Request::builder()
                .method(method.as_str())
                .uri(path)
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap();
            let reply = app.send(request).await;
            let what = format!("{path} as {}: {} {}", role.as_str(), reply.status, reply.text);
            if capability.is_none_or(|c| allows(Grantee::User(role), c)) {
                assert_ne!(reply.status, StatusCode::FORBIDDEN, "{what}");
                assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
            } else {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
                let needed = capability.map(|c| c.as_str()).unwrap_or_default();
                assert!(reply.text.contains(&needed), "the refusal names what is needed: {what}");
            }
        }
    }
    // Without a session, only the public ones run.
    for (path, method) in &registered {
        if let Some(Access::Needs(_) | Access::SignedIn) = server_function_access(path) {
            let request = Request::builder().method(method.as_str()).uri(path).body(Body::empty()).unwrap();
            assert_eq!(app.send(request).await.status, StatusCode::UNAUTHORIZED, "{path}");
        }
    }
}

/// What the roles mean for people: a reviewer reviews but cannot change the PHI policy or
/// mint keys (the bug this table fixes), a viewer changes nothing, and only owners touch owners.
#[tokio::test]
async fn reviewers_and_viewers_cannot_change_the_setup_and_only_owners_manage_owners() {
    use leptos::server_fn::ServerFn;

    let app = TestApp::new(Backend::Sqlite).await;
    let (owner, owner_cookie) = app.signed_in("owner@acme.test", Role::Owner).await;
    let (_, admin_cookie) = app.signed_in("admin@acme.test", Role::Admin).await;
    let (reviewer, reviewer_cookie) = app.signed_in("reviewer@acme.test", Role::Reviewer).await;
    let phi = app.server_fn(app::api::SavePhiSettings::PATH, Some(&reviewer_cookie), "").await;
    assert_eq!(phi.status, StatusCode::FORBIDDEN, "{}", phi.text);
    let key = app.server_fn(app::api::CreateApiKey::PATH, Some(&reviewer_cookie), "name=x&role=admin").await;
    assert_eq!(key.status, StatusCode::FORBIDDEN, "{}", key.text);
    assert!(app.store.list_api_keys(&app.org).await.unwrap().iter().all(|k| k.name != "x"), "no key was minted");

    // An admin manages reviewers and viewers but not owners.
    let promote = format!("id={}&role=viewer", reviewer.id);
    let changed = app.server_fn(app::api::ChangeUserRole::PATH, Some(&admin_cookie), &promote).await;
    assert!(changed.status.is_success(), "{} {}", changed.status, changed.text);
    assert_eq!(app.store.get_user(&app.org, reviewer.id).await.unwrap().unwrap().role, Role::Viewer);
    let make_owner = format!("id={}&role=owner", reviewer.id);
    let refused = app.server_fn(app::api::ChangeUserRole::PATH, Some(&admin_cookie), &make_owner).await;
    assert!(refused.text.contains("manage_owners"), "{} {}", refused.status, refused.text);
    let demote_owner = format!("id={}&role=viewer", owner.id);
    let refused = app.server_fn(app::api::ChangeUserRole::PATH, Some(&admin_cookie), &demote_owner).await;
    assert!(refused.text.contains("manage_owners"), "{} {}", refused.status, refused.text);
    let remove_owner = format!("id={}", owner.id);
    let refused = app.server_fn(app::api::RemoveUser::PATH, Some(&admin_cookie), &remove_owner).await;
    assert!(refused.text.contains("manage_owners"), "{} {}", refused.status, refused.text);

    // The owner may, except leave the organization without one.
    let last = app.server_fn(app::api::ChangeUserRole::PATH, Some(&owner_cookie), &demote_owner).await;
    assert!(last.text.contains("at least one owner"), "{} {}", last.status, last.text);
    let last = app.server_fn(app::api::RemoveUser::PATH, Some(&owner_cookie), &remove_owner).await;
    assert!(last.text.contains("at least one owner"), "{} {}", last.status, last.text);
    let promoted = app.server_fn(app::api::ChangeUserRole::PATH, Some(&owner_cookie), &make_owner).await;
    assert!(promoted.status.is_success(), "{} {}", promoted.status, promoted.text);
    assert_eq!(app.store.get_user(&app.org, reviewer.id).await.unwrap().unwrap().role, Role::Owner);
}
