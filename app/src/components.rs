//! Small widgets shared by the pages.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::autosave::{FieldState, SaveState};

/// What a page offers to refresh itself (the conflict message's "Reload" button uses it).
/// `epoch` counts the reloads asked for: conflict messages clear themselves on the next one.
#[derive(Clone, Copy)]
pub struct Reload {
    pub run: Callback<()>,
    pub epoch: RwSignal<u64>,
}

impl Reload {
    pub fn new(reload: impl Fn() + Send + Sync + 'static) -> Self {
        let epoch = RwSignal::new(0);
        Self {
            run: Callback::new(move |_| {
                epoch.update(|e| *e += 1);
                reload();
            }),
            epoch,
        }
    }
}

/// The save state of one field, in a slot whose height is always reserved (no layout jumps).
#[component]
pub fn FieldStatus(state: FieldState) -> impl IntoView {
    let reload = use_context::<Reload>();
    if let Some(r) = reload {
        Effect::new(move |previous: Option<u64>| {
            let epoch = r.epoch.get();
            if previous.is_some() && state.get_untracked() == SaveState::Conflict {
                state.set(SaveState::Idle);
            }
            epoch
        });
    }
    view! {
        <span class="fstatus" role="status" aria-live="polite" data-state=move || match state.get() {
            SaveState::Idle => "idle",
            SaveState::Incomplete(_) => "incomplete",
            SaveState::Saving => "saving",
            SaveState::Saved => "saved",
            SaveState::Error(_) => "error",
            SaveState::Conflict => "conflict",
            SaveState::Unsaved => "unsaved",
        }>
            {move || match state.get() {
                SaveState::Idle => ().into_any(),
                SaveState::Incomplete(text) => view! { <span>{text}</span> }.into_any(),
                SaveState::Saving => view! { <span>"Saving…"</span> }.into_any(),
                SaveState::Saved => view! { <span>"Saved ✓"</span> }.into_any(),
                SaveState::Error(text) => view! { <span>"Not saved: " {text}</span> }.into_any(),
                SaveState::Unsaved => view! {
                    <span>"Not saved: the configuration database cannot be reached. What you entered stays here and is saved by itself once it is back."</span>
                }.into_any(),
                SaveState::Conflict => view! {
                    <span>
                        "Not saved: someone changed this elsewhere since you opened the page. "
                        {reload.map(|r| view! {
                            <button type="button" class="link" on:click=move |_| r.run.run(())>
                                "Reload to see the current settings"
                            </button>
                        })}
                    </span>
                }.into_any(),
            }}
        </span>
    }
}

/// Problems that block Apply, shown under the field they concern.
#[component]
pub fn IssueList(#[prop(into)] issues: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !issues.read().is_empty()>
            <ul class="issues">
                {move || issues.get().into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul>
        </Show>
    }
}

/// A modal confirmation (the browser's `<dialog>`: focus stays inside, Escape cancels).
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: String,
    #[prop(into)] confirm_label: Signal<String>,
    #[prop(optional)] danger: bool,
    #[prop(optional, into)] busy: Signal<bool>,
    on_confirm: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    Effect::new(move |_| {
        let want = open.get();
        if let Some(d) = dialog.get() {
            if want && !d.open() {
                let _ = d.show_modal();
            } else if !want && d.open() {
                d.close();
            }
        }
    });
    let confirm_class = if danger { "btn danger" } else { "btn primary" };
    let title_id = unique_id("dialog-title");
    let labelled_by = title_id.clone();
    view! {
        <dialog node_ref=dialog class="confirm" aria-labelledby=labelled_by on:close=move |_| open.set(false)>
            <h2 id=title_id>{title}</h2>
            <div class="dialog-body">{children()}</div>
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| open.set(false)>"Cancel"</button>
                <button
                    type="button"
                    class=confirm_class
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {move || confirm_label.get()}
                </button>
            </div>
        </dialog>
    }
}

/// An id no other element of the page has.
pub fn unique_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(#[prop(into)] text: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let aria = format!("Copy {label}");
    view! {
        <button
            type="button"
            class="btn small"
            aria-label=aria
            on:click=move |_| {
                if let Some(window) = web_sys::window() {
                    let promise = window.navigator().clipboard().write_text(&text);
                    leptos::task::spawn_local(async move {
                        let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                        copied.set(ok);
                    });
                }
            }
        >
            {move || if copied.get() { "Copied ✓" } else { "Copy" }}
        </button>
    }
}

/// A secret shown this once (a SIP password, new credentials), with copy buttons.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub title: String,
    pub lines: Vec<(String, String)>,
}

#[component]
pub fn SecretBox(secret: RwSignal<Option<Secret>>) -> impl IntoView {
    view! {
        {move || secret.get().map(|s| {
            let title_id = unique_id("secret-title");
            let labelled_by = title_id.clone();
            view! {
            <section class="secret" role="alert" aria-labelledby=labelled_by>
                <h2 id=title_id>{s.title}</h2>
                <p>"Shown only this once: write it into the phone (or a password manager) now."</p>
                <dl>
                    {s.lines.into_iter().map(|(label, value)| {
                        let copy_label = label.clone();
                        let copy_value = value.clone();
                        view! {
                            <div class="secret-line">
                                <dt>{label}</dt>
                                <dd><code class="secret-value">{value}</code>
                                    <CopyButton text=copy_value label=copy_label/></dd>
                            </div>
                        }
                    }).collect_view()}
                </dl>
                <button type="button" class="btn" on:click=move |_| secret.set(None)>"Done, hide it"</button>
            </section>
        }})}
    }
}

/// The file chosen in a file input.
pub fn chosen_file(ev: &web_sys::Event) -> Option<web_sys::File> {
    let input = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    input.files()?.get(0)
}

/// Clears a file input (so the same file can be chosen again).
pub fn clear_file_input(ev: &web_sys::Event) {
    if let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.set_value("");
    }
}

/// Milliseconds since the epoch as local time of day (`14:05:09`).
pub fn time_of_day(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}
