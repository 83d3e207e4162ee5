//! Labelled form fields that save themselves: each shows its label, an optional hint, its save
//! state and the problems that block Apply for it.

use leptos::prelude::*;

use crate::autosave::{FieldState, SaveState};
use crate::components::{FieldStatus, IssueList};

fn described_by(id: &str) -> String {
    format!("{id}-hint {id}-status {id}-issues")
}

fn invalid(state: FieldState, issues: Signal<Vec<String>>) -> impl Fn() -> &'static str {
    move || {
        let bad = matches!(state.get(), SaveState::Error(_)) || !issues.read().is_empty();
        if bad {
            "true"
        } else {
            "false"
        }
    }
}

/// A text input saved when it loses focus or Enter is pressed (`change`), if it changed.
#[component]
pub fn TextField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: String,
    #[prop(into)] value: Signal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] inputmode: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional, into)] placeholder: String,
    state: FieldState,
    #[prop(optional, into)] issues: Signal<Vec<String>>,
    #[prop(optional, into)] disabled: Signal<bool>,
    on_commit: Callback<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let status_id = format!("{id}-status");
    let issues_id = format!("{id}-issues");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                type=kind
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                autocomplete=if autocomplete.is_empty() { "off" } else { autocomplete }
                placeholder=(!placeholder.is_empty()).then_some(placeholder)
                aria-describedby=described_by(&id)
                aria-invalid=invalid(state, issues)
                disabled=move || disabled.get()
                prop:value=move || value.get()
                on:change=move |ev| {
                    let new = event_target_value(&ev);
                    if new != value.get_untracked() {
                        on_commit.run(new);
                    }
                }
            />
            <small class="hint" id=hint_id>{hint}</small>
            <div id=status_id><FieldStatus state=state/></div>
            <div id=issues_id><IssueList issues=issues/></div>
        </div>
    }
}

/// A checkbox saved at once.
#[component]
pub fn CheckField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: String,
    #[prop(into)] value: Signal<bool>,
    state: FieldState,
    #[prop(optional, into)] issues: Signal<Vec<String>>,
    #[prop(optional, into)] disabled: Signal<bool>,
    on_commit: Callback<bool>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let status_id = format!("{id}-status");
    let issues_id = format!("{id}-issues");
    view! {
        <div class="field check">
            <input
                id=id.clone()
                type="checkbox"
                aria-describedby=described_by(&id)
                aria-invalid=invalid(state, issues)
                disabled=move || disabled.get()
                prop:checked=move || value.get()
                on:change=move |ev| on_commit.run(event_target_checked(&ev))
            />
            <label for=id.clone()>{label}</label>
            <small class="hint" id=hint_id>{hint}</small>
            <div id=status_id><FieldStatus state=state/></div>
            <div id=issues_id><IssueList issues=issues/></div>
        </div>
    }
}

/// A drop-down saved at once. `options`: (value, label).
#[component]
pub fn SelectField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(optional, into)] hint: String,
    #[prop(into)] value: Signal<String>,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    state: FieldState,
    #[prop(optional, into)] issues: Signal<Vec<String>>,
    #[prop(optional, into)] disabled: Signal<bool>,
    on_commit: Callback<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let status_id = format!("{id}-status");
    let issues_id = format!("{id}-issues");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id.clone()
                aria-describedby=described_by(&id)
                aria-invalid=invalid(state, issues)
                disabled=move || disabled.get()
                on:change=move |ev| on_commit.run(event_target_value(&ev))
            >
                {move || {
                    let current = value.get();
                    let mut options = options.get();
                    // A value that is no choice any more (a deleted extension) is shown as such
                    // rather than as the first choice.
                    if !options.iter().any(|(v, _)| *v == current) {
                        options.push((current.clone(), format!("{current} (no longer exists)")));
                    }
                    options.into_iter().map(|(v, l)| {
                        let selected = v == current;
                        view! { <option value=v prop:selected=selected>{l}</option> }
                    }).collect_view()
                }}
            </select>
            <small class="hint" id=hint_id>{hint}</small>
            <div id=status_id><FieldStatus state=state/></div>
            <div id=issues_id><IssueList issues=issues/></div>
        </div>
    }
}
