//! The running totals of the call records: each stored call's share of its org's 15-minute
//! slot (`cdr_slots`) and of its extensions' and DID's UTC days (`cdr_ext_days`,
//! `cdr_did_days`), added in the insert's transaction, and the rebuild that recomputes them
//! from the records.

use domain::ExtensionNumber;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, FromQueryResult, Statement, TransactionTrait,
    Value,
};

use super::{sum, CdrDirection, NewCdr, DAY_MS, SLOT_MS};
use crate::{OrgId, Store, StoreResult};

pub(super) const SLOT_COUNTERS: &[&str] = &[
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
pub(super) const EXT_COUNTERS: &[&str] = &[
    "calls_in",
    "calls_out",
    "calls_internal",
    "answered",
    "missed",
    "billsec",
];
pub(super) const DID_COUNTERS: &[&str] = &[
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
pub(super) fn is_extension(text: &str) -> bool {
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
pub(super) async fn add_to_rollups(
    txn: &DatabaseTransaction,
    org: OrgId,
    cdr: &NewCdr,
) -> StoreResult<()> {
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

/// The raw records' per-slot totals, as `SELECT` columns named like `cdr_slots`'.
pub(super) fn raw_slot_columns(b: DbBackend) -> String {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
