use leptos::prelude::*;

use super::links::LinkCard;
use crate::api::{Login, ASK_FOR_CODE, WRONG_CODE};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login.value().get().and_then(|result| result.err()).map(|e| {
            let message = crate::format::error(&e);
            view! { <p class="form-error" role="alert">{message}</p> }
        })
    };
    // Two-factor accounts are asked for their code after the password checks out.
    let needs_code = move || {
        login.value().get().and_then(Result::err).is_some_and(|e| {
            let text = crate::format::error(&e);
            text.starts_with(ASK_FOR_CODE) || text.starts_with(WRONG_CODE)
        })
    };
    view! {
        <LinkCard title="Sign in">
            <p class="muted">"Evaluation for AI in high-stakes domains."</p>
            <ActionForm action=login>
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required/>
                <label for="password">"Password"</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required/>
                <Show when=needs_code>
                    <label for="code">"Authentication code"</label>
                    <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required autofocus/>
                </Show>
                {error}
                <button type="submit" class="button primary wide" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="small"><a href="/reset" data-testid="forgot">"Forgot your password?"</a></p>
        </LinkCard>
    }
}
