use leptos::prelude::*;

/// An SVG chart drawn by the server, with room kept while it loads.
#[component]
pub fn ChartFigure(svg: Resource<Result<String, ServerFnError>>, label: &'static str) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <div class="chart loading"></div> }>
            {move || Suspend::new(async move {
                match svg.await {
                    Ok(svg) => view! { <figure class="chart" aria-label=label data-testid="chart" inner_html=svg></figure> }.into_any(),
                    Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
