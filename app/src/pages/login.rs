use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login.value().get().and_then(|result| result.err()).map(|e| {
            let message = e.to_string();
            let message = message.trim_start_matches("error running server function: ").to_string();
            view! { <p class="form-error" role="alert">{message}</p> }
        })
    };
    view! {
        <Title text="Sign in"/>
        <div class="centered login">
            <div class="card narrow">
                <div class="brand big">
                    <span class="brand-mark" aria-hidden="true">"◆"</span>
                    <span>"Aegis"</span>
                </div>
                <p class="muted">"Evaluation for AI in high-stakes domains."</p>
                <ActionForm action=login>
                    <label for="email">"Email"</label>
                    <input id="email" type="email" name="email" autocomplete="username" required/>
                    <label for="password">"Password"</label>
                    <input id="password" type="password" name="password" autocomplete="current-password" required/>
                    {error}
                    <button type="submit" class="button primary wide" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </div>
    }
}
