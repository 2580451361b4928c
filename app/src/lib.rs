//! The Aegis dashboard: Leptos pages, rendered on the server and hydrated in the browser,
//! and the server functions behind them. Server functions call `aegis-core` directly;
//! every one of them is scoped to the signed-in user's organization.

// The views' types nest deeply; the WASM build's layout computation needs the room.
#![recursion_limit = "256"]

pub mod access;
pub mod api;
#[cfg(feature = "ssr")]
mod charts;
mod components;
pub mod format;
mod highlight;
mod live;
mod pages;
#[cfg(feature = "ssr")]
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use pages::{
    AnalyticsPage, DomainDashboardPage, DomainsPage, InvitePage, LoginPage, ModelsPage, NotFound, OverviewPage,
    ResetPage, ResetRequestPage, ReviewPage, SettingsPage, TracePage, TracesPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/aegis.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Aegis".to_string() } else { format!("{page} · Aegis") }/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/invite/:token") view=InvitePage/>
                <Route path=path!("/reset") view=ResetRequestPage/>
                <Route path=path!("/reset/:token") view=ResetPage/>
                <Route path=path!("/") view=OverviewPage/>
                <Route path=path!("/traces") view=TracesPage/>
                <Route path=path!("/traces/:id") view=TracePage/>
                <Route path=path!("/analytics") view=AnalyticsPage/>
                <Route path=path!("/domains") view=DomainsPage/>
                <Route path=path!("/review") view=ReviewPage/>
                <Route path=path!("/models") view=ModelsPage/>
                <Route path=path!("/dashboards/:domain") view=DomainDashboardPage/>
                <Route path=path!("/settings") view=SettingsPage/>
            </Routes>
        </Router>
    }
}
