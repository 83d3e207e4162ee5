//! Every Apply keeps the whole configuration it applied, so that an org admin can see what
//! changed in words and restore an earlier version: `apply_history.config` (the applied
//! configuration as JSON; `NULL` for Applies made before this migration, which can be read but
//! not restored) and `apply_history.waited_ms` (how long the Apply waited for the org's calls).
//!
//! Re-runnable: columns are added only when missing; on MariaDB/MySQL `config` is `LONGTEXT`
//! (an org with a thousand extensions does not fit in `TEXT`'s 64 KiB).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApplyHistory {
    Table,
    Config,
    WaitedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("apply_history", "config").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApplyHistory::Table)
                        .add_column(text_null(ApplyHistory::Config))
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("apply_history", "waited_ms").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApplyHistory::Table)
                        .add_column(big_integer_null(ApplyHistory::WaitedMs))
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DbBackend::MySql {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE apply_history MODIFY config LONGTEXT NULL")
                .await?;
        }
        Ok(())
    }
}
