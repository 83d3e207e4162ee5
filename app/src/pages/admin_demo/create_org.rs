//! The form creating an organization; shows its reception extension's credentials once.

use api_types::provider::OrgCreate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{fail, input, note_view, Note};
use crate::api::provider as api;
use crate::components::{Secret, SecretBox};

#[component]
pub fn CreateOrg(key: RwSignal<String>, on_created: Callback<String>) -> impl IntoView {
    let slug = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let note: Note = RwSignal::new(None);
    let secret = RwSignal::new(None::<Secret>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = OrgCreate {
            slug: slug.get_untracked().trim().to_owned(),
            name: name.get_untracked().trim().to_owned(),
            sip_domain: None,
            limits: None,
        };
        let k = key.get_untracked();
        spawn_local(async move {
            match api::create_org(&k, &body).await {
                Ok(created) => {
                    note.set(Some(Ok(format!("Created {}.", created.org.slug))));
                    secret.set(Some(Secret {
                        title: format!("{}: the reception extension", created.org.name),
                        lines: vec![
                            ("Extension".into(), created.reception_number),
                            ("SIP password".into(), created.reception_sip_password),
                            ("Voicemail PIN".into(), created.reception_voicemail_pin),
                        ],
                    }));
                    slug.set(String::new());
                    name.set(String::new());
                    on_created.run(created.org.slug);
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    view! {
        <form class="subform" on:submit=submit aria-labelledby="create-org-title">
            <h3 id="create-org-title">"Create an organization"</h3>
            <div class="row">
                <div class="field"><label for="new-org-slug">"Slug"</label>
                    <input id="new-org-slug" autocomplete="off" placeholder="acme" prop:value=move || slug.get() on:input=input(slug)/>
                    <small class="hint">"a-z, 0-9, hyphens; the org page is pbx.<slug>.…"</small></div>
                <div class="field grow"><label for="new-org-name">"Company name"</label>
                    <input id="new-org-name" autocomplete="off" prop:value=move || name.get() on:input=input(name)/></div>
                <div class="field"><span class="label-spacer" aria-hidden="true"></span>
                    <button class="btn primary" type="submit">"Create"</button></div>
            </div>
            {note_view(note)}
            <SecretBox secret=secret/>
        </form>
    }
}
