//! The recent calls, newest first, a page at a time (the API's cursors keep the pages stable
//! while new calls arrive).

use std::collections::BTreeMap;

use api_types::stats::{CallView, Direction, RecentCallsView};
use leptos::prelude::*;

use super::{duration, when, Section};
use crate::api;
use crate::html::Html;

/// Calls per page.
pub const PAGE: u32 = 10;

fn direction_label(d: Direction) -> &'static str {
    match d {
        Direction::In => "Incoming",
        Direction::Out => "Outgoing",
        Direction::Internal => "Internal",
    }
}

/// Feature codes said in words.
fn party(other: &str) -> String {
    let what = match other {
        "*97" | "*98" => Some("voicemail"),
        "*43" => Some("echo test"),
        "*30" => Some("conference room"),
        _ if other.starts_with("*80") => Some("intercom"),
        _ => None,
    };
    match what {
        Some(w) => format!("{other} ({w})"),
        None => other.to_owned(),
    }
}

fn result(call: &CallView) -> (&'static str, String) {
    if call.answered {
        ("answered", format!("Answered · {}", duration(call.billsec)))
    } else if call.missed {
        if call.billsec > 0 {
            (
                "missed",
                format!("Missed · voicemail {}", duration(call.billsec)),
            )
        } else {
            ("missed", "Missed".into())
        }
    } else if call.hangup_cause == "USER_BUSY" {
        ("not-answered", "Busy".into())
    } else {
        ("not-answered", "Not answered".into())
    }
}

/// The page of calls as a table (one card per call on narrow screens: `data-label`).
fn calls_html(page: &RecentCallsView, names: &BTreeMap<String, String>) -> String {
    if page.calls.is_empty() {
        return r#"<p class="empty">No calls yet.</p>"#.into();
    }
    const COLUMNS: [&str; 6] = [
        "When",
        "Direction",
        "Extension",
        "Other party",
        "Phone number",
        "Result",
    ];
    let mut h = Html::new();
    h.open("div", &[("class", "table-wrap")])
        .open("table", &[("class", "stats-table calls")])
        .open("thead", &[])
        .open("tr", &[]);
    for c in COLUMNS {
        h.el("th", &[("scope", "col")], c);
    }
    h.close("tr").close("thead").open("tbody", &[]);
    for c in &page.calls {
        let (kind, result) = result(c);
        let ext = c.extension.clone().unwrap_or_default();
        let ext = match names.get(&ext) {
            Some(name) if !ext.is_empty() => format!("{ext} {name}"),
            _ => ext,
        };
        let direction = match c.direction {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Internal => "internal",
        };
        let cells = [
            when(c.start_ms),
            direction_label(c.direction).to_owned(),
            ext,
            c.other_party.as_deref().map(party).unwrap_or_default(),
            c.did.clone().unwrap_or_default(),
        ];
        h.open("tr", &[("data-direction", direction)]);
        for (label, cell) in COLUMNS.iter().zip(&cells) {
            h.el("td", &[("data-label", label)], cell);
        }
        h.el(
            "td",
            &[
                ("data-label", "Result"),
                ("class", "result"),
                ("data-result", kind),
                ("title", &c.hangup_cause),
            ],
            &result,
        );
        h.close("tr");
    }
    h.close("tbody").close("table").close("div");
    h.finish()
}

#[component]
pub fn RecentCalls(names: Memo<BTreeMap<String, String>>) -> impl IntoView {
    let section = Section::<RecentCallsView>::new();
    // The cursor of each page shown so far: the last one is the current page's.
    let cursors = RwSignal::new(vec![None::<String>]);
    let show = move |before: Option<String>| {
        section.load(async move { api::recent_calls(PAGE, before.as_deref()).await });
    };
    show(None);
    let newest = move |_| {
        cursors.set(vec![None]);
        show(None);
    };
    let older = move |_| {
        let next = section
            .data
            .with_untracked(|d| d.as_ref().and_then(|d| d.next_before.clone()));
        if let Some(next) = next {
            cursors.update(|c| c.push(Some(next.clone())));
            show(Some(next));
        }
    };
    let newer = move |_| {
        let mut stack = cursors.get_untracked();
        if stack.len() > 1 {
            stack.pop();
            let before = stack.last().cloned().flatten();
            cursors.set(stack);
            show(before);
        }
    };
    let first_page = move || cursors.with(|c| c.len() <= 1);
    let last_page = move || {
        section
            .data
            .with(|d| d.as_ref().is_none_or(|d| d.next_before.is_none()))
    };
    let html = move || {
        names.with(|names| {
            section
                .data
                .with(|d| d.as_ref().map(|d| calls_html(d, names)).unwrap_or_default())
        })
    };
    view! {
        <section class="card" aria-labelledby="calls-title" aria-busy=move || section.busy.get().to_string()>
            <h2 id="calls-title">"Recent calls"</h2>
            <p class="note" role="status">{section.status()}</p>
            <div inner_html=html/>
            <div class="pager actions">
                <button type="button" class="btn" on:click=newest disabled=first_page>"Newest"</button>
                <button type="button" class="btn" on:click=newer disabled=first_page>"‹ Newer"</button>
                <button type="button" class="btn" on:click=older disabled=last_page>"Older ›"</button>
                <span class="muted small">{move || format!("Page {}", cursors.with(Vec::len))}</span>
            </div>
        </section>
    }
}
