//! The app's pages.

#[cfg(feature = "admin-demo")]
pub mod admin_demo;
pub mod desk_phones;
pub mod fields;
pub mod history;
pub mod invite;
pub mod login;
pub mod pbx;
pub mod phones;
pub mod stats;

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="narrow">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. " <A href="/">"Go to the start page"</A></p>
        </div>
    }
}
