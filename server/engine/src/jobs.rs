//! The Apply job engine: moves every org's Apply job along, on whichever instance holds its lease.
//!
//! The allowed moves are [`JobState`]'s (`domain::job`); the store refuses any other.
//!
//! ```text
//! waiting ──(no calls, or the wait is over)──▶ applying ──(DB swap, one transaction)──▶ syncing
//!    │ Stop                                      │ invalid draft                          │ FreeSWITCH told,
//!    ▼                                           ▼                                        ▼ or not reachable
//! stopped                                      failed                                    done
//! ```
//!
//! - The draft is taken when the job applies (after the wait), so edits made while waiting are
//!   included; the admin sees "N changes not applied yet" until then.
//! - Jobs are rows in the database and their work is leased, so a restart (or another
//!   instance) resumes them: a job found `applying` was not applied (the Apply transaction moves
//!   it to `syncing` when it commits), a job found `syncing` only waits for FreeSWITCH.
//! - When FreeSWITCH cannot be reached the job still ends `done`, saying FreeSWITCH has not been
//!   told yet; the command delivery loop tells it when it is back (`crate::fs_socket`).

use std::time::Duration;

use domain::JobState;
use store::jobs::{Job, JobOutcome};
use store::{OrgId, StoreError};

use crate::Engine;
use crate::{mail, services};

/// How long a job waits in `syncing` for FreeSWITCH to answer before ending anyway.
const SYNC_PATIENCE_MS: i64 = 10_000;

/// Advances the jobs this instance holds, twice a second or when woken, until the server stops:
/// a step under way is finished, never cut (a job stopped between steps resumes on any
/// instance once its lease ends).
pub async fn run(state: Engine) {
    let owner = format!("{}-{}", std::process::id(), crate::secrets::random_token(6));
    loop {
        if let Err(err) = tick(&state, &owner).await {
            tracing::warn!(error = %format!("{err:#}"), "advancing Apply jobs");
        }
        tokio::select! {
            () = state.shutting_down() => return,
            _ = tokio::time::timeout(Duration::from_millis(500), state.jobs_notified()) => {}
        }
    }
}

/// One round over the jobs this instance holds.
pub async fn tick(state: &Engine, owner: &str) -> anyhow::Result<()> {
    let lease_ms = i64::from(state.config().apply_lease_seconds) * 1000;
    for claimed in state.store().claim_jobs(owner, lease_ms).await? {
        match claimed {
            Ok(job) => {
                if let Err(err) = advance(state, &job).await {
                    tracing::warn!(job = job.id, error = %format!("{err:#}"), "Apply job");
                }
            }
            // A row the store cannot read (an unknown state) stays as it is, said every round.
            Err(err) => tracing::error!(error = %err, "unreadable Apply job left alone"),
        }
    }
    Ok(())
}

/// One step of an unfinished job, by its state; a finished one (claimed just as it ended) has
/// no step left.
async fn advance(state: &Engine, job: &Job) -> anyhow::Result<()> {
    match job.state {
        JobState::Waiting => wait_or_apply(state, job).await,
        JobState::Applying => apply(state, job).await,
        JobState::Syncing => finish_sync(state, job).await,
        JobState::Done | JobState::Failed | JobState::Stopped => Ok(()),
    }
}

/// Counts the org's calls; applies when there are none or the wait is over.
async fn wait_or_apply(state: &Engine, job: &Job) -> anyhow::Result<()> {
    let org = state.store().org(OrgId(job.org_id)).await?;
    if job.wait_for_calls {
        let deadline_passed = job
            .deadline_at
            .is_none_or(|deadline| store::now_ms() >= deadline);
        match state
            .freeswitch()
            .calls_in_progress(org.slug.as_str())
            .await
        {
            Ok(0) => {}
            Ok(calls) if !deadline_passed => {
                state
                    .store()
                    .set_job_calls(job.id, Some(calls), None)
                    .await?;
                return Ok(());
            }
            Ok(_) => {}
            Err(err) if !deadline_passed => {
                let note = format!("Cannot count calls in progress ({err}); waiting until the maximum wait is over.");
                state
                    .store()
                    .set_job_calls(job.id, None, Some(&note))
                    .await?;
                return Ok(());
            }
            Err(_) => {}
        }
    }
    if !state.store().start_applying(job.id).await? {
        return Ok(()); // Stopped meanwhile.
    }
    apply(state, job).await
}

/// Publishes the draft; the transaction moves the job to `syncing`.
async fn apply(state: &Engine, job: &Job) -> anyhow::Result<()> {
    let org = OrgId(job.org_id);
    match services::apply_now(state, org, &job.requested_by, Some(job.id)).await {
        Ok(outcome) if outcome.changes.is_empty() => {
            let message = "Nothing to apply: the draft is the same as the applied configuration.";
            finish(
                state,
                job,
                JobState::Done,
                JobOutcome {
                    message: Some(message.into()),
                    ..Default::default()
                },
            )
            .await
        }
        Ok(outcome) => {
            tracing::info!(
                job = job.id,
                org = job.org_id,
                version = outcome.version,
                changes = outcome.changes.len(),
                "applied"
            );
            state.freeswitch().commands_queued();
            let synced = state.store().job(org, job.id).await?;
            finish_sync(state, &synced).await
        }
        Err(StoreError::Invalid(issues)) => {
            let outcome = JobOutcome {
                message: Some(format!(
                    "Not applied: {} problem(s) to fix first.",
                    issues.len()
                )),
                issues_json: serde_json::to_string(&issues).ok(),
                applied_version: None,
            };
            finish(state, job, JobState::Failed, outcome).await
        }
        Err(err) => {
            tracing::error!(job = job.id, error = %err, "Apply failed");
            let message = "Not applied: LittlePBX could not save the change (the error is logged). Nothing was changed; try again.";
            finish(
                state,
                job,
                JobState::Failed,
                JobOutcome {
                    message: Some(message.into()),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

/// Ends a `syncing` job once FreeSWITCH has been told, or says it has not been yet.
async fn finish_sync(state: &Engine, job: &Job) -> anyhow::Result<()> {
    let pending = state
        .store()
        .pending_fs_commands_of(OrgId(job.org_id))
        .await?;
    let version = job.applied_version.unwrap_or_default();
    let fs = state.freeswitch();
    let patience_over = store::now_ms() - job.updated_at > SYNC_PATIENCE_MS;
    let (message, fs_status) = if pending == 0 {
        (
            format!("Applied (version {version}). FreeSWITCH is up to date."),
            "told",
        )
    } else if !fs.is_connected() || patience_over {
        (
            format!(
                "Applied (version {version}). FreeSWITCH not yet told: {}. It will be told as soon as it can be reached.",
                fs.describe_connection()
            ),
            "pending",
        )
    } else {
        return Ok(()); // FreeSWITCH is being told; look again next round.
    };
    let outcome = JobOutcome {
        message: Some(message),
        applied_version: job.applied_version,
        issues_json: None,
    };
    finish(state, job, JobState::Done, outcome).await?;
    state
        .store()
        .set_job_notes(job.id, None, Some(fs_status))
        .await?;
    Ok(())
}

/// Ends the job and sends the e-mail the admin asked for. A failed e-mail never fails the job.
async fn finish(
    state: &Engine,
    job: &Job,
    end: JobState,
    outcome: JobOutcome,
) -> anyhow::Result<()> {
    state.store().finish_job(job.id, end, &outcome).await?;
    if let Some(to) = &job.email_to {
        let org = state.store().org(OrgId(job.org_id)).await?;
        let email_status = match mail::send_job_report(
            state.config(),
            &org,
            to,
            end,
            outcome.message.as_deref().unwrap_or(""),
        )
        .await
        {
            Ok(()) => "sent".to_owned(),
            Err(err) => {
                tracing::warn!(job = job.id, error = %err, "sending the Apply e-mail");
                format!("failed: {err}")
            }
        };
        state
            .store()
            .set_job_notes(job.id, Some(&email_status), None)
            .await?;
    }
    Ok(())
}
