mod sinks;

use leptos::prelude::*;
use leptos_meta::Title;

use aegis_core::access::{Capability, Role};

use crate::api::{
    current_user, list_api_keys, list_users, load_phi_settings, my_sessions, totp_status, AddUser, ChangeUserRole,
    ConfirmTotp, CreateApiKey, DisableTotp, InviteUser, PhiSettings, RemoveUser, RevokeApiKey, RevokeSession,
    SavePhiSettings, SignOutElsewhere, SignedInUser, StartTotp,
};
use crate::components::AppFrame;

/// The signed-in user, fetched once for the page and awaited by each section.
type Me = Resource<Result<Option<SignedInUser>, ServerFnError>>;

/// Whether the signed-in user may do `what` (the server checks again; this hides controls).
async fn may(me: Me, what: Capability) -> bool {
    matches!(me.await, Ok(Some(u)) if u.may(what))
}

/// Fetches with `fetch` only for users who may do `what`; `None` for the rest, who never see
/// the section and so need not be refused by the server.
async fn if_allowed<T>(
    me: Me,
    what: Capability,
    fetch: impl std::future::Future<Output = Result<T, ServerFnError>>,
) -> Result<Option<T>, ServerFnError> {
    if may(me, what).await {
        fetch.await.map(Some)
    } else {
        Ok(None)
    }
}

fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}

/// The organization's settings, each section shown to the roles that may use it (the server
/// checks again). Every section is made here, at the top, with one `Transition` of its own:
/// sections made inside another `Transition` broke hydration now and then.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let me: Me = Resource::new(|| (), |_| current_user());
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
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let role = match me.await {
                            Ok(Some(u)) if !u.may(Capability::ManageKeys) => Some(u.role),
                            _ => None,
                        };
                        role.map(|role| view! {
                            <p class="notice" data-testid="role-notice">
                                "You are signed in as a " {role.as_str()} ". Keys, users and integrations are managed by the organization's owners and admins."
                            </p>
                        })
                    })}
                </Transition>
                <KeysSection me/>
                <UsersSection me/>
                <PhiPolicySection me/>
                <sinks::WebhooksSection me/>
                <sinks::AlertsSection me/>
                <TwoFactorSection/>
                <SessionsSection/>
            </div>
        </AppFrame>
    }
}

/// API keys: created (shown once), listed, revoked.
#[component]
fn KeysSection(me: Me) -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    // The list follows every creation and revocation.
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        move |_| if_allowed(me, Capability::ManageKeys, list_api_keys()),
    );

    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                let Some(keys) = keys.await.transpose() else { return ().into_any() };
                view! {
            <section class="card">
                <h2>"Create an API key"</h2>
                <ActionForm action=create>
                    <div class="filters inline">
                        <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="e.g. triage-bot production"/></label>
                        <label>
                            "Role"
                            <select name="role">
                                <option value="ingest" selected>"Ingest: send traces, read results"</option>
                                <option value="read">"Read: read-only"</option>
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
                    Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                })}
            </section>
            <section class="card">
                <h2>"Active keys"</h2>
                {move || revoke.value().get().and_then(Result::err).map(|e| view! { <p class="error">{crate::format::error(&e)}</p> })}
                {match keys {
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
                    Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                }}
            </section>
                }.into_any()
            })}
        </Transition>
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

/// Who can sign in to the organization's dashboard, and as what.
#[component]
fn UsersSection(me: Me) -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let invite = ServerAction::<InviteUser>::new();
    let change = ServerAction::<ChangeUserRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = Resource::new(
        move || (add.version().get(), change.version().get(), remove.version().get()),
        move |_| if_allowed(me, Capability::ManageUsers, list_users()),
    );
    let error = move || {
        [change.value().get(), remove.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .map(|e| view! { <p class="error small" data-testid="user-error">{crate::format::error(&e)}</p> })
    };
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                let Some(users) = users.await.transpose() else { return ().into_any() };
                let manage_owners = may(me, Capability::ManageOwners).await;
                view! {
        <section class="card" data-testid="users">
            <h2>"Users"</h2>
            <p class="muted small">
                "Owners and admins manage the organization; reviewers review answers and resolve alerts; viewers read. "
                "Only owners make or change owners, and an organization keeps at least one."
            </p>
            {error}
            {match users {
                Ok(users) => view! {
                    <table class="table compact">
                        <thead><tr><th>"Email"</th><th>"Role"</th><th>"Since (UTC)"</th><th></th></tr></thead>
                        <tbody>
                            {users.into_iter().map(|u| {
                                let editable = manage_owners || u.role != Role::Owner;
                                let id = u.id.to_string();
                                let remove_id = id.clone();
                                let email = u.email.clone();
                                view! {
                                    <tr data-user=email>
                                        <td>{u.email}</td>
                                        <td>
                                            {if editable {
                                                view! {
                                                    <ActionForm action=change>
                                                        <input type="hidden" name="id" value=id/>
                                                        <select name="role" aria-label="Role" onchange="this.form.requestSubmit()">{role_options(manage_owners, u.role)}</select>
                                                    </ActionForm>
                                                }.into_any()
                                            } else {
                                                view! { <span>{u.role.as_str()}</span> }.into_any()
                                            }}
                                        </td>
                                        <td class="mono">{u.created_at.format("%Y-%m-%d").to_string()}</td>
                                        <td>
                                            {editable.then(|| view! {
                                                <ActionForm action=remove>
                                                    <input type="hidden" name="id" value=remove_id/>
                                                    <button type="submit" class="button small danger">"Remove"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
            }}
            <ActionForm action=invite>
                <div class="filters inline add-user">
                    <label>"Invite by email" <input type="email" name="email" required placeholder="colleague@hospital.org"/></label>
                    <label>"Role" <select name="role">{role_options(manage_owners, Role::Viewer)}</select></label>
                    <button type="submit" class="button primary" data-testid="invite-user">"Send invitation"</button>
                </div>
            </ActionForm>
            {move || invite.value().get().map(|r| match r {
                Ok(sent) => view! { <p class="saved small" data-testid="invited">{sent}</p> }.into_any(),
                Err(e) => view! { <p class="error small">{crate::format::error(&e)}</p> }.into_any(),
            })}
            <details class="small">
            <summary>"No email? Add a user with a password"</summary>
            <ActionForm action=add>
                <div class="filters inline add-user">
                    <label>"Email" <input type="email" name="email" required placeholder="colleague@hospital.org"/></label>
                    <label>"Initial password" <input type="password" name="password" required minlength="8" autocomplete="new-password"/></label>
                    <label>"Role" <select name="role">{role_options(manage_owners, Role::Viewer)}</select></label>
                    <button type="submit" class="button" data-testid="add-user">"Add user"</button>
                </div>
            </ActionForm>
            {move || add.value().get().map(|r| match r {
                Ok(()) => view! { <p class="saved small">"Added. Share the password with them securely."</p> }.into_any(),
                Err(e) => view! { <p class="error small">{crate::format::error(&e)}</p> }.into_any(),
            })}
            </details>
        </section>
                }.into_any()
            })}
        </Transition>
    }
}

/// Two-factor sign-in for the signed-in user: set up with an authenticator app, or turned off.
#[component]
fn TwoFactorSection() -> impl IntoView {
    let start = ServerAction::<StartTotp>::new();
    let confirm = ServerAction::<ConfirmTotp>::new();
    let disable = ServerAction::<DisableTotp>::new();
    let status = Resource::new(move || (confirm.version().get(), disable.version().get()), |_| totp_status());
    let code_field = || {
        view! {
            <label>"Code from the app" <input name="code" inputmode="numeric" autocomplete="one-time-code" required data-testid="totp-code"/></label>
        }
    };
    view! {
        <section class="card" data-testid="two-factor">
            <h2>"Two-factor sign-in"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(true) => view! {
                            <p data-testid="totp-on">"On: signing in asks for a code from your authenticator app."</p>
                            <ActionForm action=disable>
                                <div class="filters inline">
                                    {code_field()}
                                    <button type="submit" class="button danger">"Turn off"</button>
                                </div>
                            </ActionForm>
                            {move || disable.value().get().and_then(Result::err).map(|e| view! { <p class="error small">{crate::format::error(&e)}</p> })}
                        }.into_any(),
                        Ok(false) => view! {
                            <p class="muted">"Off. With it on, signing in also asks for a code from an authenticator app (any RFC 6238 app)."</p>
                            <ActionForm action=start>
                                <button type="submit" class="button" data-testid="totp-start">"Set up"</button>
                            </ActionForm>
                            {move || start.value().get().map(|r| match r {
                                Ok((secret, uri)) => view! {
                                    <div class="notice">
                                        <p>"Add this key to your authenticator app, then enter the code it shows."</p>
                                        <code class="secret" data-testid="totp-secret">{secret}</code>
                                        <p class="small"><a href=uri.clone() data-testid="totp-uri">{uri.clone()}</a></p>
                                    </div>
                                    <ActionForm action=confirm>
                                        <div class="filters inline">
                                            {code_field()}
                                            <button type="submit" class="button primary" data-testid="totp-confirm">"Turn on"</button>
                                        </div>
                                    </ActionForm>
                                    {move || confirm.value().get().and_then(Result::err).map(|e| view! { <p class="error small">{crate::format::error(&e)}</p> })}
                                }.into_any(),
                                Err(e) => view! { <p class="error small">{crate::format::error(&e)}</p> }.into_any(),
                            })}
                        }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Where the signed-in user is signed in, with a way to end any of it.
#[component]
fn SessionsSection() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let elsewhere = ServerAction::<SignOutElsewhere>::new();
    let sessions = Resource::new(move || (revoke.version().get(), elsewhere.version().get()), |_| my_sessions());
    view! {
        <section class="card" data-testid="sessions">
            <h2>"Your sessions"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            <table class="table compact">
                                <thead><tr><th>"Browser"</th><th>"Signed in (UTC)"</th><th>"Expires (UTC)"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| { let row_id = s.id.clone(); view! {
                                        <tr data-session=row_id>
                                            <td class="wrap">{if s.user_agent.is_empty() { "unknown".to_string() } else { s.user_agent }}</td>
                                            <td class="mono nowrap">{s.created_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                            <td class="mono nowrap">{s.expires_at.format("%Y-%m-%d %H:%M").to_string()}</td>
                                            <td>
                                                {if s.current {
                                                    view! { <span class="muted small">"this session"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="id" value=s.id/>
                                                            <button type="submit" class="button small danger">"End"</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=elsewhere>
                <button type="submit" class="button" data-testid="sign-out-elsewhere">"Sign out everywhere else"</button>
            </ActionForm>
            {move || elsewhere.value().get().map(|r| match r {
                Ok(n) => view! { <p class="saved small">{format!("{n} other session{} ended.", if n == 1 { "" } else { "s" })}</p> }.into_any(),
                Err(e) => view! { <p class="error small">{crate::format::error(&e)}</p> }.into_any(),
            })}
        </section>
    }
}

/// The roles this user may give, `current` selected.
fn role_options(manage_owners: bool, current: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .filter(|r| manage_owners || *r != Role::Owner)
        .map(|r| view! { <option value=r.as_str() selected=r == current>{r.as_str()}</option> })
        .collect_view()
}

/// Which identifiers are scrubbed before anything is stored, and how.
#[component]
fn PhiPolicySection(me: Me) -> impl IntoView {
    let settings = Resource::new(|| (), move |_| if_allowed(me, Capability::ReadPhiPolicy, load_phi_settings()));
    view! {
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                let Some(settings) = settings.await.transpose() else { return ().into_any() };
                let editable = may(me, Capability::ManagePhiPolicy).await;
                view! {
                    <section class="card" data-testid="phi-policy">
                        <h2>"De-identification"</h2>
                        <p class="muted">
                            "The HIPAA Safe Harbor identifiers Aegis replaces with pseudonyms at the door, before a trace is stored. "
                            "Changes apply to traces received from now on and are recorded in the audit log."
                        </p>
                        {match settings {
                            Ok(s) => view! { <PhiPolicyForm settings=s editable/> }.into_any(),
                            Err(e) => view! { <p class="error">{crate::format::error(&e)}</p> }.into_any(),
                        }}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}

/// `HEALTH_PLAN` → `Health plan`.
fn type_label(name: &str) -> String {
    let lower = name.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[component]
fn PhiPolicyForm(settings: PhiSettings, editable: bool) -> impl IntoView {
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
            {(!editable).then(|| view! { <span class="muted small">"Owners and admins change the policy."</span> })}
            <button class="button primary" on:click=submit data-testid="save-phi" disabled=!editable>"Save policy"</button>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <span class="saved" data-testid="phi-saved">"Saved."</span> }.into_any(),
                Err(e) => view! { <span class="error">{crate::format::error(&e)}</span> }.into_any(),
            })}
        </div>
    }
}
