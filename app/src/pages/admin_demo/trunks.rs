//! An organization's inbound and outbound trunks: one form each (the password is write-only).

use api_types::provider::{TrunkPut, TrunkView};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{fail, input, note_view, opt, Note};
use crate::api::provider as api;

#[component]
pub fn Trunks(key: RwSignal<String>, slug: String, on_change: Callback<()>) -> impl IntoView {
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
