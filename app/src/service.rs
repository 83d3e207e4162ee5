//! Whether the server can do its work. When it cannot reach its configuration database it
//! answers every org API request 503 (problem+json saying so), while FreeSWITCH keeps being
//! served from memory. The app then shows one banner on top of every page, retries in the
//! background, and takes the banner away by itself after the next successful answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::frame::{OrgCtx, OrgLoad};

/// How often a page retries while the server is unavailable.
const RETRY: Duration = Duration::from_secs(5);

type Reload = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone, Copy)]
pub struct Service {
    /// While the server answers 503: its own words (`detail`, else `title`; may be empty).
    pub down: RwSignal<Option<String>>,
    /// Counts the server's returns after being unavailable: what waited for it runs then.
    pub back: RwSignal<u64>,
    /// What the pages shown re-fetch while it is unavailable (see [`retry_with`]).
    reloads: StoredValue<Vec<(usize, Reload)>>,
}

impl Service {
    pub fn new() -> Self {
        Self {
            down: RwSignal::new(None),
            back: RwSignal::new(0),
            reloads: StoredValue::new(Vec::new()),
        }
    }

    pub fn use_ctx() -> Self {
        expect_context::<Service>()
    }

    /// Takes the server's answer to a session request: `Some(its words)` for a 503, `None`
    /// for a success.
    pub fn answered(self, unavailable: Option<String>) {
        if self.down.with_untracked(|d| *d == unavailable) {
            return;
        }
        let returned = unavailable.is_none();
        self.down.set(unavailable);
        if returned {
            self.back.update(|n| *n += 1);
        }
    }

    pub fn is_down(self) -> bool {
        self.down.with(Option::is_some)
    }

    /// One retry: the org's info while it has not loaded (the page needs it first), else what
    /// the page shown re-fetches, or else the org's info alone.
    fn retry(self, org: OrgCtx) {
        if !org.load.with_untracked(|l| matches!(l, OrgLoad::Ready(_))) {
            org.reload();
            return;
        }
        let reloads: Vec<Reload> = self
            .reloads
            .with_value(|r| r.iter().map(|(_, f)| f.clone()).collect());
        if reloads.is_empty() {
            spawn_local(async {
                let _ = api::org_info().await;
            });
        }
        for reload in reloads {
            reload();
        }
    }
}

impl Default for Service {
    fn default() -> Self {
        Self::new()
    }
}

/// While the server is unavailable, the page calling this re-fetches its data with `reload`
/// every few seconds (until the page goes away); a success ends the outage.
pub fn retry_with(reload: impl Fn() + Send + Sync + 'static) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let Some(service) = use_context::<Service>() else {
        return;
    };
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    service
        .reloads
        .update_value(|r| r.push((id, Arc::new(reload))));
    on_cleanup(move || {
        service
            .reloads
            .try_update_value(|r| r.retain(|(i, _)| *i != id));
    });
}

/// The banner on top of every page while the server is unavailable; meanwhile the page retries
/// every few seconds.
#[component]
pub fn ServiceBanner() -> impl IntoView {
    let service = Service::use_ctx();
    let org = OrgCtx::use_ctx();
    set_interval(
        move || {
            if service.down.with_untracked(Option::is_some) {
                service.retry(org);
            }
        },
        RETRY,
    );
    move || {
        service.down.get().map(|detail| {
            view! {
                <div class="service-down" role="alert">
                    <p>
                        <strong>"LittlePBX cannot reach its configuration database right now."</strong>
                        " Phones and calls keep working; changes cannot be saved until it is back. This page retries by itself."
                    </p>
                    {(!detail.is_empty()).then(|| view! { <p class="service-detail">"Details: " {detail}</p> })}
                </div>
            }
        })
    }
}
