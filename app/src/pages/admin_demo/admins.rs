//! An organization's admins: the list, and creating one with a password or an invitation link.

use api_types::provider::{AdminCreate, AdminView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{fail, input, note_view, opt, Note};
use crate::api::provider as api;
use crate::components::{Secret, SecretBox};

#[component]
pub fn Admins(key: RwSignal<String>, slug: String) -> impl IntoView {
    let admins = RwSignal::new(Vec::<AdminView>::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let note: Note = RwSignal::new(None);
    let invite = RwSignal::new(None::<Secret>);
    let slug = StoredValue::new(slug);
    let load = move || {
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::admins(&k, &s).await {
                Ok(list) => admins.set(list),
                Err(e) => fail(note, &e),
            }
        });
    };
    load();
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = AdminCreate {
            email: email.get_untracked().trim().to_owned(),
            password: opt(&password.get_untracked()),
        };
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::create_admin(&k, &s, &body).await {
                Ok(created) => {
                    note.set(Some(Ok(format!("Admin {} created.", created.admin.email))));
                    if let Some(url) = created.invite_url {
                        invite.set(Some(Secret {
                            title: format!("Invitation for {}", created.admin.email),
                            lines: vec![("Link (7 days, works once)".into(), url)],
                        }));
                    }
                    email.set(String::new());
                    password.set(String::new());
                    load();
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    view! {
        <h3>"Org admins"</h3>
        <ul class="plain-list" id="org-admins">
            <For each=move || admins.get() key=|a| a.id let:a>
                <li>{a.email.clone()} {a.invite_pending.then_some(" (invitation pending)")}</li>
            </For>
        </ul>
        <form class="row" on:submit=add>
            <div class="field grow"><label for="new-admin-email">"E-mail"</label>
                <input id="new-admin-email" type="email" autocomplete="off" prop:value=move || email.get() on:input=input(email)/></div>
            <div class="field grow"><label for="new-admin-password">"Password (empty: invitation link)"</label>
                <input id="new-admin-password" type="password" autocomplete="new-password" prop:value=move || password.get() on:input=input(password)/></div>
            <div class="field"><span class="label-spacer" aria-hidden="true"></span><button class="btn primary" type="submit">"Create admin"</button></div>
        </form>
        {note_view(note)}
        <SecretBox secret=invite/>
    }
}
