//! The queue of commands FreeSWITCH has not been told yet.
//!
//! Commands are queued in the same transaction as the change that needs them (Apply, trunk
//! change, org deletion) and removed from the queue once FreeSWITCH answered them, so a crash or
//! an unreachable FreeSWITCH delays them but never loses them. Every command is idempotent
//! (flush a cache entry, reload a stream, restart one gateway), so running one twice after a
//! crash between "answered" and "marked done" is harmless.

use sea_orm::sea_query::Expr;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::fs_commands;
use crate::{now_ms, OrgId, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCommand {
    pub id: i64,
    pub org: Option<OrgId>,
    pub command: String,
    pub attempts: i32,
    /// Send only once every live instance serves this XML epoch (see `instances`).
    pub epoch: i64,
}

impl Store {
    /// The oldest `limit` commands not yet answered by FreeSWITCH, in queue order.
    pub async fn pending_fs_commands(&self, limit: u64) -> StoreResult<Vec<PendingCommand>> {
        Ok(fs_commands::Entity::find()
            .filter(fs_commands::Column::DoneAt.is_null())
            .order_by_asc(fs_commands::Column::Id)
            .limit(limit)
            .all(self.connection())
            .await?
            .into_iter()
            .map(|row| PendingCommand {
                id: row.id,
                org: row.org_id.map(OrgId),
                command: row.command,
                attempts: row.attempts,
                epoch: row.epoch,
            })
            .collect())
    }

    /// How many commands of the org FreeSWITCH has not been told yet.
    pub async fn pending_fs_commands_of(&self, org: OrgId) -> StoreResult<u64> {
        Ok(fs_commands::Entity::find()
            .filter(fs_commands::Column::DoneAt.is_null())
            .filter(fs_commands::Column::OrgId.eq(org.0))
            .count(self.connection())
            .await?)
    }

    pub async fn mark_fs_command_done(&self, id: i64) -> StoreResult<()> {
        fs_commands::Entity::update_many()
            .col_expr(fs_commands::Column::DoneAt, Expr::value(now_ms()))
            .col_expr(
                fs_commands::Column::Attempts,
                Expr::col(fs_commands::Column::Attempts).add(1),
            )
            .filter(fs_commands::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    pub async fn mark_fs_command_failed(&self, id: i64, error: &str) -> StoreResult<()> {
        fs_commands::Entity::update_many()
            .col_expr(
                fs_commands::Column::LastError,
                Expr::value(error.chars().take(1000).collect::<String>()),
            )
            .col_expr(
                fs_commands::Column::Attempts,
                Expr::col(fs_commands::Column::Attempts).add(1),
            )
            .filter(fs_commands::Column::Id.eq(id))
            .exec(self.connection())
            .await?;
        Ok(())
    }

    /// Deletes answered commands older than `older_than_ms`; returns how many.
    pub async fn prune_fs_commands(&self, older_than_ms: i64) -> StoreResult<u64> {
        Ok(fs_commands::Entity::delete_many()
            .filter(fs_commands::Column::DoneAt.lt(older_than_ms))
            .exec(self.connection())
            .await?
            .rows_affected)
    }
}
