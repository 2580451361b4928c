use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{domain_packs, DomainView, SwitchModule, UploadPack};
use crate::components::{AppFrame, SeverityBadge};

/// The loaded domain packs: what each checks at every tier, and when the cascade escalates.
#[component]
pub fn DomainsPage() -> impl IntoView {
    let packs = Resource::new(|| (), |_| domain_packs());
    view! {
        <Title text="Domains"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Domains"</h1>
                    <p class="muted">
                        "Each domain pack is a spec and its data under " <code>"domains/"</code>
                        ". Edit a pack, or create one with " <code>"aegis generate-domain NAME --spec FILE"</code>
                        "; packs reload without a restart."
                    </p>
                </div>
            </header>
            <NewPack packs/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match packs.await {
                        Ok(packs) => view! {
                            <div class="stack">
                                {packs.into_iter().map(|d| view! { <DomainCard d/> }).collect_view()}
                            </div>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

#[component]
fn DomainCard(d: DomainView) -> impl IntoView {
    let name = d.name.clone();
    let pack = d.name.clone();
    let aliases = (!d.aliases.is_empty()).then(|| format!("also routed from: {}", d.aliases.join(", ")));
    view! {
        <section class="card" data-domain=name>
            <div class="card-title">
                <h2>{d.title} <span class="muted small mono">" " {d.name} " v" {d.version}</span></h2>
                {(d.drugs > 0).then(|| view! { <span class="chip">{crate::format::count(d.drugs as i64)} " drug names"</span> })}
            </div>
            <p class="muted">{d.description}</p>
            <p class="muted small">{if d.own {
                "Your organization's: it runs for your traces and no one else's."
            } else if d.built_in {
                "Built into Aegis."
            } else {
                "Added to this installation's packs folder."
            }}</p>
            {aliases.map(|a| view! { <p class="muted small">{a}</p> })}
            <h3>"Tier 1 · rules"</h3>
            <table class="table compact">
                <thead><tr><th>"Rule"</th><th class="wide">"What it checks"</th><th>"Severity"</th><th>"On"</th></tr></thead>
                <tbody>
                    {d.rules.into_iter().map(|r| {
                        let toggle = if r.in_pack {
                            view! { <ModuleToggle domain=pack.clone() module=r.id.clone() enabled=r.enabled/> }.into_any()
                        } else {
                            view! { <span class="muted small">"off in the pack"</span> }.into_any()
                        };
                        view! {
                            <tr>
                                <td class="mono nowrap">{r.id}</td>
                                <td>{r.description}</td>
                                <td><SeverityBadge severity=Some(r.severity)/></td>
                                <td>{toggle}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <div class="grid-3">
                <div>
                    <h3>"Tier 2 · classifier"</h3>
                    {match d.classifier {
                        Some((version, flag, escalate)) => view! {
                            <p class="mono small">{version} " " <ModuleToggle domain=pack.clone() module="classifier".into() enabled=d.classifier_on/></p>
                            <p class="small">"Flags at risk ≥ " {format!("{flag:.2}")} "; escalates to the judge above " {format!("{escalate:.2}")} "."</p>
                        }.into_any(),
                        None => view! { <p class="muted small">"No classifier."</p> }.into_any(),
                    }}
                </div>
                <div>
                    <h3>"Tier 3 · LLM judge"</h3>
                    {match d.rubric {
                        Some(rubric) => view! {
                            <p class="small"><ModuleToggle domain=pack.clone() module="llm_judge".into() enabled=d.judge_on/></p>
                            <p class="small rubric">{rubric}</p>
                        }.into_any(),
                        None => view! { <p class="muted small">"No judge rubric."</p> }.into_any(),
                    }}
                </div>
                <div>
                    <h3>"Escalation"</h3>
                    <p class="small">
                        "Stops once a finding is " <SeverityBadge severity=Some(d.stop_at)/> " or worse; escalates from "
                        <SeverityBadge severity=Some(d.escalate_at)/> "."
                    </p>
                    <p class="small muted">
                        {if d.review_when_judge_unavailable { "Goes to expert review when the judge cannot run." } else { "Without a judge, Tier 2's verdict stands." }}
                    </p>
                </div>
            </div>
        </section>
    }
}

/// A switch for one module of a pack, for the signed-in user's organization.
#[component]
fn ModuleToggle(domain: String, module: String, enabled: bool) -> impl IntoView {
    let switch = ServerAction::<SwitchModule>::new();
    let on = RwSignal::new(enabled);
    let label = format!("{module} on for your organization");
    let title = label.clone();
    let testid = format!("{domain}/{module}");
    let flip = move |_| {
        let next = !on.get_untracked();
        on.set(next);
        switch.dispatch(SwitchModule { domain: domain.clone(), module: module.clone(), enabled: next });
    };
    view! {
        <label class="switch" title=title>
            <input type="checkbox" aria-label=label data-module=testid prop:checked=move || on.get() on:change=flip/>
            <span class="switch-track"></span>
        </label>
        {move || switch.value().get().and_then(Result::err).map(|e| view! { <span class="error small">{crate::format::error(&e)}</span> })}
    }
}

/// Generates a pack from a spec pasted or loaded from a file, and shows what was made.
#[component]
fn NewPack(packs: Resource<Result<Vec<DomainView>, ServerFnError>>) -> impl IntoView {
    let upload = ServerAction::<UploadPack>::new();
    let spec = RwSignal::new(String::new());
    Effect::new(move |_| {
        if matches!(upload.value().get(), Some(Ok(_))) {
            packs.refetch();
        }
    });
    view! {
        <details class="card new-pack">
            <summary><strong>"Add a domain pack"</strong> <span class="muted small">" from a generator spec (see domains/specs/cardiology.yaml)"</span></summary>
            <p class="muted small">
                "Aegis writes the pack's tables, judge prompt and seed set, trains its Tier 2 model, checks it and starts using it for every organization of this installation."
            </p>
            <textarea rows="10" name="spec" class="mono" placeholder="name: cardiology\ntitle: Cardiology\nkind: clinical\n…"
                prop:value=move || spec.get() on:input=move |e| spec.set(event_target_value(&e))></textarea>
            <div class="header-actions">
                <button class="button primary" data-testid="generate-pack" disabled=move || upload.pending().get()
                    on:click=move |_| { upload.dispatch(UploadPack { spec: spec.get_untracked() }); }>
                    {move || if upload.pending().get() { "Generating…" } else { "Generate pack" }}
                </button>
            </div>
            {move || upload.value().get().map(|r| match r {
                Ok(report) => view! { <pre class="text-block small" data-testid="pack-report">{report}</pre> }.into_any(),
                Err(e) => view! { <p class="error" data-testid="pack-error">{crate::format::error(&e)}</p> }.into_any(),
            })}
        </details>
    }
}
