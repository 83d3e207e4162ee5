//! Call records: one compact row per call in `cdrs`, attributed to an org; records without a
//! valid org marker in `cdr_orphans`, kept for the provider and never read for an org.
//!
//! Every read takes the org from the caller (session or key) and reads one period of that org
//! only. Periods are answered from running totals (`cdr_slots` per 15 minutes, `cdr_ext_days`
//! and `cdr_did_days` per UTC day; migration `m20261208_000001_cdr_rollups`) for the whole
//! slots or days they cover, and from the raw records for the rest (a period rarely starts at
//! a UTC midnight). On MariaDB `cdrs` is clustered by `(org_id, start_ms, id)`, so the raw
//! part of a read is one contiguous range.
//!
//! Inserts are idempotent on the call's UUID: a second insert of the same call reports
//! [`Stored::Duplicate`] and changes nothing. The call and its share of the running totals are
//! written in one transaction. [`Store::rebuild_cdr_rollups`] recomputes the totals from the
//! records (a repair tool, and how the benchmark loads 10 million records).
//!
//! This file holds the types and the records themselves (inserts, the recent-calls list,
//! orphans, pruning); `rollups` keeps the running totals and `reads` answers a period's
//! totals for the statistics.

mod reads;
mod rollups;

pub use domain::cdr::{CdrDirection, NewCdr};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, TransactionTrait, Value};

use crate::{is_unique_violation, OrgId, Store, StoreError, StoreResult};
use rollups::add_to_rollups;

/// The running totals' time units.
pub const SLOT_MS: i64 = 15 * 60_000;
pub const DAY_MS: i64 = 86_400_000;

/// Column sizes of the text columns.
pub const UUID_MAX: usize = domain::cdr::CALL_UUID_MAX;
pub const EXTENSION_MAX: usize = 16;
pub const DID_MAX: usize = 16;
pub const OTHER_PARTY_MAX: usize = 64;
pub const HANGUP_CAUSE_MAX: usize = 40;
pub const REASON_MAX: usize = 200;
pub const MARKER_MAX: usize = 64;
pub const DOMAIN_MAX: usize = 253;

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn cut_opt(text: &Option<String>, max: usize) -> Option<String> {
    text.as_deref().map(|t| cut(t, max))
}

/// A stored direction code; anything else means the row was not written by us.
fn direction(code: i64) -> StoreResult<CdrDirection> {
    CdrDirection::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("call direction {code}")))
}

/// The same record with every text cut to its column's size (in characters; the columns are
/// sized in characters on both databases).
fn clamped(cdr: &NewCdr) -> NewCdr {
    NewCdr {
        call_uuid: cut(&cdr.call_uuid, UUID_MAX),
        extension: cut_opt(&cdr.extension, EXTENSION_MAX),
        did: cut_opt(&cdr.did, DID_MAX),
        other_party: cut_opt(&cdr.other_party, OTHER_PARTY_MAX),
        hangup_cause: cut(&cdr.hangup_cause, HANGUP_CAUSE_MAX),
        ..cdr.clone()
    }
}

/// A record kept aside because it could not be attributed to an org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanCdr {
    pub cdr: NewCdr,
    /// Why, for the provider ("no org marker", "unknown org \"x\"").
    pub reason: String,
    /// The org marker as the record carried it, if any.
    pub org_marker: Option<String>,
    /// The call's `domain_name`, to help the provider find out whose call it was.
    pub domain_name: Option<String>,
    pub received_ms: i64,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// A record with this call UUID was stored before; nothing changed.
    Duplicate,
}

/// A stored call, as the recent-calls list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrRecord {
    pub id: i64,
    pub cdr: NewCdr,
}

/// Totals of one 15-minute slot (UTC-aligned) of an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotTotals {
    /// Start of the slot (ms since the epoch, a multiple of [`SLOT_MS`]).
    pub slot_ms: i64,
    pub calls: u64,
    pub calls_in: u64,
    pub calls_out: u64,
    pub calls_internal: u64,
    pub answered_in: u64,
    pub answered_out: u64,
    pub answered_internal: u64,
    pub billsec_in: u64,
    pub billsec_out: u64,
    pub billsec_internal: u64,
}

impl SlotTotals {
    fn add(&mut self, other: &SlotTotals) {
        self.calls += other.calls;
        self.calls_in += other.calls_in;
        self.calls_out += other.calls_out;
        self.calls_internal += other.calls_internal;
        self.answered_in += other.answered_in;
        self.answered_out += other.answered_out;
        self.answered_internal += other.answered_internal;
        self.billsec_in += other.billsec_in;
        self.billsec_out += other.billsec_out;
        self.billsec_internal += other.billsec_internal;
    }
}

/// One extension's calls in a period. An internal call counts for the caller (made) and for
/// the extension called (received, and missed when nobody answered).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionTotals {
    pub extension: String,
    /// Calls from the outside that rang it.
    pub calls_in: u64,
    /// Calls it made to the outside.
    pub calls_out: u64,
    /// Internal calls made or received.
    pub calls_internal: u64,
    pub answered: u64,
    /// Calls to it nobody answered.
    pub missed: u64,
    pub billsec: u64,
}

impl ExtensionTotals {
    fn add(&mut self, other: &ExtensionTotals) {
        self.calls_in += other.calls_in;
        self.calls_out += other.calls_out;
        self.calls_internal += other.calls_internal;
        self.answered += other.answered;
        self.missed += other.missed;
        self.billsec += other.billsec;
    }
}

/// One DID's calls in a period: in on it, and out with it as caller ID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DidTotals {
    pub did: String,
    pub calls_in: u64,
    pub answered_in: u64,
    pub billsec_in: u64,
    pub calls_out: u64,
    pub billsec_out: u64,
}

impl DidTotals {
    fn add(&mut self, other: &DidTotals) {
        self.calls_in += other.calls_in;
        self.answered_in += other.answered_in;
        self.billsec_in += other.billsec_in;
        self.calls_out += other.calls_out;
        self.billsec_out += other.billsec_out;
    }
}

/// An org's totals of a period per direction, for the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DirectionTotals {
    pub calls: u64,
    pub answered: u64,
    pub billsec: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeriodTotals {
    pub inbound: DirectionTotals,
    pub outbound: DirectionTotals,
    pub internal: DirectionTotals,
}

/// An orphan as the provider reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanRecord {
    pub id: i64,
    pub orphan: OrphanCdr,
}

/// `SUM(expr)` as a 64-bit integer on both databases (MariaDB sums to DECIMAL).
fn sum(backend: DbBackend, expr: &str) -> String {
    match backend {
        DbBackend::Sqlite => format!("COALESCE(SUM({expr}), 0)"),
        _ => format!("CAST(COALESCE(SUM({expr}), 0) AS SIGNED)"),
    }
}

fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn seconds(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

const CDR_COLUMNS: &str =
    "call_uuid, start_ms, answer_ms, end_ms, duration_s, billsec, direction, \
                           answered, extension, did, other_party, hangup_cause";

fn cdr_values(cdr: &NewCdr) -> Vec<Value> {
    vec![
        Value::from(cdr.call_uuid.clone()),
        Value::from(cdr.start_ms),
        Value::from(cdr.answer_ms),
        Value::from(cdr.end_ms),
        Value::from(i64::from(cdr.duration_s)),
        Value::from(i64::from(cdr.billsec)),
        Value::from(cdr.direction.code()),
        Value::from(i64::from(cdr.answered)),
        Value::from(cdr.extension.clone()),
        Value::from(cdr.did.clone()),
        Value::from(cdr.other_party.clone()),
        Value::from(cdr.hangup_cause.clone()),
    ]
}

#[derive(FromQueryResult)]
struct CdrRow {
    id: i64,
    call_uuid: String,
    start_ms: i64,
    answer_ms: Option<i64>,
    end_ms: i64,
    duration_s: i64,
    billsec: i64,
    direction: i64,
    answered: i64,
    extension: Option<String>,
    did: Option<String>,
    other_party: Option<String>,
    hangup_cause: String,
}

impl CdrRow {
    fn into_record(self) -> StoreResult<CdrRecord> {
        Ok(CdrRecord {
            id: self.id,
            cdr: NewCdr {
                call_uuid: self.call_uuid,
                start_ms: self.start_ms,
                answer_ms: self.answer_ms,
                end_ms: self.end_ms,
                duration_s: seconds(self.duration_s),
                billsec: seconds(self.billsec),
                direction: direction(self.direction)?,
                answered: self.answered != 0,
                extension: self.extension,
                did: self.did,
                other_party: self.other_party,
                hangup_cause: self.hangup_cause,
            },
        })
    }
}

impl Store {
    fn statement(&self, sql: impl Into<String>, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend(), sql.into(), values)
    }

    /// Stores one call of `org` and adds it to the org's running totals, in one transaction.
    /// A call UUID seen before (in `cdrs`) is a duplicate and changes nothing.
    pub async fn insert_cdr(&self, org: OrgId, cdr: &NewCdr) -> StoreResult<Stored> {
        let cdr = clamped(cdr);
        let mut values = vec![Value::from(org.0)];
        values.extend(cdr_values(&cdr));
        let sql = format!(
            "INSERT INTO cdrs (org_id, {CDR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let txn = self.connection().begin().await?;
        match txn.execute_raw(self.statement(sql, values)).await {
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => {
                txn.rollback().await?;
                return Ok(Stored::Duplicate);
            }
            Err(err) => return Err(err.into()),
        }
        add_to_rollups(&txn, org, &cdr).await?;
        txn.commit().await?;
        Ok(Stored::New)
    }

    /// Keeps a record that could not be attributed to an org. A call UUID seen before (in
    /// `cdr_orphans`) is a duplicate.
    pub async fn insert_orphan_cdr(&self, orphan: &OrphanCdr) -> StoreResult<Stored> {
        let cdr = clamped(&orphan.cdr);
        let mut values = vec![
            Value::from(orphan.received_ms),
            Value::from(cut(&orphan.reason, REASON_MAX)),
            Value::from(cut_opt(&orphan.org_marker, MARKER_MAX)),
            Value::from(cut_opt(&orphan.domain_name, DOMAIN_MAX)),
        ];
        values.extend(cdr_values(&cdr));
        let sql = format!(
            "INSERT INTO cdr_orphans (received_ms, reason, org_marker, domain_name, {CDR_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        match self
            .connection()
            .execute_raw(self.statement(sql, values))
            .await
        {
            Ok(_) => Ok(Stored::New),
            Err(err) if is_unique_violation(&err) => Ok(Stored::Duplicate),
            Err(err) => Err(err.into()),
        }
    }

    /// The org's calls newest first: `limit` of them, started before the call `before`
    /// (`(start_ms, id)` of the last call of the previous page) when given. Ties in start time
    /// are broken by id, so pages never skip or repeat a call.
    pub async fn recent_cdrs(
        &self,
        org: OrgId,
        before: Option<(i64, i64)>,
        limit: u64,
    ) -> StoreResult<Vec<CdrRecord>> {
        let mut values = vec![Value::from(org.0)];
        let after = match before {
            Some((start, id)) => {
                values.extend([Value::from(start), Value::from(start), Value::from(id)]);
                " AND (start_ms < ? OR (start_ms = ? AND id < ?))"
            }
            None => "",
        };
        values.push(Value::from(i64::try_from(limit).unwrap_or(i64::MAX)));
        let sql = format!(
            "SELECT id, {CDR_COLUMNS} FROM cdrs WHERE org_id = ?{after} \
             ORDER BY start_ms DESC, id DESC LIMIT ?"
        );
        CdrRow::find_by_statement(self.statement(sql, values))
            .all(self.connection())
            .await?
            .into_iter()
            .map(CdrRow::into_record)
            .collect()
    }

    /// The newest orphans, for the provider.
    pub async fn orphan_cdrs(&self, limit: u64) -> StoreResult<Vec<OrphanRecord>> {
        #[derive(FromQueryResult)]
        struct Row {
            received_ms: i64,
            reason: String,
            org_marker: Option<String>,
            domain_name: Option<String>,
            id: i64,
            call_uuid: String,
            start_ms: i64,
            answer_ms: Option<i64>,
            end_ms: i64,
            duration_s: i64,
            billsec: i64,
            direction: i64,
            answered: i64,
            extension: Option<String>,
            did: Option<String>,
            other_party: Option<String>,
            hangup_cause: String,
        }
        let sql = format!(
            "SELECT id, received_ms, reason, org_marker, domain_name, {CDR_COLUMNS} FROM cdr_orphans \
             ORDER BY id DESC LIMIT ?"
        );
        let values = vec![Value::from(i64::try_from(limit).unwrap_or(i64::MAX))];
        Row::find_by_statement(self.statement(sql, values))
            .all(self.connection())
            .await?
            .into_iter()
            .map(|r| {
                let record = CdrRow {
                    id: r.id,
                    call_uuid: r.call_uuid,
                    start_ms: r.start_ms,
                    answer_ms: r.answer_ms,
                    end_ms: r.end_ms,
                    duration_s: r.duration_s,
                    billsec: r.billsec,
                    direction: r.direction,
                    answered: r.answered,
                    extension: r.extension,
                    did: r.did,
                    other_party: r.other_party,
                    hangup_cause: r.hangup_cause,
                }
                .into_record()?;
                Ok(OrphanRecord {
                    id: record.id,
                    orphan: OrphanCdr {
                        cdr: record.cdr,
                        reason: r.reason,
                        org_marker: r.org_marker,
                        domain_name: r.domain_name,
                        received_ms: r.received_ms,
                    },
                })
            })
            .collect()
    }

    /// Deletes up to `batch` calls (of any org) that started before `before_ms`, and up to
    /// `batch` rows of each running total whose slot or day began before it; returns how many
    /// calls. Call it until it returns less than `batch`.
    pub async fn prune_cdrs(&self, before_ms: i64, batch: u64) -> StoreResult<u64> {
        let deleted = self.prune("cdrs", "start_ms", before_ms, batch).await?;
        self.prune("cdr_slots", "slot_ms", before_ms, batch).await?;
        self.prune("cdr_ext_days", "day_ms", before_ms, batch)
            .await?;
        self.prune("cdr_did_days", "day_ms", before_ms, batch)
            .await?;
        Ok(deleted)
    }

    /// Deletes up to `batch` orphans received before `before_ms`; returns how many.
    pub async fn prune_cdr_orphans(&self, before_ms: i64, batch: u64) -> StoreResult<u64> {
        self.prune("cdr_orphans", "received_ms", before_ms, batch)
            .await
    }

    async fn prune(
        &self,
        table: &str,
        column: &str,
        before_ms: i64,
        batch: u64,
    ) -> StoreResult<u64> {
        let limit = Value::from(i64::try_from(batch).unwrap_or(i64::MAX));
        // MariaDB takes LIMIT on DELETE (and refuses LIMIT in an IN subquery); SQLite is
        // usually built without DELETE ... LIMIT, and its rowid serves instead.
        let sql = match self.backend() {
            DbBackend::Sqlite => format!(
                "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {column} < ? LIMIT ?)"
            ),
            _ => format!("DELETE FROM {table} WHERE {column} < ? LIMIT ?"),
        };
        let result = self
            .connection()
            .execute_raw(self.statement(sql, vec![Value::from(before_ms), limit]))
            .await?;
        Ok(result.rows_affected())
    }
}
