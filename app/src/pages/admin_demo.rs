use leptos::prelude::*;
#[component]
pub fn AdminDemoPage() -> impl IntoView {
    view! { <p>"admin"</p> }
}
