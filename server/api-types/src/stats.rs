//! Call statistics: the org admin's stats page (`/api/org/stats/...`, session-authenticated,
//! the org of the host) and the provider's per-org totals (`/api/v1/orgs/{slug}/stats`).
//!
//! One request per page section, so each section loads (and fails) on its own:
//!
//! | section | request | answer |
//! |---|---|---|
//! | numbers + per-day chart | `GET /api/org/stats/summary?period=7d&tz=Europe/Berlin` | [`SummaryView`] |
//! | busiest hours chart | `GET /api/org/stats/hours?period=7d&tz=...` | [`HoursView`] (always 24 buckets) |
//! | per extension table | `GET /api/org/stats/extensions?period=7d&tz=...` | [`ExtensionsView`] |
//! | per number table | `GET /api/org/stats/dids?period=7d&tz=...` | [`DidsView`] |
//! | recent calls | `GET /api/org/stats/calls?limit=25&before=<cursor>` | [`RecentCallsView`] |
//! | live now | `GET /api/org/stats/live` | [`LiveView`] (200 also when FreeSWITCH is down) |
//!
//! **Time.** Periods are calendar days in the time zone the page asks for with `tz` (an IANA
//! name; the app sends the browser's, `Intl.DateTimeFormat().resolvedOptions().timeZone`),
//! UTC when omitted: `today` is local midnight until now, `7d` and `30d` are the last 7 or 30
//! calendar days including today. A call belongs to the day and hour it **started**. Instants
//! are milliseconds since the Unix epoch (UTC).
//!
//! **Words.** *Answered*: someone took the call (it was connected to a phone or to the outside
//! number), or it reached a feature code on purpose (`*97`, `*30`...). *Missed*: a call to the
//! org (inbound, or internal to an extension) that nobody answered, including calls that went
//! to voicemail. An outbound call nobody answered is *not answered*, not missed. *Seconds* are
//! FreeSWITCH's billsec: from the moment the caller's leg was answered until hang-up (what a
//! carrier bills; voicemail time included).

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Which days the statistics cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Period {
    /// From local midnight until now.
    #[default]
    #[serde(rename = "today")]
    Today,
    /// The last 7 calendar days, today included.
    #[serde(rename = "7d")]
    Days7,
    /// The last 30 calendar days, today included.
    #[serde(rename = "30d")]
    Days30,
}

impl Period {
    /// How many calendar days the period spans.
    pub fn days(self) -> u32 {
        match self {
            Period::Today => 1,
            Period::Days7 => 7,
            Period::Days30 => 30,
        }
    }

    /// The value of the `period` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Days7 => "7d",
            Period::Days30 => "30d",
        }
    }
}

/// Query of the period sections (summary, hours, extensions, DIDs).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PeriodQuery {
    #[serde(default)]
    pub period: Period,
    /// IANA time zone (`Europe/Berlin`); omitted: `UTC`.
    #[serde(default)]
    pub tz: Option<String>,
}

/// The window a period section covers, as the server resolved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StatsWindow {
    pub period: Period,
    /// The time zone days and hours are counted in.
    pub timezone: String,
    /// Local midnight of the first day (ms since the epoch).
    pub from_ms: i64,
    /// Now (ms since the epoch); calls that started before it are counted.
    pub to_ms: i64,
}

/// Where a call went, from the org's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the outside, to one of the org's numbers (DIDs).
    In,
    /// From an extension to the outside.
    Out,
    /// Between the org's extensions, or to a feature code.
    Internal,
}

/// The numbers at the top of the page, and one bucket per day for a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SummaryView {
    pub window: StatsWindow,
    pub totals: Totals,
    pub inbound: DirectionTotals,
    pub outbound: DirectionTotals,
    pub internal: DirectionTotals,
    /// One entry per calendar day of the period, oldest first (1, 7 or 30 entries).
    pub days: Vec<DayBucket>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Totals {
    pub calls: u64,
    pub answered: u64,
    /// Inbound and internal calls nobody answered.
    pub missed: u64,
    /// Outbound calls the other side did not answer.
    pub not_answered_out: u64,
    /// Billed seconds of inbound calls, and the same in whole minutes (rounded to nearest).
    pub seconds_in: u64,
    pub minutes_in: u64,
    /// Billed seconds of outbound calls, and the same in whole minutes (rounded to nearest).
    pub seconds_out: u64,
    pub minutes_out: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectionTotals {
    pub calls: u64,
    pub answered: u64,
    pub seconds: u64,
}

/// One calendar day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DayBucket {
    /// `YYYY-MM-DD` in the window's time zone.
    pub date: String,
    pub calls: u64,
    pub answered: u64,
    pub missed: u64,
    pub seconds_in: u64,
    pub seconds_out: u64,
}

/// Calls by hour of the day over the period (the busiest-hours chart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HoursView {
    pub window: StatsWindow,
    /// Exactly 24 entries, hour 0 to 23 (local), summed over every day of the period.
    pub hours: Vec<HourBucket>,
    /// The largest `calls` of the 24, for scaling a chart (0 when there were no calls).
    pub max_calls: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HourBucket {
    /// 0 to 23: calls that started from `hour`:00 to `hour`:59 local time.
    pub hour: u8,
    pub calls: u64,
    pub calls_in: u64,
    pub calls_out: u64,
    pub calls_internal: u64,
    pub answered: u64,
    pub missed: u64,
}

/// Per extension, busiest first. Extensions without calls in the period are not listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExtensionsView {
    pub window: StatsWindow,
    pub extensions: Vec<ExtensionStats>,
}

/// An internal call counts for both extensions: as made for the caller, as received (and
/// maybe missed) for the one called.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExtensionStats {
    pub extension: String,
    /// Every call the extension took part in (`calls_in + calls_out + calls_internal`).
    pub calls: u64,
    /// Calls from the outside that rang this extension.
    pub calls_in: u64,
    /// Calls this extension made to the outside.
    pub calls_out: u64,
    /// Internal calls made or received.
    pub calls_internal: u64,
    pub answered: u64,
    /// Calls to this extension nobody answered.
    pub missed: u64,
    pub seconds: u64,
    /// `seconds` in whole minutes, rounded to nearest.
    pub minutes: u64,
}

/// Per phone number (DID) of the org: calls in on it, and calls out that showed it as
/// caller ID. Busiest first; numbers without calls are not listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DidsView {
    pub window: StatsWindow,
    pub dids: Vec<DidStats>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DidStats {
    /// E.164 (`+15550100100`).
    pub did: String,
    pub calls_in: u64,
    pub answered_in: u64,
    pub missed_in: u64,
    pub seconds_in: u64,
    pub calls_out: u64,
    pub seconds_out: u64,
}

/// Query of the recent calls list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecentCallsQuery {
    /// 1 to 100; default 25.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_before` of the previous page; omitted: the newest calls.
    #[serde(default)]
    pub before: Option<String>,
}

/// Calls, newest first. Paging is stable: a page continues exactly after the last call of
/// the previous one, whatever arrived meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecentCallsView {
    pub calls: Vec<CallView>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CallView {
    pub start_ms: i64,
    /// When the caller's leg was answered; `None` if it never was.
    pub answer_ms: Option<i64>,
    pub end_ms: i64,
    pub duration_s: u32,
    pub billsec: u32,
    pub direction: Direction,
    pub answered: bool,
    pub missed: bool,
    /// The org's extension: the caller (outbound, internal) or the one rung (inbound).
    pub extension: Option<String>,
    /// The org's number the call came in on, or went out with as caller ID.
    pub did: Option<String>,
    /// The caller's number (inbound), the number dialled (outbound), the extension or feature
    /// code called (internal).
    pub other_party: Option<String>,
    /// FreeSWITCH's hang-up cause (`NORMAL_CLEARING`, `NO_ANSWER`, `USER_BUSY`...).
    pub hangup_cause: String,
}

/// Right now, from FreeSWITCH. Answered with 200 also when FreeSWITCH cannot be asked:
/// `source.state` says so, and the parts it could not give are empty / `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LiveView {
    pub source: LiveSource,
    /// When FreeSWITCH was asked (ms since the epoch).
    pub checked_at_ms: i64,
    /// Calls of the org in progress; `None` when FreeSWITCH could not tell.
    pub calls_in_progress: Option<u32>,
    /// Registered phones in all.
    pub registered_phones: u32,
    /// Every extension of the applied configuration (with or without phones), then any other
    /// user with phones registered; ordered by number.
    pub extensions: Vec<LiveExtension>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LiveSource {
    pub state: LiveState,
    /// For people, when the state is not `ok`.
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Everything below comes from FreeSWITCH just now.
    Ok,
    /// FreeSWITCH answered only part of it, or with something unexpected.
    Partial,
    /// The event socket is down.
    Unreachable,
    /// This LittlePBX has no event-socket password configured.
    NotConfigured,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LiveExtension {
    pub number: String,
    /// From the applied configuration; `None` for a user that is not an extension (any more).
    pub display_name: Option<String>,
    pub phones: Vec<RegisteredPhone>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisteredPhone {
    /// The phone's `User-Agent` (make, model, firmware), empty when it sent none.
    pub user_agent: String,
    /// Registered since, at the latest (ms since the epoch). FreeSWITCH does not keep when a
    /// registration began, so this is when LittlePBX first saw it (a phone keeps its
    /// registration's Call-ID when it renews it).
    pub since_ms: i64,
    /// Seconds until the registration expires unless renewed.
    pub expires_in_s: Option<i64>,
    /// The phone's address as FreeSWITCH sees it (`ip:port`).
    pub address: String,
    /// `udp`, `tcp`, `tls`, `ws`, `wss` (lowercase), or empty when unknown.
    pub transport: String,
}

/// Query of the provider's per-org totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrgStatsQuery {
    /// Start, inclusive: a date (`2026-11-01`, UTC midnight) or an RFC 3339 instant.
    pub from: String,
    /// End, exclusive: a date (`2026-12-01`, UTC midnight) or an RFC 3339 instant.
    pub to: String,
}

/// An org's calls that **started** in `[from, to)`, for billing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "slug": "acme", "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
    "from_ms": 1793491200000_i64, "to_ms": 1796083200000_i64,
    "calls": 120, "answered": 97, "missed": 15, "calls_in": 70, "calls_out": 40, "calls_internal": 10,
    "billsec_in": 18000, "billsec_out": 9000, "billsec_internal": 600,
    "minutes_in": 300, "minutes_out": 150
})))]
pub struct OrgTotalsView {
    pub slug: String,
    /// `from` and `to` as RFC 3339 UTC instants, and in ms since the epoch.
    pub from: String,
    pub to: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub calls: u64,
    pub answered: u64,
    /// Inbound and internal calls nobody answered.
    pub missed: u64,
    pub calls_in: u64,
    pub calls_out: u64,
    pub calls_internal: u64,
    /// Summed billsec (answer to hang-up of the caller's leg) per direction.
    pub billsec_in: u64,
    pub billsec_out: u64,
    pub billsec_internal: u64,
    /// `billsec_in` / `billsec_out` in whole minutes, rounded up.
    pub minutes_in: u64,
    pub minutes_out: u64,
}
