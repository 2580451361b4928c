use aegis_core::model::{DomainDashboard, FacetCount, Panel};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{domain_dashboard, TimeRange};
use crate::components::AppFrame;
use crate::format::{count, percent};
use crate::live::{refresh_on_events, use_live_feed};
use crate::pages::overview::RangeForm;

/// A domain's own dashboard (healthcare: medication errors, interactions, specialties;
/// trading: PnL, strategies, risk violations), laid out by the domain pack's spec.
#[component]
pub fn DomainDashboardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let domain = move || params.with(|p| p.get("domain").unwrap_or_default());
    let range = move || TimeRange::parse(query.with(|q| q.get("range")).as_deref());
    let board = Resource::new(move || (domain(), range()), |(d, r)| domain_dashboard(d, r));
    let live = use_live_feed(1);
    refresh_on_events(live, std::time::Duration::from_secs(5), move || board.refetch());
    view! {
        <AppFrame>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match board.await {
                        Ok(b) => view! { <Dashboard b range/> }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

#[component]
fn Dashboard(b: DomainDashboard, range: impl Fn() -> TimeRange + Copy + Send + Sync + 'static) -> impl IntoView {
    let o = b.overview;
    let flagged = o.status_counts.fail + o.status_counts.needs_review;
    let violations = o.error_types.clone();
    let most = violations.iter().map(|i| i.count).max().unwrap_or(0);
    view! {
        <Title text=b.title.clone()/>
        <header class="page-header">
            <div>
                <h1>{b.title.clone()}</h1>
                <p class="muted">"What the " {b.domain.clone()} " pack found in your traces."</p>
            </div>
            <RangeForm range domain=|| None without_domain=true/>
        </header>
        <div class="stats" data-testid="dashboard-stats">
            <div class="stat"><span class="stat-label">"Traces"</span><span class="stat-value">{count(o.total_traces)}</span></div>
            <div class="stat"><span class="stat-label">"Flagged"</span><span class="stat-value" data-testid="flagged">{count(flagged)}</span></div>
            <div class="stat"><span class="stat-label">"Flag rate"</span><span class="stat-value">
                {if o.total_traces > 0 { percent(flagged as f64 / o.total_traces as f64) } else { "—".into() }}
            </span></div>
        </div>
        <div class="grid-2">
            <section class="card" data-panel="violations">
                <h2>"Violations by rule"</h2>
                {if violations.is_empty() {
                    view! { <p class="muted">"No violations in this range."</p> }.into_any()
                } else {
                    view! {
                        <ul class="bars">
                            {violations.into_iter().map(|i| view! {
                                <li>
                                    <span class="bar-label mono small">{i.code}</span>
                                    <span class="bar"><span class="bar-fill danger" style=format!("width: {:.1}%", 100.0 * i.count as f64 / most.max(1) as f64)></span></span>
                                    <span class="bar-value">{count(i.count)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            {b.panels.into_iter().map(|p| view! { <PanelCard p/> }).collect_view()}
        </div>
    }
}

#[component]
fn PanelCard(p: Panel) -> impl IntoView {
    let with_pnl = p.rows.iter().any(|r| r.amount != 0);
    let most = p.rows.iter().map(|r| r.traces).max().unwrap_or(0);
    let issues = p.facets.iter().all(|f| f.starts_with("issue."));
    let testid = p.title.to_lowercase().replace(' ', "-");
    view! {
        <section class="card" data-panel=testid>
            <h2>{p.title}</h2>
            {if p.rows.is_empty() {
                view! { <p class="muted">"Nothing in this range."</p> }.into_any()
            } else {
                view! {
                    <table class="table compact">
                        <thead><tr>
                            <th>""</th>
                            <th class="wide">{if issues { "Traces with the issue" } else { "Traces" }}</th>
                            {(!issues).then(|| view! { <th class="num">"Flagged"</th> })}
                            {with_pnl.then(|| view! { <th class="num">"Mean PnL"</th> })}
                        </tr></thead>
                        <tbody>
                            {p.rows.into_iter().map(|r| view! { <PanelRow r most issues with_pnl/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn PanelRow(r: FacetCount, most: i64, issues: bool, with_pnl: bool) -> impl IntoView {
    let share = 100.0 * r.traces as f64 / most.max(1) as f64;
    let mean = if r.traces > 0 { r.amount as f64 / 100.0 / r.traces as f64 } else { 0.0 };
    view! {
        <tr>
            <td class="nowrap">{r.value}</td>
            <td>
                <span class="inline-bar"><span class="bar-fill" class:danger=issues style=format!("width: {share:.1}%")></span></span>
                <span class="small">{count(r.traces)}</span>
            </td>
            {(!issues).then(|| view! { <td class="num small">{if r.traces > 0 { percent(r.flagged as f64 / r.traces as f64) } else { "—".into() }}</td> })}
            {with_pnl.then(|| view! { <td class=if mean < 0.0 { "num small reward negative" } else { "num small reward" }>{format!("{mean:+.2}")}</td> })}
        </tr>
    }
}
