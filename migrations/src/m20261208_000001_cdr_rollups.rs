//! Running totals of the call records, kept in the transaction that stores each call, so the
//! stats page never aggregates more than a day or two of raw records (measured at 10 million
//! records over 10,000 orgs: an org with 2,700 calls a day reads 82,000 raw rows for 30 days,
//! 0.1-0.4 s; its rollup rows, 3,000 slots or 6,000 extension-days, read in a few ms).
//!
//! - `cdr_slots`: per org and 15-minute slot (UTC-aligned, `slot_ms` = its start), counts,
//!   answered and billed seconds per direction. Every UTC offset in use is a multiple of 15
//!   minutes, so local days and hours in any time zone are whole slots.
//! - `cdr_ext_days`: per org, UTC day (`day_ms` = its midnight) and extension, what the
//!   per-extension table shows. An internal call counts for its caller and for the extension
//!   called.
//! - `cdr_did_days`: per org, UTC day and DID, calls in (answered, seconds) and calls out that
//!   showed the number.
//!
//! A period's partial UTC days (a local midnight is not a UTC one) are read from the raw
//! records. All three cascade with the org and are pruned with the records.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, key columns DDL, counter columns, primary key, time column)`. The time column has
/// an index of its own for pruning.
type Table = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const TABLES: &[Table] = &[
    (
        "cdr_slots",
        "org_id BIGINT NOT NULL, slot_ms BIGINT NOT NULL",
        &[
            "calls_in",
            "calls_out",
            "calls_internal",
            "answered_in",
            "answered_out",
            "answered_internal",
            "billsec_in",
            "billsec_out",
            "billsec_internal",
        ],
        "org_id, slot_ms",
        "slot_ms",
    ),
    (
        "cdr_ext_days",
        "org_id BIGINT NOT NULL, day_ms BIGINT NOT NULL, extension VARCHAR(16) NOT NULL",
        &[
            "calls_in",
            "calls_out",
            "calls_internal",
            "answered",
            "missed",
            "billsec",
        ],
        "org_id, day_ms, extension",
        "day_ms",
    ),
    (
        "cdr_did_days",
        "org_id BIGINT NOT NULL, day_ms BIGINT NOT NULL, did VARCHAR(16) NOT NULL",
        &[
            "calls_in",
            "answered_in",
            "billsec_in",
            "calls_out",
            "billsec_out",
        ],
        "org_id, day_ms, did",
        "day_ms",
    ),
];

/// Counters are 32-bit: a slot's or a day's billed seconds stay far below 2^31 (a day is
/// 86,400 s per concurrent call); sums are read as 64-bit.
fn statements(backend: DbBackend, (table, keys, counters, pk, time): &Table) -> Vec<String> {
    let counters: Vec<String> = counters
        .iter()
        .map(|c| format!("{c} INT NOT NULL DEFAULT 0"))
        .collect();
    let fk = format!(
        "CONSTRAINT fk_{table}_org FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE"
    );
    let columns = format!("{keys}, {}, PRIMARY KEY ({pk})", counters.join(", "));
    match backend {
        DbBackend::Sqlite => vec![
            format!("CREATE TABLE IF NOT EXISTS {table} ({columns}, {fk})"),
            format!("CREATE INDEX IF NOT EXISTS ix_{table}_{time} ON {table} ({time})"),
        ],
        _ => vec![format!(
            "CREATE TABLE IF NOT EXISTS {table} ({columns}, KEY ix_{table}_{time} ({time}), {fk}) ENGINE=InnoDB"
        )],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        for table in TABLES {
            for sql in statements(backend, table) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }
}
