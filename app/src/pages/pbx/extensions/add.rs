//! The form adding an extension; shows the new extension's SIP password once.

use api_types::org::NewExtension;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::sip_domain;
use crate::api::{self, ApiError};
use crate::components::{Secret, SecretBox};
use crate::pages::pbx::Pbx;

#[component]
pub fn AddExtension(just_added: RwSignal<Option<String>>) -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let number = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let secret = RwSignal::new(None::<Secret>);
    let domain = sip_domain();
    let suggestion = Memo::new(move |_| {
        pbx.view.with(|v| {
            let max = v
                .as_ref()
                .map(|v| {
                    v.extensions
                        .iter()
                        .filter_map(|e| e.number.parse::<u32>().ok())
                        .max()
                        .unwrap_or(100)
                })
                .unwrap_or(100);
            format!("for example {}", max + 1)
        })
    });
    let field_error = move |field: &'static str| {
        move || {
            error.with(|e| {
                e.as_ref()
                    .and_then(|e| e.field_message(None, field))
                    .unwrap_or_default()
            })
        }
    };
    let general_error = move || {
        error.with(|e| {
            e.as_ref().and_then(|e| {
                let by_field = ["number", "display_name"]
                    .iter()
                    .any(|f| e.field_message(None, f).is_some());
                (!by_field).then(|| e.message())
            })
        })
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let new = NewExtension {
            number: number.get_untracked().trim().to_owned(),
            display_name: name.get_untracked().trim().to_owned(),
            ..NewExtension::default()
        };
        busy.set(true);
        error.set(None);
        let domain = domain.clone();
        spawn_local(async move {
            match api::create_extension(&new).await {
                Ok(created) => {
                    let ext = created.extension;
                    secret.set(Some(Secret {
                        title: format!("Extension {} ({}) is ready", ext.number, ext.display_name),
                        lines: vec![
                            ("User name".into(), ext.number.clone()),
                            ("SIP password".into(), created.sip_password),
                            ("SIP domain (server)".into(), domain),
                            ("Voicemail PIN".into(), ext.voicemail_pin.clone()),
                        ],
                    }));
                    just_added.set(Some(ext.number.clone()));
                    pbx.update(|v| {
                        v.extensions.retain(|e| e.number != ext.number);
                        v.extensions.push(ext);
                        v.extensions.sort_by(|a, b| {
                            (a.number.len(), &a.number).cmp(&(b.number.len(), &b.number))
                        });
                    });
                    number.set(String::new());
                    name.set(String::new());
                    pbx.reload();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <SecretBox secret=secret/>
        <form class="add-ext" on:submit=submit novalidate aria-labelledby="add-ext-title">
            <h3 id="add-ext-title">"Add an extension"</h3>
            <div class="row">
                <div class="field">
                    <label for="new-ext-number">"Number"</label>
                    <input id="new-ext-number" type="text" inputmode="numeric" autocomplete="off"
                        aria-describedby="new-ext-number-error"
                        placeholder=move || suggestion.get()
                        prop:value=move || number.get()
                        on:input=move |ev| number.set(event_target_value(&ev))/>
                    <small class="hint">"2 to 5 digits"</small>
                    <p class="field-error" id="new-ext-number-error">{field_error("number")}</p>
                </div>
                <div class="field grow">
                    <label for="new-ext-name">"Name"</label>
                    <input id="new-ext-name" type="text" autocomplete="off" placeholder="for example Alice or Front desk"
                        aria-describedby="new-ext-name-error"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                    <small class="hint">"Shown on the phones"</small>
                    <p class="field-error" id="new-ext-name-error">{field_error("display_name")}</p>
                </div>
                <div class="field">
                    <span class="label-spacer" aria-hidden="true"></span>
                    <button type="submit" class="btn primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Adding…" } else { "Add extension" }}
                    </button>
                </div>
            </div>
            <p class="form-error" role="alert">{general_error}</p>
        </form>
    }
}
