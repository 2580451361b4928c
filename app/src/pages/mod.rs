//! One module per page.

mod analytics;
mod dashboard;
mod domains;
mod links;
mod login;
mod models;
mod not_found;
mod overview;
mod review;
mod settings;
mod traces;

pub use analytics::AnalyticsPage;
pub use dashboard::DomainDashboardPage;
pub use domains::DomainsPage;
pub use links::{InvitePage, ResetPage, ResetRequestPage};
pub use login::LoginPage;
pub use models::ModelsPage;
pub use not_found::NotFound;
pub use overview::OverviewPage;
pub use review::ReviewPage;
pub use settings::SettingsPage;
pub use traces::{TracePage, TracesPage};

/// The shipped domains, as filters offer them.
pub(crate) const DOMAINS: [(&str, &str); 2] = [("healthcare", "Healthcare"), ("trading", "Trading")];
