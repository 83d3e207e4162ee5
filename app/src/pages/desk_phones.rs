//! The Desk phones page: the org's desk phones that set themselves up. The admin adds a phone
//! by its MAC address, model and extension; the phone, pointed once at the org's provisioning
//! address with its own user name and password, fetches its settings from the applied
//! configuration. Each phone shows where it stands in a sentence, when it last fetched its
//! settings, its setup values on request, and can be moved to another extension (saved at
//! once) or removed after a confirmation.
//!
//! Like the History page, the page is written as HTML from its state ([`Html`]: every value
//! escaped) in three blocks (the address, the list, the form), with delegated handlers
//! (buttons and selects name their action in `data-act`): far less WebAssembly than a typed
//! view per part. A block is only replaced when its HTML changed, so typing in the form is
//! never disturbed by an answer for the list; the form's values are read back into the state
//! before each rendering. The page is in the full bundle only (see `crate::ORG_PAGES`).

use std::cell::RefCell;

use api_types::desk_phones::{
    DeskPhone, DeskPhoneChange, DeskPhoneModel, DeskPhoneState, NewDeskPhone,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::ConfirmDialog;
use crate::html::{self, Html};

const INTRO: &str = "Plug in a desk phone and it sets itself up: add it here with its MAC address (on the label under the phone), point it once at the address below with the phone's own user name and password (under \u{201c}Show setup\u{201d}), and it fetches its extension's settings by itself. Changes reach the phone at its next check; an extension's account reaches it once the extension is applied on the PBX page.";
const WHERE: &str = "Type it into the phone's auto-provisioning settings, or hand it to the phones through your router's DHCP option 66.";
const MAC_ID: &str = "dp-new-mac";
const MODEL_ID: &str = "dp-new-model";
const EXT_ID: &str = "dp-new-ext";

/// A phone's extension being saved, saved, or refused.
enum Save {
    Saving,
    Saved,
    Error(String),
}

#[derive(Default)]
struct State {
    phones: Vec<DeskPhone>,
    models: Vec<DeskPhoneModel>,
    /// The draft's extensions: (number, "number · name").
    extensions: Vec<(String, String)>,
    loaded: bool,
    error: Option<String>,
    /// The phones whose setup values are shown.
    open: Vec<String>,
    /// The extension saves of the phones, by MAC.
    saves: Vec<(String, Save)>,
    /// The add form's values (read back from the page before each rendering).
    mac: String,
    model: String,
    extension: String,
    adding: bool,
    add_error: Option<ApiError>,
    added: Option<String>,
}

thread_local! {
    /// The state of the Desk phones page shown (one at a time; set anew when the page opens).
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// The page: its state lives in [`STATE`], its HTML in three blocks.
#[derive(Clone, Copy)]
struct Page {
    top: RwSignal<String>,
    list: RwSignal<String>,
    form: RwSignal<String>,
    /// The removal being confirmed: the dialog, its phone, its words, its answer.
    confirm: RwSignal<bool>,
    remove_mac: RwSignal<String>,
    remove_text: RwSignal<String>,
    removing: RwSignal<bool>,
    remove_error: RwSignal<Option<String>>,
}

impl Page {
    fn new() -> Self {
        STATE.with(|s| *s.borrow_mut() = State::default());
        let s = State::default();
        Self {
            top: RwSignal::new(top_html(&s)),
            list: RwSignal::new(list_html(&s)),
            form: RwSignal::new(form_html(&s)),
            confirm: RwSignal::new(false),
            remove_mac: RwSignal::new(String::new()),
            remove_text: RwSignal::new(String::new()),
            removing: RwSignal::new(false),
            remove_error: RwSignal::new(None),
        }
    }

    fn with<T>(self, f: impl FnOnce(&State) -> T) -> T {
        STATE.with(|s| f(&s.borrow()))
    }

    /// Changes the state (the form's values read back first) and writes the page anew.
    fn change(self, f: impl FnOnce(&mut State)) {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            read_form(&mut s);
            f(&mut s);
        });
        self.render();
    }

    /// Writes the blocks whose HTML changed; keyboard focus stays on the element (by id) that
    /// had it.
    fn render(self) {
        let (top, list, form) = self.with(|s| (top_html(s), list_html(s), form_html(s)));
        let focused = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .map(|e| e.id())
            .filter(|id| !id.is_empty());
        for (signal, html) in [(self.top, top), (self.list, list), (self.form, form)] {
            if signal.with_untracked(|h| *h != html) {
                signal.set(html);
            }
        }
        if let Some(id) = focused {
            request_animation_frame(move || focus(&id));
        }
    }

    /// Loads the phones and the extensions (again, while the server is unavailable).
    fn load(self) {
        spawn_local(async move {
            let answer = api::desk_phones().await;
            self.change(|s| match answer {
                Ok(list) => {
                    s.phones = list.phones;
                    s.models = list.models;
                    s.loaded = true;
                    s.error = None;
                }
                Err(e) => s.error = Some(e.message()),
            });
        });
        spawn_local(async move {
            if let Ok(pbx) = api::pbx().await {
                self.change(|s| {
                    s.extensions = pbx
                        .extensions
                        .into_iter()
                        .map(|e| {
                            let label = format!("{} · {}", e.number, e.display_name);
                            (e.number, label)
                        })
                        .collect();
                });
            }
        });
    }

    fn add(self) {
        let mut new = None;
        self.change(|s| {
            if s.adding {
                return;
            }
            let model = if s.model.is_empty() {
                s.models.first().map(|m| m.id.clone()).unwrap_or_default()
            } else {
                s.model.clone()
            };
            new = Some(NewDeskPhone {
                mac: s.mac.trim().to_owned(),
                model,
                extension: (!s.extension.is_empty()).then(|| s.extension.clone()),
            });
            s.adding = true;
            s.add_error = None;
            s.added = None;
        });
        let Some(new) = new else {
            return;
        };
        spawn_local(async move {
            let answer = api::add_desk_phone(&new).await;
            let failed = answer.is_err();
            self.change(|s| {
                s.adding = false;
                match answer {
                    Ok(phone) => {
                        s.added = Some(format!("Added {}. {}", phone.mac, phone.state_text));
                        s.phones.push(phone);
                        s.mac.clear();
                        s.extension.clear();
                    }
                    Err(e) => s.add_error = Some(e),
                }
            });
            // The first field the server refused, else the MAC field for the next phone.
            let field = self.with(|s| {
                let e = s.add_error.as_ref();
                [("model", MODEL_ID), ("extension", EXT_ID)]
                    .into_iter()
                    .find(|(f, _)| e.is_some_and(|e| e.field_message(None, f).is_some()))
                    .map_or(MAC_ID, |(_, id)| id)
            });
            if failed || field == MAC_ID {
                request_animation_frame(move || focus(field));
            }
        });
    }

    /// Puts the phone `mac` on `extension` (empty: none), saved at once.
    fn set_extension(self, mac: String, extension: String) {
        let Some(model) = self.with(|s| {
            s.phones
                .iter()
                .find(|p| p.mac == mac)
                .map(|p| p.model.clone())
        }) else {
            return;
        };
        let change = DeskPhoneChange {
            model,
            extension: (!extension.is_empty()).then_some(extension),
        };
        self.change(|s| set_save(s, &mac, Save::Saving));
        spawn_local(async move {
            let answer = api::change_desk_phone(&mac, &change).await;
            self.change(|s| match answer {
                Ok(phone) => {
                    if let Some(p) = s.phones.iter_mut().find(|p| p.mac == mac) {
                        *p = phone;
                    }
                    set_save(s, &mac, Save::Saved);
                }
                Err(e) => {
                    let text = e
                        .field_message(None, "extension")
                        .unwrap_or_else(|| e.message());
                    set_save(s, &mac, Save::Error(text));
                }
            });
        });
    }

    fn ask_remove(self, mac: String) {
        let Some(text) = self.with(|s| {
            s.phones.iter().find(|p| p.mac == mac).map(|p| {
                format!(
                    "{} ({}{}). The phone forgets its account at its next check.",
                    p.mac,
                    p.model_label,
                    p.extension
                        .as_ref()
                        .map(|e| format!(", extension {e}"))
                        .unwrap_or_default()
                )
            })
        }) else {
            return;
        };
        self.remove_mac.set(mac);
        self.remove_text.set(text);
        self.remove_error.set(None);
        self.confirm.set(true);
    }

    fn remove(self) {
        let mac = self.remove_mac.get_untracked();
        self.removing.set(true);
        self.remove_error.set(None);
        spawn_local(async move {
            let answer = api::remove_desk_phone(&mac).await;
            self.removing.set(false);
            match answer {
                Ok(()) => {
                    self.confirm.set(false);
                    self.change(|s| {
                        s.phones.retain(|p| p.mac != mac);
                        s.open.retain(|m| *m != mac);
                        s.saves.retain(|(m, _)| *m != mac);
                    });
                }
                Err(e) => self.remove_error.set(Some(e.message())),
            }
        });
    }

    /// The page's click handler: copy buttons, and buttons naming their action in `data-act`.
    fn clicked(self, ev: web_sys::MouseEvent) {
        html::copy_clicked(ev.clone());
        let Some(button) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("button[data-act]").ok().flatten())
        else {
            return;
        };
        let mac = button.get_attribute("data-mac").unwrap_or_default();
        match button.get_attribute("data-act").as_deref() {
            Some("setup") => self.change(|s| {
                if s.open.contains(&mac) {
                    s.open.retain(|m| *m != mac);
                } else {
                    s.open.push(mac);
                }
            }),
            Some("remove") => self.ask_remove(mac),
            Some("refresh") => self.load(),
            _ => {}
        }
    }

    /// The page's change handler: a phone's extension, or the model chosen in the form.
    fn changed(self, ev: web_sys::Event) {
        let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let value = event_target_value(&ev);
        if select.id() == MODEL_ID {
            // Only the hint changes: written in place, so the select keeps its focus.
            let model = value;
            let covers = self.with(|s| covers(s, &model));
            if let Some(hint) = element("dp-new-model-hint") {
                hint.set_text_content(Some(&covers));
            }
            STATE.with(|s| s.borrow_mut().model = model);
        } else if select.get_attribute("data-act").as_deref() == Some("ext") {
            let mac = select.get_attribute("data-mac").unwrap_or_default();
            self.set_extension(mac, value);
        }
    }
}

fn set_save(s: &mut State, mac: &str, save: Save) {
    s.saves.retain(|(m, _)| m != mac);
    s.saves.push((mac.to_owned(), save));
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

fn focus(id: &str) {
    if let Some(e) = element(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = e.focus();
    }
}

/// The value of the input or select `id`, if it is on the page (`value` of either).
fn value_of(id: &str) -> Option<String> {
    Some(
        element(id)?
            .unchecked_into::<web_sys::HtmlInputElement>()
            .value(),
    )
}

/// The form's values as the admin left them.
fn read_form(s: &mut State) {
    for (id, value) in [
        (MAC_ID, &mut s.mac),
        (MODEL_ID, &mut s.model),
        (EXT_ID, &mut s.extension),
    ] {
        if let Some(v) = value_of(id) {
            *value = v;
        }
    }
}

#[component]
pub fn DeskPhonesPage() -> impl IntoView {
    let page = Page::new();
    page.load();
    crate::service::retry_with(move || page.load());
    let confirm_label = Signal::derive(move || {
        if page.removing.get() {
            "Removing…".to_owned()
        } else {
            "Remove phone".to_owned()
        }
    });
    view! {
        <div class="desk-phones"
            on:click=move |ev| page.clicked(ev)
            on:change=move |ev| page.changed(ev)
            on:submit=move |ev| {
                ev.prevent_default();
                page.add();
            }
        >
            <div inner_html=move || page.top.get()/>
            <div inner_html=move || page.list.get()/>
            <div inner_html=move || page.form.get()/>
        </div>
        <ConfirmDialog
            open=page.confirm
            title="Remove this phone?"
            confirm_label=confirm_label
            danger=true
            busy=page.removing
            on_confirm=Callback::new(move |_| page.remove())
        >
            <p>{move || page.remove_text.get()}</p>
            <p class="form-error" role="alert">{move || page.remove_error.get()}</p>
        </ConfirmDialog>
    }
}

/// The title, what the page is for, and the address for the phones.
fn top_html(s: &State) -> String {
    let mut h = Html::new();
    h.el("h1", &[], "Desk phones")
        .el("p", &[("class", "intro")], INTRO);
    h.open(
        "section",
        &[("class", "card"), ("aria-labelledby", "dp-address-title")],
    );
    h.el(
        "h2",
        &[("id", "dp-address-title")],
        "The address for your phones",
    );
    let url = provisioning_url(s);
    h.open("p", &[("class", "dp-address")])
        .el("code", &[], &url)
        .text(" ")
        .copy_button(&url, "the address for your phones")
        .close("p");
    h.el("p", &[("class", "muted small")], WHERE);
    h.close("section");
    h.finish()
}

/// Where the phones fetch their settings: as the server says it, or this host's.
fn provisioning_url(s: &State) -> String {
    match s.phones.first() {
        Some(p) => p.provisioning_url.clone(),
        None => {
            let origin = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .unwrap_or_default();
            format!("{origin}/provision/device/")
        }
    }
}

/// The phones.
fn list_html(s: &State) -> String {
    let mut h = Html::new();
    h.open(
        "section",
        &[("class", "card"), ("aria-labelledby", "dp-list-title")],
    );
    h.el("h2", &[("id", "dp-list-title")], "Your desk phones");
    let status = match &s.error {
        Some(e) => e.clone(),
        None if !s.loaded => "Loading…".into(),
        None => String::new(),
    };
    let kind = if s.error.is_some() { "error" } else { "" };
    h.el(
        "p",
        &[("class", "note"), ("data-kind", kind), ("role", "status")],
        &status,
    );
    if s.loaded && s.phones.is_empty() {
        h.el(
            "p",
            &[("class", "empty")],
            "No desk phones yet: add the first one below.",
        );
    }
    h.open("ul", &[("class", "dp-list")]);
    for p in &s.phones {
        phone_html(&mut h, p, s);
    }
    h.close("ul");
    h.el(
        "button",
        &[
            ("type", "button"),
            ("class", "btn small"),
            ("data-act", "refresh"),
        ],
        "Check again",
    );
    h.close("section");
    h.finish()
}

/// The visual hint of a state (`data-kind` of `.note`), its mark and its name.
fn state_look(state: DeskPhoneState) -> (&'static str, &'static str, &'static str) {
    match state {
        DeskPhoneState::Ready => ("ok", "✓", "ready"),
        DeskPhoneState::NoExtension => ("idle", "–", "no_extension"),
        DeskPhoneState::WaitingForApply => ("warn", "…", "waiting_for_apply"),
        DeskPhoneState::NeedsNewPassword => ("error", "!", "needs_new_password"),
    }
}

/// One phone: MAC and model, extension (saved at once), state, last fetch, setup, Remove.
fn phone_html(h: &mut Html, p: &DeskPhone, s: &State) {
    let compact: String = p.mac.chars().filter(|c| *c != ':').collect();
    let ext_id = format!("dp-{compact}-ext");
    let setup_id = format!("dp-{compact}-setup");
    h.open("li", &[("class", "dp"), ("data-mac", &p.mac)]);
    h.open("h3", &[("class", "dp-head")])
        .el("code", &[], &p.mac)
        .text(" ")
        .el("span", &[("class", "muted dp-model")], &p.model_label)
        .close("h3");
    h.open("div", &[("class", "row")]);

    // The extension, saved when chosen.
    h.open("div", &[("class", "field")]);
    h.el("label", &[("for", &ext_id)], "Extension");
    let save = s.saves.iter().find(|(m, _)| *m == p.mac).map(|(_, v)| v);
    let invalid = if matches!(save, Some(Save::Error(_))) {
        "true"
    } else {
        "false"
    };
    let status_id = format!("{ext_id}-status");
    h.open(
        "select",
        &[
            ("id", &ext_id),
            ("data-act", "ext"),
            ("data-mac", &p.mac),
            ("aria-describedby", &status_id),
            ("aria-invalid", invalid),
        ],
    );
    let current = p.extension.clone().unwrap_or_default();
    let mut options = vec![(String::new(), "No extension".to_owned())];
    options.extend(s.extensions.iter().cloned());
    if !options.iter().any(|(v, _)| *v == current) {
        options.push((current.clone(), current.clone()));
    }
    options_html(h, &options, &current);
    h.close("select");
    let (state, text) = match save {
        None => ("idle", String::new()),
        Some(Save::Saving) => ("saving", "Saving…".into()),
        Some(Save::Saved) => ("saved", "Saved ✓".into()),
        Some(Save::Error(e)) => ("error", format!("Not saved: {e}")),
    };
    h.open("div", &[("id", &status_id)])
        .el(
            "span",
            &[
                ("class", "fstatus"),
                ("role", "status"),
                ("data-state", state),
            ],
            &text,
        )
        .close("div");
    h.close("div");

    // Where it stands and when it last fetched its settings.
    let (kind, mark, name) = state_look(p.state);
    h.open("div", &[("class", "field grow")]);
    h.open(
        "p",
        &[
            ("class", "note dp-state"),
            ("data-kind", kind),
            ("data-state", name),
        ],
    )
    .el("span", &[("aria-hidden", "true")], &format!("{mark} "))
    .text(&p.state_text)
    .close("p");
    h.el("p", &[("class", "muted small dp-fetch")], &last_fetch(p));
    h.close("div");
    h.close("div");

    let open = s.open.contains(&p.mac);
    h.open("div", &[("class", "actions")]);
    h.el(
        "button",
        &[
            ("type", "button"),
            ("class", "btn small"),
            ("data-act", "setup"),
            ("data-mac", &p.mac),
            ("aria-expanded", if open { "true" } else { "false" }),
            ("aria-controls", &setup_id),
        ],
        if open { "Hide setup" } else { "Show setup" },
    );
    h.el(
        "button",
        &[
            ("type", "button"),
            ("class", "btn small danger-outline"),
            ("data-act", "remove"),
            ("data-mac", &p.mac),
        ],
        "Remove…",
    );
    h.close("div");
    h.open("div", &[("id", &setup_id)]);
    if open {
        setup_html(h, p);
    }
    h.close("div");
    h.close("li");
}

/// What to type into the phone (or hand the DHCP server), each value with a copy button.
fn setup_html(h: &mut Html, p: &DeskPhone) {
    h.open("dl", &[("class", "fields dp-setup")]);
    for (label, value) in [
        ("Provisioning address", &p.provisioning_url),
        ("File name", &p.file_name),
        ("User name", &p.username),
        ("Password", &p.password),
    ] {
        h.open("div", &[("class", "field-line")])
            .el("dt", &[], label)
            .open("dd", &[])
            .el("code", &[], value)
            .copy_button(value, label)
            .close("dd")
            .close("div");
    }
    h.close("dl");
    h.el(
        "p",
        &[("class", "muted small")],
        "The phone asks for its file by itself: give it the address, the user name and the password.",
    );
}

/// `<option>`s of (value, label), `current` selected.
fn options_html(h: &mut Html, options: &[(String, String)], current: &str) {
    for (value, label) in options {
        let mut attrs = vec![("value", value.as_str())];
        if value == current {
            attrs.push(("selected", ""));
        }
        h.el("option", &attrs, label);
    }
}

/// "Fetched its settings 5 min ago from 192.0.2.10." / "Has not fetched its settings yet."
fn last_fetch(phone: &DeskPhone) -> String {
    let Some(at) = phone.last_fetch_at else {
        return "Has not fetched its settings yet.".into();
    };
    let minutes = ((js_sys::Date::now() as i64 - at) / 60_000).max(0);
    let ago = match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min ago"),
        60..=1439 => format!("{} h ago", minutes / 60),
        1440..=2879 => "1 day ago".to_owned(),
        _ => format!("{} days ago", minutes / 1440),
    };
    match &phone.last_fetch_ip {
        Some(ip) => format!("Fetched its settings {ago} from {ip}."),
        None => format!("Fetched its settings {ago}."),
    }
}

/// "Covers T41, T42, ...", for the model `id` (the first model when none is chosen).
fn covers(s: &State, id: &str) -> String {
    s.models
        .iter()
        .find(|m| m.id == id)
        .or(s.models.first())
        .map(|m| format!("Covers {}.", m.covers))
        .unwrap_or_default()
}

/// The form adding a phone, its field errors next to the fields.
fn form_html(s: &State) -> String {
    let e = s.add_error.as_ref();
    let message = |field: &str| {
        e.and_then(|e| e.field_message(None, field))
            .unwrap_or_default()
    };
    let mut h = Html::new();
    h.open(
        "form",
        &[
            ("class", "card"),
            ("id", "dp-add"),
            ("novalidate", ""),
            ("aria-labelledby", "dp-add-title"),
        ],
    );
    h.el("h2", &[("id", "dp-add-title")], "Add a phone");
    h.open("div", &[("class", "row")]);
    let model = if s.model.is_empty() {
        s.models.first().map(|m| m.id.clone()).unwrap_or_default()
    } else {
        s.model.clone()
    };
    let models: Vec<(String, String)> = s
        .models
        .iter()
        .map(|m| (m.id.clone(), m.label.clone()))
        .collect();
    let mut extensions = vec![(String::new(), "No extension".to_owned())];
    extensions.extend(s.extensions.iter().cloned());
    for (id, field, label, hint, grow) in [
        (
            MAC_ID,
            "mac",
            "MAC address",
            "On the label under the phone".to_owned(),
            false,
        ),
        (MODEL_ID, "model", "Model", covers(s, &model), true),
        (
            EXT_ID,
            "extension",
            "Extension",
            "Can be chosen later".to_owned(),
            false,
        ),
    ] {
        let error = message(field);
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let described = format!("{hint_id} {error_id}");
        let invalid = if error.is_empty() { "false" } else { "true" };
        h.open(
            "div",
            &[("class", if grow { "field grow" } else { "field" })],
        );
        h.el("label", &[("for", id)], label);
        let attrs = [
            ("id", id),
            ("aria-describedby", described.as_str()),
            ("aria-invalid", invalid),
        ];
        match field {
            "mac" => {
                let mut attrs = attrs.to_vec();
                attrs.extend([
                    ("type", "text"),
                    ("autocomplete", "off"),
                    ("spellcheck", "false"),
                    ("placeholder", "for example 00:15:65:12:34:56"),
                    ("value", s.mac.as_str()),
                ]);
                h.open("input", &attrs);
            }
            "model" => {
                h.open("select", &attrs);
                options_html(&mut h, &models, &model);
                h.close("select");
            }
            _ => {
                h.open("select", &attrs);
                options_html(&mut h, &extensions, &s.extension);
                h.close("select");
            }
        }
        h.el("small", &[("class", "hint"), ("id", &hint_id)], &hint);
        h.el("p", &[("class", "field-error"), ("id", &error_id)], &error);
        h.close("div");
    }
    h.open("div", &[("class", "field")]);
    h.el(
        "span",
        &[("class", "label-spacer"), ("aria-hidden", "true")],
        "",
    );
    let mut attrs = vec![("type", "submit"), ("class", "btn primary")];
    if s.adding {
        attrs.push(("disabled", ""));
    }
    h.el(
        "button",
        &attrs,
        if s.adding { "Adding…" } else { "Add phone" },
    );
    h.close("div").close("div");
    let general = e
        .filter(|e| {
            !["mac", "model", "extension"]
                .iter()
                .any(|f| e.field_message(None, f).is_some())
        })
        .map(|e| e.message())
        .unwrap_or_default();
    h.el("p", &[("class", "form-error"), ("role", "alert")], &general);
    h.el(
        "p",
        &[("class", "note"), ("data-kind", "ok"), ("role", "status")],
        s.added.as_deref().unwrap_or_default(),
    );
    h.close("form");
    h.finish()
}
