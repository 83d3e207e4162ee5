//! Apply jobs: start, follow, stop.

use api_types::org::{ApplyRequest, JobView};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::validate_draft;
use store::jobs::NewJob;

use crate::auth::OrgAdmin;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::AppState;
use crate::views;

/// The longest an Apply may wait for calls to end.
pub const MAX_WAIT_SECONDS: u32 = 3600;

pub async fn start(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(body): ApiJson<ApplyRequest>,
) -> ApiResult<Response> {
    if body.wait_for_calls && body.max_wait_seconds > MAX_WAIT_SECONDS {
        return Err(ApiError::invalid_field(
            "max_wait_seconds",
            format!(
                "Wait at most {} minutes for calls to end.",
                MAX_WAIT_SECONDS / 60
            ),
        ));
    }
    refuse_invalid_draft(&state, &admin).await?;
    let email_to = admin.admin.email.to_string();
    let new = NewJob {
        requested_by: admin.admin.email.as_str(),
        wait_for_calls: body.wait_for_calls,
        max_wait_seconds: if body.wait_for_calls {
            body.max_wait_seconds
        } else {
            0
        },
        email_to: body.email_me.then_some(email_to.as_str()),
    };
    let job = state.store().create_job(admin.org.id, &new).await?;
    tracing::info!(org = %admin.org.slug, job = job.id, by = %admin.admin.email, wait = body.wait_for_calls, "Apply requested");
    state.jobs_wakeup();
    Ok((StatusCode::ACCEPTED, ApiJson(views::job(&job, 0))).into_response())
}

/// Answers 422 with the issues at once instead of a job that would fail.
async fn refuse_invalid_draft(state: &AppState, admin: &OrgAdmin) -> ApiResult<()> {
    let config = state
        .store()
        .load_layer(admin.org.id, store::Layer::Draft)
        .await?;
    let issues = validate_draft(
        &config,
        state.store().org_dids(admin.org.id).await?,
        &state.config().emergency_numbers,
        admin.org.limits.max_extensions,
    );
    if issues.is_empty() {
        return Ok(());
    }
    Err(store::StoreError::Invalid(issues).into())
}

async fn job_view(
    state: &AppState,
    admin: &OrgAdmin,
    job: &store::jobs::Job,
) -> ApiResult<JobView> {
    Ok(views::job(
        job,
        state.store().pending_fs_commands_of(admin.org.id).await?,
    ))
}

pub async fn latest(
    State(state): State<AppState>,
    admin: OrgAdmin,
) -> ApiResult<ApiJson<Option<JobView>>> {
    let view = match state.store().latest_job(admin.org.id).await? {
        Some(job) => Some(job_view(&state, &admin, &job).await?),
        None => None,
    };
    Ok(ApiJson(view))
}

pub async fn get_job(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<ApiJson<JobView>> {
    let job = state.store().job(admin.org.id, id).await?;
    Ok(ApiJson(job_view(&state, &admin, &job).await?))
}

pub async fn stop(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(id): Path<i64>,
) -> ApiResult<ApiJson<JobView>> {
    let job = state.store().stop_job(admin.org.id, id).await?;
    tracing::info!(org = %admin.org.slug, job = id, by = %admin.admin.email, "Apply stopped");
    Ok(ApiJson(job_view(&state, &admin, &job).await?))
}
