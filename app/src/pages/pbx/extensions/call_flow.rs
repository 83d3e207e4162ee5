//! What happens to an extension's calls: the "if nobody answers" choices, their labels, the
//! one-line summary, and saving a choice together with its target.

use api_types::org::{ExtensionPatch, ExtensionView};
use leptos::prelude::*;

use crate::autosave::{FieldState, SaveState, Saver};

pub const VOICEMAIL: &str = "voicemail";
pub const FORWARD_EXTENSION: &str = "forward_extension";
pub const FORWARD_EXTERNAL: &str = "forward_external";
pub const HANGUP: &str = "hangup";

fn action_label(action: &str) -> &'static str {
    match action {
        VOICEMAIL => "Take a voicemail message",
        FORWARD_EXTENSION => "Forward to another extension",
        FORWARD_EXTERNAL => "Forward to an outside number",
        HANGUP => "Hang up",
        _ => "Something else",
    }
}

/// The line shown in an extension's closed row.
pub fn summary(e: &ExtensionView) -> String {
    let then = match e.no_answer_action.as_str() {
        VOICEMAIL => "voicemail".to_owned(),
        FORWARD_EXTENSION | FORWARD_EXTERNAL => format!(
            "forward to {}",
            e.no_answer_target.clone().unwrap_or_default()
        ),
        HANGUP => "hang up".to_owned(),
        other => other.to_owned(),
    };
    let mut text = format!("Rings {} s, then {then}", e.ring_seconds);
    if e.do_not_disturb {
        text.push_str(" · Do not disturb");
    }
    text
}

/// The choices of "If nobody answers", as (value, label).
pub fn action_options() -> Vec<(String, String)> {
    [VOICEMAIL, FORWARD_EXTENSION, FORWARD_EXTERNAL, HANGUP]
        .iter()
        .map(|a| ((*a).to_owned(), action_label(a).to_owned()))
        .collect()
}

/// The "if nobody answers" action shown and the callbacks saving it with its target.
#[derive(Clone, Copy)]
pub struct NoAnswer {
    /// The action shown: one chosen that needs a target not given yet, else the saved one.
    pub action: Memo<String>,
    pub on_action: Callback<String>,
    pub on_target: Callback<String>,
}

impl NoAnswer {
    /// `others` are the extensions this one may forward to; `action_state` and `target_state`
    /// show how saving the action and the target went.
    pub fn new(
        server_action: Memo<String>,
        others: Memo<Vec<(String, String)>>,
        saver: Saver<ExtensionPatch>,
        action_state: FieldState,
        target_state: FieldState,
    ) -> Self {
        // An action chosen that needs a target not given yet (not saved until it is).
        let pending_action = RwSignal::new(None::<String>);
        let action =
            Memo::new(move |_| pending_action.get().unwrap_or_else(|| server_action.get()));
        let on_action = Callback::new(move |value: String| match value.as_str() {
            VOICEMAIL | HANGUP => {
                pending_action.set(None);
                target_state.set(SaveState::Idle);
                saver.save(
                    "no_answer_action",
                    action_state,
                    move |p: &mut ExtensionPatch| {
                        p.no_answer_action = Some(value);
                        p.no_answer_target = Some(String::new());
                    },
                );
            }
            FORWARD_EXTENSION => match others.get_untracked().first() {
                Some((first, _)) => {
                    let first = first.clone();
                    pending_action.set(None);
                    target_state.set(SaveState::Idle);
                    saver.save(
                        "no_answer_action",
                        action_state,
                        move |p: &mut ExtensionPatch| {
                            p.no_answer_action = Some(value);
                            p.no_answer_target = Some(first);
                        },
                    );
                }
                None => {
                    pending_action.set(Some(value));
                    action_state.set(SaveState::Incomplete(
                        "Add another extension first: there is none to forward to.".into(),
                    ));
                }
            },
            _ => {
                pending_action.set(Some(value));
                action_state.set(SaveState::Incomplete(
                    "Enter the outside number below; it is saved then.".into(),
                ));
            }
        });
        let on_target = Callback::new(move |value: String| {
            let act = action.get_untracked();
            let value = value.trim().to_owned();
            if value.is_empty() {
                target_state.set(SaveState::Incomplete(
                    "Enter a number to forward to.".into(),
                ));
                return;
            }
            pending_action.set(None);
            action_state.set(SaveState::Idle);
            saver.save(
                "no_answer_target",
                target_state,
                move |p: &mut ExtensionPatch| {
                    p.no_answer_action = Some(act);
                    p.no_answer_target = Some(value);
                },
            );
        });
        Self {
            action,
            on_action,
            on_target,
        }
    }
}
