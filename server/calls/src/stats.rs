//! The numbers of the stats page and the provider's totals, computed from the call records
//! (see [`crate::cdr`]); the page's live view, asked from FreeSWITCH, is in [`live`] (its items
//! are re-exported here).
//!
//! **Time zones.** Periods are calendar days in the time zone the page names (IANA, e.g.
//! `Europe/Berlin`; the app sends the browser's), UTC when it names none. The database totals
//! calls per 15-minute slot (UTC-aligned); every slot is then placed in its local day and hour
//! here. All UTC offsets in use are multiples of 15 minutes,
//! so this is exact, daylight-saving changes included. The provider's totals take explicit
//! UTC instants.

pub mod live;

use std::collections::HashMap;

use api_types::stats::{
    CallView, DayBucket, DidStats, DidsView, Direction, DirectionTotals, ExtensionStats,
    ExtensionsView, HourBucket, HoursView, OrgTotalsView, Period, RecentCallsView, StatsWindow,
    SummaryView, Totals,
};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use store::cdr::{CdrDirection, CdrRecord, SlotTotals};
use store::orgs::Org;
use store::{OrgId, Store};

use engine::{Error, Result as EngineResult};

pub use live::{from_database, live, org_registrations, RegistrationTracker, RegistrationsProblem};

pub const DEFAULT_PAGE: u32 = 25;
pub const MAX_PAGE: u32 = 100;

/// A resolved period: `[from_ms, to_ms)` and its calendar days in `tz`.
#[derive(Debug, Clone)]
pub struct Window {
    pub period: Period,
    pub tz: TimeZone,
    pub tz_name: String,
    pub from_ms: i64,
    pub to_ms: i64,
    /// The local dates of the period, oldest first.
    pub days: Vec<Date>,
}

fn bad_tz(name: &str) -> Error {
    Error::invalid_field(
        "tz",
        format!("\"{name}\" is not a time zone name; use an IANA name such as Europe/Berlin."),
    )
}

fn internal(err: jiff::Error) -> Error {
    Error::Internal(anyhow::Error::new(err).context("date arithmetic"))
}

impl Window {
    /// The period ending `now_ms`, in the time zone named `tz` (UTC when `None`).
    pub fn resolve(period: Period, tz: Option<&str>, now_ms: i64) -> EngineResult<Self> {
        let name = tz.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("UTC");
        if name.len() > 64 {
            return Err(bad_tz(name));
        }
        let zone = TimeZone::get(name).map_err(|_| bad_tz(name))?;
        let now = Timestamp::from_millisecond(now_ms).map_err(internal)?;
        let today = now.to_zoned_datetime(zone.clone()).date();
        let first = today
            .checked_sub(i64::from(period.days() - 1).days())
            .map_err(internal)?;
        let from = first
            .to_zoned_datetime(zone.clone())
            .and_then(|z| z.start_of_day())
            .map_err(internal)?;
        let mut days = Vec::with_capacity(period.days() as usize);
        let mut day = first;
        for _ in 0..period.days() {
            days.push(day);
            day = day.checked_add(1.days()).map_err(internal)?;
        }
        Ok(Self {
            period,
            tz: zone,
            tz_name: name.to_owned(),
            from_ms: from.timestamp().as_millisecond(),
            to_ms: now_ms,
            days,
        })
    }

    pub fn view(&self) -> StatsWindow {
        StatsWindow {
            period: self.period,
            timezone: self.tz_name.clone(),
            from_ms: self.from_ms,
            to_ms: self.to_ms,
        }
    }

    /// Local date and hour of an instant (a slot's start).
    fn place(&self, at_ms: i64) -> Option<(Date, u8)> {
        let at = Timestamp::from_millisecond(at_ms).ok()?;
        let local = at.to_zoned_datetime(self.tz.clone());
        Some((local.date(), u8::try_from(local.hour()).ok()?))
    }
}

/// Whole minutes, rounded to nearest.
fn minutes(seconds: u64) -> u64 {
    (seconds + 30) / 60
}

fn missed(slot: &SlotTotals) -> u64 {
    (slot.calls_in - slot.answered_in.min(slot.calls_in))
        + (slot.calls_internal - slot.answered_internal.min(slot.calls_internal))
}

fn answered(slot: &SlotTotals) -> u64 {
    slot.answered_in + slot.answered_out + slot.answered_internal
}

/// Totals, per direction and per day.
pub fn summary_of(window: &Window, slots: &[SlotTotals]) -> SummaryView {
    let mut totals = Totals::default();
    let (mut inbound, mut outbound, mut internal) = Default::default();
    let index: HashMap<Date, usize> = window
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, i))
        .collect();
    let mut days: Vec<DayBucket> = window
        .days
        .iter()
        .map(|d| DayBucket {
            date: d.to_string(),
            ..DayBucket::default()
        })
        .collect();
    for slot in slots {
        totals.calls += slot.calls;
        totals.answered += answered(slot);
        totals.missed += missed(slot);
        totals.not_answered_out += slot.calls_out - slot.answered_out.min(slot.calls_out);
        totals.seconds_in += slot.billsec_in;
        totals.seconds_out += slot.billsec_out;
        add(
            &mut inbound,
            slot.calls_in,
            slot.answered_in,
            slot.billsec_in,
        );
        add(
            &mut outbound,
            slot.calls_out,
            slot.answered_out,
            slot.billsec_out,
        );
        add(
            &mut internal,
            slot.calls_internal,
            slot.answered_internal,
            slot.billsec_internal,
        );
        let day = window
            .place(slot.slot_ms)
            .and_then(|(date, _)| index.get(&date))
            .and_then(|i| days.get_mut(*i));
        if let Some(day) = day {
            day.calls += slot.calls;
            day.answered += answered(slot);
            day.missed += missed(slot);
            day.seconds_in += slot.billsec_in;
            day.seconds_out += slot.billsec_out;
        }
    }
    totals.minutes_in = minutes(totals.seconds_in);
    totals.minutes_out = minutes(totals.seconds_out);
    SummaryView {
        window: window.view(),
        totals,
        inbound,
        outbound,
        internal,
        days,
    }
}

fn add(totals: &mut DirectionTotals, calls: u64, answered: u64, seconds: u64) {
    totals.calls += calls;
    totals.answered += answered;
    totals.seconds += seconds;
}

/// Calls per local hour of the day, summed over the period.
pub fn hours_of(window: &Window, slots: &[SlotTotals]) -> HoursView {
    let mut hours: Vec<HourBucket> = (0..24)
        .map(|hour| HourBucket {
            hour,
            ..HourBucket::default()
        })
        .collect();
    for slot in slots {
        let Some(bucket) = window
            .place(slot.slot_ms)
            .and_then(|(_, hour)| hours.get_mut(usize::from(hour)))
        else {
            continue;
        };
        bucket.calls += slot.calls;
        bucket.calls_in += slot.calls_in;
        bucket.calls_out += slot.calls_out;
        bucket.calls_internal += slot.calls_internal;
        bucket.answered += answered(slot);
        bucket.missed += missed(slot);
    }
    let max_calls = hours.iter().map(|h| h.calls).max().unwrap_or(0);
    HoursView {
        window: window.view(),
        hours,
        max_calls,
    }
}

pub async fn summary(store: &Store, org: OrgId, window: &Window) -> EngineResult<SummaryView> {
    let slots = store.cdr_slots(org, window.from_ms, window.to_ms).await?;
    Ok(summary_of(window, &slots))
}

pub async fn hours(store: &Store, org: OrgId, window: &Window) -> EngineResult<HoursView> {
    let slots = store.cdr_slots(org, window.from_ms, window.to_ms).await?;
    Ok(hours_of(window, &slots))
}

/// Per extension, busiest first. An internal call counts for the caller (made) and for the
/// extension called (received, maybe missed); feature codes are not extensions.
pub async fn extensions(
    store: &Store,
    org: OrgId,
    window: &Window,
) -> EngineResult<ExtensionsView> {
    let totals = store
        .cdr_by_extension(org, window.from_ms, window.to_ms)
        .await?;
    let mut extensions: Vec<ExtensionStats> = totals
        .into_iter()
        .map(|t| ExtensionStats {
            calls: t.calls_in + t.calls_out + t.calls_internal,
            calls_in: t.calls_in,
            calls_out: t.calls_out,
            calls_internal: t.calls_internal,
            answered: t.answered,
            missed: t.missed,
            seconds: t.billsec,
            minutes: minutes(t.billsec),
            extension: t.extension,
        })
        .collect();
    extensions.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.extension.cmp(&b.extension)));
    Ok(ExtensionsView {
        window: window.view(),
        extensions,
    })
}

/// Per DID, busiest first.
pub async fn dids(store: &Store, org: OrgId, window: &Window) -> EngineResult<DidsView> {
    let totals = store.cdr_by_did(org, window.from_ms, window.to_ms).await?;
    let mut dids: Vec<DidStats> = totals
        .into_iter()
        .map(|t| DidStats {
            calls_in: t.calls_in,
            answered_in: t.answered_in,
            missed_in: t.calls_in - t.answered_in.min(t.calls_in),
            seconds_in: t.billsec_in,
            calls_out: t.calls_out,
            seconds_out: t.billsec_out,
            did: t.did,
        })
        .collect();
    dids.sort_by(|a, b| {
        (b.calls_in + b.calls_out)
            .cmp(&(a.calls_in + a.calls_out))
            .then(a.did.cmp(&b.did))
    });
    Ok(DidsView {
        window: window.view(),
        dids,
    })
}

fn direction(d: CdrDirection) -> Direction {
    match d {
        CdrDirection::In => Direction::In,
        CdrDirection::Out => Direction::Out,
        CdrDirection::Internal => Direction::Internal,
    }
}

/// The cursor of the page after `record`: `<start_ms>.<id>`.
pub fn cursor(record: &CdrRecord) -> String {
    format!("{}.{}", record.cdr.start_ms, record.id)
}

pub fn parse_cursor(text: &str) -> EngineResult<(i64, i64)> {
    text.split_once('.')
        .and_then(|(start, id)| Some((start.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| {
            Error::invalid_field(
                "before",
                "Pass the next_before value of the previous page unchanged.",
            )
        })
}

pub fn call_view(record: &CdrRecord) -> CallView {
    let c = &record.cdr;
    CallView {
        start_ms: c.start_ms,
        answer_ms: c.answer_ms,
        end_ms: c.end_ms,
        duration_s: c.duration_s,
        billsec: c.billsec,
        direction: direction(c.direction),
        answered: c.answered,
        missed: !c.answered && c.direction != CdrDirection::Out,
        extension: c.extension.clone(),
        did: c.did.clone(),
        other_party: c.other_party.clone(),
        hangup_cause: c.hangup_cause.clone(),
    }
}

/// One page of the org's calls, newest first.
pub async fn recent(
    store: &Store,
    org: OrgId,
    limit: Option<u32>,
    before: Option<&str>,
) -> EngineResult<RecentCallsView> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::invalid_field(
            "limit",
            format!("Ask for 1 to {MAX_PAGE} calls per page."),
        ));
    }
    let before = before.map(parse_cursor).transpose()?;
    // One more than asked tells whether there is a next page.
    let mut records = store.recent_cdrs(org, before, u64::from(limit) + 1).await?;
    let more = records.len() > limit as usize;
    records.truncate(limit as usize);
    Ok(RecentCallsView {
        calls: records.iter().map(call_view).collect(),
        next_before: if more {
            records.last().map(cursor)
        } else {
            None
        },
    })
}

// ---------------------------------------------------------------------------------------
// The provider's totals
// ---------------------------------------------------------------------------------------

/// `2026-11-01` (UTC midnight) or an RFC 3339 instant, in ms.
pub fn parse_instant(field: &str, text: &str) -> EngineResult<i64> {
    let text = text.trim();
    let refuse = || {
        Error::invalid_field(
            field,
            format!("\"{text}\" is neither a date (2026-11-01) nor an RFC 3339 instant (2026-11-01T00:00:00Z)."),
        )
    };
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at.as_millisecond());
    }
    let date: Date = text.parse().map_err(|_| refuse())?;
    date.to_zoned_datetime(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|_| refuse())
}

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub async fn org_totals(
    store: &Store,
    org: &Org,
    from: &str,
    to: &str,
) -> EngineResult<OrgTotalsView> {
    let from_ms = parse_instant("from", from);
    let to_ms = parse_instant("to", to);
    let (from_ms, to_ms) = match (from_ms, to_ms) {
        (Ok(f), Ok(t)) if f < t => (f, t),
        (Ok(_), Ok(_)) => {
            return Err(Error::invalid_field("to", "to must be after from."));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let t = store.cdr_totals(org.id, from_ms, to_ms).await?;
    let missed = (t.inbound.calls - t.inbound.answered.min(t.inbound.calls))
        + (t.internal.calls - t.internal.answered.min(t.internal.calls));
    Ok(OrgTotalsView {
        slug: org.slug.to_string(),
        from: rfc3339(from_ms),
        to: rfc3339(to_ms),
        from_ms,
        to_ms,
        calls: t.inbound.calls + t.outbound.calls + t.internal.calls,
        answered: t.inbound.answered + t.outbound.answered + t.internal.answered,
        missed,
        calls_in: t.inbound.calls,
        calls_out: t.outbound.calls,
        calls_internal: t.internal.calls,
        billsec_in: t.inbound.billsec,
        billsec_out: t.outbound.billsec,
        billsec_internal: t.internal.billsec,
        minutes_in: t.inbound.billsec.div_ceil(60),
        minutes_out: t.outbound.billsec.div_ceil(60),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_126_400_000; // 2026-12-01T12:00:00Z

    #[test]
    fn periods_are_local_calendar_days() {
        let utc = Window::resolve(Period::Today, None, NOW).unwrap();
        assert_eq!(utc.from_ms, NOW - 12 * 3_600_000);
        assert_eq!(utc.days.len(), 1);
        let berlin = Window::resolve(Period::Days7, Some("Europe/Berlin"), NOW).unwrap();
        assert_eq!(berlin.days.first().unwrap().to_string(), "2026-11-25");
        assert_eq!(berlin.days.last().unwrap().to_string(), "2026-12-01");
        // Berlin is UTC+1 in winter: local midnight is 23:00 UTC the day before.
        assert_eq!(
            berlin.from_ms,
            NOW - 12 * 3_600_000 - 6 * 86_400_000 - 3_600_000
        );
        let month = Window::resolve(Period::Days30, Some("America/New_York"), NOW).unwrap();
        assert_eq!(month.days.len(), 30);
        assert!(Window::resolve(Period::Today, Some("Mars/Olympus"), NOW).is_err());
        assert!(Window::resolve(Period::Today, Some("../../etc/passwd"), NOW).is_err());
    }

    #[test]
    fn slots_land_in_local_hours_across_a_dst_change() {
        // 2026-03-29: Berlin moves from UTC+1 to UTC+2 at 01:00 UTC.
        let now = 1_774_785_600_000; // 2026-03-29T12:00:00Z
        let w = Window::resolve(Period::Today, Some("Europe/Berlin"), now).unwrap();
        // from_ms is 2026-03-28T23:00Z (local midnight, UTC+1).
        let at = |utc: i64| SlotTotals {
            slot_ms: utc,
            calls: 1,
            calls_in: 1,
            ..SlotTotals::default()
        };
        let t0 = w.from_ms;
        let slots = [at(t0 + 30 * 60_000), at(t0 + 3 * 3_600_000)];
        let hours = hours_of(&w, &slots);
        // 00:30 local, and 02:00 UTC = 04:00 local (after the change).
        assert_eq!(hours.hours[0].calls, 1);
        assert_eq!(hours.hours[4].calls, 1);
        assert_eq!(hours.max_calls, 1);
        assert_eq!(hours.hours.len(), 24);
    }

    #[test]
    fn summary_counts_missed_and_not_answered() {
        let w = Window::resolve(Period::Days7, None, NOW).unwrap();
        let slot = SlotTotals {
            slot_ms: w.from_ms + 6 * 86_400_000 + 15 * 60_000, // the seventh day
            calls: 10,
            calls_in: 5,
            calls_out: 3,
            calls_internal: 2,
            answered_in: 3,
            answered_out: 1,
            answered_internal: 2,
            billsec_in: 100,
            billsec_out: 89,
            billsec_internal: 7,
        };
        let s = summary_of(&w, &[slot]);
        assert_eq!(s.totals.calls, 10);
        assert_eq!(s.totals.answered, 6);
        assert_eq!(s.totals.missed, 2);
        assert_eq!(s.totals.not_answered_out, 2);
        assert_eq!((s.totals.minutes_in, s.totals.minutes_out), (2, 1));
        assert_eq!(s.days.len(), 7);
        assert_eq!(s.days[6].calls, 10);
        assert_eq!(s.days[6].date, "2026-12-01");
        assert_eq!(s.inbound.calls, 5);
    }

    #[test]
    fn instants_and_dates() {
        assert_eq!(
            parse_instant("from", "2026-12-01").unwrap(),
            1_796_083_200_000
        );
        assert_eq!(
            parse_instant("from", "2026-12-01T01:00:00+01:00").unwrap(),
            1_796_083_200_000
        );
        assert!(parse_instant("from", "yesterday").is_err());
    }
}
