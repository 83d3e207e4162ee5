//! The frame of every org page: the company's name and logo, the navigation and the logout
//! button once logged in, and the "no such PBX" page for a host that is no org's.

use api_types::org::{Me, OrgInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Redirect, A};
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api;
use crate::pages::NotFound;
use crate::ORG_PAGES;

#[derive(Debug, Clone, PartialEq)]
pub enum OrgLoad {
    Loading,
    Ready(OrgInfo),
    /// The host is not an org's.
    NoSuchPbx,
    /// The server cannot reach its configuration database (503); retried while the banner is up.
    Unavailable,
    Failed(String),
}

/// The org of this host and the logged-in admin, loaded once.
#[derive(Clone, Copy)]
pub struct OrgCtx {
    pub load: RwSignal<OrgLoad>,
    started: StoredValue<bool>,
}

impl OrgCtx {
    pub fn new() -> Self {
        Self {
            load: RwSignal::new(OrgLoad::Loading),
            started: StoredValue::new(false),
        }
    }

    pub fn use_ctx() -> Self {
        expect_context::<OrgCtx>()
    }

    fn ensure_loaded(self) {
        if self.started.get_value() {
            return;
        }
        self.started.set_value(true);
        self.reload();
    }

    pub fn reload(self) {
        spawn_local(async move {
            let next = match api::org_info().await {
                Ok(info) => OrgLoad::Ready(info),
                Err(e) if e.is_status(404) => OrgLoad::NoSuchPbx,
                Err(e) if e.is_unavailable() => OrgLoad::Unavailable,
                Err(e) => OrgLoad::Failed(e.message()),
            };
            // Unchanged (a retry while the server is unavailable): the page is not drawn anew.
            if self.load.with_untracked(|l| *l != next) {
                self.load.set(next);
            }
        });
    }

    pub fn info(self) -> Option<OrgInfo> {
        match self.load.get() {
            OrgLoad::Ready(info) => Some(info),
            _ => None,
        }
    }

    pub fn me(self) -> Option<Me> {
        self.load.with(|l| match l {
            OrgLoad::Ready(info) => info.me.clone(),
            _ => None,
        })
    }

    pub fn set_me(self, me: Option<Me>) {
        self.load.update(|l| {
            if let OrgLoad::Ready(info) = l {
                info.me = me;
            }
        });
    }
}

impl Default for OrgCtx {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn OrgFrame(children: ChildrenFn) -> impl IntoView {
    let org = OrgCtx::use_ctx();
    org.ensure_loaded();
    let children = StoredValue::new(children);
    view! {
        {move || match org.load.get() {
            OrgLoad::Loading => view! {
                <div class="page-loading" aria-busy="true"><p>"Loading…"</p></div>
            }.into_any(),
            OrgLoad::NoSuchPbx => view! { <NoSuchPbx/> }.into_any(),
            // The banner on top says why; the page opens once a retry succeeds.
            OrgLoad::Unavailable => view! {
                <main class="narrow"><p class="muted">"This page opens by itself as soon as the configuration database is back."</p></main>
            }.into_any(),
            OrgLoad::Failed(message) => view! {
                <main class="narrow">
                    <h1>"This page could not load"</h1>
                    <p>{message}</p>
                    <button class="btn primary" on:click=move |_| org.reload()>"Try again"</button>
                </main>
            }.into_any(),
            OrgLoad::Ready(info) => view! {
                {set_title(&format!("{} · Phone system", info.name))}
                <OrgHeader info=info/>
                <main id="main">{children.with_value(|c| c())}</main>
            }.into_any(),
        }}
    }
}

#[component]
fn OrgHeader(info: OrgInfo) -> impl IntoView {
    let org = OrgCtx::use_ctx();
    let navigate = use_navigate();
    let logging_out = RwSignal::new(false);
    let logout = move |_| {
        logging_out.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            // Whatever the answer, the session is no use any more on this page.
            let _ = api::logout().await;
            logging_out.set(false);
            org.set_me(None);
            navigate("/login", Default::default());
        });
    };
    let logged_in = info.me.is_some();
    let email = info
        .me
        .as_ref()
        .map(|m| m.email.clone())
        .unwrap_or_default();
    view! {
        <header class="top">
            <a class="skip" href="#main">"Skip to the content"</a>
            <div class="brand">
                {info.logo_url.clone().map(|url| view! { <img class="logo" src=url alt="" width="40" height="40"/> })}
                <div>
                    <span class="company">{info.name.clone()}</span>
                    <span class="subtitle">"Phone system"</span>
                </div>
            </div>
            {logged_in.then(|| view! {
                <nav class="pages" aria-label="Pages">
                    {ORG_PAGES.iter().map(|p| {
                        let href = format!("/{}", p.segment);
                        view! { <A href=href exact=true>{p.label}</A> }
                    }).collect_view()}
                </nav>
                <div class="account">
                    <span class="who" title="Logged in as">{email.clone()}</span>
                    <button type="button" class="btn" on:click=logout disabled=move || logging_out.get()>"Log out"</button>
                </div>
            })}
        </header>
    }
}

/// A page of [`ORG_PAGES`], for logged-in admins only.
#[component]
pub fn OrgPageView(segment: String) -> impl IntoView {
    let org = OrgCtx::use_ctx();
    let page = ORG_PAGES.iter().find(|p| p.segment == segment);
    let logged_in = Memo::new(move |_| org.me().is_some());
    move || match (logged_in.get(), page) {
        (false, _) => view! { <Redirect path="/login"/> }.into_any(),
        (true, Some(page)) => (page.view)(),
        (true, None) => view! { <NotFound/> }.into_any(),
    }
}

#[component]
pub fn OrgPageByParam() -> impl IntoView {
    let params = use_params_map();
    move || {
        let segment = params.with(|p| p.get("page").unwrap_or_default());
        view! { <OrgPageView segment=segment/> }
    }
}

/// The browser tab's title.
pub fn set_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

#[component]
pub fn NoSuchPbx() -> impl IntoView {
    set_title("No such PBX");
    let host = web_sys::window()
        .and_then(|w| w.location().host().ok())
        .unwrap_or_default();
    view! {
        <main class="narrow no-such-pbx">
            <h1>"No such PBX"</h1>
            <p>"There is no phone system at " <strong>{host}</strong> "."</p>
            <p>"Check the address you were given: it looks like " <code>"pbx.yourcompany.example.com"</code> "."</p>
        </main>
    }
}
