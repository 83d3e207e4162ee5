//! The banner of changes not applied yet, Apply (with its options and live progress), Stop,
//! Discard and Reset.

use std::time::Duration;

use api_types::org::{ApplyRequest, JobView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{issues_from_errors, Pbx};
use crate::api;
use crate::components::{time_of_day, ConfirmDialog, Secret, SecretBox};
use crate::frame::OrgCtx;
use crate::service::Service;

pub(super) fn unfinished(job: &JobView) -> bool {
    matches!(job.state.as_str(), "waiting" | "applying" | "syncing")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Polls the shown job every second while it is unfinished; reloads the page when it ends.
fn watch_job(pbx: Pbx) {
    let polling = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(job) = pbx.job.get() else { return };
        if !unfinished(&job) || polling.get_value() {
            return;
        }
        polling.set_value(true);
        let id = job.id;
        set_timeout(
            move || {
                spawn_local(async move {
                    let result = api::job(id).await;
                    polling.set_value(false);
                    let still_shown =
                        pbx.job.with_untracked(|j| j.as_ref().map(|j| j.id)) == Some(id);
                    if !still_shown {
                        // Another job is shown meanwhile (a new Apply): watch that one.
                        pbx.job.update(|_| {});
                        return;
                    }
                    match result {
                        Ok(next) => {
                            let ended = !unfinished(&next);
                            if ended {
                                pbx.apply_issues.set(next.issues.clone());
                            }
                            pbx.job.set(Some(next));
                            if ended {
                                pbx.reload();
                            }
                        }
                        // Keep trying: a failed poll is no reason to give up showing progress.
                        Err(_) => pbx.job.update(|_| {}),
                    }
                });
            },
            Duration::from_secs(1),
        );
    });
}

#[component]
pub fn ApplyBar() -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let org = OrgCtx::use_ctx();
    watch_job(pbx);

    let changes = Memo::new(move |_| pbx.view.with(|v| v.as_ref().map_or(0, |v| v.changes.len())));
    let issue_count =
        Memo::new(move |_| pbx.view.with(|v| v.as_ref().map_or(0, |v| v.issues.len())));
    let version = Memo::new(move |_| {
        pbx.view
            .with(|v| v.as_ref().map_or(0, |v| v.applied_version))
    });
    let job_running = Memo::new(move |_| pbx.job.with(|j| j.as_ref().is_some_and(unfinished)));

    // Apply options.
    let apply_open = RwSignal::new(false);
    let wait = RwSignal::new(true);
    let max_wait = RwSignal::new(600u32);
    let email_me = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let email = org.me().map(|m| m.email).unwrap_or_default();

    let start_apply = Callback::new(move |_| {
        let request = ApplyRequest {
            wait_for_calls: wait.get_untracked(),
            max_wait_seconds: if wait.get_untracked() {
                max_wait.get_untracked()
            } else {
                0
            },
            email_me: email_me.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::apply(&request).await {
                Ok(job) => {
                    apply_open.set(false);
                    pbx.apply_issues.set(Vec::new());
                    pbx.job.set(Some(job));
                }
                Err(e) if e.is_conflict() => {
                    apply_open.set(false);
                    error.set(Some(
                        "An Apply is already in progress; its progress is shown below.".into(),
                    ));
                    if let Ok(Some(job)) = api::latest_job().await {
                        pbx.job.set(Some(job));
                    }
                }
                Err(e) => {
                    apply_open.set(false);
                    let issues = issues_from_errors(e.field_errors());
                    error.set(Some(if issues.is_empty() {
                        e.message()
                    } else {
                        format!(
                            "Not applied: fix the {} marked below first.",
                            plural(issues.len(), "problem", "problems")
                        )
                    }));
                    pbx.apply_issues.set(issues);
                    pbx.reload();
                }
            }
            busy.set(false);
        });
    });

    let stop = move |_| {
        let Some(id) = pbx.job.with_untracked(|j| j.as_ref().map(|j| j.id)) else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match api::stop_job(id).await {
                Ok(job) => pbx.job.set(Some(job)),
                Err(e) => error.set(Some(e.message())),
            }
            busy.set(false);
        });
    };

    // Discard and Reset.
    let discard_open = RwSignal::new(false);
    let reset_open = RwSignal::new(false);
    let reset_secret = RwSignal::new(None::<Secret>);
    let do_discard = Callback::new(move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::discard().await {
                Ok(view) => {
                    discard_open.set(false);
                    pbx.update(|v| *v = view);
                    pbx.reload();
                }
                Err(e) => {
                    discard_open.set(false);
                    error.set(Some(e.message()));
                }
            }
            busy.set(false);
        });
    });
    let do_reset = Callback::new(move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::reset().await {
                Ok(result) => {
                    reset_open.set(false);
                    reset_secret.set(Some(Secret {
                        title: format!(
                            "Reset done: the new extension {} (Reception)",
                            result.reception_number
                        ),
                        lines: vec![
                            ("User name".into(), result.reception_number.clone()),
                            ("SIP password".into(), result.reception_sip_password),
                            ("Voicemail PIN".into(), result.reception_voicemail_pin),
                        ],
                    }));
                    pbx.update(|_| {});
                    pbx.reload();
                }
                Err(e) => {
                    reset_open.set(false);
                    error.set(Some(e.message()));
                }
            }
            busy.set(false);
        });
    });

    view! {
        <section class="applybar" aria-label="Apply changes">
            <div class="banner" data-changes=move || changes.get().to_string() role="status" aria-live="polite">
                {move || match changes.get() {
                    0 => format!("All changes are applied: the phones use version {}.", version.get()),
                    n => format!("{} not applied yet. The phones still use version {}.",
                        plural(n, "change", "changes"), version.get()),
                }}
                <Show when=move || issue_count.get() != 0>
                    <span class="banner-issues">
                        {move || format!(" {} must be fixed before Apply (marked below).",
                            plural(issue_count.get(), "problem", "problems"))}
                    </span>
                </Show>
            </div>
            <div class="actions">
                <button type="button" class="btn primary" id="apply-button"
                    disabled=move || changes.get() == 0 || job_running.get() || busy.get()
                    on:click=move |_| { error.set(None); apply_open.set(true) }>
                    "Apply…"
                </button>
                <button type="button" class="btn" disabled=move || changes.get() == 0 || job_running.get() || busy.get()
                    on:click=move |_| { error.set(None); discard_open.set(true) }>
                    "Discard changes…"
                </button>
                <button type="button" class="btn danger-outline" disabled=move || job_running.get() || busy.get()
                    on:click=move |_| { error.set(None); reset_open.set(true) }>
                    "Reset to defaults…"
                </button>
            </div>
            <p class="form-error" role="alert">{move || error.get()}</p>
            <JobProgress on_stop=Callback::new(stop) busy=busy/>
            <SecretBox secret=reset_secret/>
        </section>

        <ConfirmDialog open=apply_open title="Apply the changes" confirm_label=Signal::derive(move || {
                if busy.get() { "Starting…".to_owned() } else { "Apply now".to_owned() } })
            busy=busy on_confirm=start_apply>
            <p>{move || format!("The phones start using the {} below.", plural(changes.get(), "change", "changes"))}</p>
            <div class="field check">
                <input id="apply-wait" type="checkbox" prop:checked=move || wait.get()
                    on:change=move |ev| wait.set(event_target_checked(&ev))/>
                <label for="apply-wait">"Wait until calls in progress have ended"</label>
                <small class="hint">"Calls are never cut off by Apply; waiting makes sure nobody notices a change mid-call."</small>
            </div>
            <div class="field">
                <label for="apply-max-wait">"Wait at most"</label>
                <select id="apply-max-wait" disabled=move || !wait.get()
                    on:change=move |ev| max_wait.set(event_target_value(&ev).parse().unwrap_or(600))>
                    {[(60u32, "1 minute"), (300, "5 minutes"), (600, "10 minutes"), (1800, "30 minutes"), (3600, "1 hour")]
                        .into_iter().map(|(secs, label)| view! {
                            <option value=secs.to_string() selected=move || max_wait.get() == secs>{label}</option>
                        }).collect_view()}
                </select>
                <small class="hint">"Then the changes are applied anyway."</small>
            </div>
            <div class="field check">
                <input id="apply-email" type="checkbox" prop:checked=move || email_me.get()
                    on:change=move |ev| email_me.set(event_target_checked(&ev))/>
                <label for="apply-email">{format!("E-mail me ({email}) when it is done")}</label>
                <small class="hint">"Useful when it has to wait for calls."</small>
            </div>
        </ConfirmDialog>

        <ConfirmDialog open=discard_open title="Discard the changes?" confirm_label="Discard changes"
            danger=true busy=busy on_confirm=do_discard>
            <p>{move || format!("The {} not applied yet are thrown away. The settings on this page go back to what the phones use now (version {}).",
                plural(changes.get(), "change", "changes"), version.get())}</p>
            <p>"This cannot be undone."</p>
        </ConfirmDialog>

        <ConfirmDialog open=reset_open title="Reset to the default settings?" confirm_label="Reset to defaults"
            danger=true busy=busy on_confirm=do_reset>
            <p>"This replaces all settings on this page with the defaults of a new phone system:"</p>
            <ul>
                <li>"All extensions are removed. There is one extension, " <strong>"100 “Reception”"</strong>
                    ", with a new SIP password and voicemail PIN (shown once after the reset). It rings 25 seconds, then takes a voicemail message."</li>
                <li>"Every phone number of the company rings extension 100."</li>
                <li>"Music on hold is on, with the standard music (your own music is no longer used); voicemail e-mails carry the recording."</li>
                <li>"Your first phone number is shown when calling outside."</li>
            </ul>
            <p>"The phones keep the current settings until you press " <strong>"Apply"</strong>
               ". Before that, " <strong>"Discard changes"</strong> " undoes the reset."</p>
        </ConfirmDialog>
    }
}

#[component]
fn JobProgress(on_stop: Callback<leptos::ev::MouseEvent>, busy: RwSignal<bool>) -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let service = Service::use_ctx();
    let waiting = Memo::new(move |_| {
        pbx.job
            .with(|j| j.as_ref().is_some_and(|j| j.state == "waiting"))
    });
    view! {
        <div class="job" role="status" aria-live="polite">
            {move || pbx.job.get().map(|job| {
                let state = job.state.clone();
                let headline = match state.as_str() {
                    "waiting" => {
                        let until = job.deadline_at.map(|d| format!(" It applies anyway at {}.", time_of_day(d))).unwrap_or_default();
                        match job.calls_in_progress {
                            Some(calls) => format!("Waiting for {} in progress to end before applying.{until}",
                                plural(calls as usize, "call", "calls")),
                            None => format!("Waiting for the calls in progress to end before applying.{until}"),
                        }
                    }
                    "applying" => "Applying the changes…".to_owned(),
                    "syncing" => "Applied. Telling the phone system…".to_owned(),
                    "done" => format!("Done ✓ The phones now use version {}.",
                        job.applied_version.map(|v| v.to_string()).unwrap_or_default()),
                    "failed" => "Apply failed. Nothing was changed.".to_owned(),
                    "stopped" => "Stopped. Nothing was changed.".to_owned(),
                    other => format!("Apply: {other}"),
                };
                let finished = job.finished_at.map(time_of_day);
                let email = match job.email_status.as_deref() {
                    Some("sent") => Some("An e-mail was sent to you.".to_owned()),
                    Some(s) if s.starts_with("failed") => Some(format!("The e-mail could not be sent ({s}).")),
                    _ => None,
                };
                let fs_pending = job.freeswitch.as_deref() == Some("pending") && state == "done";
                let issues = job.issues.clone();
                view! {
                    <div class="job-state" data-state=state.clone()>
                        <p class="job-headline">
                            // No spinner while the server is unavailable: the banner says so.
                            {(unfinished(&job) && !service.is_down()).then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                            {headline}
                            {finished.map(|t| view! { <span class="muted">" (" {t} ")"</span> })}
                        </p>
                        {job.message.clone().map(|m| view! { <p class="job-message">{m}</p> })}
                        {fs_pending.then(|| view! { <p class="muted">"The phone system has not confirmed every change yet; it is retried automatically."</p> })}
                        {email.map(|m| view! { <p class="muted">{m}</p> })}
                        {(!issues.is_empty()).then(|| view! {
                            <ul class="issues">
                                {issues.into_iter().map(|i| view! {
                                    <li>{i.subject_id.map(|s| format!("{s}: ")).unwrap_or_default()}{i.message}</li>
                                }).collect_view()}
                            </ul>
                        })}
                    </div>
                }
            })}
            // Outside the part redrawn every second, so that it keeps the keyboard focus.
            <Show when=move || waiting.get()>
                <button type="button" class="btn" disabled=move || busy.get() on:click=move |ev| on_stop.run(ev)>
                    "Stop: do not apply"
                </button>
            </Show>
        </div>
    }
}
