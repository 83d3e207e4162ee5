//! LittlePBX database schema, one migration per file.
//!
//! Tested on SQLite and MariaDB. MariaDB commits DDL implicitly, so every statement is written
//! to be re-runnable (`IF NOT EXISTS`): a migration interrupted half-way can simply be run again.
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_initial;
mod m20261206_000001_cdrs;
mod m20261207_000001_provisioning_links;
mod m20261208_000001_cdr_rollups;
mod m20261209_000001_long_texts;
mod m20261210_000001_instances;
mod m20261211_000001_history_snapshots;
mod m20261212_000001_desk_phones;
mod schema_helpers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_initial::Migration),
            Box::new(m20261206_000001_cdrs::Migration),
            Box::new(m20261207_000001_provisioning_links::Migration),
            Box::new(m20261208_000001_cdr_rollups::Migration),
            Box::new(m20261209_000001_long_texts::Migration),
            Box::new(m20261210_000001_instances::Migration),
            Box::new(m20261211_000001_history_snapshots::Migration),
            Box::new(m20261212_000001_desk_phones::Migration),
        ]
    }
}
