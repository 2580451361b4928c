//! What each server function needs, from the core's permission table. The server checks this
//! before a server function runs (`server/src/web.rs`); a server function without a row here
//! is refused to everyone, and a test calls every registered one as every role.

use aegis_core::access::Capability;

/// What a server function asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Signing in and out, and asking who is signed in.
    Public,
    /// Any signed-in user, whatever the role: their own sessions.
    SignedIn,
    /// A signed-in user whose role has this capability.
    Needs(Capability),
}

use Access::{Needs, Public, SignedIn};
use Capability as C;

/// Server function name → what it needs.
pub const SERVER_FUNCTIONS: &[(&str, Access)] = &[
    ("current_user", Public),
    ("login", Public),
    ("logout", Public),
    // The token in the link is the credential.
    ("pending_link", Public),
    ("accept_invite", Public),
    ("request_password_reset", Public),
    ("reset_password", Public),
    ("my_sessions", SignedIn),
    ("revoke_session", SignedIn),
    ("sign_out_elsewhere", SignedIn),
    ("totp_status", SignedIn),
    ("start_totp", SignedIn),
    ("confirm_totp", SignedIn),
    ("disable_totp", SignedIn),
    ("list_traces", Needs(C::ReadTraces)),
    ("trace_detail", Needs(C::ReadTraces)),
    ("overview", Needs(C::ReadAnalytics)),
    ("chart", Needs(C::ReadAnalytics)),
    ("domain_dashboard", Needs(C::ReadAnalytics)),
    ("cost_report", Needs(C::ReadAnalytics)),
    ("list_api_keys", Needs(C::ManageKeys)),
    ("create_api_key", Needs(C::ManageKeys)),
    ("revoke_api_key", Needs(C::ManageKeys)),
    ("domain_packs", Needs(C::ReadDomains)),
    ("switch_module", Needs(C::ManageDomains)),
    ("upload_pack", Needs(C::ManageDomains)),
    ("load_phi_settings", Needs(C::ReadPhiPolicy)),
    ("save_phi_settings", Needs(C::ManagePhiPolicy)),
    ("list_users", Needs(C::ManageUsers)),
    ("add_user", Needs(C::ManageUsers)),
    ("invite_user", Needs(C::ManageUsers)),
    ("change_user_role", Needs(C::ManageUsers)),
    ("remove_user", Needs(C::ManageUsers)),
    ("list_models", Needs(C::ReadModels)),
    ("retrain_model", Needs(C::TrainModels)),
    ("promote_model", Needs(C::TrainModels)),
    ("review_cards", Needs(C::ReadReviews)),
    ("review_stats", Needs(C::ReadReviews)),
    ("submit_reviews", Needs(C::Review)),
    ("list_webhooks", Needs(C::ReadIntegrations)),
    ("webhook_deliveries", Needs(C::ReadIntegrations)),
    ("create_webhook", Needs(C::ManageIntegrations)),
    ("switch_webhook", Needs(C::ManageIntegrations)),
    ("rotate_webhook", Needs(C::ManageIntegrations)),
    ("delete_webhook", Needs(C::ManageIntegrations)),
    ("test_webhook", Needs(C::ManageIntegrations)),
    ("replay_delivery", Needs(C::ManageIntegrations)),
    // Channel addresses are masked in this listing, so readers of alerts may see it.
    ("alert_setup", Needs(C::ReadAlerts)),
    ("create_alert_channel", Needs(C::ManageIntegrations)),
    ("delete_alert_channel", Needs(C::ManageIntegrations)),
    ("create_alert_rule", Needs(C::ManageIntegrations)),
    ("delete_alert_rule", Needs(C::ManageIntegrations)),
    ("resolve_alert", Needs(C::ResolveAlerts)),
];

/// The server function a request path names: `/api/list_traces1234…` → `list_traces` (Leptos
/// appends a hash of the module to each default path; explicit endpoints have none).
pub fn server_function_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/")?;
    let name = rest.trim_end_matches(|c: char| c.is_ascii_digit());
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// What the server function at `path` needs; `None` if it has no row (refuse it).
pub fn server_function_access(path: &str) -> Option<Access> {
    let name = server_function_name(path)?;
    SERVER_FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, access)| *access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_with_or_without_the_hash() {
        assert_eq!(server_function_name("/api/list_traces17731236491052012233"), Some("list_traces"));
        assert_eq!(server_function_name("/api/login"), Some("login"));
        assert_eq!(server_function_name("/api/v1/traces"), None);
        assert_eq!(server_function_access("/api/save_phi_settings42"), Some(Needs(C::ManagePhiPolicy)));
        assert_eq!(server_function_access("/api/not_a_function"), None);
        let names: Vec<&str> = SERVER_FUNCTIONS.iter().map(|(n, _)| *n).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(n), "{n} has two rows");
        }
    }
}
