//! The History page: every Apply of the org, newest first (when, who, how long it waited for
//! calls, what changed in sentences), a page at a time; and restoring an earlier version into
//! the draft after a preview of what the draft would become. Nothing reaches the phones until
//! the next Apply on the PBX page.
//!
//! The page is one block of HTML written from its state ([`Html`]) with one delegated click
//! handler (buttons name their action in `data-act`), which costs far less WebAssembly than
//! a typed view per part. The page is in the full bundle only (see `crate::ORG_PAGES`). The warning under "Keep the current passwords" shows
//! when the box is unchecked (CSS); the box is read when the restore is sent.

use std::cell::RefCell;

use api_types::history::{HistoryEntry, RestorePreview, RestoreResult};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::api;
use crate::html::Html;
use crate::pages::stats::when;

const CONFLICT: &str = "Someone changed the draft meanwhile. Below is what restoring would do now: check it and restore again.";
const INTRO: &str = "Every Apply, newest first: what changed, when and by whom. An earlier version can be put back into the draft; the phones keep the current settings until you press Apply on the PBX page.";
const KEEP_ID: &str = "keep-secrets";

#[derive(Default)]
struct State {
    entries: Vec<HistoryEntry>,
    next_before: Option<i64>,
    loaded: bool,
    /// A request of the page is under way (its buttons are disabled).
    busy: bool,
    error: Option<String>,
    /// The version whose restore panel is open, and what restoring it would do.
    open: Option<i64>,
    preview: Option<RestorePreview>,
    panel_error: Option<String>,
    conflict: bool,
    /// The last restore, shown under its version.
    restored: Option<RestoreResult>,
}

thread_local! {
    /// The state of the History page shown (one at a time; set anew when the page opens).
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// The page: its state lives in [`STATE`], its HTML in `html`.
#[derive(Clone, Copy)]
struct Page {
    html: RwSignal<String>,
}

impl Page {
    fn new() -> Self {
        STATE.with(|s| *s.borrow_mut() = State::default());
        Self {
            html: RwSignal::new(render(&State::default())),
        }
    }

    fn with<T>(self, f: impl FnOnce(&State) -> T) -> T {
        STATE.with(|s| f(&s.borrow()))
    }

    /// Changes the state and writes the page anew.
    fn change(self, f: impl FnOnce(&mut State)) {
        let html = STATE.with(|s| {
            let mut s = s.borrow_mut();
            f(&mut s);
            render(&s)
        });
        self.html.set(html);
    }

    /// The newest Applies (`before: None`), or the page below `before`, added to the list.
    fn fetch(self, before: Option<i64>) {
        self.change(|s| s.busy = true);
        spawn_local(async move {
            let answer = api::history(before).await;
            self.change(|s| {
                s.busy = false;
                match answer {
                    Ok(page) => {
                        if before.is_none() {
                            s.entries.clear();
                        }
                        s.entries.extend(page.entries);
                        s.next_before = page.next_before;
                        s.loaded = true;
                        s.error = None;
                    }
                    Err(e) => s.error = Some(e.message()),
                }
            });
        });
    }

    fn open(self, version: i64) {
        self.change(|s| {
            s.open = Some(version);
            s.preview = None;
            s.panel_error = None;
            s.conflict = false;
            s.restored = None;
        });
        self.load_preview(version);
    }

    fn load_preview(self, version: i64) {
        spawn_local(async move {
            let answer = api::restore_preview(version).await;
            self.change(|s| match answer {
                _ if s.open != Some(version) => {}
                Ok(p) => s.preview = Some(p),
                Err(e) => s.panel_error = Some(e.message()),
            });
            // The panel was written anew: keyboard focus goes to its heading.
            request_animation_frame(move || focus(&format!("restore-{version}")));
        });
    }

    fn confirm(self) {
        let Some((version, revision)) = self.with(|s| {
            let p = s.preview.as_ref()?;
            Some((p.entry.version, p.draft_revision))
        }) else {
            return;
        };
        let restore_secrets = !checked(KEEP_ID);
        self.change(|s| {
            s.busy = true;
            s.panel_error = None;
            s.conflict = false;
        });
        spawn_local(async move {
            let answer = api::restore(version, revision, restore_secrets).await;
            let conflict = matches!(&answer, Err(e) if e.is_conflict());
            self.change(|s| {
                s.busy = false;
                match answer {
                    Ok(result) => {
                        s.open = None;
                        s.restored = Some(result);
                    }
                    Err(_) if conflict => {
                        s.conflict = true;
                        s.preview = None;
                    }
                    Err(e) => s.panel_error = Some(e.message()),
                }
            });
            if conflict {
                self.load_preview(version);
            }
        });
    }

    /// The page's one click handler: the button's `data-act` (and `data-version`).
    fn clicked(self, ev: web_sys::MouseEvent) {
        let Some(button) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("button[data-act]").ok().flatten())
        else {
            return;
        };
        let version = button.get_attribute("data-version");
        match (button.get_attribute("data-act").as_deref(), version) {
            (Some("restore"), Some(v)) => self.open(v.parse().unwrap_or_default()),
            (Some("cancel"), _) => self.change(|s| s.open = None),
            (Some("confirm"), _) => self.confirm(),
            (Some("older"), _) => self.fetch(self.with(|s| s.next_before)),
            _ => {}
        }
    }
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

fn focus(id: &str) {
    if let Some(e) = element(id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = e.focus();
    }
}

/// Whether the checkbox `id` is checked (true when it is not there).
fn checked(id: &str) -> bool {
    element(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_none_or(|input| input.checked())
}

#[component]
pub fn HistoryPage() -> impl IntoView {
    let page = Page::new();
    page.fetch(None);
    crate::service::retry_with(move || page.fetch(None));
    view! { <div class="history" inner_html=move || page.html.get() on:click=move |ev| page.clicked(ev)/> }
}

/// The whole list, as HTML.
fn render(s: &State) -> String {
    let mut h = Html::new();
    h.el("h1", &[], "History")
        .el("p", &[("class", "intro")], INTRO);
    h.el("p", &[("class", "note"), ("role", "status")], &status(s));
    for e in &s.entries {
        entry_html(&mut h, e, s);
    }
    if s.next_before.is_some() {
        button(
            &mut h,
            "btn",
            &[("data-act", "older")],
            s.busy,
            "Show older",
        );
    }
    h.finish()
}

fn status(s: &State) -> String {
    match &s.error {
        Some(e) => e.clone(),
        None if !s.loaded => "Loading…".into(),
        None if s.entries.is_empty() => "Nothing has been applied yet.".into(),
        None => String::new(),
    }
}

/// `<button type="button" class=...>`, with `attrs`, disabled when `disabled`.
fn button(h: &mut Html, class: &str, attrs: &[(&str, &str)], disabled: bool, label: &str) {
    let mut all = vec![("type", "button"), ("class", class)];
    all.extend_from_slice(attrs);
    if disabled {
        all.push(("disabled", ""));
    }
    h.el("button", &all, label);
}

/// One Apply: heading, when and who, its changes; its restore button, panel or result.
fn entry_html(h: &mut Html, e: &HistoryEntry, s: &State) {
    let version = e.version.to_string();
    h.open(
        "article",
        &[("class", "card entry"), ("data-version", &version)],
    );
    h.el("h2", &[], &format!("Version {version}"));
    h.el("p", &[("class", "muted small meta")], &meta(e));
    list_html(h, &e.changes);
    if !e.restorable {
        let note = "Kept from before whole versions were saved: it can be read, not restored.";
        h.el("p", &[("class", "muted small")], note);
    } else if s.open == Some(e.version) {
        panel_html(h, e.version, s);
    } else {
        if let Some(r) = s.restored.as_ref().filter(|r| r.version == e.version) {
            restored_html(h, r);
        }
        let attrs = [("data-act", "restore"), ("data-version", version.as_str())];
        button(h, "btn", &attrs, s.busy, "Restore this version…");
    }
    h.close("article");
}

fn list_html(h: &mut Html, sentences: &[String]) {
    h.open("ul", &[("class", "changes")]);
    for s in sentences {
        h.el("li", &[], s);
    }
    h.close("ul");
}

/// `Today 14:05 · by alice@example.com · waited 2 min 5 s for calls to end`.
fn meta(e: &HistoryEntry) -> String {
    let mut text = format!("{} · by {}", when(e.applied_at), e.applied_by);
    if let Some(waited) = e.waited_seconds.filter(|w| *w > 0) {
        text.push_str(&format!(" · waited {} for calls to end", span(waited)));
    }
    text
}

/// `45 s`, `2 min`, `2 min 5 s`.
fn span(seconds: u64) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// The confirmation of a restore: what the draft would become, the passwords, the numbers
/// gone, and the buttons.
fn panel_html(h: &mut Html, version: i64, s: &State) {
    let id = format!("restore-{version}");
    h.open(
        "section",
        &[("class", "restore-panel"), ("aria-labelledby", &id)],
    );
    let title = format!("Restore version {version} into the draft?");
    h.el("h3", &[("id", &id), ("tabindex", "-1")], &title);
    if s.conflict {
        h.el("p", &[("class", "warning"), ("role", "alert")], CONFLICT);
    }
    match (&s.preview, &s.panel_error) {
        (_, Some(e)) => {
            h.el("p", &[("class", "note"), ("data-kind", "error")], e);
        }
        (None, _) => {
            h.el("p", &[("class", "note")], "Loading…");
        }
        (Some(p), _) => preview_html(h, p),
    }
    h.open("div", &[("class", "actions")]);
    let label = if s.busy {
        "Restoring…"
    } else {
        "Restore into draft"
    };
    let confirm = [("data-act", "confirm")];
    button(
        h,
        "btn primary",
        &confirm,
        s.busy || s.preview.is_none(),
        label,
    );
    button(h, "btn", &[("data-act", "cancel")], false, "Cancel");
    h.close("div").close("section");
}

/// What the draft would become, the passwords that differ, and the numbers left out.
fn preview_html(h: &mut Html, p: &RestorePreview) {
    let version = p.entry.version;
    if p.changes.is_empty() {
        let text =
            format!("The draft already matches version {version}: restoring changes nothing.");
        h.el("p", &[], &text);
    } else {
        let text =
            format!("The draft would become version {version} again. Compared with the draft now:");
        h.el("p", &[], &text);
        list_html(h, &p.changes);
    }
    if !p.secrets_differ.is_empty() {
        secrets_html(h, &p.secrets_differ, version);
    }
    if !p.returning.is_empty() {
        let text = format!(
            "{} back with the SIP password and voicemail PIN of version {version}: phones or people that still know them can use them again.",
            returning_phrase(&p.returning)
        );
        h.el("p", &[("class", "returning")], &text);
    }
    if !p.numbers_gone.is_empty() {
        let text = format!(
            "No longer yours, so left out: {}. Calls to these numbers no longer reach you.",
            p.numbers_gone.join(", ")
        );
        h.el("p", &[("class", "numbers-gone")], &text);
    }
}

/// "Extension 102 comes" / "Extensions 102 and 103 come".
fn returning_phrase(numbers: &[String]) -> String {
    match numbers {
        [one] => format!("Extension {one} comes"),
        [rest @ .., last] => format!("Extensions {} and {last} come", rest.join(", ")),
        [] => String::new(),
    }
}

/// "Keep the current passwords" (checked), and the warning shown when it is unchecked.
fn secrets_html(h: &mut Html, numbers: &[String], version: i64) {
    let differ = format!(
        "{} a different SIP password or voicemail PIN in version {version}.",
        extensions_phrase(numbers)
    );
    let warning = format!("The passwords of version {version} come back. Phones set up since then use the current ones: they would stop registering until they are set up again.");
    h.open("div", &[("class", "field check")]);
    let input = [("id", KEEP_ID), ("type", "checkbox"), ("checked", "")];
    h.open("input", &input);
    h.el("label", &[("for", KEEP_ID)], "Keep the current passwords");
    h.el("small", &[("class", "hint")], &differ);
    h.el("p", &[("class", "warning"), ("role", "alert")], &warning);
    h.close("div");
}

/// `Extension 101 has` / `Extensions 101, 102 and 103 have`.
fn extensions_phrase(numbers: &[String]) -> String {
    match numbers {
        [one] => format!("Extension {one} has"),
        [rest @ .., last] => format!("Extensions {} and {last} have", rest.join(", ")),
        [] => String::new(),
    }
}

/// After a restore: the draft holds that version; Apply on the PBX page makes it real.
fn restored_html(h: &mut Html, r: &RestoreResult) {
    h.open("div", &[("class", "restored"), ("role", "status")]);
    let done = format!("The draft now holds version {}.", r.version);
    h.open("p", &[])
        .el("strong", &[], &done)
        .text(" Nothing changes for the phones until you press Apply on the PBX page.")
        .close("p");
    if !r.pending.is_empty() {
        h.el("p", &[], "Waiting for Apply:");
        list_html(h, &r.pending);
    }
    h.open("p", &[("class", "go")])
        .el("a", &[("href", "/")], "Go to the PBX page")
        .close("p");
    h.close("div");
}
