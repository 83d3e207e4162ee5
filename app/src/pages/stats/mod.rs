//! The Statistics page: totals, busiest hours, per extension and per number for today, the
//! last 7 or the last 30 days; the recent calls; and what is happening right now. Each section
//! loads (and fails) on its own; numbers are shown as the API gives them.

mod calls;
mod chart;
mod live;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::future::Future;

use api_types::stats::{DidsView, ExtensionsView, HoursView, LiveView, Period, SummaryView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::html::{esc, Html, Table};

/// One section's data: the last answer stays shown while the next loads (no layout jumps).
pub struct Section<T: Send + Sync + 'static> {
    pub data: RwSignal<Option<T>>,
    pub error: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    generation: StoredValue<u64>,
}

impl<T: Send + Sync + 'static> Clone for Section<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Section<T> {}

impl<T: Send + Sync + 'static> Section<T> {
    pub fn new() -> Self {
        Self {
            data: RwSignal::new(None),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            generation: StoredValue::new(0),
        }
    }

    /// Loads anew; an answer to an earlier request that arrives late is dropped.
    pub fn load(self, request: impl Future<Output = Result<T, ApiError>> + 'static) {
        self.generation.update_value(|g| *g += 1);
        let mine = self.generation.get_value();
        self.busy.set(true);
        spawn_local(async move {
            let answer = request.await;
            if self.generation.get_value() != mine {
                return;
            }
            self.busy.set(false);
            match answer {
                Ok(data) => {
                    self.error.set(None);
                    self.data.set(Some(data));
                }
                Err(e) => self.error.set(Some(e.message())),
            }
        });
    }

    /// The section's status line: the error, or "Loading…" before the first answer.
    pub fn status(self) -> impl Fn() -> String + Copy {
        move || match self.error.get() {
            Some(e) => format!("Could not load this part: {e}"),
            None if self.data.with(Option::is_none) => "Loading…".into(),
            None => String::new(),
        }
    }
}

impl<T: Send + Sync + 'static> Default for Section<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Whole minutes of `seconds`, rounded to nearest, as the API rounds its own minute figures.
pub fn minutes(seconds: u64) -> u64 {
    (seconds + 30) / 60
}

/// `m:ss` or `h:mm:ss`.
pub fn duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn date_of(ms: i64) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
}

/// The local calendar day of `ms`, as a number that grows by one per day.
fn day_number(date: &js_sys::Date) -> i64 {
    i64::from(date.get_full_year()) * 400
        + i64::from(date.get_month()) * 32
        + i64::from(date.get_date())
}

/// A day for people: `Mon 24 Nov`.
pub fn day_label(ms: i64) -> String {
    let d = date_of(ms);
    format!(
        "{} {} {}",
        WEEKDAYS[d.get_day() as usize % 7],
        d.get_date(),
        MONTHS[d.get_month() as usize % 12]
    )
}

/// When a call was, in local time: `Today 14:05`, `Yesterday 09:12`, `Mon 24 Nov 16:40`.
pub fn when(ms: i64) -> String {
    let d = date_of(ms);
    let now = js_sys::Date::new_0();
    let yesterday = date_of(js_sys::Date::now() as i64 - 86_400_000);
    let day = if day_number(&d) == day_number(&now) {
        "Today".to_owned()
    } else if day_number(&d) == day_number(&yesterday) {
        "Yesterday".to_owned()
    } else {
        day_label(ms)
    };
    format!("{day} {:02}:{:02}", d.get_hours(), d.get_minutes())
}

#[derive(Clone, Copy)]
struct Stats {
    period: RwSignal<Period>,
    summary: Section<SummaryView>,
    hours: Section<HoursView>,
    extensions: Section<ExtensionsView>,
    dids: Section<DidsView>,
    live: Section<LiveView>,
}

impl Stats {
    fn load_period(self, period: Period) {
        self.summary.load(api::stats_summary(period));
        self.hours.load(api::stats_hours(period));
        self.extensions.load(api::stats_extensions(period));
        self.dids.load(api::stats_dids(period));
    }

    /// Extension names, from the live view (which lists every applied extension).
    fn names(self) -> Memo<BTreeMap<String, String>> {
        let live = self.live;
        Memo::new(move |_| {
            live.data.with(|l| {
                l.iter()
                    .flat_map(|l| &l.extensions)
                    .filter_map(|e| Some((e.number.clone(), e.display_name.clone()?)))
                    .collect()
            })
        })
    }
}

fn period_label(period: Period) -> &'static str {
    match period {
        Period::Today => "Today",
        Period::Days7 => "Last 7 days",
        Period::Days30 => "Last 30 days",
    }
}

#[component]
pub fn StatsPage() -> impl IntoView {
    let stats = Stats {
        period: RwSignal::new(Period::Today),
        summary: Section::new(),
        hours: Section::new(),
        extensions: Section::new(),
        dids: Section::new(),
        live: Section::new(),
    };
    stats.load_period(Period::Today);
    live::start(stats.live);
    crate::service::retry_with(move || {
        stats.load_period(stats.period.get_untracked());
        stats.live.load(api::live());
    });
    let names = stats.names();
    let choose = move |p: Period| {
        if stats.period.get_untracked() != p {
            stats.period.set(p);
            stats.load_period(p);
        }
    };
    view! {
        <div class="stats">
            <h1>"Statistics"</h1>
            <div class="period-bar">
                <div class="segmented" role="group" aria-label="Period">
                    {[Period::Today, Period::Days7, Period::Days30].into_iter().map(|p| view! {
                        <button type="button" class="btn"
                            aria-pressed=move || if stats.period.get() == p { "true" } else { "false" }
                            on:click=move |_| choose(p)>
                            {period_label(p)}
                        </button>
                    }).collect_view()}
                </div>
                <p class="muted small window">{move || window_text(stats)}</p>
            </div>
            {html_card("totals-title", "Calls", stats.summary, move || {
                stats.summary.data.with(|s| s.as_ref().map(totals_html).unwrap_or_default())
            })}
            {html_card("hours-title", "Busiest hours", stats.hours, move || {
                stats.hours.data.with(|h| {
                    h.as_ref()
                        .map(|h| chart::hours_html(h, period_label(h.window.period)))
                        .unwrap_or_default()
                })
            })}
            {html_card("ext-stats-title", "Per extension", stats.extensions, move || {
                names.with(|names| {
                    stats.extensions.data.with(|v| {
                        v.as_ref().map(|v| extensions_html(v, names)).unwrap_or_default()
                    })
                })
            })}
            {html_card("did-stats-title", "Per phone number", stats.dids, move || {
                stats.dids.data.with(|v| v.as_ref().map(dids_html).unwrap_or_default())
            })}
            <calls::RecentCalls names=names/>
            <live::LiveNow section=stats.live/>
        </div>
    }
}

/// Which days the numbers cover, in which time zone.
fn window_text(stats: Stats) -> String {
    stats.summary.data.with(|s| {
        s.as_ref()
            .map(|s| {
                let w = &s.window;
                let from = if w.period == Period::Today {
                    "Since midnight".to_owned()
                } else {
                    format!("From {} to now", day_label(w.from_ms))
                };
                format!(
                    "{from} ({} time). Calls count on the day and hour they started.",
                    w.timezone
                )
            })
            .unwrap_or_default()
    })
}

/// A card of the page: its title, the section's status line, and its content written as HTML
/// (`aria-busy` while a newer answer loads; the last one stays shown).
fn html_card<T: Send + Sync + 'static>(
    title_id: &'static str,
    title: &'static str,
    section: Section<T>,
    html: impl Fn() -> String + Send + 'static,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby=title_id aria-busy=move || section.busy.get().to_string()>
            <h2 id=title_id>{title}</h2>
            <p class="note" role="status">{section.status()}</p>
            <div inner_html=html/>
        </section>
    }
}

/// Figures as tiles (`data-key` names the API's field).
pub fn tiles_html(h: &mut Html, tiles: &[(&str, &str, String)]) {
    h.open("dl", &[("class", "tiles")]);
    for (key, label, value) in tiles {
        h.open("div", &[("class", "tile"), ("data-key", key)])
            .el("dt", &[], label)
            .el("dd", &[], value)
            .close("div");
    }
    h.close("dl");
}

fn totals_html(s: &SummaryView) -> String {
    let t = &s.totals;
    let mut h = Html::new();
    tiles_html(
        &mut h,
        &[
            ("calls", "Calls", t.calls.to_string()),
            ("answered", "Answered", t.answered.to_string()),
            ("missed", "Missed", t.missed.to_string()),
            ("minutes_in", "Minutes in", t.minutes_in.to_string()),
            ("minutes_out", "Minutes out", t.minutes_out.to_string()),
        ],
    );
    let mut note = format!(
        "{} incoming, {} outgoing, {} between extensions. Missed: calls to you that nobody took, voicemail included.",
        s.inbound.calls, s.outbound.calls, s.internal.calls
    );
    if t.not_answered_out > 0 {
        let _ = write!(
            note,
            " {} outgoing {} not answered by the other side.",
            t.not_answered_out,
            if t.not_answered_out == 1 {
                "call was"
            } else {
                "calls were"
            }
        );
    }
    h.el("p", &[("class", "muted small")], &note);
    h.finish()
}

/// The row header of an extension: its number and, when known, its name.
fn extension_cell(number: &str, names: &BTreeMap<String, String>) -> String {
    let mut h = Html::new();
    h.el("span", &[("class", "ext-no")], number);
    if let Some(name) = names.get(number) {
        h.text(" ").el("span", &[("class", "muted")], name);
    }
    h.finish()
}

fn extensions_html(v: &ExtensionsView, names: &BTreeMap<String, String>) -> String {
    if v.extensions.is_empty() {
        return r#"<p class="empty">No calls in this period.</p>"#.into();
    }
    let rows: Vec<_> = v
        .extensions
        .iter()
        .map(|e| {
            (
                vec![("data-extension", e.extension.clone())],
                extension_cell(&e.extension, names),
                [
                    e.calls,
                    e.calls_in,
                    e.calls_out,
                    e.calls_internal,
                    e.missed,
                    e.minutes,
                ]
                .map(|n| n.to_string())
                .to_vec(),
            )
        })
        .collect();
    Table {
        class: "stats-table ext-stats",
        columns: &[
            ("Extension", false),
            ("Calls", true),
            ("In", true),
            ("Out", true),
            ("Internal", true),
            ("Missed", true),
            ("Minutes", true),
        ],
    }
    .write(&rows)
}

fn dids_html(v: &DidsView) -> String {
    if v.dids.is_empty() {
        return r#"<p class="empty">No calls on your phone numbers in this period.</p>"#.into();
    }
    let rows: Vec<_> = v
        .dids
        .iter()
        .map(|d| {
            (
                vec![("data-did", d.did.clone())],
                esc(&d.did),
                [
                    d.calls_in,
                    d.answered_in,
                    d.missed_in,
                    minutes(d.seconds_in),
                    d.calls_out,
                    minutes(d.seconds_out),
                ]
                .map(|n| n.to_string())
                .to_vec(),
            )
        })
        .collect();
    Table {
        class: "stats-table did-stats",
        columns: &[
            ("Number", false),
            ("Calls in", true),
            ("Answered", true),
            ("Missed", true),
            ("Minutes in", true),
            ("Calls out", true),
            ("Minutes out", true),
        ],
    }
    .write(&rows)
}
