//! MariaDB/MySQL `TEXT` holds at most 64 KiB: the changes of an Apply that touches a thousand
//! extensions, or the issues of a refused one, do not fit. They become `LONGTEXT`. SQLite's
//! `TEXT` has no such limit, so nothing changes there. `MODIFY` is re-runnable.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        let connection = manager.get_connection();
        connection
            .execute_unprepared("ALTER TABLE apply_history MODIFY changes LONGTEXT NOT NULL")
            .await?;
        connection
            .execute_unprepared("ALTER TABLE apply_jobs MODIFY issues LONGTEXT NULL")
            .await?;
        Ok(())
    }
}
