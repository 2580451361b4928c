//! The Settings page's webhooks and alerts: endpoints with their delivery logs, alert
//! channels, alert rules, and the latest alerts.

use aegis_core::model::{AlertStatus, ChannelTarget, Delivery, DeliveryStatus, EventType, Severity, WebhookEndpoint};
use leptos::prelude::*;

use aegis_core::access::Capability;

use super::{if_allowed, loading, may, Me, SecretNotice};

use crate::api::sinks::{
    alert_setup, list_webhooks, webhook_deliveries, CreateAlertChannel, CreateAlertRule, CreateWebhook,
    DeleteAlertChannel, DeleteAlertRule, DeleteWebhook, ReplayDelivery, ResolveAlert, RotateWebhook, SwitchWebhook,
    TestWebhook,
};

/// Events a new endpoint subscribes to unless unticked.
const DEFAULT_EVENTS: [EventType; 2] = [EventType::EvaluationFailed, EventType::AlertTriggered];

fn error_view(e: ServerFnError) -> AnyView {
    view! { <p class="error small">{crate::format::error(&e)}</p> }.into_any()
}

#[component]
pub fn WebhooksSection(me: Me) -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let switch = ServerAction::<SwitchWebhook>::new();
    let rotate = ServerAction::<RotateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let endpoints = Resource::new(
        move || (create.version().get(), switch.version().get(), delete.version().get()),
        move |_| if_allowed(me, Capability::ReadIntegrations, list_webhooks()),
    );
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let events = RwSignal::new(DEFAULT_EVENTS.to_vec());
    // A created endpoint clears the form for the next one.
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            url.set(String::new());
            description.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateWebhook {
            url: url.get_untracked(),
            events: events.get_untracked(),
            description: description.get_untracked(),
        });
    };
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                let Some(endpoints) = endpoints.await.transpose() else { return ().into_any() };
                view! {
        <section class="card" data-testid="webhooks">
            <h2>"Webhooks"</h2>
            <p class="muted">
                "Aegis POSTs each event as JSON, signed per the Standard Webhooks spec (headers webhook-id, "
                "webhook-timestamp, webhook-signature). Failed deliveries are retried with backoff for three days."
            </p>
            <form on:submit=submit class="stack-form">
                <div class="filters inline">
                    <label class="grow">"Endpoint URL"
                        <input type="url" required placeholder="https://example.com/aegis/webhooks" data-testid="webhook-url"
                            prop:value=url on:input=move |e| url.set(event_target_value(&e))/>
                    </label>
                    <label>"Description"
                        <input type="text" maxlength="500" placeholder="optional" prop:value=description
                            on:input=move |e| description.set(event_target_value(&e))/>
                    </label>
                </div>
                <div class="checks">
                    {EventType::ALL.into_iter().filter(|t| *t != EventType::WebhookTest).map(|t| {
                        let checked = move || events.with(|es| es.contains(&t));
                        let toggle = move |_| events.update(|es| if let Some(i) = es.iter().position(|x| *x == t) { es.remove(i); } else { es.push(t); });
                        view! { <label><input type="checkbox" data-event=t.as_str() prop:checked=checked on:change=toggle/> <span class="mono">{t.as_str()}</span></label> }
                    }).collect_view()}
                </div>
                <button type="submit" class="button" data-testid="create-webhook">"Add endpoint"</button>
            </form>
            {move || create.value().get().map(|r| match r {
                Ok(secret) => view! {
                    <SecretNotice secret testid="webhook-secret" title="Copy this signing secret now." note=" It will not be shown again."/>
                }.into_any(),
                Err(e) => error_view(e),
            })}
            {move || rotate.value().get().map(|r| match r {
                Ok(secret) => view! {
                    <SecretNotice secret testid="webhook-rotated" title="The new signing secret." note=" The old one keeps signing beside it for 24 hours."/>
                }.into_any(),
                Err(e) => error_view(e),
            })}
            {move || test.value().get().map(|r| match r {
                Ok(()) => view! { <p class="saved small">"A webhook.test event is on its way."</p> }.into_any(),
                Err(e) => error_view(e),
            })}
            {match endpoints {
                Ok(list) if list.is_empty() => view! { <p class="muted">"No endpoints yet."</p> }.into_any(),
                Ok(list) => view! {
                    <table class="table" data-testid="webhook-list">
                        <thead><tr><th>"Endpoint"</th><th>"Events"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| view! { <EndpointRow endpoint=e switch rotate delete test/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => error_view(e),
            }}
        </section>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn EndpointRow(
    endpoint: WebhookEndpoint,
    switch: ServerAction<SwitchWebhook>,
    rotate: ServerAction<RotateWebhook>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let id = endpoint.id.clone();
    let enabled = endpoint.enabled;
    let (id_switch, id_rotate, id_delete, id_test) = (id.clone(), id.clone(), id.clone(), id.clone());
    view! {
        <tr data-endpoint=endpoint.url.clone()>
            <td>
                <div class="mono">{endpoint.url.clone()}</div>
                <div class="muted small">{endpoint.description.clone()}</div>
            </td>
            <td><div class="chips">{endpoint.events.iter().map(|e| view! { <span class="chip mono">{e.as_str()}</span> }).collect_view()}</div></td>
            <td>
                {if enabled {
                    view! { <span class="badge status-pass">"Active"</span> }.into_any()
                } else {
                    view! {
                        <span class="badge status-error">"Disabled"</span>
                        <div class="muted small">{endpoint.disabled_reason.clone()}</div>
                    }.into_any()
                }}
            </td>
            <td class="actions nowrap">
                <button class="button small" on:click=move |_| open.update(|o| *o = !*o) data-testid="show-deliveries">
                    {move || if open.get() { "Hide deliveries" } else { "Deliveries" }}
                </button>
                <button class="button small" on:click=move |_| { test.dispatch(TestWebhook { id: id_test.clone() }); }>"Send test"</button>
                <button class="button small" on:click=move |_| { switch.dispatch(SwitchWebhook { id: id_switch.clone(), enabled: !enabled }); }>
                    {if enabled { "Disable" } else { "Enable" }}
                </button>
                <button class="button small" on:click=move |_| { rotate.dispatch(RotateWebhook { id: id_rotate.clone() }); }>"Rotate secret"</button>
                <button class="button small danger" on:click=move |_| { delete.dispatch(DeleteWebhook { id: id_delete.clone() }); }>"Delete"</button>
            </td>
        </tr>
        <Show when=move || open.get()>
            <tr class="detail-row"><td colspan="4"><DeliveryLog endpoint=id.clone()/></td></tr>
        </Show>
    }
}

/// The latest deliveries to one endpoint, each replayable.
#[component]
fn DeliveryLog(endpoint: String) -> impl IntoView {
    let replay = ServerAction::<ReplayDelivery>::new();
    let id = endpoint.clone();
    let deliveries = Resource::new(move || replay.version().get(), move |_| webhook_deliveries(id.clone()));
    view! {
        <div data-testid="deliveries">
            {move || replay.value().get().and_then(Result::err).map(error_view)}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let endpoint = endpoint.clone();
                    Suspend::new(async move {
                        match deliveries.await {
                            Ok(list) if list.is_empty() => view! { <p class="muted small">"Nothing sent yet."</p> }.into_any(),
                            Ok(list) => view! {
                                <table class="table compact">
                                    <thead><tr><th>"Sent (UTC)"</th><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Last answer"</th><th></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|d| view! { <DeliveryRow delivery=d endpoint=endpoint.clone() replay/> }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                            Err(e) => error_view(e),
                        }
                    })
                }}
            </Transition>
        </div>
    }
}

#[component]
fn DeliveryRow(delivery: Delivery, endpoint: String, replay: ServerAction<ReplayDelivery>) -> impl IntoView {
    let (class, label) = match delivery.status {
        DeliveryStatus::Delivered => ("badge status-pass", "Delivered"),
        DeliveryStatus::Pending => ("badge status-needs_review", "Retrying"),
        DeliveryStatus::Failed => ("badge status-fail", "Failed"),
    };
    let answer = match (delivery.last_status_code, delivery.last_error.clone()) {
        (_, Some(error)) => error,
        (Some(code), None) => format!("HTTP {code}"),
        (None, None) => "—".into(),
    };
    let id = delivery.id.clone();
    view! {
        <tr data-delivery=delivery.id.clone()>
            <td class="mono nowrap">{delivery.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
            <td class="mono">{delivery.event_type.as_str()}</td>
            <td><span class=class>{label}</span></td>
            <td>{delivery.attempts}</td>
            <td class="small">{answer}</td>
            <td><button class="button small" on:click=move |_| { replay.dispatch(ReplayDelivery { endpoint: endpoint.clone(), id: id.clone() }); }>"Replay"</button></td>
        </tr>
    }
}

#[component]
pub fn AlertsSection(me: Me) -> impl IntoView {
    let add_channel = ServerAction::<CreateAlertChannel>::new();
    let remove_channel = ServerAction::<DeleteAlertChannel>::new();
    let add_rule = ServerAction::<CreateAlertRule>::new();
    let remove_rule = ServerAction::<DeleteAlertRule>::new();
    let resolve = ServerAction::<ResolveAlert>::new();
    let setup = Resource::new(
        move || {
            (
                add_channel.version().get(),
                remove_channel.version().get(),
                add_rule.version().get(),
                remove_rule.version().get(),
                resolve.version().get(),
            )
        },
        move |_| if_allowed(me, Capability::ReadAlerts, alert_setup()),
    );
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                let Some(setup) = setup.await.transpose() else { return ().into_any() };
                let manage = may(me, Capability::ManageIntegrations).await;
                let resolvable = may(me, Capability::ResolveAlerts).await;
                view! {
                    <section class="card" data-testid="alerts">
                        <h2>"Alerts"</h2>
                        <p class="muted">
                            "A rule sends an alert to its channels when an evaluation finds an issue at or above its severity. "
                            "Identical alerts inside the cooldown are grouped into one, with the count."
                        </p>
                        {match setup {
                            Ok(s) => view! {
                                <h3>"Channels"</h3>
                                <ChannelList channels=s.channels.clone() remove=remove_channel manage/>
                                {manage.then(|| view! { <ChannelForm add=add_channel email_available=s.email_available/> })}
                                <h3>"Rules"</h3>
                                <RuleList rules=s.rules.clone() channels=s.channels.clone() remove=remove_rule manage/>
                                {manage.then(|| view! { <RuleForm add=add_rule channels=s.channels.clone()/> })}
                                <h3>"Latest alerts"</h3>
                                <AlertList alerts=s.alerts resolve resolvable/>
                            }.into_any(),
                            Err(e) => error_view(e),
                        }}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn ChannelList(
    channels: Vec<aegis_core::model::AlertChannel>,
    remove: ServerAction<DeleteAlertChannel>,
    manage: bool,
) -> impl IntoView {
    if channels.is_empty() {
        return view! { <p class="muted small">"No channels yet."</p> }.into_any();
    }
    view! {
        <table class="table compact" data-testid="channel-list">
            <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Sends to"</th><th></th></tr></thead>
            <tbody>
                {channels.into_iter().map(|c| {
                    let (kind, address) = match &c.target {
                        ChannelTarget::Slack { webhook_url } => ("Slack", webhook_url.clone()),
                        ChannelTarget::Email { to } => ("Email", to.join(", ")),
                        ChannelTarget::PagerDuty { routing_key } => ("PagerDuty", format!("routing key {routing_key}")),
                    };
                    let id = c.id.clone();
                    let (name, label) = (c.name.clone(), c.name.clone());
                    view! {
                        <tr data-channel=name>
                            <td>{label}</td>
                            <td>{kind}</td>
                            <td class="mono small">{address}</td>
                            <td>{manage.then(|| view! { <button class="button small danger" on:click=move |_| { remove.dispatch(DeleteAlertChannel { id: id.clone() }); }>"Delete"</button> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ChannelForm(add: ServerAction<CreateAlertChannel>, email_available: bool) -> impl IntoView {
    let kind = RwSignal::new("slack".to_string());
    let placeholder = move || match kind.get().as_str() {
        "slack" => "https://hooks.slack.com/services/…",
        "email" => "oncall@hospital.org, safety@hospital.org",
        _ => "32-character Events API v2 integration key",
    };
    view! {
        <ActionForm action=add>
            <div class="filters inline">
                <label>"Name" <input type="text" name="name" required maxlength="200" placeholder="#clinical-safety"/></label>
                <label>"Kind"
                    <select name="kind" on:change=move |e| kind.set(event_target_value(&e)) data-testid="channel-kind">
                        <option value="slack">"Slack"</option>
                        <option value="email" disabled=!email_available>{if email_available { "Email" } else { "Email (no SMTP server configured)" }}</option>
                        <option value="pagerduty">"PagerDuty"</option>
                    </select>
                </label>
                <label class="grow">"Address" <input type="text" name="address" required placeholder=placeholder data-testid="channel-address"/></label>
                <button type="submit" class="button" data-testid="add-channel">"Add channel"</button>
            </div>
        </ActionForm>
        {move || add.value().get().and_then(Result::err).map(error_view)}
    }
}

#[component]
fn RuleList(
    rules: Vec<aegis_core::model::AlertRule>,
    channels: Vec<aegis_core::model::AlertChannel>,
    remove: ServerAction<DeleteAlertRule>,
    manage: bool,
) -> impl IntoView {
    if rules.is_empty() {
        return view! { <p class="muted small">"No rules yet."</p> }.into_any();
    }
    let any = |list: &[String]| if list.is_empty() { "any".to_string() } else { list.join(", ") };
    view! {
        <table class="table compact" data-testid="rule-list">
            <thead><tr><th>"Rule"</th><th>"At least"</th><th>"Domains"</th><th>"Issue types"</th><th>"Channels"</th><th>"Cooldown"</th><th></th></tr></thead>
            <tbody>
                {rules.into_iter().map(|r| {
                    let names: Vec<String> = r.channels.iter()
                        .map(|id| channels.iter().find(|c| &c.id == id).map(|c| c.name.clone()).unwrap_or_else(|| "(deleted)".into()))
                        .collect();
                    let id = r.id.clone();
                    view! {
                        <tr data-rule=r.name.clone()>
                            <td>{r.name.clone()}</td>
                            <td><span class=format!("severity severity-{}", r.min_severity.as_str())>{r.min_severity.as_str()}</span></td>
                            <td>{any(&r.domains)}</td>
                            <td class="mono small">{any(&r.issue_types)}</td>
                            <td>{names.join(", ")}</td>
                            <td class="nowrap">{format!("{} min", r.cooldown_secs / 60)}</td>
                            <td>{manage.then(|| view! { <button class="button small danger" on:click=move |_| { remove.dispatch(DeleteAlertRule { id: id.clone() }); }>"Delete"</button> })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RuleForm(add: ServerAction<CreateAlertRule>, channels: Vec<aegis_core::model::AlertChannel>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let severity = RwSignal::new(Severity::High);
    let domains = RwSignal::new(String::new());
    let issue_types = RwSignal::new(String::new());
    let cooldown_min = RwSignal::new(5u64);
    let chosen = RwSignal::new(Vec::<String>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(CreateAlertRule {
            name: name.get_untracked(),
            min_severity: severity.get_untracked(),
            domains: domains.get_untracked(),
            issue_types: issue_types.get_untracked(),
            channels: chosen.get_untracked(),
            cooldown_secs: cooldown_min.get_untracked() * 60,
        });
    };
    if channels.is_empty() {
        return view! { <p class="muted small">"Add a channel first; a rule sends to one or more channels."</p> }
            .into_any();
    }
    view! {
        <form on:submit=submit>
            <div class="filters inline">
                <label>"Name" <input type="text" required maxlength="200" placeholder="Medication errors" data-testid="rule-name"
                    prop:value=name on:input=move |e| name.set(event_target_value(&e))/></label>
                <label>"At least"
                    <select on:change=move |e| if let Some(s) = Severity::parse(&event_target_value(&e)) { severity.set(s) }>
                        {[Severity::Low, Severity::Medium, Severity::High, Severity::Critical].into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s == Severity::High>{s.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Domains" <input type="text" placeholder="any, or healthcare, trading" prop:value=domains
                    on:input=move |e| domains.set(event_target_value(&e))/></label>
                <label>"Issue types" <input type="text" placeholder="any, or medication_overdose, …" prop:value=issue_types
                    on:input=move |e| issue_types.set(event_target_value(&e))/></label>
                <label>"Cooldown (min)" <input type="number" min="0" max="10080" prop:value=move || cooldown_min.get().to_string()
                    on:input=move |e| cooldown_min.set(event_target_value(&e).parse().unwrap_or(5))/></label>
            </div>
            <div class="checks">
                {channels.into_iter().map(|c| {
                    let id = c.id.clone();
                    let checked = { let id = id.clone(); move || chosen.with(|ids| ids.contains(&id)) };
                    let toggle = move |_| chosen.update(|ids| if let Some(i) = ids.iter().position(|x| *x == id) { ids.remove(i); } else { ids.push(id.clone()); });
                    let (name, label) = (c.name.clone(), c.name);
                    view! { <label><input type="checkbox" data-rule-channel=name prop:checked=checked on:change=toggle/> {label}</label> }
                }).collect_view()}
            </div>
            <button type="submit" class="button" data-testid="add-rule">"Add rule"</button>
        </form>
        {move || add.value().get().and_then(Result::err).map(error_view)}
    }
    .into_any()
}

#[component]
fn AlertList(
    alerts: Vec<aegis_core::model::Alert>,
    resolve: ServerAction<ResolveAlert>,
    resolvable: bool,
) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="muted small">"No alerts yet."</p> }.into_any();
    }
    view! {
        <table class="table compact" data-testid="alert-list">
            <thead><tr><th>"When (UTC)"</th><th>"Alert"</th><th>"Grouped"</th><th>"Status"</th><th></th></tr></thead>
            <tbody>
                {alerts.into_iter().map(|a| {
                    let id = a.id.clone();
                    let triggered = a.status == AlertStatus::Triggered;
                    view! {
                        <tr>
                            <td class="mono nowrap">{a.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
                            <td>
                                <span class=format!("severity severity-{}", a.severity.as_str())>{a.severity.as_str()}</span>
                                " " <span class="mono">{a.issue_type.clone()}</span>
                                <div class="small">{a.summary.clone()}</div>
                                <a class="small" href=format!("/traces/{}", a.trace_id)>"Open trace"</a>
                            </td>
                            <td>{if a.grouped > 0 { format!("+{}", a.grouped) } else { "—".into() }}</td>
                            <td>{if triggered {
                                view! { <span class="badge status-fail">"Triggered"</span> }.into_any()
                            } else {
                                view! { <span class="badge status-pass">"Resolved"</span> }.into_any()
                            }}</td>
                            <td>{(triggered && resolvable).then(|| view! {
                                <button class="button small" on:click=move |_| { resolve.dispatch(ResolveAlert { id: id.clone() }); }>"Resolve"</button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
