//! Accepting an invitation (`/invite/<token>`): the new admin chooses a password and is logged in.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api;
use crate::frame::OrgCtx;

const MIN_PASSWORD: usize = 10;

#[component]
pub fn InvitePage() -> impl IntoView {
    let org = OrgCtx::use_ctx();
    let params = use_params_map();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let company = org.info().map(|i| i.name).unwrap_or_default();

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let token = params.with_untracked(|p| p.get("token").unwrap_or_default());
        let (p, a) = (password.get_untracked(), again.get_untracked());
        if p.chars().count() < MIN_PASSWORD {
            error.set(Some(format!(
                "Choose a password of at least {MIN_PASSWORD} characters."
            )));
            return;
        }
        if p != a {
            error.set(Some("The two passwords are not the same.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::accept_invite(&token, &p).await {
                Ok(me) => {
                    org.set_me(Some(me));
                    navigate("/", Default::default());
                }
                Err(e) if e.is_status(404) || e.is_status(410) => error.set(Some(
                    "This invitation is not valid any more (it was used or has expired). \
                     Ask your phone service provider for a new one."
                        .into(),
                )),
                Err(e) => error.set(Some(
                    e.field_message(None, "password")
                        .unwrap_or_else(|| e.message()),
                )),
            }
            busy.set(false);
        });
    };

    view! {
        <div class="narrow card login">
            <h1>"Welcome"</h1>
            <p>"You were invited to manage the phone system of " <strong>{company}</strong> ". Choose your password to start."</p>
            <form on:submit=submit novalidate>
                <label for="invite-password">"New password (at least 10 characters)"</label>
                <input id="invite-password" type="password" autocomplete="new-password" minlength="10" required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
                <label for="invite-again">"The same password again"</label>
                <input id="invite-again" type="password" autocomplete="new-password" required
                    prop:value=move || again.get()
                    on:input=move |ev| again.set(event_target_value(&ev))/>
                <p class="form-error" role="alert">{move || error.get()}</p>
                <button type="submit" class="btn primary wide" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else { "Set password and log in" }}
                </button>
            </form>
        </div>
    }
}
