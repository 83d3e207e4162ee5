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

use std::collections::BTreeMap;

pub use domain::cdr::{CdrDirection, NewCdr};
use domain::ExtensionNumber;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, FromQueryResult, Statement, TransactionTrait,
    Value,
};

use crate::{is_unique_violation, OrgId, Store, StoreError, StoreResult};

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

const SLOT_COUNTERS: &[&str] = &[
    "calls_in",
    "calls_out",
    "calls_internal",
    "answered_in",
    "answered_out",
    "answered_internal",
    "billsec_in",
    "billsec_out",
    "billsec_internal",
];
const EXT_COUNTERS: &[&str] = &[
    "calls_in",
    "calls_out",
    "calls_internal",
    "answered",
    "missed",
    "billsec",
];
const DID_COUNTERS: &[&str] = &[
    "calls_in",
    "answered_in",
    "billsec_in",
    "calls_out",
    "billsec_out",
];

/// `INSERT` of one row of running totals that adds to the row when it exists.
fn upsert_sql(backend: DbBackend, table: &str, keys: &[&str], counters: &[&str]) -> String {
    let columns: Vec<&str> = keys.iter().chain(counters).copied().collect();
    let marks = vec!["?"; columns.len()].join(", ");
    let insert = format!(
        "INSERT INTO {table} ({}) VALUES ({marks})",
        columns.join(", ")
    );
    match backend {
        DbBackend::Sqlite => {
            let set: Vec<String> = counters
                .iter()
                .map(|c| format!("{c} = {c} + excluded.{c}"))
                .collect();
            format!(
                "{insert} ON CONFLICT ({}) DO UPDATE SET {}",
                keys.join(", "),
                set.join(", ")
            )
        }
        _ => {
            let set: Vec<String> = counters
                .iter()
                .map(|c| format!("{c} = {c} + VALUES({c})"))
                .collect();
            format!("{insert} ON DUPLICATE KEY UPDATE {}", set.join(", "))
        }
    }
}

/// Whether an internal call's other party is an extension (it may be a feature code).
fn is_extension(text: &str) -> bool {
    ExtensionNumber::parse(text).is_ok()
}

/// The same test in SQL, for rebuilding.
fn is_extension_sql(backend: DbBackend, column: &str) -> String {
    match backend {
        DbBackend::Sqlite => format!(
            "(LENGTH({column}) BETWEEN 2 AND 5 AND {column} NOT GLOB '*[^0-9]*' AND {column} NOT LIKE '0%')"
        ),
        _ => format!("({column} REGEXP '^[1-9][0-9]{{1,4}}$')"),
    }
}

/// `[from, to)` cut at multiples of `unit`: the whole units inside it, and the parts before
/// and after them that are read from the raw records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split {
    whole: Option<(i64, i64)>,
    head: Option<(i64, i64)>,
    tail: Option<(i64, i64)>,
}

fn split(from: i64, to: i64, unit: i64) -> Split {
    let first = from.div_euclid(unit) * unit;
    let first = if first < from { first + unit } else { first };
    let last = to.div_euclid(unit) * unit;
    if first >= last {
        return Split {
            whole: None,
            head: (from < to).then_some((from, to)),
            tail: None,
        };
    }
    Split {
        whole: Some((first, last)),
        head: (from < first).then_some((from, first)),
        tail: (last < to).then_some((last, to)),
    }
}

impl Split {
    fn raw(&self) -> impl Iterator<Item = (i64, i64)> {
        self.head.into_iter().chain(self.tail)
    }
}

/// A call's share of each running total.
struct Shares {
    slot: [i64; 9],
    extensions: Vec<(String, [i64; 6])>,
    did: Option<(String, [i64; 5])>,
}

fn shares(cdr: &NewCdr) -> Shares {
    let a = i64::from(cdr.answered);
    let b = i64::from(cdr.billsec);
    let slot = match cdr.direction {
        CdrDirection::In => [1, 0, 0, a, 0, 0, b, 0, 0],
        CdrDirection::Out => [0, 1, 0, 0, a, 0, 0, b, 0],
        CdrDirection::Internal => [0, 0, 1, 0, 0, a, 0, 0, b],
    };
    let mut extensions = Vec::new();
    if let Some(ext) = &cdr.extension {
        let share = match cdr.direction {
            CdrDirection::In => [1, 0, 0, a, 1 - a, b],
            CdrDirection::Out => [0, 1, 0, a, 0, b],
            CdrDirection::Internal => [0, 0, 1, a, 0, b],
        };
        extensions.push((ext.clone(), share));
    }
    if cdr.direction == CdrDirection::Internal {
        if let Some(callee) = cdr.other_party.as_deref().filter(|o| is_extension(o)) {
            extensions.push((callee.to_owned(), [0, 0, 1, a, 1 - a, b]));
        }
    }
    // The same extension twice (a call to oneself) adds up in one row: upserts in order.
    extensions.sort_by(|x, y| x.0.cmp(&y.0));
    let did = cdr.did.as_ref().and_then(|did| match cdr.direction {
        CdrDirection::In => Some((did.clone(), [1, a, b, 0, 0])),
        CdrDirection::Out => Some((did.clone(), [0, 0, 0, 1, b])),
        CdrDirection::Internal => None,
    });
    Shares {
        slot,
        extensions,
        did,
    }
}

/// Adds a stored call to the running totals, in the caller's transaction. Rows are locked in
/// one order (slot, extensions by number, DID), so concurrent inserts do not deadlock on them.
async fn add_to_rollups(txn: &DatabaseTransaction, org: OrgId, cdr: &NewCdr) -> StoreResult<()> {
    let backend = txn.get_database_backend();
    let shares = shares(cdr);
    let slot_ms = cdr.start_ms - cdr.start_ms.rem_euclid(SLOT_MS);
    let day_ms = cdr.start_ms - cdr.start_ms.rem_euclid(DAY_MS);
    let mut values = vec![Value::from(org.0), Value::from(slot_ms)];
    values.extend(shares.slot.iter().map(|v| Value::from(*v)));
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        upsert_sql(backend, "cdr_slots", &["org_id", "slot_ms"], SLOT_COUNTERS),
        values,
    ))
    .await?;
    for (ext, share) in &shares.extensions {
        let mut values = vec![
            Value::from(org.0),
            Value::from(day_ms),
            Value::from(ext.clone()),
        ];
        values.extend(share.iter().map(|v| Value::from(*v)));
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            upsert_sql(
                backend,
                "cdr_ext_days",
                &["org_id", "day_ms", "extension"],
                EXT_COUNTERS,
            ),
            values,
        ))
        .await?;
    }
    if let Some((did, share)) = &shares.did {
        let mut values = vec![
            Value::from(org.0),
            Value::from(day_ms),
            Value::from(did.clone()),
        ];
        values.extend(share.iter().map(|v| Value::from(*v)));
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            upsert_sql(
                backend,
                "cdr_did_days",
                &["org_id", "day_ms", "did"],
                DID_COUNTERS,
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

#[derive(FromQueryResult)]
struct SlotRow {
    slot_ms: i64,
    calls_in: i64,
    calls_out: i64,
    calls_internal: i64,
    answered_in: i64,
    answered_out: i64,
    answered_internal: i64,
    billsec_in: i64,
    billsec_out: i64,
    billsec_internal: i64,
}

impl SlotRow {
    fn totals(&self) -> SlotTotals {
        SlotTotals {
            slot_ms: self.slot_ms,
            calls: unsigned(self.calls_in + self.calls_out + self.calls_internal),
            calls_in: unsigned(self.calls_in),
            calls_out: unsigned(self.calls_out),
            calls_internal: unsigned(self.calls_internal),
            answered_in: unsigned(self.answered_in),
            answered_out: unsigned(self.answered_out),
            answered_internal: unsigned(self.answered_internal),
            billsec_in: unsigned(self.billsec_in),
            billsec_out: unsigned(self.billsec_out),
            billsec_internal: unsigned(self.billsec_internal),
        }
    }
}

/// The raw records' per-slot totals, as `SELECT` columns named like `cdr_slots`'.
fn raw_slot_columns(b: DbBackend) -> String {
    format!(
        "{} AS calls_in, {} AS calls_out, {} AS calls_internal, \
         {} AS answered_in, {} AS answered_out, {} AS answered_internal, \
         {} AS billsec_in, {} AS billsec_out, {} AS billsec_internal",
        sum(b, "CASE WHEN direction = 1 THEN 1 ELSE 0 END"),
        sum(b, "CASE WHEN direction = 2 THEN 1 ELSE 0 END"),
        sum(b, "CASE WHEN direction = 3 THEN 1 ELSE 0 END"),
        sum(b, "CASE WHEN direction = 1 THEN answered ELSE 0 END"),
        sum(b, "CASE WHEN direction = 2 THEN answered ELSE 0 END"),
        sum(b, "CASE WHEN direction = 3 THEN answered ELSE 0 END"),
        sum(b, "CASE WHEN direction = 1 THEN billsec ELSE 0 END"),
        sum(b, "CASE WHEN direction = 2 THEN billsec ELSE 0 END"),
        sum(b, "CASE WHEN direction = 3 THEN billsec ELSE 0 END"),
    )
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

    /// The org's calls that started in `[from_ms, to_ms)`, per 15-minute slot (UTC-aligned),
    /// in order; slots without calls are left out. A slot cut by `from_ms` or `to_ms` counts
    /// only the calls inside the range.
    pub async fn cdr_slots(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<SlotTotals>> {
        let b = self.backend();
        let parts = split(from_ms, to_ms, SLOT_MS);
        let mut slots: BTreeMap<i64, SlotTotals> = BTreeMap::new();
        if let Some((first, last)) = parts.whole {
            let sql = format!(
                "SELECT slot_ms, {} FROM cdr_slots WHERE org_id = ? AND slot_ms >= ? AND slot_ms < ?",
                SLOT_COUNTERS.join(", ")
            );
            let values = vec![Value::from(org.0), Value::from(first), Value::from(last)];
            for row in SlotRow::find_by_statement(self.statement(sql, values))
                .all(self.connection())
                .await?
            {
                slots.insert(row.slot_ms, row.totals());
            }
        }
        for (from, to) in parts.raw() {
            let sql = format!(
                "SELECT start_ms - (start_ms % {SLOT_MS}) AS slot_ms, {} FROM cdrs \
                 WHERE org_id = ? AND start_ms >= ? AND start_ms < ? GROUP BY slot_ms",
                raw_slot_columns(b)
            );
            let values = vec![Value::from(org.0), Value::from(from), Value::from(to)];
            for row in SlotRow::find_by_statement(self.statement(sql, values))
                .all(self.connection())
                .await?
            {
                slots
                    .entry(row.slot_ms)
                    .or_insert(SlotTotals {
                        slot_ms: row.slot_ms,
                        ..SlotTotals::default()
                    })
                    .add(&row.totals());
            }
        }
        Ok(slots.into_values().collect())
    }

    /// The org's calls that started in `[from_ms, to_ms)`, per extension (see
    /// [`ExtensionTotals`]), ordered by extension.
    pub async fn cdr_by_extension(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<ExtensionTotals>> {
        #[derive(FromQueryResult)]
        struct DayRow {
            extension: String,
            calls_in: i64,
            calls_out: i64,
            calls_internal: i64,
            answered: i64,
            missed: i64,
            billsec: i64,
        }
        #[derive(FromQueryResult)]
        struct RawRow {
            extension: String,
            direction: i64,
            calls: i64,
            answered: i64,
            billsec: i64,
        }
        let b = self.backend();
        let parts = split(from_ms, to_ms, DAY_MS);
        let mut rows: BTreeMap<String, ExtensionTotals> = BTreeMap::new();
        let mut add = |totals: ExtensionTotals| {
            rows.entry(totals.extension.clone())
                .or_insert_with(|| ExtensionTotals {
                    extension: totals.extension.clone(),
                    ..ExtensionTotals::default()
                })
                .add(&totals);
        };
        if let Some((first, last)) = parts.whole {
            let sums: Vec<String> = EXT_COUNTERS
                .iter()
                .map(|c| format!("{} AS {c}", sum(b, c)))
                .collect();
            let sql = format!(
                "SELECT extension, {} FROM cdr_ext_days WHERE org_id = ? AND day_ms >= ? AND day_ms < ? \
                 GROUP BY extension",
                sums.join(", ")
            );
            let values = vec![Value::from(org.0), Value::from(first), Value::from(last)];
            for r in DayRow::find_by_statement(self.statement(sql, values))
                .all(self.connection())
                .await?
            {
                add(ExtensionTotals {
                    extension: r.extension,
                    calls_in: unsigned(r.calls_in),
                    calls_out: unsigned(r.calls_out),
                    calls_internal: unsigned(r.calls_internal),
                    answered: unsigned(r.answered),
                    missed: unsigned(r.missed),
                    billsec: unsigned(r.billsec),
                });
            }
        }
        for (from, to) in parts.raw() {
            let range = || vec![Value::from(org.0), Value::from(from), Value::from(to)];
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
            for sql in [own, called] {
                for r in RawRow::find_by_statement(self.statement(sql, range()))
                    .all(self.connection())
                    .await?
                {
                    let calls = unsigned(r.calls);
                    let answered = unsigned(r.answered);
                    let unanswered = calls - answered.min(calls);
                    let mut totals = ExtensionTotals {
                        answered,
                        billsec: unsigned(r.billsec),
                        ..ExtensionTotals::default()
                    };
                    match r.direction {
                        0 if is_extension(&r.extension) => {
                            totals.calls_internal = calls;
                            totals.missed = unanswered;
                        }
                        0 => continue,
                        code => match direction(code)? {
                            CdrDirection::In => {
                                totals.calls_in = calls;
                                totals.missed = unanswered;
                            }
                            CdrDirection::Out => totals.calls_out = calls,
                            CdrDirection::Internal => totals.calls_internal = calls,
                        },
                    }
                    totals.extension = r.extension;
                    add(totals);
                }
            }
        }
        Ok(rows.into_values().collect())
    }

    /// The org's calls that started in `[from_ms, to_ms)`, per DID, ordered by DID.
    pub async fn cdr_by_did(
        &self,
        org: OrgId,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<DidTotals>> {
        #[derive(FromQueryResult)]
        struct DayRow {
            did: String,
            calls_in: i64,
            answered_in: i64,
            billsec_in: i64,
            calls_out: i64,
            billsec_out: i64,
        }
        let b = self.backend();
        let parts = split(from_ms, to_ms, DAY_MS);
        let mut rows: BTreeMap<String, DidTotals> = BTreeMap::new();
        let mut add = |r: DayRow| {
            let totals = DidTotals {
                did: r.did,
                calls_in: unsigned(r.calls_in),
                answered_in: unsigned(r.answered_in),
                billsec_in: unsigned(r.billsec_in),
                calls_out: unsigned(r.calls_out),
                billsec_out: unsigned(r.billsec_out),
            };
            rows.entry(totals.did.clone())
                .or_insert_with(|| DidTotals {
                    did: totals.did.clone(),
                    ..DidTotals::default()
                })
                .add(&totals);
        };
        if let Some((first, last)) = parts.whole {
            let sums: Vec<String> = DID_COUNTERS
                .iter()
                .map(|c| format!("{} AS {c}", sum(b, c)))
                .collect();
            let sql = format!(
                "SELECT did, {} FROM cdr_did_days WHERE org_id = ? AND day_ms >= ? AND day_ms < ? \
                 GROUP BY did",
                sums.join(", ")
            );
            let values = vec![Value::from(org.0), Value::from(first), Value::from(last)];
            for r in DayRow::find_by_statement(self.statement(sql, values))
                .all(self.connection())
                .await?
            {
                add(r);
            }
        }
        for (from, to) in parts.raw() {
            let sql = format!(
                "SELECT did, {} AS calls_in, {} AS answered_in, {} AS billsec_in, {} AS calls_out, \
                 {} AS billsec_out FROM cdrs WHERE org_id = ? AND start_ms >= ? AND start_ms < ? \
                 AND did IS NOT NULL AND direction IN (1, 2) GROUP BY did",
                sum(b, "CASE WHEN direction = 1 THEN 1 ELSE 0 END"),
                sum(b, "CASE WHEN direction = 1 THEN answered ELSE 0 END"),
                sum(b, "CASE WHEN direction = 1 THEN billsec ELSE 0 END"),
                sum(b, "CASE WHEN direction = 2 THEN 1 ELSE 0 END"),
                sum(b, "CASE WHEN direction = 2 THEN billsec ELSE 0 END"),
            );
            let values = vec![Value::from(org.0), Value::from(from), Value::from(to)];
            for r in DayRow::find_by_statement(self.statement(sql, values))
                .all(self.connection())
                .await?
            {
                add(r);
            }
        }
        Ok(rows.into_values().collect())
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
        let mut all = SlotTotals::default();
        for slot in self.cdr_slots(org, from_ms, to_ms).await? {
            all.add(&slot);
        }
        Ok(PeriodTotals {
            inbound: DirectionTotals {
                calls: all.calls_in,
                answered: all.answered_in,
                billsec: all.billsec_in,
            },
            outbound: DirectionTotals {
                calls: all.calls_out,
                answered: all.answered_out,
                billsec: all.billsec_out,
            },
            internal: DirectionTotals {
                calls: all.calls_internal,
                answered: all.answered_internal,
                billsec: all.billsec_internal,
            },
        })
    }

    /// Recomputes the running totals of `org` (of every org when `None`, a hundred orgs per
    /// transaction) from its records.
    pub async fn rebuild_cdr_rollups(&self, org: Option<OrgId>) -> StoreResult<()> {
        let orgs = match org {
            Some(org) => vec![org.0],
            None => {
                #[derive(FromQueryResult)]
                struct Row {
                    id: i64,
                }
                let sql = "SELECT id FROM organizations ORDER BY id";
                Row::find_by_statement(self.statement(sql, vec![]))
                    .all(self.connection())
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect()
            }
        };
        // Grouping all records at once builds a temporary table as large as the rollups;
        // a hundred orgs at a time keeps it small.
        for chunk in orgs.chunks(100) {
            if let (Some(first), Some(last)) = (chunk.first(), chunk.last()) {
                self.rebuild_rollups_of(*first, *last).await?;
            }
        }
        Ok(())
    }

    /// Rebuilds the running totals of the orgs with ids `first..=last`, in one transaction.
    async fn rebuild_rollups_of(&self, first: i64, last: i64) -> StoreResult<()> {
        let b = self.backend();
        let only = " AND org_id BETWEEN ? AND ?";
        let values = [Value::from(first), Value::from(last)];
        let day = format!("start_ms - (start_ms % {DAY_MS})");
        let callee = is_extension_sql(b, "other_party");
        let statements = [
            format!("DELETE FROM cdr_slots WHERE 1 = 1{only}"),
            format!("DELETE FROM cdr_ext_days WHERE 1 = 1{only}"),
            format!("DELETE FROM cdr_did_days WHERE 1 = 1{only}"),
            format!(
                "INSERT INTO cdr_slots (org_id, slot_ms, {}) \
                 SELECT org_id, start_ms - (start_ms % {SLOT_MS}) AS slot_ms, {} FROM cdrs \
                 WHERE 1 = 1{only} GROUP BY org_id, slot_ms",
                SLOT_COUNTERS.join(", "),
                raw_slot_columns(b)
            ),
            format!(
                "INSERT INTO cdr_ext_days (org_id, day_ms, extension, {cols}) \
                 SELECT org_id, day_ms, extension, {sums} FROM ( \
                   SELECT org_id, {day} AS day_ms, extension, \
                     CASE WHEN direction = 1 THEN 1 ELSE 0 END AS calls_in, \
                     CASE WHEN direction = 2 THEN 1 ELSE 0 END AS calls_out, \
                     CASE WHEN direction = 3 THEN 1 ELSE 0 END AS calls_internal, \
                     answered, CASE WHEN direction = 1 THEN 1 - answered ELSE 0 END AS missed, billsec \
                   FROM cdrs WHERE extension IS NOT NULL{only} \
                   UNION ALL \
                   SELECT org_id, {day} AS day_ms, other_party AS extension, 0, 0, 1, answered, \
                     1 - answered, billsec \
                   FROM cdrs WHERE direction = 3 AND other_party IS NOT NULL AND {callee}{only} \
                 ) shares GROUP BY org_id, day_ms, extension",
                cols = EXT_COUNTERS.join(", "),
                sums = EXT_COUNTERS
                    .iter()
                    .map(|c| sum(b, c))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            format!(
                "INSERT INTO cdr_did_days (org_id, day_ms, did, {}) \
                 SELECT org_id, {day} AS day_ms, did, {}, {}, {}, {}, {} FROM cdrs \
                 WHERE did IS NOT NULL AND direction IN (1, 2){only} GROUP BY org_id, day_ms, did",
                DID_COUNTERS.join(", "),
                sum(b, "CASE WHEN direction = 1 THEN 1 ELSE 0 END"),
                sum(b, "CASE WHEN direction = 1 THEN answered ELSE 0 END"),
                sum(b, "CASE WHEN direction = 1 THEN billsec ELSE 0 END"),
                sum(b, "CASE WHEN direction = 2 THEN 1 ELSE 0 END"),
                sum(b, "CASE WHEN direction = 2 THEN billsec ELSE 0 END"),
            ),
        ];
        let txn = self.connection().begin().await?;
        for sql in statements {
            // The extension-day statement names the orgs twice (both halves of the union).
            let marks = sql.matches('?').count();
            let values: Vec<Value> = values.iter().cloned().cycle().take(marks).collect();
            txn.execute_raw(Statement::from_sql_and_values(b, sql, values))
                .await?;
        }
        txn.commit().await?;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_at_whole_units() {
        let s = split(5, 35, 10);
        assert_eq!(
            (s.head, s.whole, s.tail),
            (Some((5, 10)), Some((10, 30)), Some((30, 35)))
        );
        let s = split(10, 30, 10);
        assert_eq!((s.head, s.whole, s.tail), (None, Some((10, 30)), None));
        let s = split(11, 19, 10);
        assert_eq!((s.head, s.whole, s.tail), (Some((11, 19)), None, None));
        let s = split(12, 12, 10);
        assert_eq!((s.head, s.whole, s.tail), (None, None, None));
        let s = split(-15, 5, 10);
        assert_eq!(
            (s.head, s.whole, s.tail),
            (Some((-15, -10)), Some((-10, 0)), Some((0, 5)))
        );
    }

    #[test]
    fn upserts_add_on_both_databases() {
        assert_eq!(
            upsert_sql(DbBackend::Sqlite, "t", &["a", "b"], &["x", "y"]),
            "INSERT INTO t (a, b, x, y) VALUES (?, ?, ?, ?) ON CONFLICT (a, b) DO UPDATE SET x = x + excluded.x, y = y + excluded.y"
        );
        assert_eq!(
            upsert_sql(DbBackend::MySql, "t", &["a"], &["x"]),
            "INSERT INTO t (a, x) VALUES (?, ?) ON DUPLICATE KEY UPDATE x = x + VALUES(x)"
        );
    }
}
