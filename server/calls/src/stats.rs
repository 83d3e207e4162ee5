//! The numbers of the stats page and the provider's totals, computed from the call records
//! (see [`crate::cdr`]), and the page's live view, asked from FreeSWITCH.
//!
//! **Time zones.** Periods are calendar days in the time zone the page names (IANA, e.g.
//! `Europe/Berlin`; the app sends the browser's), UTC when it names none. The database totals
//! calls per 15-minute slot (UTC-aligned); every slot is then placed in its local day and hour
//! here. All UTC offsets in use are multiples of 15 minutes,
//! so this is exact, daylight-saving changes included. The provider's totals take explicit
//! UTC instants.
//!
//! **Live view.** When FreeSWITCH keeps its database on MariaDB and LittlePBX has its read-only
//! URL (`freeswitch.db_url`), registrations are read from sofia's `sip_registrations` table,
//! selecting the org's domain and the internal profile ([`store::freeswitch_db`]). Otherwise
//! they come from `sofia xmlstatus profile <internal> user @<domain>`:
//! FreeSWITCH selects the org's domain exactly (`sip_host = '<domain>'`). Either way we drop any
//! row of another domain again, so a FreeSWITCH that ignored the filter still shows no other org's
//! phones. (`show registrations as json` was not used: the core registrations table it reads
//! has no user agent, and it lists every org's phones on every request.) FreeSWITCH does not
//! keep when a registration began; [`RegistrationTracker`] remembers when this instance first
//! saw each one (a phone renews under the same Call-ID). Calls in progress are the org's
//! `limit_usage hash lpbx_calls <slug>` counter, which every call of the org passes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use api_types::stats::{
    CallView, DayBucket, DidStats, DidsView, Direction, DirectionTotals, ExtensionStats,
    ExtensionsView, HourBucket, HoursView, LiveExtension, LiveSource, LiveState, LiveView,
    OrgTotalsView, Period, RecentCallsView, RegisteredPhone, StatsWindow, SummaryView, Totals,
};
use freeswitch::status::{self, Registration};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use store::cdr::{CdrDirection, CdrRecord, SlotTotals};
use store::freeswitch_db::SofiaRegistration;
use store::orgs::Org;
use store::{Layer, OrgId, Store};

use engine::fs_socket::FsError;
use engine::Engine;
use engine::{Error, Result as EngineResult};

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

// ---------------------------------------------------------------------------------------
// Live
// ---------------------------------------------------------------------------------------

/// When this instance first saw each registration (FreeSWITCH does not say when one began).
#[derive(Default)]
pub struct RegistrationTracker {
    seen: Mutex<HashMap<(String, String, String), i64>>,
}

impl RegistrationTracker {
    /// The first-seen time of each of `regs` (all of `domain`), forgetting the domain's
    /// registrations that are gone.
    pub fn since(&self, domain: &str, regs: &[Registration], now_ms: i64) -> Vec<i64> {
        let key = |r: &Registration| {
            let id = if r.call_id.is_empty() {
                &r.contact
            } else {
                &r.call_id
            };
            (domain.to_owned(), r.user.clone(), id.clone())
        };
        let Ok(mut seen) = self.seen.lock() else {
            return vec![now_ms; regs.len()];
        };
        let current: HashSet<_> = regs.iter().map(key).collect();
        seen.retain(|k, _| k.0 != domain || current.contains(k));
        regs.iter()
            .map(|r| *seen.entry(key(r)).or_insert(now_ms))
            .collect()
    }
}

fn fs_message(err: &FsError) -> (LiveState, String) {
    match err {
        FsError::NotConfigured => (
            LiveState::NotConfigured,
            "Live data is not available: LittlePBX is not connected to FreeSWITCH (no event-socket password configured).".into(),
        ),
        FsError::Unreachable(_) => (
            LiveState::Unreachable,
            "Live data is not available right now: FreeSWITCH cannot be reached.".into(),
        ),
        FsError::Refused(_) => (
            LiveState::Partial,
            "FreeSWITCH did not give all live data.".into(),
        ),
    }
}

/// Why the registrations could not be listed: the live view's state and a sentence for people.
pub type RegistrationsProblem = (LiveState, String);

/// The org's registered phones: read from FreeSWITCH's own database when LittlePBX may read it
/// (`freeswitch.db_url`), otherwise asked over the event socket. Either way only rows of the
/// org's own SIP domain are kept.
pub async fn org_registrations(
    state: &Engine,
    org: &Org,
) -> Result<Vec<Registration>, RegistrationsProblem> {
    let domain = org.sip_domain.as_str();
    let profile = state.fs_settings().internal_profile.as_str();
    let all = match state.freeswitch_db() {
        Some(db) => match db.registrations(profile, domain).await {
            Ok(rows) => {
                let now_s = store::now_ms() / 1000;
                rows.into_iter()
                    .map(|row| from_database(row, now_s))
                    .collect()
            }
            Err(err) => {
                tracing::warn!(org = %org.slug, error = %err, "reading FreeSWITCH's registrations table");
                return Err(database_problem(&err));
            }
        },
        None => registrations_over_esl(state, org, profile).await?,
    };
    let before = all.len();
    let own: Vec<Registration> = all
        .into_iter()
        .filter(|r| r.host.eq_ignore_ascii_case(domain))
        .collect();
    if own.len() != before {
        tracing::warn!(
            org = %org.slug,
            dropped = before - own.len(),
            "FreeSWITCH listed registrations of other domains; not shown"
        );
    }
    Ok(own)
}

async fn registrations_over_esl(
    state: &Engine,
    org: &Org,
    profile: &str,
) -> Result<Vec<Registration>, RegistrationsProblem> {
    let command = status::registrations_command(profile, &org.sip_domain);
    match state.freeswitch().api_raw(&command).await {
        Ok(text) => status::parse_registrations(&text).ok_or_else(|| {
            tracing::warn!(org = %org.slug, answer = %text.trim(), "unexpected registration listing");
            (
                LiveState::Partial,
                "FreeSWITCH did not list the registered phones.".to_owned(),
            )
        }),
        Err(err) => {
            tracing::debug!(error = %err, "live registrations");
            Err(fs_message(&err))
        }
    }
}

/// A row of sofia's `sip_registrations`, as the live view shows it.
pub fn from_database(row: SofiaRegistration, now_s: i64) -> Registration {
    let (transport, _) = status::registration_status(&row.status);
    Registration {
        user: row.sip_user,
        host: row.sip_host,
        call_id: row.call_id,
        contact: row.contact,
        agent: row.user_agent,
        expires_in_s: (row.expires_at_s > 0).then(|| (row.expires_at_s - now_s).max(0)),
        network_ip: row.network_ip,
        network_port: row.network_port,
        transport,
    }
}

fn database_problem(err: &store::StoreError) -> RegistrationsProblem {
    if err.is_unavailable() {
        (
            LiveState::Unreachable,
            "Registered phones are not available right now: FreeSWITCH's database cannot be reached. Calls in progress are not affected.".to_owned(),
        )
    } else {
        (
            LiveState::Partial,
            "FreeSWITCH's database did not list the registered phones.".to_owned(),
        )
    }
}

/// Right now: the org's registered phones per extension and its calls in progress.
pub async fn live(
    state: &Engine,
    org: &Org,
    tracker: &RegistrationTracker,
) -> EngineResult<LiveView> {
    let applied = state.store().load_layer(org.id, Layer::Applied).await?;
    let domain = org.sip_domain.as_str();
    let (regs_answer, calls) = tokio::join!(
        org_registrations(state, org),
        state.freeswitch().calls_in_progress(org.slug.as_str())
    );
    let now = store::now_ms();
    let mut problems: Vec<(LiveState, String)> = Vec::new();
    let regs_ok = regs_answer.is_ok();
    let regs = regs_answer.unwrap_or_else(|problem| {
        problems.push(problem);
        Vec::new()
    });
    let calls_in_progress = match calls {
        Ok(n) => Some(n),
        Err(err) => {
            tracing::debug!(error = %err, "live calls");
            problems.push(fs_message(&err));
            None
        }
    };
    let since = tracker.since(domain, &regs, now);

    let mut extensions: BTreeMap<String, LiveExtension> = applied
        .extensions
        .iter()
        .map(|e| {
            (
                e.number.as_str().to_owned(),
                LiveExtension {
                    number: e.number.as_str().to_owned(),
                    display_name: Some(e.display_name.as_str().to_owned()),
                    phones: Vec::new(),
                },
            )
        })
        .collect();
    for (reg, since_ms) in regs.iter().zip(since) {
        let entry = extensions
            .entry(reg.user.clone())
            .or_insert_with(|| LiveExtension {
                number: reg.user.clone(),
                display_name: None,
                phones: Vec::new(),
            });
        entry.phones.push(RegisteredPhone {
            user_agent: reg.agent.clone(),
            since_ms,
            expires_in_s: reg.expires_in_s,
            address: if reg.network_port.is_empty() {
                reg.network_ip.clone()
            } else {
                format!("{}:{}", reg.network_ip, reg.network_port)
            },
            transport: reg.transport.clone(),
        });
    }
    let mut extensions: Vec<LiveExtension> = extensions.into_values().collect();
    // Numeric order for numbers (101 before 1000), any other user name after them.
    extensions.sort_by_key(|e| {
        (
            e.number.parse::<u64>().unwrap_or(u64::MAX),
            e.number.clone(),
        )
    });
    for e in &mut extensions {
        e.phones.sort_by_key(|p| p.since_ms);
    }
    let state = match (regs_ok, calls_in_progress.is_some()) {
        (true, true) => LiveState::Ok,
        (false, false) => problems.first().map_or(LiveState::Partial, |p| p.0),
        _ => LiveState::Partial,
    };
    let source = LiveSource {
        state,
        message: problems.first().map(|p| p.1.clone()),
    };
    Ok(LiveView {
        source,
        checked_at_ms: now,
        calls_in_progress,
        registered_phones: u32::try_from(regs.len()).unwrap_or(u32::MAX),
        extensions,
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

    #[test]
    fn rows_of_freeswitchs_table_read_like_the_event_socket_listing() {
        let row = SofiaRegistration {
            sip_user: "101".into(),
            sip_host: "pbx.acme.localhost".into(),
            call_id: "abc@1.2.3.4".into(),
            contact: "<sip:101@10.0.0.5:5060>".into(),
            user_agent: "Yealink SIP-T46S".into(),
            status: "Registered(TLS-NAT)".into(),
            expires_at_s: 1_000_100,
            network_ip: "10.0.0.5".into(),
            network_port: "5060".into(),
        };
        let reg = from_database(row.clone(), 1_000_000);
        assert_eq!(reg.user, "101");
        assert_eq!(reg.host, "pbx.acme.localhost");
        assert_eq!(reg.agent, "Yealink SIP-T46S");
        assert_eq!(reg.transport, "tls");
        assert_eq!(reg.expires_in_s, Some(100));
        assert_eq!(
            (reg.network_ip.as_str(), reg.network_port.as_str()),
            ("10.0.0.5", "5060")
        );
        // Past its time (sofia has not swept it yet): 0 s left, not negative.
        assert_eq!(from_database(row.clone(), 2_000_000).expires_in_s, Some(0));
        // No expiry stored, no transport known.
        let bare = SofiaRegistration {
            expires_at_s: 0,
            status: "Unregistered".into(),
            ..row
        };
        let reg = from_database(bare, 1_000_000);
        assert_eq!((reg.expires_in_s, reg.transport.as_str()), (None, ""));
    }

    #[test]
    fn first_seen_survives_renewals_and_forgets_what_is_gone() {
        let tracker = RegistrationTracker::default();
        let reg = |user: &str, id: &str| Registration {
            user: user.into(),
            call_id: id.into(),
            ..Registration::default()
        };
        let a = reg("101", "x");
        let b = reg("102", "y");
        assert_eq!(tracker.since("d", std::slice::from_ref(&a), 1), vec![1]);
        assert_eq!(tracker.since("d", &[a.clone(), b.clone()], 2), vec![1, 2]);
        // Another domain's list does not touch this one's.
        assert_eq!(tracker.since("e", &[reg("101", "z")], 3), vec![3]);
        assert_eq!(tracker.since("d", std::slice::from_ref(&b), 4), vec![2]);
        assert_eq!(tracker.since("d", &[a, b], 5), vec![5, 2]);
    }
}
