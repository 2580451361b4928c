//! People, through the dashboard's server functions and a real SMTP server (aiosmtpd):
//! invitations by email that work once, password resets that end the old sessions, and clear
//! errors when no SMTP server is configured.

use aegis_core::access::Role;
use aegis_core::store::Backend;
use aegis_core::testing::receivers::SmtpServer;
use axum::body::Body;
use axum::http::Request;
use leptos::server_fn::ServerFn;

use crate::common::{on_both_backends, TestApp};

on_both_backends!(an_invitation_by_email_works_once_and_a_reset_ends_the_old_sessions);

/// The one-time link in the last message to `to`, and the message.
fn link_to(smtp: &SmtpServer, to: &str, kind: &str) -> (String, String) {
    let (_, eml) = smtp.messages().into_iter().rev().find(|(rcpt, _)| rcpt.contains(to)).expect("a message");
    // Quoted-printable soft line breaks, should the encoder have used them.
    let eml = eml.replace("=\r\n", "").replace("=\n", "");
    let marker = format!("/{kind}/");
    let start = eml.find(&marker).expect("a link") + marker.len();
    let token: String =
        eml[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (token, eml)
}

async fn an_invitation_by_email_works_once_and_a_reset_ends_the_old_sessions(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::new_with(backend, |c| {
        c.sinks.smtp.host = Some("127.0.0.1".into());
        c.sinks.smtp.port = smtp.port;
        c.sinks.smtp.tls = aegis_core::config::SmtpTls::None;
        c.sinks.smtp.from = "Aegis <no-reply@aegis.example>".into();
    })
    .await;
    let (_, owner_cookie) = app.signed_in("olu@acme.test", Role::Owner).await;
    let (_, admin_cookie) = app.signed_in("ada@acme.test", Role::Admin).await;

    // An admin may not invite an owner; an owner may invite anyone.
    let refused =
        app.server_fn(app::api::InviteUser::PATH, Some(&admin_cookie), "email=x%40acme.test&role=owner").await;
    assert!(refused.text.contains("manage_owners"), "{} {}", refused.status, refused.text);
    let sent =
        app.server_fn(app::api::InviteUser::PATH, Some(&owner_cookie), "email=Nia%40Acme.test&role=reviewer").await;
    assert!(sent.status.is_success(), "{} {}", sent.status, sent.text);
    assert!(sent.text.contains("nia@acme.test"), "{}", sent.text);
    let (token, eml) = link_to(&smtp, "nia@acme.test", "invite");
    assert_eq!(token.len(), 43, "{eml}");
    assert!(eml.contains("Acme Health") && eml.contains("reviewer") && eml.contains("text/html"), "{eml}");

    // The link's page needs no session, and names the organization and the role.
    let page = app.send(Request::get(format!("/invite/{token}")).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Acme Health") && page.text.contains("reviewer"), "{}", page.text);

    let short = app.server_fn(app::api::AcceptInvite::PATH, None, &format!("token={token}&password=short")).await;
    assert!(short.text.contains("password"), "{}", short.text);
    let joined =
        app.server_fn(app::api::AcceptInvite::PATH, None, &format!("token={token}&password=a+long+password")).await;
    assert!(joined.session_cookie().is_some(), "joined and signed in: {} {}", joined.status, joined.text);
    let users = app.store.list_users(&app.org).await.unwrap();
    let nia = users.iter().find(|u| u.email == "nia@acme.test").expect("the new user");
    assert_eq!(nia.role, Role::Reviewer);
    let again =
        app.server_fn(app::api::AcceptInvite::PATH, None, &format!("token={token}&password=another+password")).await;
    assert!(again.text.contains("used or has expired"), "{}", again.text);
    assert!(again.session_cookie().is_none());

    // A reset: the same answer for an unknown address, which gets no mail.
    let before = smtp.messages().len();
    let unknown = app.server_fn(app::api::RequestPasswordReset::PATH, None, "email=nobody%40acme.test").await;
    assert!(unknown.status.is_success(), "{}", unknown.text);
    assert_eq!(smtp.messages().len(), before, "no mail for an unknown address");
    let old_session = joined.session_cookie().unwrap();
    let asked = app.server_fn(app::api::RequestPasswordReset::PATH, None, "email=nia%40acme.test").await;
    assert!(asked.status.is_success(), "{}", asked.text);
    let (reset, _) = link_to(&smtp, "nia@acme.test", "reset");
    let done =
        app.server_fn(app::api::ResetPassword::PATH, None, &format!("token={reset}&password=a+new+password")).await;
    assert!(done.session_cookie().is_some(), "{} {}", done.status, done.text);
    let old_token = old_session.trim_start_matches("aegis_session=");
    assert!(app.store.session_user(old_token).await.unwrap().is_none(), "the old session ended");
    assert!(matches!(
        app.store.sign_in("nia@acme.test", "a new password", "127.0.0.1").await.unwrap(),
        aegis_core::store::SignIn::Signed(_)
    ));
    let reused =
        app.server_fn(app::api::ResetPassword::PATH, None, &format!("token={reset}&password=a+third+password")).await;
    assert!(reused.text.contains("used or has expired"), "{}", reused.text);
}

#[tokio::test]
async fn without_an_smtp_server_invitations_say_so() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (_, cookie) = app.signed_in("olu@acme.test", Role::Owner).await;
    let reply = app.server_fn(app::api::InviteUser::PATH, Some(&cookie), "email=nia%40acme.test&role=viewer").await;
    assert!(reply.text.contains("no SMTP server"), "{} {}", reply.status, reply.text);
    let reset = app.server_fn(app::api::RequestPasswordReset::PATH, None, "email=olu%40acme.test").await;
    assert!(reset.text.contains("no SMTP server"), "{} {}", reset.status, reset.text);
}

/// A Python one-liner with pyotp, the reference implementation, printing its answer.
fn pyotp(expression: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!("import sys, time, pyotp; print({expression})"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "pyotp (scripts/tools.sh ensure_python_test_packages): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn two_factor_sign_in_agrees_with_pyotp() {
    use aegis_core::totp;

    // Our codes are pyotp's, at any time.
    let secret = totp::generate_secret();
    for time in [59_i64, 1_111_111_109, 1_800_000_000, 2_000_000_030] {
        let theirs = pyotp("pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2]))", &[&secret, &time.to_string()]);
        assert_eq!(totp::code_at_step(&secret, totp::step_of(time)).unwrap(), theirs, "at {time}");
    }

    let app = TestApp::new(Backend::Sqlite).await;
    let (owner, cookie) = app.signed_in("olu@acme.test", Role::Owner).await;
    let started = app.server_fn(app::api::StartTotp::PATH, Some(&cookie), "").await;
    assert!(started.status.is_success(), "{} {}", started.status, started.text);
    let (secret, uri) = (started.body[0].as_str().unwrap().to_string(), started.body[1].as_str().unwrap().to_string());
    // pyotp reads our URI as an authenticator app would, and computes the same codes.
    assert_eq!(pyotp("pyotp.parse_uri(sys.argv[1]).secret", &[&uri]), secret);
    let now_code = pyotp("pyotp.parse_uri(sys.argv[1]).now()", &[&uri]);
    let wrong = app.server_fn(app::api::ConfirmTotp::PATH, Some(&cookie), "code=12345").await;
    assert!(wrong.text.contains("code"), "{}", wrong.text);
    let confirmed = app.server_fn(app::api::ConfirmTotp::PATH, Some(&cookie), &format!("code={now_code}")).await;
    assert!(confirmed.status.is_success(), "{} {}", confirmed.status, confirmed.text);
    let (sealed, pending, _) = app.store.totp(owner.id).await.unwrap();
    assert!(pending.is_none() && !sealed.as_deref().unwrap_or_default().contains(&secret), "sealed, never in clear");

    let sign_in = |code: Option<String>| {
        let app = &app;
        async move {
            let mut form = "email=olu%40acme.test&password=a+long+password".to_string();
            if let Some(code) = code {
                form.push_str(&format!("&code={code}"));
            }
            app.server_fn(app::api::Login::PATH, None, &form).await
        }
    };
    let asked = sign_in(None).await;
    assert!(asked.text.contains(app::api::ASK_FOR_CODE), "{}", asked.text);
    assert!(asked.session_cookie().is_none());
    let replayed = sign_in(Some(now_code.clone())).await;
    assert!(replayed.text.contains(app::api::WRONG_CODE), "a code works once: {}", replayed.text);
    // The next step's code, as the phone shows it half a minute on.
    let next = pyotp("pyotp.parse_uri(sys.argv[1]).at(time.time() + 30)", &[&uri]);
    let signed = sign_in(Some(next.clone())).await;
    assert!(signed.session_cookie().is_some(), "{} {}", signed.status, signed.text);
    assert!(sign_in(Some(next)).await.session_cookie().is_none(), "and not twice");
    let audited: Vec<String> = app.store.audit_log(&app.org, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(audited.contains(&"user.totp_enable".to_string()) && audited.contains(&"user.sign_in_failed".to_string()));
    let off = app.server_fn(app::api::DisableTotp::PATH, Some(&cookie), "code=000000").await;
    assert!(off.text.contains("not the current code"), "turning it off takes a code: {}", off.text);
}
