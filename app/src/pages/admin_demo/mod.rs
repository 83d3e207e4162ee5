//! LittlePBXAdmin, the provider's demo page (`/admin-demo`): with an API key pasted in (kept in
//! this tab's sessionStorage only) it lists, creates and edits orgs, sets trunks, adds and removes
//! numbers and desk phones, uploads logos, creates org admins and shows each org's status, through
//! `/api/v1` exactly as any client of the REST API would.

mod admins;
mod create_org;
mod desk_phones;
mod dids;
mod manage;
mod trunks;

use api_types::provider::OrgView;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{provider as api, ApiError};
use create_org::CreateOrg;
use manage::ManageOrg;

const KEY_STORAGE: &str = "littlepbx.admin-demo.api-key";
const PAGE: u64 = 20;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn stored_key() -> String {
    storage()
        .and_then(|s| s.get_item(KEY_STORAGE).ok().flatten())
        .unwrap_or_default()
}

fn store_key(key: &str) {
    if let Some(s) = storage() {
        let _ = if key.is_empty() {
            s.remove_item(KEY_STORAGE)
        } else {
            s.set_item(KEY_STORAGE, key)
        };
    }
}

/// A message line: `Ok` for success, `Err` for a failure.
type Note = RwSignal<Option<Result<String, String>>>;

fn note_view(note: Note) -> impl IntoView {
    view! {
        <p class="note" role="status" data-kind=move || match note.get() { Some(Ok(_)) => "ok", Some(Err(_)) => "error", None => "" }>
            {move || note.get().map(|n| match n { Ok(m) | Err(m) => m })}
        </p>
    }
}

/// Shows a failed request's message and its field errors in `note`.
fn fail(note: Note, e: &ApiError) {
    let mut text = e.message();
    for f in e.field_errors() {
        text.push_str(&format!(" {}: {}", f.field, f.message));
    }
    note.set(Some(Err(text)));
}

/// Keeps `value` up to date with an input element.
fn input(value: RwSignal<String>) -> impl Fn(leptos::ev::Event) {
    move |ev| value.set(event_target_value(&ev))
}

/// The trimmed text, or `None` when it is empty.
fn opt(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

#[component]
pub fn AdminDemoPage() -> impl IntoView {
    crate::frame::set_title("LittlePBXAdmin");
    let key = RwSignal::new(stored_key());
    let draft = RwSignal::new(String::new());
    let orgs = RwSignal::new(Vec::<OrgView>::new());
    let total = RwSignal::new(0u64);
    let offset = RwSignal::new(0u64);
    let selected = RwSignal::new(None::<String>);
    let note: Note = RwSignal::new(None);

    let load = move || {
        let k = key.get_untracked();
        if k.is_empty() {
            return;
        }
        let off = offset.get_untracked();
        spawn_local(async move {
            match api::list_orgs(&k, off, PAGE).await {
                Ok(list) => {
                    total.set(list.total);
                    orgs.set(list.items);
                    note.set(None);
                }
                Err(e) if e.is_status(401) || e.is_status(403) => note.set(Some(Err(
                    "This API key was refused. Check it and paste it again.".into(),
                ))),
                Err(e) => fail(note, &e),
            }
        });
    };
    load();

    let use_key = move |ev: SubmitEvent| {
        ev.prevent_default();
        let k = draft.get_untracked().trim().to_owned();
        store_key(&k);
        draft.set(String::new());
        key.set(k);
        offset.set(0);
        load();
    };
    let forget = move |_| {
        store_key("");
        key.set(String::new());
        orgs.set(Vec::new());
        selected.set(None);
    };

    view! {
        <header class="top demo">
            <div class="brand"><div><span class="company">"LittlePBXAdmin"</span>
                <span class="subtitle">"Provider demo of the REST API (/api/v1)"</span></div></div>
        </header>
        <main id="main" class="admin-demo">
            <section class="card" aria-labelledby="key-title">
                <h2 id="key-title">"API key"</h2>
                <Show when=move || !key.read().is_empty() fallback=move || view! {
                    <form on:submit=use_key class="row">
                        <div class="field grow">
                            <label for="api-key">"Paste a provider API key"</label>
                            <input id="api-key" type="password" autocomplete="off" placeholder="lpbx_…"
                                prop:value=move || draft.get() on:input=input(draft)/>
                            <small class="hint">"Kept in this browser tab only (sessionStorage); made with "
                                <code>"littlepbx api-key create NAME"</code> "."</small>
                        </div>
                        <div class="field"><span class="label-spacer" aria-hidden="true"></span>
                            <button class="btn primary" type="submit">"Use this key"</button></div>
                    </form>
                }>
                    <p class="row">
                        <span>"Using key " <code>{move || key.get().chars().take(12).collect::<String>()} "…"</code></span>
                        <button class="btn" type="button" on:click=forget>"Forget key"</button>
                    </p>
                </Show>
                {note_view(note)}
            </section>

            <Show when=move || !key.read().is_empty()>
                <section class="card" aria-labelledby="orgs-title">
                    <h2 id="orgs-title">"Organizations"</h2>
                    <div class="table-wrap">
                        <table class="orgs">
                            <thead><tr><th scope="col">"Organization"</th><th scope="col">"Status"</th>
                                <th scope="col">"Applied"</th><th scope="col">"Org page"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                            <tbody>
                                <For each=move || orgs.get() key=|o| (o.slug.clone(), o.updated_at, o.name.clone(), o.status.clone()) let:org>
                                    {
                                        let slug = org.slug.clone();
                                        let is_selected = { let s = slug.clone(); move || selected.get().as_deref() == Some(s.as_str()) };
                                        view! {
                                            <tr data-slug=org.slug.clone() class:selected=is_selected>
                                                <td><strong>{org.name.clone()}</strong><br/><code>{org.slug.clone()}</code></td>
                                                <td><span class="badge" data-status=org.status.clone()>{org.status.clone()}</span></td>
                                                <td>"v" {org.applied_version}</td>
                                                <td><a href=org.url.clone() target="_blank" rel="noopener">{org.url.clone()}</a></td>
                                                <td><button class="btn small" type="button"
                                                    aria-label=format!("Manage {}", org.slug)
                                                    on:click=move |_| selected.set(Some(slug.clone()))>"Manage"</button></td>
                                            </tr>
                                        }
                                    }
                                </For>
                            </tbody>
                        </table>
                    </div>
                    <div class="row pager">
                        <button class="btn small" type="button" disabled=move || offset.get() == 0
                            on:click=move |_| { offset.update(|o| *o = o.saturating_sub(PAGE)); load() }>"Previous"</button>
                        <span>{move || {
                            let (o, t) = (offset.get(), total.get());
                            if t == 0 { "No organizations yet".to_owned() } else { format!("{}–{} of {t}", o + 1, (o + PAGE).min(t)) }
                        }}</span>
                        <button class="btn small" type="button" disabled=move || { offset.get() + PAGE >= total.get() }
                            on:click=move |_| { offset.update(|o| *o += PAGE); load() }>"Next"</button>
                        <button class="btn small" type="button" on:click=move |_| load()>"Refresh"</button>
                    </div>
                    <CreateOrg key=key on_created=Callback::new(move |slug: String| { load(); selected.set(Some(slug)) })/>
                </section>
                {move || selected.get().map(|slug| view! {
                    <ManageOrg key=key slug=slug on_change=Callback::new(move |_| load())/>
                })}
            </Show>
        </main>
    }
}
