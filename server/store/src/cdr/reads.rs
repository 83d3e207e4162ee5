//! Reads of one period of an org's calls for the statistics: per 15-minute slot, per
//! extension, per DID and per direction. Each period is cut at whole slots or days, which are
//! read from the running totals, and the parts before and after them, read from the records.

use std::collections::BTreeMap;

use sea_orm::{FromQueryResult, Value};

use super::rollups::{is_extension, raw_slot_columns, DID_COUNTERS, EXT_COUNTERS, SLOT_COUNTERS};
use super::{
    direction, sum, unsigned, CdrDirection, DidTotals, DirectionTotals, ExtensionTotals,
    PeriodTotals, SlotTotals, DAY_MS, SLOT_MS,
};
use crate::{OrgId, Store, StoreResult};

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

impl Store {
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
}
