//! The busiest-hours chart: 24 bars drawn as SVG by the page (no chart library), written as
//! text (see [`crate::html`]). Screen readers get a title and a description naming the busiest
//! hour, and every number is in the table under it.

use api_types::stats::HoursView;

use crate::html::{Html, Table};

// The drawing's own units (the SVG scales to the page's width): 24 slots of 20.
const WIDTH: u64 = 520;
const HEIGHT: u64 = 220;
const LEFT: u64 = 34;
const SLOT: u64 = 20;
const BAR: u64 = 14;
const TOP: u64 = 10;
const PLOT: u64 = 180;

fn hour_range(hour: u8) -> String {
    format!("{hour:02}:00–{hour:02}:59")
}

fn calls_word(n: u64) -> &'static str {
    if n == 1 {
        "call"
    } else {
        "calls"
    }
}

/// The description a screen reader reads for the chart.
fn describe(view: &HoursView, period: &str) -> String {
    let total: u64 = view.hours.iter().map(|h| h.calls).sum();
    if total == 0 {
        return format!("Calls per hour of the day, {period}: no calls.");
    }
    let busiest: Vec<String> = view
        .hours
        .iter()
        .filter(|h| h.calls == view.max_calls)
        .map(|h| hour_range(h.hour))
        .collect();
    format!(
        "Calls per hour of the day, {period}: {total} {} in all; the busiest {} {} with {} {} each.",
        calls_word(total),
        if busiest.len() == 1 {
            "hour is"
        } else {
            "hours are"
        },
        busiest.join(", "),
        view.max_calls,
        calls_word(view.max_calls),
    )
}

/// The chart, its caption and the table of numbers, as HTML.
pub fn hours_html(view: &HoursView, period: &str) -> String {
    let description = describe(view, period);
    let top = view.max_calls.max(1);
    // The y of a count: the plot's bottom is TOP + PLOT.
    let y = |calls: u64| TOP + PLOT - PLOT * calls / top;
    let n = |v: u64| v.to_string();
    let right = LEFT + 24 * SLOT;
    let mut h = Html::new();
    h.open("figure", &[("class", "chart")]);
    h.open(
        "svg",
        &[
            ("class", "hours-chart"),
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("viewBox", &format!("0 0 {WIDTH} {HEIGHT}")),
            ("role", "img"),
            ("aria-labelledby", "hours-chart-title hours-chart-desc"),
        ],
    );
    h.el(
        "title",
        &[("id", "hours-chart-title")],
        &format!("Busiest hours, {period}"),
    )
    .el("desc", &[("id", "hours-chart-desc")], &description);
    let mut ticks = vec![0, top];
    if top >= 4 && top.is_multiple_of(2) {
        ticks.insert(1, top / 2);
    }
    for t in ticks {
        let ty = n(y(t));
        h.el(
            "line",
            &[
                ("class", "grid"),
                ("x1", &n(LEFT)),
                ("x2", &n(right)),
                ("y1", &ty),
                ("y2", &ty),
            ],
            "",
        );
        h.el(
            "text",
            &[
                ("class", "axis"),
                ("x", &n(LEFT - 6)),
                ("y", &n(y(t) + 4)),
                ("text-anchor", "end"),
            ],
            &n(t),
        );
    }
    for b in view.hours.iter().filter(|b| b.calls > 0) {
        let x = LEFT + SLOT * u64::from(b.hour) + (SLOT - BAR) / 2;
        let tip = format!(
            "{}: {} {} ({} missed)",
            hour_range(b.hour),
            b.calls,
            calls_word(b.calls),
            b.missed
        );
        h.open(
            "rect",
            &[
                ("class", "bar"),
                ("x", &n(x)),
                ("y", &n(y(b.calls))),
                ("width", &n(BAR)),
                ("height", &n(TOP + PLOT - y(b.calls))),
                ("data-hour", &b.hour.to_string()),
                ("data-calls", &n(b.calls)),
            ],
        )
        .el("title", &[], &tip)
        .close("rect");
    }
    let base = n(TOP + PLOT);
    h.el(
        "line",
        &[
            ("class", "baseline"),
            ("x1", &n(LEFT)),
            ("x2", &n(right)),
            ("y1", &base),
            ("y2", &base),
        ],
        "",
    );
    for hour in (0..24u64).step_by(3) {
        // Every 6 hours on narrow screens (the others are hidden by the style sheet).
        let class = if hour.is_multiple_of(6) {
            "axis"
        } else {
            "axis minor"
        };
        h.el(
            "text",
            &[
                ("class", class),
                ("x", &n(LEFT + SLOT * hour + SLOT / 2)),
                ("y", &n(HEIGHT - 10)),
                ("text-anchor", "middle"),
            ],
            &format!("{hour:02}:00"),
        );
    }
    h.close("svg");
    h.el("figcaption", &[("class", "muted small")], &description);
    h.close("figure");

    h.open("details", &[("class", "chart-table")])
        .el("summary", &[], "Show the numbers per hour");
    let rows: Vec<_> = view
        .hours
        .iter()
        .map(|b| {
            (
                Vec::new(),
                hour_range(b.hour),
                [b.calls, b.calls_in, b.calls_out, b.calls_internal, b.missed]
                    .map(n)
                    .to_vec(),
            )
        })
        .collect();
    let table = Table {
        class: "stats-table",
        columns: &[
            ("Hour", false),
            ("Calls", true),
            ("In", true),
            ("Out", true),
            ("Internal", true),
            ("Missed", true),
        ],
    }
    .write(&rows);
    let mut out = h.finish();
    out.push_str(&table);
    out.push_str("</details>");
    out
}
