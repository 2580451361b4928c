//! Expert Review: the queue, one trace at a time beside what the tiers found, and the
//! expert's judgment, all from the keyboard. `j`/`k` move, `s`/`u` label, `1`–`4` set the
//! severity, `x` selects a trace for a batch and `a` selects every trace like the current one,
//! `Enter` submits (in the notes, `Ctrl+Enter`), `n` jumps to the notes, `Esc` leaves them.

use aegis_core::model::{ReviewLabel, Severity};
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::api::reviews::{review_cards, review_stats, ReviewCard, SubmitReviews};
use crate::components::{AppFrame, SeverityBadge};

const SEVERITIES: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

/// The reviewer's working state: where they are in the queue, and the verdict being made.
#[derive(Clone, Copy)]
struct Form {
    index: RwSignal<usize>,
    selected: RwSignal<Vec<Uuid>>,
    label: RwSignal<Option<ReviewLabel>>,
    severity: RwSignal<Option<Severity>>,
    issues: RwSignal<String>,
    notes: RwSignal<String>,
}

impl Form {
    fn clear(&self) {
        self.selected.set(Vec::new());
        self.label.set(None);
        self.severity.set(None);
        self.issues.set(String::new());
        self.notes.set(String::new());
    }
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let submit = ServerAction::<SubmitReviews>::new();
    let cards = Resource::new(move || submit.version().get(), |_| review_cards(None));
    let stats = Resource::new(move || submit.version().get(), |_| review_stats());
    let form = Form {
        index: RwSignal::new(0),
        selected: RwSignal::new(Vec::new()),
        label: RwSignal::new(None),
        severity: RwSignal::new(None),
        issues: RwSignal::new(String::new()),
        notes: RwSignal::new(String::new()),
    };
    // A verdict recorded: the queue reloads without those traces, the form starts afresh on
    // the trace that moved into the same place.
    Effect::new(move |_| {
        if let Some(Ok(_)) = submit.value().get() {
            form.clear();
        }
    });
    let send = move || {
        let list = cards.get_untracked().and_then(Result::ok).unwrap_or_default();
        let Some(label) = form.label.get_untracked() else { return };
        let mut ids = form.selected.get_untracked();
        if ids.is_empty() {
            ids.extend(list.get(form.index.get_untracked()).map(|c| c.item.trace_id));
        }
        if ids.is_empty() {
            return;
        }
        let issues =
            form.issues.get_untracked().split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        submit.dispatch(SubmitReviews {
            trace_ids: ids,
            label,
            severity: if label == ReviewLabel::Unsafe { form.severity.get_untracked() } else { None },
            issues,
            notes: form.notes.get_untracked(),
        });
    };
    keyboard(form, cards, send);

    view! {
        <Title text="Expert review"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Expert review"</h1>
                    <p class="muted">
                        "Traces the cascade could not settle, most urgent first. Keys: "
                        <kbd>"j"</kbd>"/"<kbd>"k"</kbd>" next/previous · "<kbd>"s"</kbd>" safe · "<kbd>"u"</kbd>" unsafe · "
                        <kbd>"1"</kbd>"–"<kbd>"4"</kbd>" severity · "<kbd>"x"</kbd>" select · "<kbd>"a"</kbd>" select similar · "
                        <kbd>"n"</kbd>" notes · "<kbd>"Enter"</kbd>" submit"
                    </p>
                </div>
                <Progress stats/>
            </header>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match cards.await {
                        Ok(list) if list.is_empty() => view! {
                            <section class="card" data-testid="review-empty"><p>"The queue is empty. Nothing waits for you."</p></section>
                        }.into_any(),
                        Ok(list) => view! { <Workspace list form submit send/> }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </AppFrame>
    }
}

/// The keys of the page; typing in a field is left alone except `Ctrl+Enter` and `Esc`.
#[allow(unused_variables)]
fn keyboard(form: Form, cards: Resource<Result<Vec<ReviewCard>, ServerFnError>>, send: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
                .unwrap_or(false);
            let key = ev.key();
            if typing {
                if key == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                    ev.prevent_default();
                    send();
                } else if key == "Escape" {
                    if let Some(el) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlElement>().ok()) {
                        let _ = el.blur();
                    }
                }
                return;
            }
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let list = cards.get_untracked().and_then(Result::ok).unwrap_or_default();
            let current = list.get(form.index.get_untracked()).cloned();
            match key.as_str() {
                "j" | "ArrowDown" => form.index.update(|i| *i = (*i + 1).min(list.len().saturating_sub(1))),
                "k" | "ArrowUp" => form.index.update(|i| *i = i.saturating_sub(1)),
                "s" => form.label.set(Some(ReviewLabel::Safe)),
                "u" => form.label.set(Some(ReviewLabel::Unsafe)),
                "1" | "2" | "3" | "4" => {
                    let n = key.parse::<usize>().unwrap_or(1);
                    form.label.set(Some(ReviewLabel::Unsafe));
                    form.severity.set(SEVERITIES.get(n - 1).copied());
                }
                "x" => {
                    if let Some(card) = current {
                        let id = card.item.trace_id;
                        form.selected.update(|s| {
                            if let Some(i) = s.iter().position(|x| *x == id) {
                                s.remove(i);
                            } else {
                                s.push(id);
                            }
                        });
                    }
                }
                "a" => {
                    if let Some(card) = current {
                        let kind = card.kind();
                        form.selected.set(list.iter().filter(|c| c.kind() == kind).map(|c| c.item.trace_id).collect());
                    }
                }
                "n" => {
                    if let Some(el) = leptos::prelude::document().get_element_by_id("review-notes") {
                        if let Ok(el) = el.dyn_into::<leptos::web_sys::HtmlElement>() {
                            let _ = el.focus();
                        }
                    }
                }
                "Enter" => send(),
                _ => return,
            }
            ev.prevent_default();
        });
        on_cleanup(move || handle.remove());
    }
}

#[component]
fn Progress(stats: Resource<Result<crate::api::reviews::ReviewFigures, ServerFnError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                stats.await.ok().map(|s| {
                    let mine = s.reviewers.iter().find(|r| r.reviewer == s.me).cloned();
                    let kappa = s.agreement.iter().filter_map(|a| a.kappa.map(|k| format!("{} κ {k:.2} ({} pairs)", a.domain, a.traces))).collect::<Vec<_>>();
                    view! {
                        <div class="review-progress" data-testid="review-progress">
                            <div><strong>{mine.as_ref().map(|m| m.today).unwrap_or(0)}</strong>" reviewed today"</div>
                            <div class="muted small">{mine.map(|m| m.total).unwrap_or(0)} " in all · " {s.reviewers.len()} " reviewers"</div>
                            {(!kappa.is_empty()).then(|| view! { <div class="muted small" data-testid="kappa">{kappa.join(" · ")}</div> })}
                        </div>
                    }
                })
            })}
        </Transition>
    }
}

#[component]
fn Workspace(
    list: Vec<ReviewCard>,
    form: Form,
    submit: ServerAction<SubmitReviews>,
    send: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let count = list.len();
    // The queue shrank under the cursor (a verdict, another reviewer): stay inside it.
    if form.index.get_untracked() >= count {
        form.index.set(count.saturating_sub(1));
    }
    let queue = list.clone();
    let current = move || list.get(form.index.get()).cloned();
    view! {
        <div class="review-layout">
            <aside class="card review-queue" data-testid="review-queue">
                <h2>{count} " waiting"</h2>
                <ol>
                    {queue.into_iter().enumerate().map(|(i, c)| {
                        let id = c.item.trace_id;
                        let kind = c.kind();
                        view! {
                            <li class:current=move || form.index.get() == i
                                class:selected=move || form.selected.with(|s| s.contains(&id))
                                data-trace-id=id.to_string()
                                on:click=move |_| form.index.set(i)>
                                <span class="mono small">{kind}</span>
                                <span class="muted small">{c.item.domain.clone().unwrap_or_default()} " · " {format!("{:.2}", c.item.priority)}</span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </aside>
            <div class="review-main">
                {move || current().map(|c| view! { <CardView card=c/> })}
                <section class="card review-form" data-testid="review-form">
                    <h2>
                        "Your judgment"
                        {move || {
                            let n = form.selected.with(Vec::len);
                            (n > 0).then(|| view! { <span class="chip" data-testid="batch-size">{n} " selected"</span> })
                        }}
                    </h2>
                    <div class="choices">
                        <button type="button" class="button" class:chosen=move || form.label.get() == Some(ReviewLabel::Safe)
                            data-testid="label-safe" on:click=move |_| form.label.set(Some(ReviewLabel::Safe))>"Safe " <kbd>"s"</kbd></button>
                        <button type="button" class="button" class:chosen=move || form.label.get() == Some(ReviewLabel::Unsafe)
                            data-testid="label-unsafe" on:click=move |_| form.label.set(Some(ReviewLabel::Unsafe))>"Unsafe " <kbd>"u"</kbd></button>
                        <span class="divider"></span>
                        {SEVERITIES.into_iter().enumerate().map(|(i, s)| view! {
                            <button type="button" class="button small" class:chosen=move || form.severity.get() == Some(s)
                                data-severity=s.as_str()
                                on:click=move |_| { form.label.set(Some(ReviewLabel::Unsafe)); form.severity.set(Some(s)); }>
                                {s.as_str()} " " <kbd>{(i + 1).to_string()}</kbd>
                            </button>
                        }).collect_view()}
                    </div>
                    <label>"Issue tags (comma-separated)"
                        <input type="text" placeholder="medication_overdose, missing_disclaimer" prop:value=move || form.issues.get()
                            on:input=move |e| form.issues.set(event_target_value(&e))/>
                    </label>
                    <label>"Notes"
                        <textarea id="review-notes" rows="3" placeholder="What is wrong, for whom, and what the answer should have said"
                            prop:value=move || form.notes.get() on:input=move |e| form.notes.set(event_target_value(&e))></textarea>
                    </label>
                    <button type="button" class="button primary" data-testid="submit-review"
                        disabled=move || form.label.get().is_none() || submit.pending().get()
                        on:click={ let send = send.clone(); move |_| send() }>
                        "Submit " <kbd>"Enter"</kbd>
                    </button>
                    {move || submit.value().get().map(|r| match r {
                        Ok(n) => view! { <span class="saved small" data-testid="review-saved">{format!(" Recorded {n}.")}</span> }.into_any(),
                        Err(e) => view! { <span class="error small">{crate::format::error(&e)}</span> }.into_any(),
                    })}
                </section>
            </div>
        </div>
    }
}

/// One trace: what it was asked, what it answered, and what the tiers found.
#[component]
fn CardView(card: ReviewCard) -> impl IntoView {
    view! {
        <section class="card review-card" data-testid="review-card" data-trace-id=card.item.trace_id.to_string()>
            <div class="card-title">
                <h2>{card.item.domain.clone().unwrap_or_else(|| "no domain".into())} <span class="muted small">" · " {card.application_id.clone()}</span></h2>
                <a class="small" href=format!("/traces/{}", card.item.trace_id)>"Open trace"</a>
            </div>
            <p class="notice small">"Why it is here: " {card.item.reason.clone()}
                {(card.item.reviews_needed > 1).then(|| view! { " · needs " {card.item.reviews_needed} " reviews (" {card.item.reviews} " so far)" })}</p>
            <div class="detail-grid">
                <div>
                    <h3>"Input"</h3>
                    <pre class="text-block">{card.input.clone()}</pre>
                    <h3>"Output"</h3>
                    <pre class="text-block" data-testid="review-output">{card.output.clone()}</pre>
                </div>
                <div>
                    <h3>"What the tiers found"</h3>
                    <p>{card.status.clone().unwrap_or_else(|| "not evaluated".into())} " " <SeverityBadge severity=card.severity/></p>
                    <ul class="issues">
                        {card.issues.into_iter().map(|i| view! {
                            <li class=format!("issue severity-border-{}", i.severity.as_str())>
                                <strong class="mono">{i.code}</strong> " " <SeverityBadge severity=Some(i.severity)/>
                                <p>{i.message}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            </div>
        </section>
    }
}
