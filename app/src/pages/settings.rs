use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{list_api_keys, CreateApiKey, RevokeApiKey};
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
                    <p class="muted">"API keys let your applications send traces. A key is shown once, when it is created."</p>
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
                        <div class="notice" data-testid="new-key">
                            <p><strong>"Copy this key now."</strong> " It will not be shown again."</p>
                            <code class="secret">{secret}</code>
                        </div>
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
            </div>
        </AppFrame>
    }
}
