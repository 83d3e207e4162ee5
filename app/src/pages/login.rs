//! Login: e-mail and password. Already logged in: straight to the PBX page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;

use crate::api;
use crate::frame::OrgCtx;

#[component]
pub fn LoginPage() -> impl IntoView {
    let org = OrgCtx::use_ctx();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let logged_in = Memo::new(move |_| org.me().is_some());
    let company = org.info().map(|i| i.name).unwrap_or_default();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (e, p) = (email.get_untracked(), password.get_untracked());
        if e.trim().is_empty() || p.is_empty() {
            error.set(Some("Enter your e-mail address and your password.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::login(&e, &p).await {
                Ok(me) => {
                    password.set(String::new());
                    org.set_me(Some(me));
                }
                Err(err) if err.is_status(401) => {
                    error.set(Some("Wrong e-mail address or password.".into()))
                }
                Err(err) if err.is_status(429) => {
                    let wait = err
                        .retry_after()
                        .map(|s| format!(" Try again in {} minute(s).", s.div_ceil(60)))
                        .unwrap_or_else(|| " Try again later.".into());
                    error.set(Some(format!("Too many failed attempts.{wait}")))
                }
                Err(err) => error.set(Some(err.message())),
            }
            busy.set(false);
        });
    };

    view! {
        <Show when=move || !logged_in.get() fallback=|| view! { <Redirect path="/"/> }>
            <div class="narrow card login">
                <h1>"Log in"</h1>
                <p class="muted">"Manage the phone system of " {company.trim_end_matches('.').to_owned()} "."</p>
                <form on:submit=submit novalidate>
                    <label for="login-email">"E-mail address"</label>
                    <input id="login-email" type="email" name="email" autocomplete="username" required
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))/>
                    <label for="login-password">"Password"</label>
                    <input id="login-password" type="password" name="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                    <p class="form-error" role="alert">{move || error.get()}</p>
                    <button type="submit" class="btn primary wide" disabled=move || busy.get()>
                        {move || if busy.get() { "Logging in…" } else { "Log in" }}
                    </button>
                </form>
                <p class="muted small">"Forgot your password? Ask your phone service provider to reset it."</p>
            </div>
        </Show>
    }
}
