use aegis_core::model::{LiveEvent, Metric, Overview};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use crate::api::{chart, cost_report, overview, TimeRange};
use crate::components::{AppFrame, ChartFigure, SeverityBadge, StatusBadge};
use crate::format::{count, duration, percent, usd};
use crate::live::{refresh_on_events, use_live_feed};
use crate::pages::DOMAINS;

/// The organization at a glance: volume, pass rate, cost, latency, where the cascade spent
/// its effort, what went wrong most, and the evaluations finishing right now.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let query = use_query_map();
    let range = move || TimeRange::parse(query.with(|q| q.get("range")).as_deref());
    let domain = move || query.with(|q| q.get("domain").filter(|d| !d.is_empty()));
    let live = use_live_feed(12);
    let stats = Resource::new(move || (range(), domain()), |(r, d)| overview(r, d));
    let volume = Resource::new(move || (range(), domain()), |(r, d)| chart(Metric::Volume, r, d));
    let costs = Resource::new(range, cost_report);

    // The figures follow the live feed.
    refresh_on_events(live, std::time::Duration::from_secs(3), move || {
        stats.refetch();
        costs.refetch();
    });

    view! {
        <Title text="Overview"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Overview"</h1>
                    <p class="muted">"How your AI applications did, evaluated tier by tier."</p>
                </div>
                <RangeForm range domain/>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match stats.await {
                        Ok(o) => view! { <Figures o/> }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <div class="grid-2">
                <section class="card">
                    <h2>"Traces evaluated"</h2>
                    <ChartFigure svg=volume label="Traces evaluated over time, by verdict"/>
                    <p class="muted small"><A href="/analytics">"More charts in Analytics →"</A></p>
                </section>
                <section class="card" data-testid="live-feed">
                    <h2>
                        "Live "
                        <span class="live-dot" class:on=move || live.connected.get() title="Connected to the live feed"></span>
                    </h2>
                    <LiveList events=live.events/>
                </section>
                <section class="card" data-testid="costs">
                    <h2>"Cost by domain and tier"</h2>
                    <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match costs.await {
                                Ok(report) if report.groups.is_empty() => view! { <p class="muted">"Nothing spent in this range."</p> }.into_any(),
                                Ok(report) => view! {
                                    <table class="table compact">
                                        <thead><tr><th>"Domain"</th><th>"Tier"</th><th class="num">"Runs"</th><th class="num">"Cost"</th></tr></thead>
                                        <tbody>
                                            {report.groups.into_iter().map(|g| view! {
                                                <tr>
                                                    <td>{g.domain.filter(|d| !d.is_empty()).unwrap_or_else(|| "none".into())}</td>
                                                    <td>{g.tier.map(tier_name).unwrap_or_default()}</td>
                                                    <td class="num">{count(g.runs)}</td>
                                                    <td class="num mono">{usd(g.micro_usd)}</td>
                                                </tr>
                                            }).collect_view()}
                                            <tr class="total"><td colspan="3">"Total"</td><td class="num mono" data-testid="cost-total">{usd(report.total_micro_usd)}</td></tr>
                                        </tbody>
                                    </table>
                                    <p class="muted small">"To the micro-dollar; " <code>"GET /api/v1/costs"</code> " gives the same by day or hour."</p>
                                }.into_any(),
                                Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                </section>
            </div>
        </AppFrame>
    }
}

/// The range and domain pickers; they live in the URL.
#[component]
pub fn RangeForm(
    range: impl Fn() -> TimeRange + Copy + Send + Sync + 'static,
    domain: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
    /// Only the range (a page of one domain).
    #[prop(optional)]
    without_domain: bool,
) -> impl IntoView {
    view! {
        <Form method="GET" action="">
            <div class="filters inline">
                <label>
                    "Range"
                    <select name="range" onchange="this.form.requestSubmit()">
                        {TimeRange::ALL.into_iter().map(|r| view! {
                            <option value=r.param() selected=move || range() == r>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {(!without_domain).then(|| view! {
                    <label>
                        "Domain"
                        <select name="domain" onchange="this.form.requestSubmit()">
                            <option value="">"All domains"</option>
                            {DOMAINS.iter().map(|(value, text)| view! {
                                <option value=*value selected=move || domain().as_deref() == Some(*value)>{*text}</option>
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <noscript><button type="submit" class="button">"Apply"</button></noscript>
            </div>
        </Form>
    }
}

#[component]
fn Figures(o: Overview) -> impl IntoView {
    let empty = o.total_traces == 0;
    let tiers = o.tier_distribution.clone();
    let issues = o.error_types.clone();
    view! {
        <div class="stats" data-testid="overview-stats">
            <Stat label="Traces evaluated" value=count(o.total_traces) testid="total-traces"/>
            <Stat label="Pass rate" value=o.pass_rate.map(percent).unwrap_or_else(|| "—".into()) testid="pass-rate"/>
            <Stat label="Cost per trace" value=o.avg_cost_per_trace.map(usd).unwrap_or_else(|| "—".into()) testid="avg-cost"/>
            <Stat label="Total cost" value=usd(o.total_cost_micro_usd) testid="total-cost"/>
            <Stat label="p95 evaluation latency" value=o.p95_latency_ms.map(duration).unwrap_or_else(|| "—".into()) testid="p95-latency"/>
        </div>
        <div class="grid-2">
            <section class="card">
                <h2>"Where the cascade stopped"</h2>
                {if empty {
                    view! { <p class="muted">"No evaluations in this range."</p> }.into_any()
                } else {
                    view! {
                        <ul class="bars" data-testid="tier-distribution">
                            {tiers.into_iter().map(|t| view! {
                                <li>
                                    <span class="bar-label">{tier_name(t.tier)}</span>
                                    <span class="bar"><span class="bar-fill" style=format!("width: {:.1}%", t.share * 100.0)></span></span>
                                    <span class="bar-value">{count(t.traces)} " · " {usd(t.cost_micro_usd)}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class="card">
                <h2>"Top issues"</h2>
                {if issues.is_empty() {
                    view! { <p class="muted">"No issues found in this range."</p> }.into_any()
                } else {
                    view! {
                        <table class="table compact" data-testid="top-issues">
                            <tbody>
                                {issues.into_iter().map(|i| view! {
                                    <tr><td class="mono">{i.code}</td><td class="num">{count(i.count)}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

pub fn tier_name(tier: u8) -> &'static str {
    match tier {
        0 => "Tier 0 · well-formed",
        1 => "Tier 1 · rules",
        2 => "Tier 2 · classifier",
        3 => "Tier 3 · LLM judge",
        _ => "Tier 4 · expert review",
    }
}

#[component]
fn Stat(label: &'static str, value: String, testid: &'static str) -> impl IntoView {
    view! {
        <div class="stat">
            <span class="stat-label">{label}</span>
            <span class="stat-value" data-testid=testid>{value}</span>
        </div>
    }
}

/// The latest evaluations, newest first, each linking to its trace.
#[component]
pub fn LiveList(events: ReadSignal<Vec<LiveEvent>>) -> impl IntoView {
    view! {
        <Show
            when=move || !events.with(Vec::is_empty)
            fallback=|| view! { <p class="muted" data-testid="live-waiting">"Waiting for evaluations… they appear here as they finish."</p> }
        >
            <ul class="live-list">
                <For each=move || events.get() key=|e| e.trace_id let:e>
                    <li class="live-item" data-trace-id=e.trace_id.to_string()>
                        <StatusBadge status=e.status.into()/>
                        <SeverityBadge severity=Some(e.severity)/>
                        <span class="live-app">{e.application_id.clone()}</span>
                        <span class="muted small">{e.domain.clone().unwrap_or_default()}</span>
                        <span class="live-issue mono small">{e.top_issue.as_ref().map(|i| i.code.clone()).unwrap_or_default()}</span>
                        <span class="muted small mono">{e.evaluated_at.format("%H:%M:%S").to_string()}</span>
                    </li>
                </For>
            </ul>
        </Show>
    }
}
