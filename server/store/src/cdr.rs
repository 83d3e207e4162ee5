//! Call records: one compact row per call in `cdrs`, attributed to an org; records without a
//! valid org marker in `cdr_orphans`, kept for the provider and never read for an org.
//!
//! Every read takes the org from the caller (session or key) and reads one period of that org
//! only; on MariaDB the table is clustered by `(org_id, start_ms, id)`, so such a read is one
//! contiguous range (see the migration `m20261206_000001_cdrs`). Aggregates are computed by the
//! database; callers turn them into the page's numbers.
//!
//! Inserts are idempotent on the call's UUID: a second insert of the same call reports
//! [`Stored::Duplicate`] and changes nothing.

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

use crate::{is_unique_violation, OrgId, Store, StoreError, StoreResult};

/// Where a call went, from the org's point of view. Stored as 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CdrDirection {
    /// From the outside to one of the org's numbers.
    In,
    /// From an extension to the outside.
    Out,
    /// Between extensions, or to a feature code.
    Internal,
}

impl CdrDirection {
    pub fn code(self) -> i64 {
        match self {
            CdrDirection::In => 1,
            CdrDirection::Out => 2,
            CdrDirection::Internal => 3,
        }
    }

    pub fn from_code(code: i64) -> StoreResult<Self> {
        match code {
            1 => Ok(CdrDirection::In),
            2 => Ok(CdrDirection::Out),
            3 => Ok(CdrDirection::Internal),
            other => Err(StoreError::Corrupt(format!("call direction {other}"))),
        }
    }
}

/// One call as stored. Strings are already cleaned and cut to the column sizes by the caller
/// (see [`NewCdr::clamped`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCdr {
    pub call_uuid: String,
    pub start_ms: i64,
    pub answer_ms: Option<i64>,
    pub end_ms: i64,
    pub duration_s: u32,
    pub billsec: u32,
    pub direction: CdrDirection,
    pub answered: bool,
    pub extension: Option<String>,
    pub did: Option<String>,
    pub other_party: Option<String>,
    pub hangup_cause: String,
}

/// Column sizes of the text columns.
pub const UUID_MAX: usize = 64;
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

impl NewCdr {
    /// The same record with every text cut to its column's size (in characters; the columns
    /// are sized in characters on both databases).
    pub fn clamped(&self) -> Self {
        Self {
            call_uuid: cut(&self.call_uuid, UUID_MAX),
            extension: cut_opt(&self.extension, EXTENSION_MAX),
            did: cut_opt(&self.did, DID_MAX),
            other_party: cut_opt(&self.other_party, OTHER_PARTY_MAX),
            hangup_cause: cut(&self.hangup_cause, HANGUP_CAUSE_MAX),
            ..self.clone()
        }
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

/// Totals of one time slot of a period (see [`Store::cdr_slots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotTotals {
    /// Index of the slot: the call started in `[from + slot * slot_ms, from + (slot+1) * slot_ms)`.
    pub slot: i64,
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

/// Calls of one extension in one role, for the per-extension table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionGroup {
    pub extension: String,
    pub role: ExtensionRole,
    pub calls: u64,
    pub answered: u64,
    pub billsec: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionRole {
    /// The extension column: the caller of outbound and internal calls, the extension an
    /// inbound call rang.
    Own(CdrDirection),
    /// The callee of an internal call (its `other_party`).
    CalledInternally,
}

/// Calls on one DID in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidGroup {
    pub did: String,
    pub direction: CdrDirection,
    pub calls: u64,
    pub answered: u64,
    pub billsec: u64,
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

/// Integer division of two integer expressions.
fn int_div(backend: DbBackend, left: &str, right: &str) -> String {
    match backend {
        DbBackend::Sqlite => format!("(({left}) / ({right}))"),
        _ => format!("(({left}) DIV ({right}))"),
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
                direction: CdrDirection::from_code(self.direction)?,
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

    /// Stores one call of `org`. A call UUID seen before (in `cdrs`) is a duplicate.
    pub async fn insert_cdr(&self, org: OrgId, cdr: &NewCdr) -> StoreResult<Stored> {
        let cdr = cdr.clamped();
        let mut values = vec![Value::from(org.0)];
        values.extend(cdr_values(&cdr));
        let sql = format!(
            "INSERT INTO cdrs (org_id, {CDR_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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

    /// Keeps a record that could not be attributed to an org. A call UUID seen before (in
    /// `cdr_orphans`) is a duplicate.
    pub async fn insert_orphan_cdr(&self, orphan: &OrphanCdr) -> StoreResult<Stored> {
        let cdr = orphan.cdr.clamped();
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

    /// The org's calls that started in `[from_ms, to_ms)`, totalled per slot of `slot_ms`
    /// milliseconds counted from `from_ms`. Only slots with calls are returned, in order.
    pub async fn cdr_slots(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
        slot_ms: i64,
    ) -> StoreResult<Vec<SlotTotals>> {
        #[derive(FromQueryResult)]
        struct Row {
            slot: i64,
            calls: i64,
            calls_in: i64,
            calls_out: i64,
            answered_in: i64,
            answered_out: i64,
            answered_internal: i64,
            billsec_in: i64,
            billsec_out: i64,
            billsec_internal: i64,
        }
        let b = self.backend();
        let slot = int_div(b, "start_ms - ?", "?");
        let sql = format!(
            "SELECT {slot} AS slot, COUNT(*) AS calls, \
             {} AS calls_in, {} AS calls_out, \
             {} AS answered_in, {} AS answered_out, {} AS answered_internal, \
             {} AS billsec_in, {} AS billsec_out, {} AS billsec_internal \
             FROM cdrs WHERE org_id = ? AND start_ms >= ? AND start_ms < ? \
             GROUP BY slot ORDER BY slot",
            sum(b, "CASE WHEN direction = 1 THEN 1 ELSE 0 END"),
            sum(b, "CASE WHEN direction = 2 THEN 1 ELSE 0 END"),
            sum(b, "CASE WHEN direction = 1 THEN answered ELSE 0 END"),
            sum(b, "CASE WHEN direction = 2 THEN answered ELSE 0 END"),
            sum(b, "CASE WHEN direction = 3 THEN answered ELSE 0 END"),
            sum(b, "CASE WHEN direction = 1 THEN billsec ELSE 0 END"),
            sum(b, "CASE WHEN direction = 2 THEN billsec ELSE 0 END"),
            sum(b, "CASE WHEN direction = 3 THEN billsec ELSE 0 END"),
        );
        let slot_ms = slot_ms.max(1);
        let values = vec![
            Value::from(from_ms),
            Value::from(slot_ms),
            Value::from(org.0),
            Value::from(from_ms),
            Value::from(to_ms),
        ];
        let rows = Row::find_by_statement(self.statement(sql, values))
            .all(self.connection())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SlotTotals {
                slot: r.slot,
                calls: unsigned(r.calls),
                calls_in: unsigned(r.calls_in),
                calls_out: unsigned(r.calls_out),
                calls_internal: unsigned(r.calls - r.calls_in - r.calls_out),
                answered_in: unsigned(r.answered_in),
                answered_out: unsigned(r.answered_out),
                answered_internal: unsigned(r.answered_internal),
                billsec_in: unsigned(r.billsec_in),
                billsec_out: unsigned(r.billsec_out),
                billsec_internal: unsigned(r.billsec_internal),
            })
            .collect())
    }

    /// The org's calls of `[from_ms, to_ms)` per extension and role (see [`ExtensionRole`]).
    pub async fn cdr_by_extension(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<ExtensionGroup>> {
        #[derive(FromQueryResult)]
        struct Row {
            extension: String,
            direction: i64,
            calls: i64,
            answered: i64,
            billsec: i64,
        }
        let b = self.backend();
        let range = || vec![Value::from(org.0), Value::from(from_ms), Value::from(to_ms)];
        let own = format!(
            "SELECT extension, direction, COUNT(*) AS calls, {} AS answered, {} AS billsec \
             FROM cdrs WHERE org_id = ? AND start_ms >= ? AND start_ms < ? AND extension IS NOT NULL \
             GROUP BY extension, direction",
            sum(b, "answered"),
            sum(b, "billsec"),
        );
        // The callee of an internal call is its other party; direction 0 marks these rows.
        let called = format!(
            "SELECT other_party AS extension, 0 AS direction, COUNT(*) AS calls, {} AS answered, \
             {} AS billsec FROM cdrs WHERE org_id = ? AND start_ms >= ? AND start_ms < ? \
             AND direction = 3 AND other_party IS NOT NULL GROUP BY other_party",
            sum(b, "answered"),
            sum(b, "billsec"),
        );
        let mut groups = Vec::new();
        for sql in [own, called] {
            let rows = Row::find_by_statement(self.statement(sql, range()))
                .all(self.connection())
                .await?;
            for r in rows {
                let role = match r.direction {
                    0 => ExtensionRole::CalledInternally,
                    code => ExtensionRole::Own(CdrDirection::from_code(code)?),
                };
                groups.push(ExtensionGroup {
                    extension: r.extension,
                    role,
                    calls: unsigned(r.calls),
                    answered: unsigned(r.answered),
                    billsec: unsigned(r.billsec),
                });
            }
        }
        Ok(groups)
    }

    /// The org's calls of `[from_ms, to_ms)` per DID and direction.
    pub async fn cdr_by_did(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<DidGroup>> {
        #[derive(FromQueryResult)]
        struct Row {
            did: String,
            direction: i64,
            calls: i64,
            answered: i64,
            billsec: i64,
        }
        let b = self.backend();
        let sql = format!(
            "SELECT did, direction, COUNT(*) AS calls, {} AS answered, {} AS billsec \
             FROM cdrs WHERE org_id = ? AND start_ms >= ? AND start_ms < ? AND did IS NOT NULL \
             GROUP BY did, direction",
            sum(b, "answered"),
            sum(b, "billsec"),
        );
        let values = vec![Value::from(org.0), Value::from(from_ms), Value::from(to_ms)];
        let rows = Row::find_by_statement(self.statement(sql, values))
            .all(self.connection())
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DidGroup {
                    did: r.did,
                    direction: CdrDirection::from_code(r.direction)?,
                    calls: unsigned(r.calls),
                    answered: unsigned(r.answered),
                    billsec: unsigned(r.billsec),
                })
            })
            .collect()
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

    /// The org's totals of the calls that started in `[from_ms, to_ms)`, per direction.
    pub async fn cdr_totals(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<PeriodTotals> {
        #[derive(FromQueryResult)]
        struct Row {
            direction: i64,
            calls: i64,
            answered: i64,
            billsec: i64,
        }
        let b = self.backend();
        let sql = format!(
            "SELECT direction, COUNT(*) AS calls, {} AS answered, {} AS billsec FROM cdrs \
             WHERE org_id = ? AND start_ms >= ? AND start_ms < ? GROUP BY direction",
            sum(b, "answered"),
            sum(b, "billsec"),
        );
        let values = vec![Value::from(org.0), Value::from(from_ms), Value::from(to_ms)];
        let rows = Row::find_by_statement(self.statement(sql, values))
            .all(self.connection())
            .await?;
        let mut totals = PeriodTotals::default();
        for r in rows {
            let slot = match CdrDirection::from_code(r.direction)? {
                CdrDirection::In => &mut totals.inbound,
                CdrDirection::Out => &mut totals.outbound,
                CdrDirection::Internal => &mut totals.internal,
            };
            *slot = DirectionTotals {
                calls: unsigned(r.calls),
                answered: unsigned(r.answered),
                billsec: unsigned(r.billsec),
            };
        }
        Ok(totals)
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

    /// Deletes up to `batch` calls (of any org) that started before `before_ms`; returns how
    /// many. Call it until it returns less than `batch`.
    pub async fn prune_cdrs(&self, before_ms: i64, batch: u64) -> StoreResult<u64> {
        self.prune("cdrs", "start_ms", before_ms, batch).await
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
        // usually built without DELETE ... LIMIT.
        let sql = match self.backend() {
            DbBackend::Sqlite => format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} < ? LIMIT ?)"
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
