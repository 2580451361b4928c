use aegis_core::model::Metric;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{chart, TimeRange};
use crate::components::{AppFrame, ChartFigure};
use crate::pages::overview::RangeForm;

/// Every metric over time, drawn on the server; the range and domain are in the URL, and the
/// page prints one chart per block.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let query = use_query_map();
    let range = move || TimeRange::parse(query.with(|q| q.get("range")).as_deref());
    let domain = move || query.with(|q| q.get("domain").filter(|d| !d.is_empty()));
    view! {
        <Title text="Analytics"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Analytics"</h1>
                    <p class="muted">"Volume, pass rate, cost per tier, latency and issues over time (UTC)."</p>
                </div>
                <RangeForm range domain/>
            </header>
            <div class="charts">
                {Metric::ALL.into_iter().map(|metric| {
                    let svg = Resource::new(move || (range(), domain()), move |(r, d)| chart(metric, r, d));
                    view! {
                        <section class="card chart-card" data-metric=metric.as_str()>
                            <h2>{metric.title()}</h2>
                            <ChartFigure svg label=metric.title()/>
                        </section>
                    }
                }).collect_view()}
            </div>
        </AppFrame>
    }
}
