//! The panel of the chosen organization: its status, its details (name, active or suspended,
//! logo), and its trunks, numbers, desk phones and admins.

use api_types::provider::{OrgPatch, OrgStatusView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::admins::Admins;
use super::desk_phones::DeskPhones;
use super::dids::Dids;
use super::trunks::Trunks;
use super::{fail, input, note_view, opt, Note};
use crate::api::provider as api;
use crate::components::{chosen_file, clear_file_input};

#[component]
pub fn ManageOrg(key: RwSignal<String>, slug: String, on_change: Callback<()>) -> impl IntoView {
    let org_status = RwSignal::new(None::<OrgStatusView>);
    let name = RwSignal::new(String::new());
    let status = RwSignal::new("active".to_owned());
    let note: Note = RwSignal::new(None);
    let slug = StoredValue::new(slug);
    let k = move || key.get_untracked();
    let s = move || slug.get_value();

    let refresh_status = move || {
        let (k, s) = (k(), s());
        spawn_local(async move {
            match api::org_status(&k, &s).await {
                Ok(st) => {
                    status.set(st.status.clone());
                    org_status.set(Some(st));
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    refresh_status();

    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let patch = OrgPatch {
            name: opt(&name.get_untracked()),
            status: Some(status.get_untracked()),
            limits: None,
        };
        let (k, s) = (k(), s());
        spawn_local(async move {
            match api::patch_org(&k, &s, &patch).await {
                Ok(org) => {
                    note.set(Some(Ok(format!("Saved: {} is {}.", org.name, org.status))));
                    name.set(String::new());
                    on_change.run(());
                    refresh_status();
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    let logo = move |ev: web_sys::Event| {
        let Some(file) = chosen_file(&ev) else { return };
        clear_file_input(&ev);
        let mime = file.type_();
        let (k, s) = (k(), s());
        spawn_local(async move {
            match api::upload_logo(&k, &s, &file, &mime).await {
                Ok(()) => {
                    note.set(Some(Ok("Logo uploaded.".into())));
                    on_change.run(());
                }
                Err(e) => fail(note, &e),
            }
        });
    };

    view! {
        <section class="card manage" aria-labelledby="manage-title">
            <h2 id="manage-title">"Manage " <code>{s()}</code></h2>
            {note_view(note)}
            <div class="grid2">
                <div>
                    <h3>"Status"</h3>
                    {move || org_status.get().map(|st| view! {
                        <dl class="status-list" id="org-status">
                            <dt>"Status"</dt><dd>{st.status.clone()}</dd>
                            <dt>"Applied version"</dt><dd>{st.applied_version}</dd>
                            <dt>"Changes not applied"</dt><dd>{st.pending_changes}</dd>
                            <dt>"Last Apply"</dt><dd>{st.apply_job_state.clone().unwrap_or_else(|| "none".into())}</dd>
                            <dt>"Phones registered"</dt><dd>{st.registered_phones.map_or_else(|| "unknown".to_owned(), |n| n.to_string())}</dd>
                            <dt>"FreeSWITCH commands pending"</dt><dd>{st.pending_freeswitch_commands}</dd>
                            {st.gateways.iter().map(|g| view! {
                                <dt>"Gateway " {g.gateway.clone()}</dt><dd>{g.state.state.clone()}</dd>
                            }).collect_view()}
                        </dl>
                    })}
                    <button class="btn small" type="button" on:click=move |_| refresh_status()>"Refresh status"</button>
                </div>
                <form on:submit=save aria-labelledby="details-title">
                    <h3 id="details-title">"Details"</h3>
                    <div class="field"><label for="org-name">"New company name"</label>
                        <input id="org-name" autocomplete="off" placeholder="unchanged" prop:value=move || name.get() on:input=input(name)/></div>
                    <div class="field"><label for="org-status-select">"Status"</label>
                        <select id="org-status-select" on:change=input(status)>
                            <option value="active" selected=move || status.get() == "active">"active"</option>
                            <option value="suspended" selected=move || status.get() == "suspended">"suspended (phones cannot register or call)"</option>
                        </select></div>
                    <button class="btn primary" type="submit">"Save details"</button>
                    <div class="field"><label for="org-logo">"Company logo (PNG, JPEG or SVG, up to 512 KB)"</label>
                        <input id="org-logo" type="file" accept="image/png,image/jpeg,image/svg+xml" on:change=logo/></div>
                </form>
            </div>
            <Trunks key=key slug=s() on_change=Callback::new(move |_| refresh_status())/>
            <Dids key=key slug=s()/>
            <DeskPhones key=key slug=s()/>
            <Admins key=key slug=s()/>
        </section>
    }
}
