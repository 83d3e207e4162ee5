//! One extension's row: its summary, and opened, every field (saved as it changes), a new SIP
//! password and delete.

use api_types::org::{ExtensionPatch, ExtensionView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::call_flow::{action_options, summary, NoAnswer, FORWARD_EXTENSION, FORWARD_EXTERNAL};
use super::sip_domain;
use crate::api;
use crate::autosave::{FieldState, SaveState, Saver};
use crate::components::{ConfirmDialog, Secret, SecretBox};
use crate::pages::fields::{CheckField, SelectField, TextField};
use crate::pages::pbx::Pbx;

/// The field states of one extension.
#[derive(Clone, Copy)]
struct States {
    display_name: FieldState,
    ring_seconds: FieldState,
    action: FieldState,
    target: FieldState,
    dnd: FieldState,
    vm_enabled: FieldState,
    vm_pin: FieldState,
    vm_email: FieldState,
    caller_id: FieldState,
}

impl States {
    fn new() -> Self {
        let s = || RwSignal::new(SaveState::Idle);
        Self {
            display_name: s(),
            ring_seconds: s(),
            action: s(),
            target: s(),
            dnd: s(),
            vm_enabled: s(),
            vm_pin: s(),
            vm_email: s(),
            caller_id: s(),
        }
    }
}

#[component]
pub fn ExtensionCard(number: String, just_added: RwSignal<Option<String>>) -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let n = number.clone();
    let ext = Memo::new(move |_| {
        pbx.view.with(|v| {
            v.as_ref()
                .and_then(|v| v.extensions.iter().find(|e| e.number == n).cloned())
        })
    });
    let get = move |f: fn(&ExtensionView) -> String| {
        Memo::new(move |_| ext.with(|e| e.as_ref().map(f).unwrap_or_default()))
    };
    let getb = move |f: fn(&ExtensionView) -> bool| {
        Memo::new(move |_| ext.with(|e| e.as_ref().map(f).unwrap_or_default()))
    };
    let display_name = get(|e| e.display_name.clone());
    let ring_seconds = get(|e| e.ring_seconds.to_string());
    let server_action = get(|e| e.no_answer_action.clone());
    let target = get(|e| e.no_answer_target.clone().unwrap_or_default());
    let dnd = getb(|e| e.do_not_disturb);
    let vm_enabled = getb(|e| e.voicemail_enabled);
    let vm_pin = get(|e| e.voicemail_pin.clone());
    let vm_email = get(|e| e.voicemail_email.clone().unwrap_or_default());
    let caller_id = get(|e| e.outbound_caller_id.clone().unwrap_or_default());
    let summary_text =
        Memo::new(move |_| ext.with(|e| e.as_ref().map(summary).unwrap_or_default()));

    let st = States::new();

    let n = number.clone();
    let saver = Saver::<ExtensionPatch>::new(move |mut patch: ExtensionPatch| {
        let n = n.clone();
        async move {
            patch.revision = pbx
                .view
                .with_untracked(|v| {
                    v.as_ref()
                        .and_then(|v| v.extensions.iter().find(|e| e.number == n))
                        .map(|e| e.revision)
                })
                .unwrap_or_default();
            let saved = api::patch_extension(&n, &patch).await?;
            pbx.update(|v| {
                if let Some(e) = v.extensions.iter_mut().find(|e| e.number == saved.number) {
                    *e = saved;
                }
            });
            Ok(())
        }
    })
    .after_save(move || pbx.reload());

    let others = Memo::new({
        let n = number.clone();
        move |_| {
            pbx.view.with(|v| {
                v.as_ref()
                    .map(|v| {
                        v.extensions
                            .iter()
                            .filter(|e| e.number != n)
                            .map(|e| {
                                (
                                    e.number.clone(),
                                    format!("{} – {}", e.number, e.display_name),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        }
    });
    let caller_ids = Memo::new(move |_| {
        let mut options = vec![(String::new(), "The company's usual number".to_owned())];
        pbx.view.with(|v| {
            if let Some(v) = v {
                options.extend(v.dids.iter().map(|d| (d.number.clone(), d.number.clone())));
            }
        });
        options
    });
    let actions = action_options();
    let NoAnswer {
        action,
        on_action,
        on_target,
    } = NoAnswer::new(server_action, others, saver, st.action, st.target);

    let num = number.clone();
    let issues = move |field: &'static str| pbx.issues_for("extension", Some(num.clone()), field);
    let has_issues = Memo::new({
        let n = number.clone();
        move |_| {
            let in_view = pbx.view.with(|v| {
                v.as_ref().is_some_and(|v| {
                    v.issues.iter().any(|i| {
                        i.subject_kind == "extension" && i.subject_id.as_deref() == Some(&n)
                    })
                })
            });
            in_view
                || pbx.apply_issues.with(|a| {
                    a.iter().any(|i| {
                        i.subject_kind == "extension" && i.subject_id.as_deref() == Some(&n)
                    })
                })
        }
    });
    let details = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        if has_issues.get() {
            if let Some(d) = details.get() {
                d.set_open(true);
            }
        }
    });
    let open_at_start = just_added.get_untracked().as_deref() == Some(number.as_str());

    let num = number.clone();
    let id = move |field: &str| format!("ext-{num}-{field}");
    let (id2, issues2) = (id.clone(), issues.clone());
    let commit_text =
        move |field: &'static str, state: FieldState, set: fn(&mut ExtensionPatch, String)| {
            Callback::new(move |value: String| {
                saver.save(field, state, move |p: &mut ExtensionPatch| {
                    set(p, value.trim().to_owned())
                })
            })
        };
    let commit_bool =
        move |field: &'static str, state: FieldState, set: fn(&mut ExtensionPatch, bool)| {
            Callback::new(move |value: bool| {
                saver.save(field, state, move |p: &mut ExtensionPatch| set(p, value))
            })
        };

    // Delete and new password.
    let confirm_delete = RwSignal::new(false);
    let confirm_password = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let action_error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<Secret>);
    let revision =
        move || ext.with_untracked(|e| e.as_ref().map(|e| e.revision).unwrap_or_default());
    let n = number.clone();
    let do_delete = Callback::new(move |_| {
        let n = n.clone();
        busy.set(true);
        spawn_local(async move {
            match api::delete_extension(&n, revision()).await {
                Ok(()) => {
                    confirm_delete.set(false);
                    pbx.update(|v| v.extensions.retain(|e| e.number != n));
                    pbx.reload();
                }
                Err(e) => {
                    confirm_delete.set(false);
                    action_error.set(Some(if e.is_conflict() {
                        "Not deleted: this extension was changed elsewhere meanwhile. Reload the page and try again.".into()
                    } else {
                        e.message()
                    }));
                }
            }
            busy.set(false);
        });
    });
    let n = number.clone();
    let domain = sip_domain();
    let do_password = Callback::new(move |_| {
        let n = n.clone();
        let domain = domain.clone();
        busy.set(true);
        spawn_local(async move {
            match api::new_password(&n, revision()).await {
                Ok(result) => {
                    confirm_password.set(false);
                    secret.set(Some(Secret {
                        title: format!("New SIP password of extension {n}"),
                        lines: vec![
                            ("User name".into(), n.clone()),
                            ("SIP password".into(), result.sip_password),
                            ("SIP domain (server)".into(), domain),
                        ],
                    }));
                    let saved = result.extension;
                    pbx.update(|v| {
                        if let Some(e) = v.extensions.iter_mut().find(|e| e.number == saved.number)
                        {
                            *e = saved;
                        }
                    });
                    pbx.reload();
                }
                Err(e) => {
                    confirm_password.set(false);
                    action_error.set(Some(if e.is_conflict() {
                        "No new password made: this extension was changed elsewhere meanwhile. Reload the page and try again.".into()
                    } else {
                        e.message()
                    }));
                }
            }
            busy.set(false);
        });
    });

    let title_id = format!("ext-{number}-title");
    let number_for_view = number.clone();
    let number_for_dialog = number.clone();
    let number_for_pw = number.clone();
    let number_for_legend = number.clone();
    let number_for_text = number.clone();
    view! {
        <li class="ext" id=format!("ext-{number}")>
            <details node_ref=details open=open_at_start>
                <summary>
                    <span class="ext-number">{number_for_view}</span>
                    <span class="ext-name" id=title_id>{move || display_name.get()}</span>
                    <span class="ext-summary">{move || summary_text.get()}</span>
                    <Show when=move || has_issues.get()>
                        <span class="badge warn">"Needs attention"</span>
                    </Show>
                </summary>
                <div class="ext-body">
                    <SecretBox secret=secret/>
                    <TextField id=id("name") label="Name shown on phones" value=display_name
                        autocomplete="off" state=st.display_name issues=issues("display_name")
                        on_commit=commit_text("display_name", st.display_name, |p, v| p.display_name = Some(v))/>

                    <fieldset>
                        <legend>"When someone calls " {number_for_legend}</legend>
                        <TextField id=id("ring") label="Ring for (seconds)" kind="number" inputmode="numeric"
                            hint="5 to 120 seconds" value=ring_seconds state=st.ring_seconds issues=issues("ring_seconds")
                            on_commit=Callback::new(move |v: String| {
                                match v.trim().parse::<u16>() {
                                    Ok(secs) => saver.save("ring_seconds", st.ring_seconds, move |p: &mut ExtensionPatch| p.ring_seconds = Some(secs)),
                                    Err(_) => st.ring_seconds.set(SaveState::Error("Enter a number of seconds, 5 to 120.".into())),
                                }
                            })/>
                        <SelectField id=id("action") label="If nobody answers" value=action
                            options=actions state=st.action issues=issues("no_answer_action")
                            on_commit=on_action/>
                        {move || match action.get().as_str() {
                            FORWARD_EXTENSION => view! {
                                <SelectField id=id2("target") label="Forward to extension" value=target
                                    options=others state=st.target issues=issues2("no_answer_target")
                                    on_commit=on_target/>
                            }.into_any(),
                            FORWARD_EXTERNAL => view! {
                                <TextField id=id2("target") label="Forward to outside number" kind="tel" inputmode="tel"
                                    hint="For example +4930123456 or 0301234567"
                                    value=Signal::derive(move || if server_action.get() == FORWARD_EXTERNAL { target.get() } else { String::new() })
                                    state=st.target issues=issues2("no_answer_target")
                                    on_commit=on_target/>
                            }.into_any(),
                            _ => view! { <IssueOnly issues=issues2("no_answer_target")/> }.into_any(),
                        }}
                        <CheckField id=id("dnd") label="Do not disturb"
                            hint="The phone does not ring; calls go straight to what happens when nobody answers."
                            value=dnd state=st.dnd issues=issues("do_not_disturb")
                            on_commit=commit_bool("do_not_disturb", st.dnd, |p, v| p.do_not_disturb = Some(v))/>
                    </fieldset>

                    <fieldset>
                        <legend>"Voicemail"</legend>
                        <CheckField id=id("vm") label="Voicemail on" value=vm_enabled state=st.vm_enabled
                            issues=issues("voicemail_enabled")
                            on_commit=commit_bool("voicemail_enabled", st.vm_enabled, |p, v| p.voicemail_enabled = Some(v))/>
                        <div class="row">
                            <TextField id=id("pin") label="Voicemail PIN" inputmode="numeric" hint="4 to 10 digits, to listen to messages"
                                value=vm_pin state=st.vm_pin issues=issues("voicemail_pin")
                                disabled=Signal::derive(move || !vm_enabled.get())
                                on_commit=commit_text("voicemail_pin", st.vm_pin, |p, v| p.voicemail_pin = Some(v))/>
                            <TextField id=id("email") label="Send messages to e-mail" kind="email" hint="Optional"
                                value=vm_email state=st.vm_email issues=issues("voicemail_email")
                                disabled=Signal::derive(move || !vm_enabled.get())
                                on_commit=commit_text("voicemail_email", st.vm_email, |p, v| p.voicemail_email = Some(v))/>
                        </div>
                    </fieldset>

                    <SelectField id=id("callerid") label="Number shown when calling outside"
                        value=caller_id options=caller_ids state=st.caller_id issues=issues("outbound_caller_id")
                        on_commit=commit_text("outbound_caller_id", st.caller_id, |p, v| p.outbound_caller_id = Some(v))/>

                    <div class="ext-actions">
                        <button type="button" class="btn" on:click=move |_| { action_error.set(None); confirm_password.set(true) }>
                            "New SIP password…"
                        </button>
                        <button type="button" class="btn danger-outline" on:click=move |_| { action_error.set(None); confirm_delete.set(true) }>
                            "Delete extension…"
                        </button>
                    </div>
                    <p class="form-error" role="alert">{move || action_error.get()}</p>
                </div>
            </details>
            <ConfirmDialog open=confirm_delete title=format!("Delete extension {number_for_dialog}?")
                confirm_label="Delete extension" danger=true busy=busy on_confirm=do_delete>
                <p>"Extension " {number_for_text} " (" {move || display_name.get()} ") and its settings are removed. "
                   "Its phone stops working once you press Apply; its voicemail messages are no longer reachable."</p>
                <p>"Phone numbers ringing it must be pointed to another extension."</p>
            </ConfirmDialog>
            <ConfirmDialog open=confirm_password title=format!("New SIP password for {number_for_pw}?")
                confirm_label="Make a new password" busy=busy on_confirm=do_password>
                <p>"A new password is made and shown once. The phone keeps working with the old password until you press Apply; "
                   "after that it needs the new one."</p>
            </ConfirmDialog>
        </li>
    }
}

/// Problems of a field that is not shown for the current choice.
#[component]
fn IssueOnly(issues: Signal<Vec<String>>) -> impl IntoView {
    view! { <crate::components::IssueList issues=issues/> }
}
