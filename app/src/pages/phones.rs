//! The Phones page: pick a phone or app and an extension, and read how to set it up, step by
//! step, with the org's values in place (`GET /api/org/phones/guides/{id}`). The guide texts
//! stay on the server, so the bundle does not carry them. For Linphone, a single-use
//! provisioning link shown as a QR code.

use api_types::phones::{FilledGuide, FilledStep, GuideList};
use api_types::provisioning::{PhonesView, ProvisioningLink};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::components::{time_of_day, CopyButton};
use crate::html::{self, Html};

#[component]
pub fn PhonesPage() -> impl IntoView {
    let info = RwSignal::new(None::<PhonesView>);
    let list = RwSignal::new(None::<GuideList>);
    let load_error = RwSignal::new(None::<String>);
    let device = RwSignal::new(String::new());
    let extension = RwSignal::new(String::new());
    let guide = RwSignal::new(None::<FilledGuide>);
    let guide_error = RwSignal::new(None::<String>);
    let guide_busy = RwSignal::new(false);

    // Loads the page's data (again, while the server is unavailable).
    let load = move || {
        spawn_local(async move {
            match api::phones().await {
                Ok(phones) => {
                    if let Some(first) = phones.extensions.first() {
                        if extension.with_untracked(String::is_empty) {
                            extension.set(first.number.clone());
                        }
                    }
                    load_error.set(None);
                    info.set(Some(phones));
                }
                Err(e) => load_error.set(Some(e.message())),
            }
        });
        spawn_local(async move {
            match api::phone_guides().await {
                Ok(guides) => {
                    load_error.set(None);
                    list.set(Some(guides));
                }
                Err(e) => load_error.set(Some(e.message())),
            }
        });
        // A guide that failed to load is asked for again.
        if guide_error.with_untracked(Option::is_some) {
            extension.update(|_| {});
        }
    };
    load();
    crate::service::retry_with(load);

    // The guide for the chosen device and extension; an answer to an earlier choice is dropped.
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (id, number) = (device.get(), extension.get());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        guide_error.set(None);
        if id.is_empty() || number.is_empty() {
            guide.set(None);
            return;
        }
        guide_busy.set(true);
        spawn_local(async move {
            let answer = api::phone_guide(&id, &number).await;
            if generation.get_value() != mine {
                return;
            }
            guide_busy.set(false);
            match answer {
                Ok(g) => guide.set(Some(g)),
                Err(e) => {
                    guide.set(None);
                    guide_error.set(Some(e.message()));
                }
            }
        });
    });

    let status = move || {
        if let Some(e) = load_error.get() {
            return e;
        }
        if let Some(e) = guide_error.get() {
            return e;
        }
        if info.with(Option::is_none) {
            return "Loading…".into();
        }
        if guide_busy.get() {
            return "Loading the steps…".into();
        }
        String::new()
    };
    let no_extensions = move || {
        info.read()
            .as_ref()
            .is_some_and(|i| i.extensions.is_empty())
    };

    view! {
        <div class="phones">
            <h1>"Set up a phone"</h1>
            <p class="intro">
                "Choose the phone or app and the extension it is for. The steps below are written for your phone system, with every value ready to copy."
            </p>
            <section class="card chooser" aria-label="Which phone">
                <div class="row">
                    <div class="field grow">
                        <label for="phone-device">"Phone or app"</label>
                        <select id="phone-device" on:change=move |ev| device.set(event_target_value(&ev))>
                            <option value="" selected=move || device.get().is_empty()>"Choose your phone or app…"</option>
                            {move || list.get().map(|l| l.groups.into_iter().map(|group| view! {
                                <optgroup label=group.label>
                                    {group.guides.into_iter().map(|g| {
                                        let id = g.id.clone();
                                        view! {
                                            <option value=g.id selected=move || device.get() == id>{g.name}</option>
                                        }
                                    }).collect_view()}
                                </optgroup>
                            }).collect_view())}
                        </select>
                    </div>
                    <div class="field">
                        <label for="phone-ext">"Extension"</label>
                        <select id="phone-ext" on:change=move |ev| extension.set(event_target_value(&ev))>
                            {move || info.get().map(|i| i.extensions.into_iter().map(|e| {
                                let number = e.number.clone();
                                view! {
                                    <option value=e.number.clone() selected=move || extension.get() == number>
                                        {format!("{} – {}", e.number, e.name)}
                                    </option>
                                }
                            }).collect_view())}
                        </select>
                    </div>
                </div>
                <p class="note" role="status" aria-live="polite">{status}</p>
                <Show when=no_extensions>
                    <p class="empty">
                        "Phones can only use extensions that are applied. Add one on the "
                        <A href="/">"PBX page"</A> " and press Apply."
                    </p>
                </Show>
                {move || info.get().map(|i| view! { <Glance info=i/> })}
            </section>
            // While the next guide loads, the current one stays, dimmed (no jump).
            <div class="guide-wrap" aria-busy=move || guide_busy.get().to_string()>
                {move || match guide.get() {
                    Some(g) => view! { <Guide guide=g/> }.into_any(),
                    None => view! {
                        <p class="muted pick-hint">"Pick a phone or app above to see how to set it up."</p>
                    }.into_any(),
                }}
            </div>
        </div>
    }
}

/// The org's SIP domain and server, which every phone needs.
#[component]
fn Glance(info: PhonesView) -> impl IntoView {
    let ports = info
        .transports
        .iter()
        .map(|t| format!("{} {}", t.transport.to_ascii_uppercase(), t.port))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <dl class="glance">
            <div>
                <dt>"SIP domain"</dt>
                <dd><code>{info.sip_domain.clone()}</code><CopyButton text=info.sip_domain label="SIP domain"/></dd>
            </div>
            <div>
                <dt>"Server (outbound proxy)"</dt>
                <dd><code>{info.server.clone()}</code><CopyButton text=info.server label="server"/></dd>
            </div>
            <div>
                <dt>"Ports"</dt>
                <dd>{ports}</dd>
            </div>
        </dl>
    }
}

#[component]
fn Guide(guide: FilledGuide) -> impl IntoView {
    let (head, body) = guide_html(&guide);
    view! {
        <article class="card guide" aria-labelledby="guide-title" data-guide=guide.id.clone()
            data-extension=guide.extension.clone()>
            <div inner_html=head/>
            {guide.provisioning_link.then(|| view! { <QrLink extension=guide.extension.clone()/> })}
            <div inner_html=body on:click=html::copy_clicked/>
        </article>
    }
}

/// The guide as HTML: its title and introduction, then the steps, the checks and the problems.
fn guide_html(g: &FilledGuide) -> (String, String) {
    let mut head = Html::new();
    head.el("h2", &[("id", "guide-title")], &g.name)
        .el(
            "p",
            &[("class", "muted small")],
            &format!("{} · {}", g.vendor, g.covers),
        )
        .el("p", &[], &g.intro);
    let mut h = Html::new();
    h.el("h3", &[], "Step by step");
    steps_html(&mut h, &g.steps, &g.extension);
    h.el("h3", &[], "Check that it works");
    steps_html(&mut h, &g.check, &g.extension);
    h.el("h3", &[], "If something goes wrong");
    h.open("div", &[("class", "problems")]);
    for p in &g.problems {
        h.open("details", &[])
            .el("summary", &[], &p.symptom)
            .el("p", &[], &p.fix)
            .close("details");
    }
    h.close("div");
    (head.finish(), h.finish())
}

fn steps_html(h: &mut Html, steps: &[FilledStep], extension: &str) {
    h.open("ol", &[("class", "steps")]);
    for step in steps {
        h.open("li", &[]).el("p", &[], &step.text);
        if !step.menu.is_empty() {
            h.open("p", &[("class", "menu-path")])
                .el("span", &[("class", "muted")], "Where: ");
            for (i, item) in step.menu.iter().enumerate() {
                if i > 0 {
                    h.el("span", &[("class", "sep"), ("aria-hidden", "true")], " › ");
                }
                h.el("span", &[("class", "crumb")], item);
            }
            h.close("p");
        }
        if !step.fields.is_empty() {
            h.open("dl", &[("class", "fields")]);
            for f in &step.fields {
                h.open("div", &[("class", "field-line")])
                    .el("dt", &[], &f.label)
                    .open("dd", &[]);
                if f.password {
                    h.el("span", &[("class", "pw-hint")], &f.value);
                } else {
                    h.el("code", &[], &f.value).copy_button(&f.value, &f.label);
                }
                h.close("dd").close("div");
            }
            h.close("dl");
        }
        if step.fields.iter().any(|f| f.password) {
            h.open("p", &[("class", "pw-note")])
                .text(&format!(
                    "The password is the SIP password of extension {extension}: it is shown only once, when it is made. If you do not have it, open extension {extension} on the "
                ))
                .el("a", &[("href", "/")], "PBX page")
                .text(", choose ")
                .el("strong", &[], "New SIP password…")
                .text(" and press Apply; phones still using the old password then stop working.")
                .close("p");
        }
        h.close("li");
    }
    h.close("ol");
}

/// A single-use link that provisions Linphone, as a QR code (an `<img>` of the server's SVG
/// in a `data:` URL: the page's CSP allows `data:` images and no inline SVG styles).
#[component]
fn QrLink(extension: String) -> impl IntoView {
    let link = RwSignal::new(None::<ProvisioningLink>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let now = RwSignal::new(js_sys::Date::now() as i64);
    if let Ok(handle) = set_interval_with_handle(
        move || now.set(js_sys::Date::now() as i64),
        std::time::Duration::from_secs(5),
    ) {
        on_cleanup(move || handle.clear());
    }
    let number = extension.clone();
    let create = move |_| {
        busy.set(true);
        error.set(None);
        let number = number.clone();
        spawn_local(async move {
            match api::provisioning_link(&number).await {
                Ok(l) => {
                    now.set(js_sys::Date::now() as i64);
                    link.set(Some(l));
                }
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    let label = move || {
        if link.with(Option::is_some) {
            format!("Make a new QR code for extension {extension}")
        } else {
            format!("Show a QR code for extension {extension}")
        }
    };
    view! {
        <section class="qr-box" aria-labelledby="qr-title">
            <h3 id="qr-title">"Quick set-up with a QR code"</h3>
            <p>"Linphone can take the whole set-up from a QR code, with no typing. A code works once and for ten minutes: make it when the person is ready to scan it."</p>
            <button type="button" class="btn primary" on:click=create disabled=move || busy.get()>{label}</button>
            <p class="note" role="status" aria-live="polite" data-kind="error">{move || error.get()}</p>
            {move || link.get().map(|l| {
                let expired = move || now.get() >= l.expires_at;
                let src = format!("data:image/svg+xml,{}", api::segment(&l.qr_svg));
                let alt = format!("QR code that sets up Linphone for extension {}", l.extension);
                let url = l.url.clone();
                let until = time_of_day(l.expires_at);
                view! {
                    <div class="qr">
                        <Show when=move || !expired() fallback=|| view! {
                            <p class="qr-expired">"This QR code has expired. Make a new one when the person is ready."</p>
                        }>
                            <img class="qr-code" src=src.clone() alt=alt.clone() width="240" height="240"/>
                        </Show>
                        <p class="small">
                            {format!("Works once, until {until}. ")}
                            "In Linphone: Assistant › Fetch remote configuration › scan the QR code."
                        </p>
                        <p class="small qr-url">
                            "Linphone on a computer: paste this link instead "
                            <code>{url.clone()}</code>
                            <CopyButton text=url label="provisioning link"/>
                        </p>
                    </div>
                }
            })}
        </section>
    }
}
