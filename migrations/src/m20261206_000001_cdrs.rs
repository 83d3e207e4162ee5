//! Call records: `cdrs` (one compact row per call, attributed to an org by the org marker
//! LittlePBX's dialplan puts on the call) and `cdr_orphans` (records without a valid marker,
//! kept for the provider and never shown to an org).
//!
//! Layout, chosen for the stats queries at 10 million rows over 10,000 orgs (every one of them
//! reads one org's calls of one period, or pages back through them):
//! - **MariaDB/MySQL**: the table is clustered by `(org_id, start_ms, id)` (InnoDB's primary
//!   key *is* the table), so an org's calls of a period are one contiguous range of the table
//!   and every aggregate reads only that range, with no look-up per row. `id` keeps its own
//!   key because InnoDB requires one for `AUTO_INCREMENT`; it breaks ties between calls that
//!   started in the same millisecond (stable paging).
//! - **SQLite** (single-machine deployments): an ordinary rowid table with an index
//!   `(org_id, start_ms, direction, answered, billsec)` that covers the period totals.
//! - Both: `call_uuid` is unique (FreeSWITCH retries; a duplicate is recognised, never counted
//!   twice) and `start_ms` has an index for pruning old records in batches.
//!
//! `direction` is 1 = inbound, 2 = outbound, 3 = internal; `answered` is 0 or 1. Times are UTC
//! milliseconds, durations whole seconds.
//!
//! Deleting an org deletes its call records (foreign key, cascade).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const MYSQL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS cdrs (
        id BIGINT NOT NULL AUTO_INCREMENT,
        org_id BIGINT NOT NULL,
        start_ms BIGINT NOT NULL,
        call_uuid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        answer_ms BIGINT NULL,
        end_ms BIGINT NOT NULL,
        duration_s INT NOT NULL,
        billsec INT NOT NULL,
        direction TINYINT NOT NULL,
        answered TINYINT NOT NULL,
        extension VARCHAR(16) NULL,
        did VARCHAR(16) NULL,
        other_party VARCHAR(64) NULL,
        hangup_cause VARCHAR(40) CHARACTER SET ascii NOT NULL,
        PRIMARY KEY (org_id, start_ms, id),
        UNIQUE KEY ux_cdrs_call_uuid (call_uuid),
        KEY ix_cdrs_id (id),
        KEY ix_cdrs_start (start_ms),
        CONSTRAINT fk_cdrs_org FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE
    ) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS cdr_orphans (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        call_uuid VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        received_ms BIGINT NOT NULL,
        reason VARCHAR(200) NOT NULL,
        org_marker VARCHAR(64) NULL,
        domain_name VARCHAR(253) NULL,
        start_ms BIGINT NOT NULL,
        answer_ms BIGINT NULL,
        end_ms BIGINT NOT NULL,
        duration_s INT NOT NULL,
        billsec INT NOT NULL,
        direction TINYINT NOT NULL,
        answered TINYINT NOT NULL,
        extension VARCHAR(16) NULL,
        did VARCHAR(16) NULL,
        other_party VARCHAR(64) NULL,
        hangup_cause VARCHAR(40) CHARACTER SET ascii NOT NULL,
        UNIQUE KEY ux_cdr_orphans_call_uuid (call_uuid),
        KEY ix_cdr_orphans_received (received_ms)
    ) ENGINE=InnoDB",
];

const SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS cdrs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        start_ms BIGINT NOT NULL,
        call_uuid VARCHAR(64) NOT NULL,
        answer_ms BIGINT NULL,
        end_ms BIGINT NOT NULL,
        duration_s INTEGER NOT NULL,
        billsec INTEGER NOT NULL,
        direction INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        extension VARCHAR(16) NULL,
        did VARCHAR(16) NULL,
        other_party VARCHAR(64) NULL,
        hangup_cause VARCHAR(40) NOT NULL
    )",
    "CREATE UNIQUE INDEX IF NOT EXISTS ux_cdrs_call_uuid ON cdrs (call_uuid)",
    "CREATE INDEX IF NOT EXISTS ix_cdrs_org_start ON cdrs (org_id, start_ms, direction, answered, billsec)",
    "CREATE INDEX IF NOT EXISTS ix_cdrs_start ON cdrs (start_ms)",
    "CREATE TABLE IF NOT EXISTS cdr_orphans (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        call_uuid VARCHAR(64) NOT NULL,
        received_ms BIGINT NOT NULL,
        reason VARCHAR(200) NOT NULL,
        org_marker VARCHAR(64) NULL,
        domain_name VARCHAR(253) NULL,
        start_ms BIGINT NOT NULL,
        answer_ms BIGINT NULL,
        end_ms BIGINT NOT NULL,
        duration_s INTEGER NOT NULL,
        billsec INTEGER NOT NULL,
        direction INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        extension VARCHAR(16) NULL,
        did VARCHAR(16) NULL,
        other_party VARCHAR(64) NULL,
        hangup_cause VARCHAR(40) NOT NULL
    )",
    "CREATE UNIQUE INDEX IF NOT EXISTS ux_cdr_orphans_call_uuid ON cdr_orphans (call_uuid)",
    "CREATE INDEX IF NOT EXISTS ix_cdr_orphans_received ON cdr_orphans (received_ms)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match db.get_database_backend() {
            DbBackend::Sqlite => SQLITE,
            _ => MYSQL,
        };
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
