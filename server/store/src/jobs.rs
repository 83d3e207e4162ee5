//! Durable Apply jobs.
//!
//! A job goes `waiting` → `applying` → `syncing` → `done`, or ends `failed` or `stopped`; the
//! allowed moves are [`JobState`]'s (`domain::job`) and every update here is filtered by them. While
//! unfinished it holds `active_org_id = org_id`, and a unique index on that column lets the
//! database, not a process, guarantee one unfinished job per org across every instance. Work on a
//! job is leased (`lease_owner`, `lease_until`), so when an instance dies another one takes its
//! jobs over once the lease has run out. The Apply transaction itself moves the job to `syncing`
//! (see [`crate::apply`]), so "applied" and "job says applied" can never disagree after a crash.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::apply_jobs;
use crate::{is_unique_violation, now_ms, OrgId, Store, StoreError, StoreResult};

pub use domain::JobState;

/// An Apply job as read from the database, its state parsed: a row whose state is none of
/// [`JobState`]'s is a [`StoreError::Corrupt`], never taken for some state or skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub org_id: i64,
    /// `Some(org_id)` while unfinished: the unique index that allows one such job per org.
    pub active_org_id: Option<i64>,
    pub state: JobState,
    pub requested_by: String,
    pub requested_at: i64,
    pub wait_for_calls: bool,
    pub max_wait_seconds: i32,
    pub email_to: Option<String>,
    pub calls_in_progress: Option<i32>,
    pub deadline_at: Option<i64>,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    pub applied_version: Option<i64>,
    pub message: Option<String>,
    /// The draft's issues as JSON, when it could not be applied.
    pub issues: Option<String>,
    pub email_status: Option<String>,
    pub fs_status: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
}

impl TryFrom<apply_jobs::Model> for Job {
    type Error = StoreError;

    fn try_from(row: apply_jobs::Model) -> StoreResult<Self> {
        let state = JobState::parse(&row.state)
            .map_err(|e| StoreError::Corrupt(format!("Apply job {}: {e}", row.id)))?;
        Ok(Job {
            id: row.id,
            org_id: row.org_id,
            active_org_id: row.active_org_id,
            state,
            requested_by: row.requested_by,
            requested_at: row.requested_at,
            wait_for_calls: row.wait_for_calls,
            max_wait_seconds: row.max_wait_seconds,
            email_to: row.email_to,
            calls_in_progress: row.calls_in_progress,
            deadline_at: row.deadline_at,
            updated_at: row.updated_at,
            finished_at: row.finished_at,
            applied_version: row.applied_version,
            message: row.message,
            issues: row.issues,
            email_status: row.email_status,
            fs_status: row.fs_status,
            lease_owner: row.lease_owner,
            lease_until: row.lease_until,
        })
    }
}

/// The rows a move to `next` may update: those in a state [`JobState::can_become`] `next`
/// from. Every state change below filters with it, so the table of moves in `domain::job` is
/// the only place that decides them, and a concurrent change makes the update match nothing.
fn moving_to(next: JobState) -> Condition {
    JobState::sources_of(next)
        .into_iter()
        .fold(Condition::any(), |any, from| {
            any.add(apply_jobs::Column::State.eq(from.as_str()))
        })
}

/// What the admin asked for.
pub struct NewJob<'a> {
    pub requested_by: &'a str,
    pub wait_for_calls: bool,
    pub max_wait_seconds: u32,
    /// Where to send the "applied" e-mail, if asked for.
    pub email_to: Option<&'a str>,
}

/// How a job ended.
#[derive(Debug, Default)]
pub struct JobOutcome {
    pub message: Option<String>,
    pub issues_json: Option<String>,
    pub applied_version: Option<i64>,
}

impl Store {
    /// Creates a waiting job. Refused while the org has an unfinished one.
    pub async fn create_job(&self, org: OrgId, new: &NewJob<'_>) -> StoreResult<Job> {
        let now = now_ms();
        let deadline = new
            .wait_for_calls
            .then(|| now + i64::from(new.max_wait_seconds) * 1000);
        let model = apply_jobs::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            org_id: sea_orm::ActiveValue::Set(org.0),
            active_org_id: sea_orm::ActiveValue::Set(Some(org.0)),
            state: sea_orm::ActiveValue::Set(JobState::Waiting.as_str().to_owned()),
            requested_by: sea_orm::ActiveValue::Set(new.requested_by.to_owned()),
            requested_at: sea_orm::ActiveValue::Set(now),
            wait_for_calls: sea_orm::ActiveValue::Set(new.wait_for_calls),
            max_wait_seconds: sea_orm::ActiveValue::Set(
                new.max_wait_seconds.min(i32::MAX as u32) as i32
            ),
            email_to: sea_orm::ActiveValue::Set(new.email_to.map(str::to_owned)),
            calls_in_progress: sea_orm::ActiveValue::Set(None),
            deadline_at: sea_orm::ActiveValue::Set(deadline),
            updated_at: sea_orm::ActiveValue::Set(now),
            finished_at: sea_orm::ActiveValue::Set(None),
            applied_version: sea_orm::ActiveValue::Set(None),
            message: sea_orm::ActiveValue::Set(None),
            issues: sea_orm::ActiveValue::Set(None),
            email_status: sea_orm::ActiveValue::Set(None),
            fs_status: sea_orm::ActiveValue::Set(None),
            lease_owner: sea_orm::ActiveValue::Set(None),
            lease_until: sea_orm::ActiveValue::Set(None),
        };
        match model.insert(self.connection()).await {
            Ok(row) => Job::try_from(row),
            Err(err) if is_unique_violation(&err) => Err(StoreError::Conflict(
                "An Apply is already in progress for this PBX; wait for it to finish or stop it."
                    .into(),
            )),
            Err(err)
                if matches!(
                    err.sql_err(),
                    Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
                ) =>
            {
                Err(StoreError::NotFound("organization".into()))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub async fn job(&self, org: OrgId, id: i64) -> StoreResult<Job> {
        apply_jobs::Entity::find()
            .filter(apply_jobs::Column::OrgId.eq(org.0))
            .filter(apply_jobs::Column::Id.eq(id))
            .one(self.connection())
            .await?
            .ok_or_else(|| StoreError::NotFound("Apply job".into()))?
            .try_into()
    }

    /// The org's unfinished job, else its most recent one.
    pub async fn latest_job(&self, org: OrgId) -> StoreResult<Option<Job>> {
        apply_jobs::Entity::find()
            .filter(apply_jobs::Column::OrgId.eq(org.0))
            .order_by_desc(apply_jobs::Column::Id)
            .one(self.connection())
            .await?
            .map(Job::try_from)
            .transpose()
    }

    /// Cancels a waiting job. Refused once it has started applying.
    pub async fn stop_job(&self, org: OrgId, id: i64) -> StoreResult<Job> {
        let now = now_ms();
        let result = apply_jobs::Entity::update_many()
            .col_expr(
                apply_jobs::Column::State,
                Expr::value(JobState::Stopped.as_str()),
            )
            .col_expr(
                apply_jobs::Column::ActiveOrgId,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(apply_jobs::Column::FinishedAt, Expr::value(now))
            .col_expr(apply_jobs::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                apply_jobs::Column::Message,
                Expr::value("Stopped before applying; nothing was changed."),
            )
            .filter(apply_jobs::Column::OrgId.eq(org.0))
            .filter(apply_jobs::Column::Id.eq(id))
            .filter(moving_to(JobState::Stopped))
            .exec(self.connection())
            .await?;
        let job = self.job(org, id).await?;
        if result.rows_affected == 0 {
            return Err(StoreError::Conflict(format!(
                "This Apply can no longer be stopped: it is {}.",
                job.state
            )));
        }
        Ok(job)
    }

    /// Takes (or renews) the lease of every unfinished job whose lease is free, expired or
    /// already ours; returns them, each read on its own so that one unreadable row (an unknown
    /// state) is an error for that job only and does not hold up every other org's Apply.
    pub async fn claim_jobs(
        &self,
        owner: &str,
        lease_ms: i64,
    ) -> StoreResult<Vec<StoreResult<Job>>> {
        let now = now_ms();
        let free = Condition::any()
            .add(apply_jobs::Column::LeaseUntil.is_null())
            .add(apply_jobs::Column::LeaseUntil.lt(now))
            .add(apply_jobs::Column::LeaseOwner.eq(owner));
        apply_jobs::Entity::update_many()
            .col_expr(apply_jobs::Column::LeaseOwner, Expr::value(owner))
            .col_expr(apply_jobs::Column::LeaseUntil, Expr::value(now + lease_ms))
            .filter(apply_jobs::Column::ActiveOrgId.is_not_null())
            .filter(free)
            .exec(self.connection())
            .await?;
        Ok(apply_jobs::Entity::find()
            .filter(apply_jobs::Column::ActiveOrgId.is_not_null())
            .filter(apply_jobs::Column::LeaseOwner.eq(owner))
            .order_by_asc(apply_jobs::Column::Id)
            .all(self.connection())
            .await?
            .into_iter()
            .map(Job::try_from)
            .collect())
    }

    /// Records the org's calls in progress on a waiting job.
    pub async fn set_job_calls(
        &self,
        id: i64,
        calls: Option<u32>,
        message: Option<&str>,
    ) -> StoreResult<()> {
        apply_jobs::Entity::update_many()
            .col_expr(
                apply_jobs::Column::CallsInProgress,
                Expr::value(calls.map(|c| c.min(i32::MAX as u32) as i32)),
            )
            .col_expr(
                apply_jobs::Column::Message,
                Expr::value(message.map(str::to_owned)),
            )
            .col_expr(apply_jobs::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(apply_jobs::Column::Id.eq(id))
            .filter(apply_jobs::Column::State.eq(JobState::Waiting.as_str()))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Moves a waiting job to applying. `false` when it is no longer waiting (stopped meanwhile).
    pub async fn start_applying(&self, id: i64) -> StoreResult<bool> {
        let result = apply_jobs::Entity::update_many()
            .col_expr(
                apply_jobs::Column::State,
                Expr::value(JobState::Applying.as_str()),
            )
            .col_expr(apply_jobs::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(apply_jobs::Column::Id.eq(id))
            .filter(moving_to(JobState::Applying))
            .exec(self.connection())
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Ends a job in `state` (done, failed or stopped) and frees the org for the next one. A
    /// job in a state that cannot move to `state` is left as it is.
    pub async fn finish_job(
        &self,
        id: i64,
        state: JobState,
        outcome: &JobOutcome,
    ) -> StoreResult<()> {
        if !state.is_finished() {
            return Err(StoreError::Conflict(format!(
                "An Apply job does not end {state}."
            )));
        }
        let now = now_ms();
        let mut update = apply_jobs::Entity::update_many()
            .col_expr(apply_jobs::Column::State, Expr::value(state.as_str()))
            .col_expr(
                apply_jobs::Column::ActiveOrgId,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(apply_jobs::Column::FinishedAt, Expr::value(now))
            .col_expr(apply_jobs::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                apply_jobs::Column::Message,
                Expr::value(outcome.message.clone()),
            )
            .col_expr(
                apply_jobs::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                apply_jobs::Column::LeaseUntil,
                Expr::value(Option::<i64>::None),
            )
            .filter(apply_jobs::Column::Id.eq(id))
            .filter(apply_jobs::Column::ActiveOrgId.is_not_null())
            .filter(moving_to(state));
        if let Some(issues) = &outcome.issues_json {
            update = update.col_expr(apply_jobs::Column::Issues, Expr::value(issues.clone()));
        }
        if let Some(version) = outcome.applied_version {
            update = update.col_expr(apply_jobs::Column::AppliedVersion, Expr::value(version));
        }
        update.exec(self.connection()).await?;
        Ok(())
    }

    /// Records how sending the "applied" e-mail went, and whether FreeSWITCH was told.
    pub async fn set_job_notes(
        &self,
        id: i64,
        email_status: Option<&str>,
        fs_status: Option<&str>,
    ) -> StoreResult<()> {
        let mut update = apply_jobs::Entity::update_many()
            .col_expr(apply_jobs::Column::UpdatedAt, Expr::value(now_ms()));
        if let Some(email) = email_status {
            update = update.col_expr(apply_jobs::Column::EmailStatus, Expr::value(email));
        }
        if let Some(fs) = fs_status {
            update = update.col_expr(apply_jobs::Column::FsStatus, Expr::value(fs));
        }
        update
            .filter(apply_jobs::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        Ok(())
    }
}

/// Moves the job to `syncing` inside the Apply transaction.
pub(crate) async fn mark_applied_in<C: sea_orm::ConnectionTrait>(
    conn: &C,
    org: OrgId,
    id: i64,
    version: i64,
) -> StoreResult<()> {
    let result = apply_jobs::Entity::update_many()
        .col_expr(
            apply_jobs::Column::State,
            Expr::value(JobState::Syncing.as_str()),
        )
        .col_expr(apply_jobs::Column::AppliedVersion, Expr::value(version))
        .col_expr(apply_jobs::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(apply_jobs::Column::Id.eq(id))
        .filter(apply_jobs::Column::OrgId.eq(org.0))
        .filter(moving_to(JobState::Syncing))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict(
            "The Apply job is no longer applying.".into(),
        ));
    }
    Ok(())
}
