//! Pieces shared by the pages: the app frame, charts and the small status widgets.

mod badges;
mod chart;
mod layout;

pub use badges::{SeverityBadge, StatusBadge};
pub use chart::ChartFigure;
pub use layout::AppFrame;
