use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use crate::api::{current_user, Logout};

/// The frame of every signed-in page: navigation on the left, the page on the right.
#[component]
pub fn AppFrame(children: ChildrenFn) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="app">
            <nav class="sidebar" aria-label="Main">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    <span>"Aegis"</span>
                </a>
                <ul class="nav">
                    <li><A href="/" exact=true>"Overview"</A></li>
                    <li><A href="/traces">"Traces"</A></li>
                    <li><A href="/review">"Expert review"</A></li>
                    <li><A href="/analytics">"Analytics"</A></li>
                    <li><A href="/domains">"Domains"</A></li>
                    <li><A href="/models">"Models"</A></li>
                    <li><A href="/settings">"Settings"</A></li>
                </ul>
                <p class="nav-heading">"Dashboards"</p>
                <ul class="nav">
                    {crate::pages::DOMAINS.iter().map(|(name, title)| view! {
                        <li><A href=format!("/dashboards/{name}")>{*title}</A></li>
                    }).collect_view()}
                </ul>
                <div class="sidebar-footer">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match user.await {
                                Ok(Some(u)) => view! {
                                    <div class="who">
                                        <span class="org" data-testid="org-name">{u.organization}</span>
                                        <span class="email">{u.email}</span>
                                        <span class="role muted small" data-testid="role">{u.role.as_str()}</span>
                                    </div>
                                    <ActionForm action=logout>
                                        <button type="submit" class="button ghost small">"Sign out"</button>
                                    </ActionForm>
                                }.into_any(),
                                Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                                Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
            </nav>
            <main class="content">{children()}</main>
        </div>
    }
}
