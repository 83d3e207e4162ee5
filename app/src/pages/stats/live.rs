//! Right now, from FreeSWITCH: registered phones per extension and calls in progress, checked
//! again every 20 seconds while the page is open. When the phone system cannot be asked the
//! section says so plainly.

use api_types::stats::{LiveState, LiveView};
use leptos::prelude::*;

use super::Section;
use crate::api;
use crate::components::time_of_day;
use crate::html::Html;

const EVERY: std::time::Duration = std::time::Duration::from_secs(20);

/// Loads the live view now and every [`EVERY`] until the page goes away.
pub fn start(section: Section<LiveView>) {
    section.load(api::live());
    if let Ok(handle) = set_interval_with_handle(move || section.load(api::live()), EVERY) {
        on_cleanup(move || handle.clear());
    }
}

fn since(ms: i64) -> String {
    format!("since {}", super::when(ms))
}

#[component]
pub fn LiveNow(section: Section<LiveView>) -> impl IntoView {
    view! {
        <section class="card live" aria-labelledby="live-title">
            <div class="live-head">
                <h2 id="live-title">"Right now"</h2>
                <button type="button" class="btn small" on:click=move |_| section.load(api::live())
                    disabled=move || section.busy.get()>"Check again"</button>
            </div>
            <p class="note" role="status">{section.status()}</p>
            <div inner_html=move || section.data.with(|l| l.as_ref().map(live_html).unwrap_or_default())/>
        </section>
    }
}

/// The live view as HTML: a note when FreeSWITCH could not say everything, the figures, and
/// each extension with its registered phones.
fn live_html(live: &LiveView) -> String {
    let mut h = Html::new();
    let reachable = !matches!(
        live.source.state,
        LiveState::Unreachable | LiveState::NotConfigured
    );
    if live.source.state != LiveState::Ok {
        let (state, headline) = match live.source.state {
            LiveState::Partial => ("partial", "Some live data is missing. "),
            _ => ("down", "The phone system cannot be reached right now. "),
        };
        let message = live
            .source
            .message
            .clone()
            .unwrap_or_else(|| "The phone system did not give all live data.".into());
        h.open("p", &[("class", "live-note"), ("data-state", state)])
            .el("strong", &[], headline)
            .text(&message)
            .text(" If your phones show they are connected, calls still work; only this overview is missing.")
            .close("p");
    }
    if !reachable {
        // Nothing more is known; the note says why.
        h.el(
            "p",
            &[("class", "muted small")],
            &format!("Checked at {}.", time_of_day(live.checked_at_ms)),
        );
        return h.finish();
    }
    let unknown = || "–".to_owned();
    super::tiles_html(
        &mut h,
        &[
            (
                "calls_in_progress",
                "Calls in progress",
                live.calls_in_progress
                    .map_or_else(unknown, |n| n.to_string()),
            ),
            (
                "registered_phones",
                "Phones connected",
                live.registered_phones.to_string(),
            ),
        ],
    );
    h.open("ul", &[("class", "live-list")]);
    for e in &live.extensions {
        h.open(
            "li",
            &[("class", "live-ext"), ("data-extension", &e.number)],
        )
        .el("span", &[("class", "ext-no")], &e.number)
        .el(
            "span",
            &[("class", "live-name")],
            e.display_name.as_deref().unwrap_or("(not an extension)"),
        );
        if e.phones.is_empty() {
            h.el("p", &[("class", "muted small")], "No phone connected");
        } else {
            h.open("ul", &[("class", "phones-of")]);
            for p in &e.phones {
                let agent = if p.user_agent.is_empty() {
                    "Unknown phone"
                } else {
                    &p.user_agent
                };
                let transport = if p.transport.is_empty() {
                    String::new()
                } else {
                    format!(" · {}", p.transport.to_ascii_uppercase())
                };
                h.open("li", &[])
                    .el("span", &[("class", "agent")], agent)
                    .el(
                        "span",
                        &[("class", "muted small")],
                        &format!(" {}{transport} · {}", since(p.since_ms), p.address),
                    )
                    .close("li");
            }
            h.close("ul");
        }
        h.close("li");
    }
    h.close("ul");
    h.el(
        "p",
        &[("class", "muted small")],
        &format!("Checked at {}.", time_of_day(live.checked_at_ms)),
    );
    h.finish()
}
