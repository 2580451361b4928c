//! The model registry: every Tier 2 version the organization trained, its metrics and stage,
//! retraining on demand, promotion and rollback.

use aegis_core::model::{ModelStage, RegisteredModel};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::models::{list_models, PromoteModel, RetrainModel};
use crate::components::AppFrame;
use crate::pages::DOMAINS;

#[component]
pub fn ModelsPage() -> impl IntoView {
    let retrain = ServerAction::<RetrainModel>::new();
    let promote = ServerAction::<PromoteModel>::new();
    let models = Resource::new(move || (retrain.version().get(), promote.version().get()), |_| list_models());
    view! {
        <Title text="Models"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Models"</h1>
                    <p class="muted">
                        "Tier 2 models retrained on your experts' reviews. A new version goes to production by itself only if it "
                        "beats production on the same held-out labels; otherwise it waits here. Promoting an archived version rolls back."
                    </p>
                </div>
                <div class="actions">
                    {DOMAINS.iter().map(|(name, title)| view! {
                        <button class="button" data-testid=format!("retrain-{name}") disabled=move || retrain.pending().get()
                            on:click=move |_| { retrain.dispatch(RetrainModel { domain: name.to_string() }); }>
                            "Retrain " {*title}
                        </button>
                    }).collect_view()}
                </div>
            </header>
            {move || retrain.pending().get().then(|| view! { <p class="muted">"Training…"</p> })}
            {move || retrain.value().get().map(|r| match r {
                Ok(text) => view! { <p class="notice small" data-testid="retrained">{text}</p> }.into_any(),
                Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
            })}
            <section class="card">
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match models.await {
                            Ok(list) if list.is_empty() => view! {
                                <p class="muted">"No retrained models yet: every domain uses its pack's model."</p>
                            }.into_any(),
                            Ok(list) => view! {
                                <table class="table" data-testid="models">
                                    <thead><tr><th>"Domain"</th><th>"Version"</th><th>"Stage"</th><th>"Accuracy"</th><th>"Precision"</th><th>"Recall"</th><th>"Labels"</th><th>"Reviews"</th><th></th></tr></thead>
                                    <tbody>{list.into_iter().map(|m| view! { <ModelRow m promote/> }).collect_view()}</tbody>
                                </table>
                            }.into_any(),
                            Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </AppFrame>
    }
}

#[component]
fn ModelRow(m: RegisteredModel, promote: ServerAction<PromoteModel>) -> impl IntoView {
    let metric =
        |name: &str| m.metrics.get(name).and_then(|v| v.as_f64()).map(|v| format!("{v:.3}")).unwrap_or_default();
    let (class, label) = match m.stage {
        ModelStage::Production => ("badge status-pass", "Production"),
        ModelStage::Staging => ("badge status-needs_review", "Staging"),
        ModelStage::Archived => ("badge status-queued", "Archived"),
    };
    let id = m.id.clone();
    let labels = m.metrics.get("training_size").and_then(|v| v.as_u64()).unwrap_or(0)
        + m.metrics.get("held_out_size").and_then(|v| v.as_u64()).unwrap_or(0);
    view! {
        <tr data-model=m.version.clone() title=m.note.clone()>
            <td>{m.domain.clone()}</td>
            <td class="mono">{m.version.clone()}</td>
            <td><span class=class>{label}</span></td>
            <td class="num">{metric("accuracy")}</td>
            <td class="num">{metric("precision")}</td>
            <td class="num">{metric("recall")}</td>
            <td class="num">{labels}</td>
            <td class="num">{m.reviews_used}</td>
            <td>{(m.stage != ModelStage::Production).then(|| view! {
                <button class="button small" on:click=move |_| { promote.dispatch(PromoteModel { id: id.clone() }); }>
                    {if m.stage == ModelStage::Archived { "Roll back to" } else { "Promote" }}
                </button>
            })}</td>
        </tr>
    }
}
