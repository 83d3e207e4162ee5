//! An organization's desk phones: the list, a shipment added at once (all or none), remove.

use api_types::desk_phones::{DeskPhone, DeskPhoneModel, NewDeskPhone, NewDeskPhones};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{fail, input, note_view, Note};
use crate::api::{provider as api, ApiError};

/// The shipment's phones from the text, one `MAC [extension]` a line (blank lines skipped), each
/// with its line number; or the lines that are not of that form.
fn parse(text: &str, model: &str) -> Result<(Vec<NewDeskPhone>, Vec<usize>), Vec<String>> {
    let (mut phones, mut lines, mut bad) = (Vec::new(), Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[..] {
            [] => {}
            [mac] | [mac, _] => {
                phones.push(NewDeskPhone {
                    mac: mac.to_owned(),
                    model: model.to_owned(),
                    extension: words.get(1).map(|e| (*e).to_owned()),
                });
                lines.push(i + 1);
            }
            _ => bad.push(format!(
                "Line {}: write a MAC address and, optionally, an extension.",
                i + 1
            )),
        }
    }
    if !bad.is_empty() {
        Err(bad)
    } else if phones.is_empty() {
        Err(vec!["Write at least one MAC address.".into()])
    } else {
        Ok((phones, lines))
    }
}

/// The index `i` of a field `phones[i].…`.
fn phone_index(field: &str) -> Option<usize> {
    field
        .strip_prefix("phones[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}

/// A refused shipment's field errors, each named by its line.
fn line_errors(e: &ApiError, lines: &[usize]) -> Vec<String> {
    e.field_errors()
        .iter()
        .map(|f| match phone_index(&f.field).and_then(|i| lines.get(i)) {
            Some(line) => format!("Line {line}: {}", f.message),
            None => format!("{}: {}", f.field, f.message),
        })
        .collect()
}

#[component]
pub fn DeskPhones(key: RwSignal<String>, slug: String) -> impl IntoView {
    let phones = RwSignal::new(Vec::<DeskPhone>::new());
    let models = RwSignal::new(Vec::<DeskPhoneModel>::new());
    let model = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let errors = RwSignal::new(Vec::<String>::new());
    let note: Note = RwSignal::new(None);
    let slug = StoredValue::new(slug);
    let load = move || {
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::desk_phones(&k, &s).await {
                Ok(list) => {
                    if model.get_untracked().is_empty() {
                        if let Some(m) = list.models.first() {
                            model.set(m.id.clone());
                        }
                    }
                    phones.set(list.phones);
                    models.set(list.models);
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    load();
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (phones_new, lines) = match parse(&text.get_untracked(), &model.get_untracked()) {
            Ok(parsed) => parsed,
            Err(bad) => {
                errors.set(bad);
                note.set(Some(Err("Nothing was added.".into())));
                return;
            }
        };
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            let body = NewDeskPhones { phones: phones_new };
            match api::add_desk_phones(&k, &s, &body).await {
                Ok(added) => {
                    errors.set(Vec::new());
                    text.set(String::new());
                    let n = added.len();
                    let phones = if n == 1 { "phone" } else { "phones" };
                    note.set(Some(Ok(format!("Added {n} {phones}."))));
                    load();
                }
                Err(e) => {
                    errors.set(line_errors(&e, &lines));
                    note.set(Some(Err(format!("Nothing was added: {}", e.message()))));
                }
            }
        });
    };
    let remove = move |mac: String| {
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::remove_desk_phone(&k, &s, &mac).await {
                Ok(()) => {
                    note.set(Some(Ok(format!("Removed {mac}."))));
                    load();
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    view! {
        <h3>"Desk phones"</h3>
        <ul class="plain-list" id="org-desk-phones">
            <For each=move || phones.get() key=|p| (p.mac.clone(), p.model.clone(), p.extension.clone(), p.state_text.clone()) let:p>
                {
                    let label = format!("Remove {}", p.mac);
                    let mac = p.mac.clone();
                    let extension = p.extension.clone().unwrap_or_else(|| "none".into());
                    view! { <li data-mac=p.mac.clone()><code>{p.mac.clone()}</code>
                        <span>{p.model_label.clone()} ", extension " {extension} ": " {p.state_text.clone()}</span>
                        <button class="btn small danger-outline" type="button" aria-label=label on:click=move |_| remove(mac.clone())>"Remove"</button></li> }
                }
            </For>
        </ul>
        <Show when=move || phones.read().is_empty()><p class="hint">"No desk phones yet."</p></Show>
        <form on:submit=add aria-labelledby="dp-shipment-title">
            <h4 id="dp-shipment-title">"Add a shipment"</h4>
            <div class="field"><label for="dp-model">"Model"</label>
                <select id="dp-model" on:change=input(model)>
                    <For each=move || models.get() key=|m| m.id.clone() let:m>
                        {
                            let id = m.id.clone();
                            view! { <option value=m.id.clone() selected=move || model.get() == id>{m.label.clone()} " (" {m.covers.clone()} ")"</option> }
                        }
                    </For>
                </select></div>
            <div class="field"><label for="dp-macs">"MAC addresses, one per line"</label>
                <textarea id="dp-macs" rows="5" autocomplete="off" spellcheck="false"
                    placeholder="00:15:65:aa:bb:01 101\n00:15:65:aa:bb:02"
                    aria-describedby="dp-macs-hint" prop:value=move || text.get() on:input=input(text)></textarea>
                <small class="hint" id="dp-macs-hint">"Optionally an extension after the MAC address: "
                    <code>"00:15:65:aa:bb:01 101"</code>". All are added, or none."</small></div>
            <button class="btn primary" type="submit">"Add phones"</button>
        </form>
        {note_view(note)}
        <ul class="plain-list errors" id="dp-line-errors">
            {move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
        </ul>
    }
}
