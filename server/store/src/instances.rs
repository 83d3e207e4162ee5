//! The LittlePBX instances FreeSWITCH may ask, and the XML epoch each one serves.
//!
//! Every instance reports the epoch its XML cache serves, at least every few seconds (the report
//! is its heartbeat). The delivery of FreeSWITCH commands waits until every instance seen
//! recently serves the epoch a command was queued at (`fs_commands.epoch`), so FreeSWITCH never
//! re-reads something from an instance that does not know it yet. An instance that has not
//! reported within the liveness window is taken as gone: it stopped, crashed, or lost the
//! database (and then it cannot learn anything new anyway).

use sea_orm::sea_query::{Expr, Func, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::instances;
use crate::{now_ms, Store, StoreResult};

/// How long an instance counts as live after its last report.
pub const LIVENESS_MS: i64 = 10_000;

/// Reports older than this are deleted.
const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

impl Store {
    /// Records that instance `id` serves `served_epoch` (-1: still loading) now.
    pub async fn report_instance(&self, id: &str, served_epoch: i64) -> StoreResult<()> {
        let now = now_ms();
        instances::Entity::insert(instances::ActiveModel {
            id: sea_orm::ActiveValue::Set(id.to_owned()),
            served_epoch: sea_orm::ActiveValue::Set(served_epoch),
            started_at: sea_orm::ActiveValue::Set(now),
            seen_at: sea_orm::ActiveValue::Set(now),
        })
        .on_conflict(
            OnConflict::column(instances::Column::Id)
                .update_columns([instances::Column::ServedEpoch, instances::Column::SeenAt])
                .to_owned(),
        )
        .exec_without_returning(self.connection())
        .await?;
        instances::Entity::delete_many()
            .filter(instances::Column::SeenAt.lt(now - FORGET_AFTER_MS))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// An instance that stops cleanly says so, so that nobody waits for it.
    pub async fn remove_instance(&self, id: &str) -> StoreResult<()> {
        instances::Entity::delete_by_id(id.to_owned())
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// The lowest epoch any live instance serves (`None` when no instance is live).
    pub async fn lowest_served_epoch(&self) -> StoreResult<Option<i64>> {
        let lowest: Option<Option<i64>> = instances::Entity::find()
            .select_only()
            .expr(Func::min(Expr::col(instances::Column::ServedEpoch)))
            .filter(instances::Column::SeenAt.gte(now_ms() - LIVENESS_MS))
            .into_tuple()
            .one(self.connection())
            .await?;
        Ok(lowest.flatten())
    }
}
