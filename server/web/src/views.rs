//! Domain and store values as the API's response bodies.

use api_types::org::{ChangeView, DidView, ExtensionView, IssueView, JobView, OptionsView};
use domain::{Change, ChangeKind, DidRoute, Extension, Issue, OrgOptions, Subject};
use store::draft::Versioned;
use store::jobs::Job;

pub fn extension(ext: &Versioned<Extension>) -> ExtensionView {
    let value = &ext.value;
    ExtensionView {
        number: value.number.to_string(),
        display_name: value.display_name.to_string(),
        voicemail_enabled: value.voicemail_enabled,
        voicemail_pin: value.voicemail_pin.to_string(),
        voicemail_email: value.voicemail_email.as_ref().map(ToString::to_string),
        ring_seconds: value.call_flow.ring_seconds.get(),
        no_answer_action: value.call_flow.no_answer.action_name().to_owned(),
        no_answer_target: value.call_flow.no_answer.target().map(str::to_owned),
        do_not_disturb: value.do_not_disturb,
        outbound_caller_id: value.outbound_caller_id.as_ref().map(ToString::to_string),
        revision: ext.revision,
    }
}

pub fn did(route: &Versioned<DidRoute>) -> DidView {
    DidView {
        number: route.value.did.to_string(),
        extension: route.value.extension.as_ref().map(ToString::to_string),
        revision: route.revision,
    }
}

pub fn options(options: &Versioned<OrgOptions>) -> OptionsView {
    OptionsView {
        moh_enabled: options.value.moh_enabled,
        has_moh_file: options.value.moh_file.is_some(),
        default_caller_id: options
            .value
            .default_caller_id
            .as_ref()
            .map(ToString::to_string),
        voicemail_attach_audio: options.value.voicemail_attach_audio,
        revision: options.revision,
    }
}

fn subject_parts(subject: &Subject) -> (String, Option<String>) {
    match subject {
        Subject::Extension(n) => ("extension".into(), Some(n.to_string())),
        Subject::DidRoute(d) => ("did_route".into(), Some(d.to_string())),
        Subject::Options => ("options".into(), None),
    }
}

pub fn issue(issue: &Issue) -> IssueView {
    let (subject_kind, subject_id) = subject_parts(&issue.subject);
    IssueView {
        subject_kind,
        subject_id,
        field: issue.field.clone(),
        code: serde_json::to_value(issue.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        message: issue.message.clone(),
    }
}

pub fn change(change: &Change) -> ChangeView {
    let (subject_kind, subject_id) = subject_parts(&change.subject);
    let kind = match change.kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Modified => "modified",
    };
    ChangeView {
        subject_kind,
        subject_id,
        kind: kind.into(),
        fields: change.fields.clone(),
    }
}

/// A job as the admin sees it. `pending_commands`: the org's FreeSWITCH commands not delivered.
pub fn job(job: &Job, pending_commands: u64) -> JobView {
    let issues: Vec<IssueView> = job
        .issues
        .as_deref()
        .and_then(|json| serde_json::from_str::<Vec<Issue>>(json).ok())
        .map(|issues| issues.iter().map(issue).collect())
        .unwrap_or_default();
    let applied = job.applied_version.is_some();
    JobView {
        id: job.id,
        state: job.state.as_str().to_owned(),
        requested_by: job.requested_by.clone(),
        requested_at: job.requested_at,
        wait_for_calls: job.wait_for_calls,
        max_wait_seconds: u32::try_from(job.max_wait_seconds).unwrap_or(0),
        email_me: job.email_to.is_some(),
        calls_in_progress: job.calls_in_progress.and_then(|c| u32::try_from(c).ok()),
        deadline_at: job.deadline_at,
        finished_at: job.finished_at,
        applied_version: job.applied_version,
        message: job.message.clone(),
        issues,
        email_status: job.email_status.clone(),
        freeswitch: applied.then(|| {
            if pending_commands == 0 {
                "told"
            } else {
                "pending"
            }
            .to_owned()
        }),
    }
}
