//! LittlePBX web app (Leptos, client-side rendered to WASM).
//!
//! - On an org's host (`pbx.<slug>.<base domain>`): the org admin's pages (login, invitation,
//!   the PBX page and the pages listed in [`ORG_PAGES`]), framed with the company's name and logo.
//! - On any host: `/admin-demo`, the provider's demo page driving the REST API with an API key.
//!
//! `/admin-demo`, `/history` and `/desk-phones` are only in the full bundle (see `scripts/build-app.sh`).
//!
//! Every request goes through [`api::call`]; while the server answers 503 a banner on top of
//! every page says so ([`service`]).
#![forbid(unsafe_code)]
// The org admins' bundle is built without the admin demo; what only the demo uses is then unused.
// Lints are checked on the full build.
#![cfg_attr(not(feature = "admin-demo"), allow(dead_code, unused_imports))]
// The admin demo's bundle leaves out the org-only pages ([`org_bundle_only`]).
#![cfg_attr(feature = "demo-bundle", allow(dead_code, unused_imports))]

pub mod api;
pub mod autosave;
pub mod components;
pub mod frame;
pub mod html;
pub mod pages;
pub mod service;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// A page of the logged-in org admin, with its entry in the navigation.
pub struct OrgPage {
    /// The path segment after `/` (`""` for the PBX page).
    pub segment: &'static str,
    /// The navigation label.
    pub label: &'static str,
    pub view: fn() -> AnyView,
}

/// The org admin's pages, in navigation order. Adding a page is one line here.
pub const ORG_PAGES: &[OrgPage] = &[
    OrgPage {
        segment: "",
        label: "PBX",
        view: || org_bundle_only(|| view! { <pages::pbx::PbxPage/> }.into_any()),
    },
    OrgPage {
        segment: "phones",
        label: "Phones",
        view: || org_bundle_only(|| view! { <pages::phones::PhonesPage/> }.into_any()),
    },
    OrgPage {
        segment: "desk-phones",
        label: "Desk phones",
        view: || full_bundle_only(|| view! { <pages::desk_phones::DeskPhonesPage/> }.into_any()),
    },
    OrgPage {
        segment: "statistics",
        label: "Statistics",
        view: || org_bundle_only(|| view! { <pages::stats::StatsPage/> }.into_any()),
    },
    OrgPage {
        segment: "history",
        label: "History",
        view: || full_bundle_only(|| view! { <pages::history::HistoryPage/> }.into_any()),
    },
];

/// A page the bundle of `/admin-demo` (feature `demo-bundle`) leaves out to stay small: there
/// it loads the page anew, which brings the org bundle (the boot script chooses by path).
#[cfg(not(feature = "demo-bundle"))]
fn org_bundle_only(page: impl FnOnce() -> AnyView) -> AnyView {
    page()
}

#[cfg(feature = "demo-bundle")]
fn org_bundle_only(_page: impl FnOnce() -> AnyView) -> AnyView {
    reload_page();
    ().into_any()
}

/// A page only the full bundle has (the org admins' bundle has no room left for it): in the org
/// bundle it loads the page anew, which brings the full bundle (the boot script chooses by path).
#[cfg(feature = "admin-demo")]
fn full_bundle_only(page: impl FnOnce() -> AnyView) -> AnyView {
    page()
}

#[cfg(not(feature = "admin-demo"))]
fn full_bundle_only(_page: impl FnOnce() -> AnyView) -> AnyView {
    reload_page();
    ().into_any()
}

/// Loads the page anew (the boot script then picks the bundle for its path).
#[cfg(any(not(feature = "admin-demo"), feature = "demo-bundle"))]
fn reload_page() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

#[component]
pub fn App() -> impl IntoView {
    let org = frame::OrgCtx::new();
    provide_context(org);
    api::on_session_expired(move || org.set_me(None));
    let service = service::Service::new();
    provide_context(service);
    api::on_availability(move |state| service.answered(state));
    view! {
        <service::ServiceBanner/>
        <Router>
            <Routes fallback=|| view! { <frame::OrgFrame><pages::NotFound/></frame::OrgFrame> }>
                <Route path=path!("/admin-demo") view=AdminDemoEntry/>
                <Route path=path!("/login") view=|| view! { <frame::OrgFrame><pages::login::LoginPage/></frame::OrgFrame> }/>
                <Route path=path!("/invite/:token") view=|| view! { <frame::OrgFrame><pages::invite::InvitePage/></frame::OrgFrame> }/>
                <Route path=path!("/") view=|| view! { <frame::OrgFrame><frame::OrgPageView segment=String::new()/></frame::OrgFrame> }/>
                <Route path=path!("/:page") view=|| view! { <frame::OrgFrame><frame::OrgPageByParam/></frame::OrgFrame> }/>
            </Routes>
        </Router>
    }
}

/// The admin demo page, in the build that has it.
#[cfg(feature = "admin-demo")]
#[component]
fn AdminDemoEntry() -> impl IntoView {
    view! { <pages::admin_demo::AdminDemoPage/> }
}

/// In the org admins' bundle, which lacks the demo page: load the page anew, which loads the full
/// app (the boot script chooses by path).
#[cfg(not(feature = "admin-demo"))]
#[component]
fn AdminDemoEntry() -> impl IntoView {
    reload_page();
}

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
