//! LittlePBXAdmin, the provider's demo page (`/admin-demo`): with an API key pasted in (kept in
//! this tab's sessionStorage only) it lists, creates and edits orgs, sets trunks, adds and removes
//! numbers, uploads logos, creates org admins and shows each org's status, through `/api/v1`
//! exactly as any client of the REST API would.

use api_types::provider::{
    AdminCreate, AdminView, OrgCreate, OrgPatch, OrgStatusView, OrgView, TrunkPut, TrunkView,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{provider as api, ApiError};
use crate::components::{chosen_file, clear_file_input, Secret, SecretBox};

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

fn fail(note: Note, e: &ApiError) {
    let mut text = e.message();
    for f in e.field_errors() {
        text.push_str(&format!(" {}: {}", f.field, f.message));
    }
    note.set(Some(Err(text)));
}

fn input(value: RwSignal<String>) -> impl Fn(leptos::ev::Event) {
    move |ev| value.set(event_target_value(&ev))
}

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

#[component]
fn CreateOrg(key: RwSignal<String>, on_created: Callback<String>) -> impl IntoView {
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

#[component]
fn ManageOrg(key: RwSignal<String>, slug: String, on_change: Callback<()>) -> impl IntoView {
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
            <Admins key=key slug=s()/>
        </section>
    }
}

#[component]
fn Trunks(key: RwSignal<String>, slug: String, on_change: Callback<()>) -> impl IntoView {
    let trunks = RwSignal::new(Vec::<TrunkView>::new());
    let slug = StoredValue::new(slug);
    let note: Note = RwSignal::new(None);
    let load = move || {
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::trunks(&k, &s).await {
                Ok(list) => trunks.set(list),
                Err(e) => fail(note, &e),
            }
        });
    };
    load();
    view! {
        <h3>"Trunks"</h3>
        {note_view(note)}
        <div class="grid2">
            {["inbound", "outbound"].into_iter().map(|role| view! {
                <TrunkForm key=key slug=slug.get_value() role=role trunks=trunks
                    on_saved=Callback::new(move |_| { load(); on_change.run(()) })/>
            }).collect_view()}
        </div>
    }
}

#[component]
fn TrunkForm(
    key: RwSignal<String>,
    slug: String,
    role: &'static str,
    trunks: RwSignal<Vec<TrunkView>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let current = Memo::new(move |_| trunks.with(|t| t.iter().find(|t| t.role == role).cloned()));
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let transport = RwSignal::new("udp".to_owned());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let register = RwSignal::new(false);
    let same = RwSignal::new(false);
    let cidrs = RwSignal::new(String::new());
    let note: Note = RwSignal::new(None);
    // Fill the form from the stored trunk (never its password: write-only).
    Effect::new(move |_| {
        if let Some(t) = current.get() {
            host.set(t.host.unwrap_or_default());
            port.set(t.port.map(|p| p.to_string()).unwrap_or_default());
            transport.set(t.transport.unwrap_or_else(|| "udp".into()));
            username.set(t.username.unwrap_or_default());
            register.set(t.register);
            same.set(t.same_as_inbound);
            cidrs.set(t.allowed_cidrs.join(", "));
        }
    });
    let slug = StoredValue::new(slug);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let body = TrunkPut {
            same_as_inbound: same.get_untracked(),
            username: username.get_untracked().trim().to_owned(),
            password: opt(&password.get_untracked()),
            host: host.get_untracked().trim().to_owned(),
            port: port.get_untracked().trim().parse().ok(),
            transport: Some(transport.get_untracked()),
            register: register.get_untracked(),
            allowed_cidrs: cidrs
                .get_untracked()
                .split([',', ' '])
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            ..TrunkPut::default()
        };
        let (k, s) = (key.get_untracked(), slug.get_value());
        spawn_local(async move {
            match api::put_trunk(&k, &s, role, &body).await {
                Ok(t) => {
                    password.set(String::new());
                    note.set(Some(Ok(format!(
                        "Saved; gateway {} is {}.",
                        t.gateway, t.state.state
                    ))));
                    on_saved.run(());
                }
                Err(e) => fail(note, &e),
            }
        });
    };
    let id = move |f: &str| format!("trunk-{role}-{f}");
    let is_outbound = role == "outbound";
    view! {
        <form class="subform trunk" on:submit=submit aria-label=format!("{role} trunk")>
            <h4>{if is_outbound { "Outbound (outside calls)" } else { "Inbound (calls to the numbers)" }}
                {move || current.get().map(|t| view! { <span class="badge">{t.gateway} " · " {t.state.state}</span> })}</h4>
            {is_outbound.then(|| view! {
                <div class="field check">
                    <input id=id("same") type="checkbox" prop:checked=move || same.get() on:change=move |ev| same.set(event_target_checked(&ev))/>
                    <label for=id("same")>"Same as the inbound trunk"</label>
                </div>
            })}
            <fieldset disabled=move || same.get()>
                <div class="row">
                    <div class="field grow"><label for=id("host")>"Host"</label>
                        <input id=id("host") autocomplete="off" placeholder="sip.carrier.example" prop:value=move || host.get() on:input=input(host)/></div>
                    <div class="field"><label for=id("port")>"Port"</label>
                        <input id=id("port") inputmode="numeric" placeholder="5060" size="6" prop:value=move || port.get() on:input=input(port)/></div>
                    <div class="field"><label for=id("transport")>"Transport"</label>
                        <select id=id("transport") on:change=input(transport)>
                            {["udp", "tcp", "tls"].into_iter().map(|t| view! {
                                <option value=t selected=move || transport.get() == t>{t}</option>
                            }).collect_view()}
                        </select></div>
                </div>
                <div class="row">
                    <div class="field grow"><label for=id("user")>"SIP user"</label>
                        <input id=id("user") autocomplete="off" prop:value=move || username.get() on:input=input(username)/></div>
                    <div class="field grow"><label for=id("password")>"Password"</label>
                        <input id=id("password") type="password" autocomplete="new-password"
                            placeholder=move || if current.get().is_some_and(|t| t.has_password) { "unchanged" } else { "" }
                            prop:value=move || password.get() on:input=input(password)/></div>
                </div>
                <div class="field check">
                    <input id=id("register") type="checkbox" prop:checked=move || register.get() on:change=move |ev| register.set(event_target_checked(&ev))/>
                    <label for=id("register")>"Register with the carrier"</label>
                </div>
                <div class="field"><label for=id("cidrs")>"Carrier addresses (CIDRs, comma separated)"</label>
                    <input id=id("cidrs") autocomplete="off" placeholder="203.0.113.10/32" prop:value=move || cidrs.get() on:input=input(cidrs)/></div>
            </fieldset>
            <button class="btn primary" type="submit">{format!("Save {role} trunk")}</button>
            {note_view(note)}
        </form>
    }
}

#[component]
fn Dids(key: RwSignal<String>, slug: String) -> impl IntoView {
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

#[component]
fn Admins(key: RwSignal<String>, slug: String) -> impl IntoView {
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
