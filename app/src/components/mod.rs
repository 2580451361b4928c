//! Pieces shared by the pages: the app frame and the small status widgets.

mod badges;
mod layout;

pub use badges::{SeverityBadge, StatusBadge};
pub use layout::AppFrame;
