//! The Apply history of an org: every Apply's row with the whole configuration it applied
//! (`apply_history.config`), read page by page, restored into the draft, and pruned after the
//! retention time while the last versions of every org stay.

use domain::history::{restore_plan, RestorePlan};
use domain::{Change, OrgConfig};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait, Value,
};

use crate::apply::{clear_layer, insert_config, lock_org};
use crate::draft::{load_layer_in, next_revision, owned_dids};
use crate::entities::{apply_history, apply_jobs, organizations};
use crate::{Layer, OrgId, Store, StoreError, StoreResult};

/// One Apply as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRecord {
    pub version: i64,
    pub applied_by: String,
    pub applied_at_ms: i64,
    /// How long the Apply waited for the org's calls; `None` when it did not wait.
    pub waited_ms: Option<i64>,
    pub changes: Vec<Change>,
    /// The configuration applied; `None` for Applies made before it was kept.
    pub config: Option<OrgConfig>,
}

/// A restore done: the draft's new revision and what was decided on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub revision: i64,
    pub plan: RestorePlan,
}

/// The configuration as kept in the history.
pub(crate) fn config_json(config: &OrgConfig) -> StoreResult<String> {
    serde_json::to_string(config).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// How long job `job` waited for calls before it applied, if it was asked to wait.
pub(crate) async fn waited_ms(txn: &DatabaseTransaction, job: i64) -> StoreResult<Option<i64>> {
    let row = apply_jobs::Entity::find_by_id(job).one(txn).await?;
    Ok(row
        .filter(|job| job.wait_for_calls)
        .map(|job| (crate::now_ms() - job.requested_at).max(0)))
}

fn record(row: apply_history::Model) -> StoreResult<HistoryRecord> {
    let corrupt = |e: serde_json::Error| {
        StoreError::Corrupt(format!("history of version {}: {e}", row.version))
    };
    let changes = serde_json::from_str(&row.changes).map_err(corrupt)?;
    let config = match &row.config {
        Some(json) => Some(serde_json::from_str(json).map_err(corrupt)?),
        None => None,
    };
    Ok(HistoryRecord {
        version: row.version,
        applied_by: row.applied_by,
        applied_at_ms: row.applied_at,
        waited_ms: row.waited_ms,
        changes,
        config,
    })
}

async fn find_version<C: ConnectionTrait>(
    conn: &C,
    org: OrgId,
    version: i64,
) -> StoreResult<HistoryRecord> {
    let row = apply_history::Entity::find()
        .filter(apply_history::Column::OrgId.eq(org.0))
        .filter(apply_history::Column::Version.eq(version))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("version {version}")))?;
    record(row)
}

impl Store {
    /// The org's Applies with a version below `before` (all when `None`), newest first, at most
    /// `limit`.
    pub async fn history(
        &self,
        org: OrgId,
        before: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<HistoryRecord>> {
        let mut query = apply_history::Entity::find()
            .filter(apply_history::Column::OrgId.eq(org.0))
            .order_by_desc(apply_history::Column::Version)
            .limit(limit);
        if let Some(before) = before {
            query = query.filter(apply_history::Column::Version.lt(before));
        }
        query
            .all(self.connection())
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// One Apply of the org; "version N not found" for another org's or an unknown version.
    pub async fn history_version(&self, org: OrgId, version: i64) -> StoreResult<HistoryRecord> {
        find_version(self.connection(), org, version).await
    }

    /// The kept `version`, what restoring it would do to the draft as it is now, the draft
    /// itself and its revision, read in one transaction (no lock: nothing is written).
    pub async fn restore_preview(
        &self,
        org: OrgId,
        version: i64,
    ) -> StoreResult<(HistoryRecord, RestorePlan, OrgConfig, i64)> {
        let txn = self.connection().begin().await?;
        let revision = organizations::Entity::find_by_id(org.0)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::NotFound("organization".into()))?
            .draft_revision;
        let record = find_version(&txn, org, version).await?;
        let plan = plan_of(&txn, org, &record, false).await?;
        let draft = load_layer_in(&txn, org, Layer::Draft).await?;
        txn.commit().await?;
        Ok((record, plan, draft, revision))
    }

    /// Draft := `version`'s configuration (see [`restore_plan`]), in one transaction. With
    /// `based_on_revision`, a draft changed since is refused as stale and nothing is written.
    pub async fn restore_version(
        &self,
        org: OrgId,
        version: i64,
        based_on_revision: Option<i64>,
        restore_secrets: bool,
    ) -> StoreResult<Restored> {
        let txn = self.connection().begin().await?;
        let current = lock_org(&txn, org).await?.draft_revision;
        // An unknown version is "not found" whatever the revision named.
        let record = find_version(&txn, org, version).await?;
        let plan = plan_of(&txn, org, &record, restore_secrets).await?;
        if based_on_revision.is_some_and(|base| base != current) {
            return Err(StoreError::Stale {
                what: "The draft".into(),
                current_revision: current,
            });
        }
        let revision = next_revision(&txn, org).await?;
        clear_layer(&txn, org, Layer::Draft).await?;
        insert_config(&txn, org, Layer::Draft, &plan.config, revision).await?;
        txn.commit().await?;
        Ok(Restored { revision, plan })
    }

    /// Deletes Applies older than `older_than_ms` except each org's last `keep_last`. Returns
    /// how many rows were deleted.
    pub async fn prune_history(&self, older_than_ms: i64, keep_last: u64) -> StoreResult<u64> {
        let backend = self.connection().get_database_backend();
        let orgs: Vec<i64> = apply_history::Entity::find()
            .select_only()
            .column(apply_history::Column::OrgId)
            .filter(apply_history::Column::AppliedAt.lt(older_than_ms))
            .distinct()
            .into_tuple()
            .all(self.connection())
            .await?;
        let mut deleted = 0;
        for org in orgs {
            let kept: Option<i64> = apply_history::Entity::find()
                .select_only()
                .column(apply_history::Column::Version)
                .filter(apply_history::Column::OrgId.eq(org))
                .order_by_desc(apply_history::Column::Version)
                .offset(keep_last.saturating_sub(1))
                .into_tuple()
                .one(self.connection())
                .await?;
            let Some(oldest_kept) = kept else { continue };
            let result = self
                .connection()
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    "DELETE FROM apply_history WHERE org_id = ? AND applied_at < ? AND version < ?",
                    [
                        Value::from(org),
                        Value::from(older_than_ms),
                        Value::from(oldest_kept),
                    ],
                ))
                .await?;
            deleted += result.rows_affected();
        }
        Ok(deleted)
    }
}

/// The plan of restoring `record`, read in the caller's transaction.
async fn plan_of(
    txn: &DatabaseTransaction,
    org: OrgId,
    record: &HistoryRecord,
    restore_secrets: bool,
) -> StoreResult<RestorePlan> {
    let version = record.version;
    let Some(config) = &record.config else {
        return Err(StoreError::Conflict(format!(
            "Version {version} was applied before LittlePBX kept whole versions; it can be read but not restored."
        )));
    };
    let draft = load_layer_in(txn, org, Layer::Draft).await?;
    let dids = owned_dids(txn, org).await?;
    Ok(restore_plan(config, &draft, &dids, restore_secrets))
}
