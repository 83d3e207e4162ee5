//! Extensions: add, edit inline (every field saves itself), new SIP password, delete.

use api_types::org::{ExtensionPatch, ExtensionView, NewExtension};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Pbx;
use crate::api::{self, ApiError};
use crate::autosave::{FieldState, SaveState, Saver};
use crate::components::{ConfirmDialog, Secret, SecretBox};
use crate::frame::OrgCtx;
use crate::pages::fields::{CheckField, SelectField, TextField};

const VOICEMAIL: &str = "voicemail";
const FORWARD_EXTENSION: &str = "forward_extension";
const FORWARD_EXTERNAL: &str = "forward_external";
const HANGUP: &str = "hangup";

fn action_label(action: &str) -> &'static str {
    match action {
        VOICEMAIL => "Take a voicemail message",
        FORWARD_EXTENSION => "Forward to another extension",
        FORWARD_EXTERNAL => "Forward to an outside number",
        HANGUP => "Hang up",
        _ => "Something else",
    }
}

fn summary(e: &ExtensionView) -> String {
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

fn sip_domain() -> String {
    OrgCtx::use_ctx()
        .info()
        .map(|i| i.sip_domain)
        .unwrap_or_default()
}

#[component]
pub fn Extensions() -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let numbers = Memo::new(move |_| {
        pbx.view.with(|v| {
            v.as_ref()
                .map(|v| {
                    v.extensions
                        .iter()
                        .map(|e| e.number.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let just_added = RwSignal::new(None::<String>);
    view! {
        <section class="card" aria-labelledby="ext-title">
            <h2 id="ext-title">"Extensions"</h2>
            <p class="muted">"Each person or phone has an extension: a short number colleagues dial. Open one to change what happens to its calls."</p>
            <Show when=move || !numbers.read().is_empty() fallback=|| view! {
                <p class="empty">"No extensions yet: add the first one below."</p>
            }>
                <ul class="extensions">
                    <For each=move || numbers.get() key=|n| n.clone() let:number>
                        <ExtensionCard number=number just_added=just_added/>
                    </For>
                </ul>
            </Show>
            <AddExtension just_added=just_added/>
        </section>
    }
}

#[component]
fn AddExtension(just_added: RwSignal<Option<String>>) -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let number = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let secret = RwSignal::new(None::<Secret>);
    let domain = sip_domain();
    let suggestion = Memo::new(move |_| {
        pbx.view.with(|v| {
            let max = v
                .as_ref()
                .map(|v| {
                    v.extensions
                        .iter()
                        .filter_map(|e| e.number.parse::<u32>().ok())
                        .max()
                        .unwrap_or(100)
                })
                .unwrap_or(100);
            format!("for example {}", max + 1)
        })
    });
    let field_error = move |field: &'static str| {
        move || {
            error.with(|e| {
                e.as_ref()
                    .and_then(|e| e.field_message(None, field))
                    .unwrap_or_default()
            })
        }
    };
    let general_error = move || {
        error.with(|e| {
            e.as_ref().and_then(|e| {
                let by_field = ["number", "display_name"]
                    .iter()
                    .any(|f| e.field_message(None, f).is_some());
                (!by_field).then(|| e.message())
            })
        })
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let new = NewExtension {
            number: number.get_untracked().trim().to_owned(),
            display_name: name.get_untracked().trim().to_owned(),
            ..NewExtension::default()
        };
        busy.set(true);
        error.set(None);
        let domain = domain.clone();
        spawn_local(async move {
            match api::create_extension(&new).await {
                Ok(created) => {
                    let ext = created.extension;
                    secret.set(Some(Secret {
                        title: format!("Extension {} ({}) is ready", ext.number, ext.display_name),
                        lines: vec![
                            ("User name".into(), ext.number.clone()),
                            ("SIP password".into(), created.sip_password),
                            ("SIP domain (server)".into(), domain),
                            ("Voicemail PIN".into(), ext.voicemail_pin.clone()),
                        ],
                    }));
                    just_added.set(Some(ext.number.clone()));
                    pbx.update(|v| {
                        v.extensions.retain(|e| e.number != ext.number);
                        v.extensions.push(ext);
                        v.extensions.sort_by(|a, b| {
                            (a.number.len(), &a.number).cmp(&(b.number.len(), &b.number))
                        });
                    });
                    number.set(String::new());
                    name.set(String::new());
                    pbx.reload();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <SecretBox secret=secret/>
        <form class="add-ext" on:submit=submit novalidate aria-labelledby="add-ext-title">
            <h3 id="add-ext-title">"Add an extension"</h3>
            <div class="row">
                <div class="field">
                    <label for="new-ext-number">"Number"</label>
                    <input id="new-ext-number" type="text" inputmode="numeric" autocomplete="off"
                        aria-describedby="new-ext-number-error"
                        placeholder=move || suggestion.get()
                        prop:value=move || number.get()
                        on:input=move |ev| number.set(event_target_value(&ev))/>
                    <small class="hint">"2 to 5 digits"</small>
                    <p class="field-error" id="new-ext-number-error">{field_error("number")}</p>
                </div>
                <div class="field grow">
                    <label for="new-ext-name">"Name"</label>
                    <input id="new-ext-name" type="text" autocomplete="off" placeholder="for example Alice or Front desk"
                        aria-describedby="new-ext-name-error"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                    <small class="hint">"Shown on the phones"</small>
                    <p class="field-error" id="new-ext-name-error">{field_error("display_name")}</p>
                </div>
                <div class="field">
                    <span class="label-spacer" aria-hidden="true"></span>
                    <button type="submit" class="btn primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Adding…" } else { "Add extension" }}
                    </button>
                </div>
            </div>
            <p class="form-error" role="alert">{general_error}</p>
        </form>
    }
}

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
fn ExtensionCard(number: String, just_added: RwSignal<Option<String>>) -> impl IntoView {
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

    // An action chosen that needs a target not given yet (not saved until it is).
    let pending_action = RwSignal::new(None::<String>);
    let action = Memo::new(move |_| pending_action.get().unwrap_or_else(|| server_action.get()));
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
    let actions: Vec<(String, String)> = [VOICEMAIL, FORWARD_EXTENSION, FORWARD_EXTERNAL, HANGUP]
        .iter()
        .map(|a| ((*a).to_owned(), action_label(a).to_owned()))
        .collect();

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

    let on_action = Callback::new(move |value: String| match value.as_str() {
        VOICEMAIL | HANGUP => {
            pending_action.set(None);
            st.target.set(SaveState::Idle);
            saver.save(
                "no_answer_action",
                st.action,
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
                st.target.set(SaveState::Idle);
                saver.save(
                    "no_answer_action",
                    st.action,
                    move |p: &mut ExtensionPatch| {
                        p.no_answer_action = Some(value);
                        p.no_answer_target = Some(first);
                    },
                );
            }
            None => {
                pending_action.set(Some(value));
                st.action.set(SaveState::Incomplete(
                    "Add another extension first: there is none to forward to.".into(),
                ));
            }
        },
        _ => {
            pending_action.set(Some(value));
            st.action.set(SaveState::Incomplete(
                "Enter the outside number below; it is saved then.".into(),
            ));
        }
    });
    let on_target = Callback::new(move |value: String| {
        let act = action.get_untracked();
        let value = value.trim().to_owned();
        if value.is_empty() {
            st.target.set(SaveState::Incomplete(
                "Enter a number to forward to.".into(),
            ));
            return;
        }
        pending_action.set(None);
        st.action.set(SaveState::Idle);
        saver.save(
            "no_answer_target",
            st.target,
            move |p: &mut ExtensionPatch| {
                p.no_answer_action = Some(act);
                p.no_answer_target = Some(value);
            },
        );
    });

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
