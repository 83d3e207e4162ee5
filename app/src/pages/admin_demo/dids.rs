//! An organization's phone numbers (DIDs): the list, add and remove.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{fail, input, note_view, Note};
use crate::api::provider as api;

#[component]
pub fn Dids(key: RwSignal<String>, slug: String) -> impl IntoView {
    let numbers = RwSignal::new(Vec::<String>::new());
    let number = RwSignal::new(String::new());
    let note: Note = RwSignal::new(None);
    let slug = StoredValue::new(slug);
    let load = move || {
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::dids(&k, &s).await {
                Ok(list) => numbers.set(list.numbers),
                Err(e) => fail(note, &e),
            }
        });
    };
    load();
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (k, s, n) = (
            key.get_untracked(),
            slug.get_value(),
            number.get_untracked(),
        );
        spawn_local(async move {
            match api::add_did(&k, &s, &n).await {
                Ok(list) => {
                    numbers.set(list.numbers);
                    number.set(String::new());
                    note.set(Some(Ok(format!("Added {}.", n.trim()))));
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    let remove = move |n: String| {
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::remove_did(&k, &s, &n).await {
                Ok(()) => {
                    note.set(Some(Ok(format!("Removed {n}."))));
                    load();
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    view! {
        <h3>"Phone numbers (DIDs)"</h3>
        <ul class="plain-list" id="org-dids">
            <For each=move || numbers.get() key=|n| n.clone() let:n>
                {
                    let label = format!("Remove {n}");
                    let n2 = n.clone();
                    view! { <li><code>{n}</code>" "
                        <button class="btn small danger-outline" type="button" aria-label=label on:click=move |_| remove(n2.clone())>"Remove"</button></li> }
                }
            </For>
        </ul>
        <form class="row" on:submit=add>
            <div class="field grow"><label for="new-did">"Add a number (E.164)"</label>
                <input id="new-did" type="tel" autocomplete="off" placeholder="+15550100123" prop:value=move || number.get() on:input=input(number)/></div>
            <div class="field"><span class="label-spacer" aria-hidden="true"></span><button class="btn primary" type="submit">"Add number"</button></div>
        </form>
        {note_view(note)}
    }
}
