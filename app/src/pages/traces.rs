use aegis_core::model::{Issue, Page, Review, ReviewLabel, Severity, Step, TraceSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::api::{list_traces, trace_detail, TraceFilters, TraceWithEvaluation};
use crate::components::{AppFrame, SeverityBadge, StatusBadge};
use crate::highlight::{segments, Segment};
use crate::live::{refresh_on_events, use_live_feed};
use crate::pages::DOMAINS;

const STATUSES: [(&str, &str); 5] =
    [("queued", "Queued"), ("pass", "Pass"), ("fail", "Fail"), ("needs_review", "Needs review"), ("error", "Error")];
const SEVERITIES: [(&str, &str); 4] =
    [("critical", "Critical"), ("high", "High"), ("medium", "Medium"), ("low", "Low")];
/// The URL parameters that filter and order the table; a next-page link keeps them.
const FILTERS: [&str; 8] = ["q", "status", "domain", "severity", "application", "from", "to", "sort"];
const ORDERS: [(&str, &str); 1] = [("oldest", "Oldest first")];

/// The organization's traces: filters in the URL, so a view can be shared by link.
#[component]
pub fn TracesPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |key: &'static str| query.with(|q| q.get(key).filter(|v| !v.is_empty()));
    let traces = Resource::new(
        move || (FILTERS.map(param), param("cursor")),
        |([q, status, domain, severity, application, from, to, sort], cursor)| {
            list_traces(TraceFilters { q, status, domain, severity, application, from, to, sort, cursor })
        },
    );
    let filters = move || FILTERS.iter().filter_map(|k| Some((*k, param(k)?))).collect::<Vec<_>>();
    let selected = RwSignal::new(None::<Uuid>);
    // The first page follows the live feed; a later page or an open trace stays put.
    let live = use_live_feed(1);
    refresh_on_events(live, std::time::Duration::from_secs(2), move || {
        if param("cursor").is_none() && selected.get_untracked().is_none() {
            traces.refetch();
        }
    });

    view! {
        <Title text="Traces"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Traces"</h1>
                    <p class="muted">"Everything your applications sent, newest first. Click a trace to see its evaluation."</p>
                </div>
                <div class="header-actions">
                    <span class="live-state muted small" data-testid="live-state">
                        <span class="live-dot" class:on=move || live.connected.get()></span>
                        {move || if live.connected.get() { "Live" } else { "Not live" }}
                    </span>
                    <button class="button" on:click=move |_| traces.refetch() data-testid="refresh">"Refresh"</button>
                </div>
            </header>
            <Form method="GET" action="">
                <div class="filters">
                    <label class="search">
                        "Search"
                        <input type="search" name="q" placeholder="Words in the input or output" value=move || param("q").unwrap_or_default()/>
                    </label>
                    <FilterSelect label="Status" name="status" options=&STATUSES current=move || param("status")/>
                    <FilterSelect label="Domain" name="domain" options=&DOMAINS current=move || param("domain")/>
                    <FilterSelect label="Severity" name="severity" options=&SEVERITIES current=move || param("severity")/>
                    <label>
                        "Application"
                        <input type="text" name="application" class="narrow" value=move || param("application").unwrap_or_default()/>
                    </label>
                    <label>"From" <input type="date" name="from" value=move || param("from").unwrap_or_default()/></label>
                    <label>"To" <input type="date" name="to" value=move || param("to").unwrap_or_default()/></label>
                    <FilterSelect label="Order" name="sort" options=&ORDERS current=move || param("sort") all="Newest first"/>
                    <button type="submit" class="button">"Apply"</button>
                </div>
            </Form>
            <Transition fallback=|| view! { <p class="muted">"Loading traces…"</p> }>
                {move || Suspend::new(async move {
                    match traces.await {
                        Ok(page) => view! { <TraceTable page selected filters=filters()/> }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

/// A URL query value, percent-encoded.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `<select>` for one filter of the URL, showing its current value.
#[component]
fn FilterSelect(
    label: &'static str,
    name: &'static str,
    options: &'static [(&'static str, &'static str)],
    current: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
    /// What the empty choice says.
    #[prop(default = "All")]
    all: &'static str,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select name=name>
                <option value="">{all}</option>
                {options.iter().map(|(value, text)| view! {
                    <option value=*value selected=move || current().as_deref() == Some(*value)>{*text}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn TraceTable(
    page: Page<TraceSummary>,
    selected: RwSignal<Option<Uuid>>,
    /// The active filters, as `(parameter, value)`.
    filters: Vec<(&'static str, String)>,
) -> impl IntoView {
    if page.items.is_empty() {
        return if !filters.is_empty() {
            view! {
                <div class="empty">
                    <h2>"No traces match these filters"</h2>
                    <p class="muted"><A href="?">"Show all traces"</A></p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty">
                    <h2>"No traces yet"</h2>
                    <p class="muted">"Send one with " <code>"POST /api/v1/traces"</code> " and it appears here."</p>
                </div>
            }
            .into_any()
        };
    }
    let next = page.next_cursor.map(|cursor| {
        let mut query = vec![format!("cursor={cursor}")];
        query.extend(filters.iter().map(|(k, v)| format!("{k}={}", encode(v))));
        format!("?{}", query.join("&"))
    });
    view! {
        <table class="table traces">
            <thead>
                <tr>
                    <th>"Time (UTC)"</th>
                    <th>"Application"</th>
                    <th>"Domain"</th>
                    <th>"Model"</th>
                    <th class="wide">"Input"</th>
                    <th>"Status"</th>
                </tr>
            </thead>
            <tbody>
                {page.items.into_iter().map(|t| view! { <TraceRow trace=t selected/> }).collect_view()}
            </tbody>
        </table>
        <div class="pager">
            <A href="?">"First page"</A>
            {next.map(|href| view! { <A href=href>"Next page →"</A> })}
        </div>
    }
    .into_any()
}

#[component]
fn TraceRow(trace: TraceSummary, selected: RwSignal<Option<Uuid>>) -> impl IntoView {
    let id = trace.trace_id;
    let is_open = move || selected.get() == Some(id);
    let toggle = move |_| selected.update(|s| *s = if *s == Some(id) { None } else { Some(id) });
    view! {
        <tr class="trace-row" class:open=is_open on:click=toggle data-trace-id=id.to_string() tabindex="0">
            <td class="mono nowrap">{trace.timestamp.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td class="nowrap">{trace.application_id}</td>
            <td>{trace.domain.unwrap_or_else(|| "—".into())}</td>
            <td class="mono nowrap">{trace.model}</td>
            <td class="preview">{trace.input_preview}</td>
            <td class="nowrap">
                <StatusBadge status=trace.status/>
                " "
                <SeverityBadge severity=trace.severity/>
            </td>
        </tr>
        <Show when=is_open>
            <tr class="detail-row">
                <td colspan="6"><TracePanel id/></td>
            </tr>
        </Show>
    }
}

/// One trace on its own page, `/traces/{id}`: where alerts and webhooks link to.
#[component]
pub fn TracePage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<Uuid>().ok()));
    view! {
        <Title text="Trace"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <p class="muted small"><a href="/traces">"← All traces"</a></p>
                    <h1>"Trace"</h1>
                </div>
            </header>
            {move || match id() {
                Some(id) => view! { <section class="card"><TracePanel id/></section> }.into_any(),
                None => view! { <p class="error">"This is not a trace id."</p> }.into_any(),
            }}
        </AppFrame>
    }
}

/// The full trace and its evaluation, loaded when the row is opened.
#[component]
fn TracePanel(id: Uuid) -> impl IntoView {
    let detail = Resource::new(move || id, trace_detail);
    view! {
        <div class="trace-detail" data-testid="trace-detail">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => view! { <TraceDetailView detail=d/> }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// A text of the trace with its pseudonyms and the evidence of `field`'s issues marked.
#[component]
fn MarkedText(
    text: String,
    field: &'static str,
    issues: Vec<Issue>,
    replaced: Vec<String>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let spans: Vec<_> = issues
        .iter()
        .filter_map(|i| {
            let e = i.evidence.as_ref()?;
            (e.field == field).then_some((e.start?, e.end?, i.code.clone(), i.severity))
        })
        .collect();
    view! {
        <pre class="text-block" data-testid=testid>
            {segments(&text, &spans, &replaced).into_iter().map(|s| match s {
                Segment::Plain(t) => view! { <span>{t}</span> }.into_any(),
                Segment::Phi(t) => view! { <mark class="phi" title="De-identified: a consistent pseudonym or stand-in">{t}</mark> }.into_any(),
                Segment::Evidence { text, code, severity } => view! {
                    <mark class=format!("evidence severity-bg-{}", severity.as_str()) title=code>{text}</mark>
                }.into_any(),
            }).collect_view()}
        </pre>
    }
}

/// The steps of an agent run or a chain, in order, with durations and rewards.
#[component]
fn StepTimeline(steps: Vec<Step>) -> impl IntoView {
    let total_reward: f64 = steps.iter().filter_map(|s| s.reward).sum();
    let has_reward = steps.iter().any(|s| s.reward.is_some());
    view! {
        <ol class="timeline" data-testid="steps">
            {steps.into_iter().enumerate().map(|(i, step)| {
                let took = match (step.started_at, step.ended_at) {
                    (Some(a), Some(b)) => Some(crate::format::duration((b - a).num_microseconds().unwrap_or(0) as f64 / 1000.0)),
                    _ => None,
                };
                let detail = step.output.as_ref().map(|o| {
                    let text = o.to_string();
                    if text.chars().count() > 160 { format!("{}…", text.chars().take(160).collect::<String>()) } else { text }
                });
                view! {
                    <li>
                        <span class="timeline-dot"></span>
                        <div>
                            <strong>{format!("{}. ", i + 1)} {step.kind}</strong>
                            {step.name.map(|n| view! { <span class="mono small">" " {n}</span> })}
                            {took.map(|t| view! { <span class="muted small">" · " {t}</span> })}
                            {step.reward.map(|r| view! { <span class=if r < 0.0 { "reward negative small" } else { "reward small" }>" · reward " {format!("{r:+.2}")}</span> })}
                            {detail.map(|d| view! { <div class="mono small muted step-output">{d}</div> })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ol>
        {has_reward.then(|| view! { <p class="small muted">"Total reward " {format!("{total_reward:+.2}")}</p> })}
    }
}

#[component]
fn TraceDetailView(detail: TraceWithEvaluation) -> impl IntoView {
    let TraceWithEvaluation { trace, evaluation, reviews, replaced } = detail;
    let ai = trace.ai_processing;
    let tokens = match (ai.prompt_tokens, ai.completion_tokens) {
        (Some(p), Some(c)) => format!("{p} + {c} tokens"),
        _ => "tokens not reported".into(),
    };
    let latency = ai.latency_ms.map(|ms| format!("{ms:.0} ms")).unwrap_or_else(|| "latency not reported".into());
    let issues = evaluation.as_ref().map(|e| e.issues.clone()).unwrap_or_default();
    let steps = trace.steps;
    view! {
        <div class="detail-grid">
            <section>
                <h3>"Input"</h3>
                <MarkedText text=ai.input field="ai_processing.input" issues=issues.clone() replaced=replaced.clone()/>
                <h3>"Output"</h3>
                <MarkedText text=ai.output field="ai_processing.output" issues=issues replaced testid="trace-output"/>
                <p class="muted small">
                    <span class="mono">{ai.model}</span> " · " {tokens} " · " {latency} " · id " <span class="mono">{trace.trace_id.to_string()}</span>
                </p>
                <div class="chips">
                    {trace.metadata.into_iter().map(|(k, v)| view! { <span class="chip">{k} ": " {v}</span> }).collect_view()}
                </div>
                {(!steps.is_empty()).then(|| view! { <h3>"Steps"</h3> <StepTimeline steps/> })}
            </section>
            <section>
                <h3>"Evaluation"</h3>
                {match evaluation {
                    None => view! { <p class="muted" data-testid="evaluation-pending">"Queued for evaluation."</p> }.into_any(),
                    Some(e) => {
                        let tiers = e.tiers_run.iter().map(|t| format!("Tier {t}")).collect::<Vec<_>>().join(", ");
                        view! {
                            <div class="evaluation" data-testid="evaluation">
                                <p>
                                    <StatusBadge status=e.status.into()/>
                                    " "
                                    <SeverityBadge severity=Some(e.severity)/>
                                    <span class="muted small">" " {tiers} " · " {crate::format::duration(e.latency_ms)} " · " {crate::format::usd(e.cost_micro_usd)}</span>
                                </p>
                                <table class="table compact module-table">
                                    <thead><tr><th>"Tier"</th><th>"Module"</th><th>"Verdict"</th><th class="num">"Latency"</th><th class="num">"Cost"</th></tr></thead>
                                    <tbody>
                                        {e.modules.into_iter().map(|m| view! {
                                            <tr title=m.note.clone().unwrap_or_default()>
                                                <td class="num">{m.tier}</td>
                                                <td class="mono">{m.name}</td>
                                                <td class="nowrap">
                                                    <StatusBadge status=m.verdict.into()/>
                                                    {m.score.map(|s| view! { <span class="muted small">" " {format!("{s:.2}")}</span> })}
                                                </td>
                                                <td class="num small">{crate::format::duration(m.latency_ms)}</td>
                                                <td class="num small">{crate::format::usd(m.cost_micro_usd)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                // Why the cascade went up a tier or stopped.
                                {(!e.escalation.is_empty()).then(|| view! {
                                    <ol class="escalation muted small" data-testid="escalation">
                                        {e.escalation.into_iter().map(|d| view! {
                                            <li>"After tier " {d.after_tier} ": " {d.reason}</li>
                                        }).collect_view()}
                                    </ol>
                                })}
                                {e.review.map(|r| view! {
                                    <p class="notice small" data-testid="review-request">"Sent to expert review: " {r.reason}</p>
                                })}
                                {if e.issues.is_empty() {
                                    view! { <p class="muted">"No issues found."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="issues">
                                            {e.issues.into_iter().map(|i| view! {
                                                <li class=format!("issue severity-border-{}", i.severity.as_str())>
                                                    <strong class="mono">{i.code}</strong>
                                                    {(i.severity != Severity::None).then(|| view! { " " <SeverityBadge severity=Some(i.severity)/> })}
                                                    <span class="muted small">" · " {i.module}</span>
                                                    <p>{i.message}</p>
                                                    {i.evidence.and_then(|e| e.text.map(|t| view! { <p class="small evidence-quote">"“" {t} "” in " {e.field}</p> }))}
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </div>
                        }.into_any()
                    }
                }}
                <ReviewHistory reviews/>
            </section>
        </div>
    }
}

/// What experts said of the trace, oldest first.
#[component]
fn ReviewHistory(reviews: Vec<Review>) -> impl IntoView {
    view! {
        <h3>"Review history"</h3>
        {if reviews.is_empty() {
            view! { <p class="muted small" data-testid="review-history">"No expert has reviewed this trace yet."</p> }.into_any()
        } else {
            view! {
                <ol class="reviews" data-testid="review-history">
                    {reviews.into_iter().map(|r| {
                        let (class, label) = match r.label {
                            ReviewLabel::Safe => ("badge status-pass", "Safe"),
                            ReviewLabel::Unsafe => ("badge status-fail", "Unsafe"),
                        };
                        view! {
                            <li class="review">
                                <span class=class>{label}</span>
                                {r.severity.map(|s| view! { " " <SeverityBadge severity=Some(s)/> })}
                                <span class="muted small">" · " {r.reviewer} " · " {r.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</span>
                                {(!r.issues.is_empty()).then(|| view! {
                                    <div class="chips">{r.issues.into_iter().map(|i| view! { <span class="chip mono">{i}</span> }).collect_view()}</div>
                                })}
                                {(!r.notes.is_empty()).then(|| view! { <p class="small">{r.notes}</p> })}
                                {r.corrected_output.map(|c| view! {
                                    <p class="small muted">"Corrected answer:"</p>
                                    <pre class="text-block small">{c}</pre>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
    }
}
