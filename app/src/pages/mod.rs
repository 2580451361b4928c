//! One module per page.

mod login;
mod not_found;
mod traces;

pub use login::LoginPage;
pub use not_found::NotFound;
pub use traces::TracesPage;
