//! The pages behind emailed one-time links: joining through an invitation, and resetting a
//! forgotten password. None of them needs a session; the link's token is the credential.

use aegis_core::model::LinkKind;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{pending_link, AcceptInvite, RequestPasswordReset, ResetPassword};

/// The centred card of the pages a visitor sees signed out: sign-in, invitations, resets.
#[component]
pub(crate) fn LinkCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Title text=title/>
        <div class="centered login">
            <div class="card narrow">
                <div class="brand big">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    <span>"Aegis"</span>
                </div>
                {children()}
            </div>
        </div>
    }
}

/// `/invite/:token`: choose a password and join.
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let details = Resource::new(token, |token| pending_link(LinkKind::Invite, token));
    let accept = ServerAction::<AcceptInvite>::new();
    view! {
        <LinkCard title="Join your team">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! {
                            <p data-testid="invite-for">
                                "Join " <strong>{d.organization}</strong> " as " <strong>{d.role.as_str()}</strong>
                                " with " {d.email.clone()} "."
                            </p>
                            <ActionForm action=accept>
                                <input type="hidden" name="token" value=token()/>
                                <input type="email" autocomplete="username" value=d.email hidden/>
                                <label for="password">"Choose a password (8 characters or more)"</label>
                                <input id="password" type="password" name="password" autocomplete="new-password" minlength="8" required/>
                                {move || accept.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{crate::format::error(&e)}</p> })}
                                <button type="submit" class="button primary wide">"Join"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert" data-testid="link-error">{crate::format::error(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </LinkCard>
    }
}

/// `/reset`: ask for a reset link.
#[component]
pub fn ResetRequestPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    view! {
        <LinkCard title="Reset your password">
            <p class="muted">"We will email you a link to choose a new password."</p>
            <ActionForm action=request>
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required/>
                {move || request.value().get().map(|r| match r {
                    Ok(()) => view! {
                        <p class="saved" data-testid="reset-sent">"If this email has an account, a link is on its way. It works for an hour."</p>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{crate::format::error(&e)}</p> }.into_any(),
                })}
                <button type="submit" class="button primary wide">"Send the link"</button>
            </ActionForm>
            <p class="small"><a href="/login">"Back to sign in"</a></p>
        </LinkCard>
    }
}

/// `/reset/:token`: choose the new password.
#[component]
pub fn ResetPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let details = Resource::new(token, |token| pending_link(LinkKind::Reset, token));
    let reset = ServerAction::<ResetPassword>::new();
    view! {
        <LinkCard title="Choose a new password">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! {
                            <p>"A new password for " <strong>{d.email.clone()}</strong> ". Every other session of this account will end."</p>
                            <ActionForm action=reset>
                                <input type="hidden" name="token" value=token()/>
                                <input type="email" autocomplete="username" value=d.email hidden/>
                                <label for="password">"New password (8 characters or more)"</label>
                                <input id="password" type="password" name="password" autocomplete="new-password" minlength="8" required/>
                                {move || reset.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{crate::format::error(&e)}</p> })}
                                <button type="submit" class="button primary wide">"Set the password"</button>
                            </ActionForm>
                        }.into_any(),
                        Err(e) => view! {
                            <p class="form-error" role="alert" data-testid="link-error">{crate::format::error(&e)}</p>
                            <p class="small"><a href="/reset">"Ask for a new link"</a></p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </LinkCard>
    }
}
