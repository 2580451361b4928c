mod sinks;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{
    list_api_keys, list_users, load_phi_settings, AddUser, CreateApiKey, PhiSettings, RevokeApiKey, SavePhiSettings,
};
use crate::components::AppFrame;

/// The organization's settings: API keys (created, shown once, revoked).
#[component]
pub fn SettingsPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    // The list follows every creation and revocation.
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());

    view! {
        <Title text="Settings"/>
        <AppFrame>
            <header class="page-header">
                <div>
                    <h1>"Settings"</h1>
                    <p class="muted">"API keys, users, de-identification, webhooks and alerts. Secrets are shown once, when they are created."</p>
                </div>
            </header>
            <div class="stack">
            <section class="card">
                <h2>"Create an API key"</h2>
                <ActionForm action=create>
                    <div class="filters inline">
                        <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="e.g. triage-bot production"/></label>
                        <label>
                            "Role"
                            <select name="role">
                                <option value="ingest" selected>"Ingest: send traces, read results"</option>
                                <option value="admin">"Admin: also manage the organization"</option>
                            </select>
                        </label>
                        <button type="submit" class="button" data-testid="create-key">"Create key"</button>
                    </div>
                </ActionForm>
                {move || create.value().get().map(|result| match result {
                    Ok(secret) => view! {
                        <SecretNotice secret testid="new-key" title="Copy this key now." note=" It will not be shown again."/>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })}
            </section>
            <section class="card">
                <h2>"Active keys"</h2>
                {move || revoke.value().get().and_then(Result::err).map(|e| view! { <p class="error">{e.to_string()}</p> })}
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match keys.await {
                            Ok(keys) if keys.is_empty() => view! { <p class="muted">"No active keys."</p> }.into_any(),
                            Ok(keys) => view! {
                                <table class="table" data-testid="api-keys">
                                    <thead><tr><th>"Name"</th><th>"Key"</th><th>"Role"</th><th>"Created (UTC)"</th><th></th></tr></thead>
                                    <tbody>
                                        {keys.into_iter().map(|k| { let name = k.name.clone(); view! {
                                            <tr data-key-name=name>
                                                <td>{k.name}</td>
                                                <td class="mono">{k.prefix} "…"</td>
                                                <td>{k.role}</td>
                                                <td class="mono nowrap">{k.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                                <td>
                                                    <ActionForm action=revoke>
                                                        <input type="hidden" name="id" value=k.id.to_string()/>
                                                        <button type="submit" class="button small danger">"Revoke"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <UsersSection/>
            <PhiPolicySection/>
            <sinks::WebhooksSection/>
            <sinks::AlertsSection/>
            </div>
        </AppFrame>
    }
}

/// A secret shown once, right after it was made.
#[component]
pub(crate) fn SecretNotice(
    secret: String,
    testid: &'static str,
    title: &'static str,
    note: &'static str,
) -> impl IntoView {
    view! {
        <div class="notice" data-testid=testid>
            <p><strong>{title}</strong> {note}</p>
            <code class="secret">{secret}</code>
        </div>
    }
}

/// Who can sign in to the organization's dashboard.
#[component]
fn UsersSection() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let users = Resource::new(move || add.version().get(), |_| list_users());
    view! {
        <section class="card" data-testid="users">
            <h2>"Users"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(users) => view! {
                            <table class="table compact">
                                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Since (UTC)"</th></tr></thead>
                                <tbody>
                                    {users.into_iter().map(|u| view! {
                                        <tr><td>{u.email}</td><td>{u.role}</td><td class="mono">{u.created_at.format("%Y-%m-%d").to_string()}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=add>
                <div class="filters inline add-user">
                    <label>"Email" <input type="email" name="email" required placeholder="colleague@hospital.org"/></label>
                    <label>"Initial password" <input type="password" name="password" required minlength="8" autocomplete="new-password"/></label>
                    <button type="submit" class="button" data-testid="add-user">"Add user"</button>
                </div>
            </ActionForm>
            {move || add.value().get().map(|r| match r {
                Ok(()) => view! { <p class="saved small">"Added. Share the password with them securely."</p> }.into_any(),
                Err(e) => view! { <p class="error small">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

/// Which identifiers are scrubbed before anything is stored, and how.
#[component]
fn PhiPolicySection() -> impl IntoView {
    let settings = Resource::new(|| (), |_| load_phi_settings());
    view! {
        <section class="card" data-testid="phi-policy">
            <h2>"De-identification"</h2>
            <p class="muted">
                "The HIPAA Safe Harbor identifiers Aegis replaces with pseudonyms at the door, before a trace is stored. "
                "Changes apply to traces received from now on and are recorded in the audit log."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(s) => view! { <PhiPolicyForm settings=s/> }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// `HEALTH_PLAN` → `Health plan`.
fn type_label(name: &str) -> String {
    let lower = name.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[component]
fn PhiPolicyForm(settings: PhiSettings) -> impl IntoView {
    let save = ServerAction::<SavePhiSettings>::new();
    let types = RwSignal::new(settings.types.clone());
    let surrogates = RwSignal::new(settings.surrogates);
    let date_shift = RwSignal::new(settings.date_shift);
    let allow = RwSignal::new(settings.allow.join("\n"));
    let deny = RwSignal::new(settings.deny.join("\n"));
    let available = settings.available.clone();
    let custom = settings.custom.clone();
    let lines = |text: String| text.lines().map(str::to_string).collect::<Vec<_>>();
    let submit = move |_| {
        save.dispatch(SavePhiSettings {
            settings: PhiSettings {
                available: Vec::new(),
                types: types.get_untracked(),
                surrogates: surrogates.get_untracked(),
                date_shift: date_shift.get_untracked(),
                allow: lines(allow.get_untracked()),
                deny: lines(deny.get_untracked()),
                custom: Vec::new(),
            },
        });
    };
    view! {
        <h3>"Identifier types"</h3>
        <div class="checks">
            {available.into_iter().map(|t| {
                let name = t.clone();
                let checked = move || types.with(|ts| ts.contains(&name));
                let toggle = {
                    let t = t.clone();
                    move |_| types.update(|ts| if let Some(i) = ts.iter().position(|x| *x == t) { ts.remove(i); } else { ts.push(t.clone()); })
                };
                view! {
                    <label><input type="checkbox" data-phi-type=t.clone() prop:checked=checked on:change=toggle/> {type_label(&t)}</label>
                }
            }).collect_view()}
        </div>
        <label class="check"><input type="checkbox" prop:checked=move || surrogates.get() on:change=move |_| surrogates.update(|v| *v = !*v)/> "Realistic stand-ins instead of tokens (names, phone numbers)"</label>
        <label class="check"><input type="checkbox" prop:checked=move || date_shift.get() on:change=move |_| date_shift.update(|v| *v = !*v)/> "Shift dates per patient instead of tokenizing them (expert determination only, not Safe Harbor)"</label>
        <div class="grid-2">
            <label>"Never scrub (one term per line)"
                <textarea rows="4" name="allow" prop:value=move || allow.get() on:input=move |e| allow.set(event_target_value(&e))></textarea>
            </label>
            <label>"Always scrub (one term per line)"
                <textarea rows="4" name="deny" prop:value=move || deny.get() on:input=move |e| deny.set(event_target_value(&e))></textarea>
            </label>
        </div>
        <p class="muted small">
            {if custom.is_empty() { "No custom recognizers.".to_string() } else { format!("Custom recognizers: {}.", custom.join(", ")) }}
            " Add your own formats with " <code>"PUT /api/v1/phi/policy"</code> "."
        </p>
        <div class="header-actions">
            <button class="button primary" on:click=submit data-testid="save-phi">"Save policy"</button>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <span class="saved" data-testid="phi-saved">"Saved."</span> }.into_any(),
                Err(e) => view! { <span class="error">{e.to_string()}</span> }.into_any(),
            })}
        </div>
    }
}
