//! Extensions: add, edit inline (every field saves itself), new SIP password, delete.

mod add;
mod call_flow;
mod card;

use leptos::prelude::*;

use super::Pbx;
use crate::frame::OrgCtx;
use add::AddExtension;
use card::ExtensionCard;

/// The org's SIP domain, shown with new SIP passwords.
fn sip_domain() -> String {
    OrgCtx::use_ctx()
        .info()
        .map(|i| i.sip_domain)
        .unwrap_or_default()
}

#[component]
pub fn Extensions() -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let numbers = Memo::new(move |_| {
        pbx.view.with(|v| {
            v.as_ref()
                .map(|v| {
                    v.extensions
                        .iter()
                        .map(|e| e.number.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let just_added = RwSignal::new(None::<String>);
    view! {
        <section class="card" aria-labelledby="ext-title">
            <h2 id="ext-title">"Extensions"</h2>
            <p class="muted">"Each person or phone has an extension: a short number colleagues dial. Open one to change what happens to its calls."</p>
            <Show when=move || !numbers.read().is_empty() fallback=|| view! {
                <p class="empty">"No extensions yet: add the first one below."</p>
            }>
                <ul class="extensions">
                    <For each=move || numbers.get() key=|n| n.clone() let:number>
                        <ExtensionCard number=number just_added=just_added/>
                    </For>
                </ul>
            </Show>
            <AddExtension just_added=just_added/>
        </section>
    }
}
