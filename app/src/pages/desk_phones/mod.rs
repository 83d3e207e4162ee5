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

mod render;

use render::{covers, form_html, list_html, top_html};

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
