//! The org's phone numbers (read-only) and the extension each rings.

use api_types::org::RouteUpdate;
use leptos::prelude::*;

use super::Pbx;
use crate::api;
use crate::autosave::{SaveState, Saver};
use crate::pages::fields::SelectField;

#[component]
pub fn Dids() -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let numbers = Memo::new(move |_| {
        pbx.view.with(|v| {
            v.as_ref()
                .map(|v| v.dids.iter().map(|d| d.number.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="card" aria-labelledby="dids-title">
            <h2 id="dids-title">"Your phone numbers"</h2>
            <p class="muted">"Calls from outside to each number ring the extension you choose. Your provider manages the numbers themselves."</p>
            <Show when=move || !numbers.read().is_empty() fallback=|| view! {
                <p class="empty">"You have no phone numbers yet. Ask your provider for one."</p>
            }>
                <ul class="dids">
                    <For each=move || numbers.get() key=|n| n.clone() let:number>
                        <DidRow number=number/>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

#[derive(Default, Clone)]
struct DidEdit {
    extension: Option<String>,
}

#[component]
fn DidRow(number: String) -> impl IntoView {
    let pbx = Pbx::use_ctx();
    let state = RwSignal::new(SaveState::Idle);
    let n = number.clone();
    let current = Memo::new(move |_| {
        pbx.view.with(|v| {
            v.as_ref()
                .and_then(|v| v.dids.iter().find(|d| d.number == n))
                .and_then(|d| d.extension.clone())
                .unwrap_or_default()
        })
    });
    let options = Memo::new(move |_| {
        let mut options = vec![(String::new(), "Nobody: calls are refused".to_owned())];
        pbx.view.with(|v| {
            if let Some(v) = v {
                options.extend(v.extensions.iter().map(|e| {
                    (
                        e.number.clone(),
                        format!("{} – {}", e.number, e.display_name),
                    )
                }));
            }
        });
        options
    });
    let n = number.clone();
    let saver = Saver::<DidEdit>::new(move |edit: DidEdit| {
        let n = n.clone();
        async move {
            let revision = pbx
                .view
                .with_untracked(|v| {
                    v.as_ref()
                        .and_then(|v| v.dids.iter().find(|d| d.number == n))
                        .map(|d| d.revision)
                })
                .unwrap_or_default();
            let update = RouteUpdate {
                revision,
                extension: edit.extension,
            };
            let did = api::route_did(&n, &update).await?;
            pbx.update(|v| {
                if let Some(d) = v.dids.iter_mut().find(|d| d.number == did.number) {
                    *d = did;
                }
            });
            Ok(())
        }
    })
    .after_save(move || pbx.reload());
    let id = format!("did-{}", number.trim_start_matches('+'));
    let issues = pbx.issues_for("did_route", Some(number.clone()), "extension");
    view! {
        <li class="did">
            <span class="did-number" aria-hidden="true">{number.clone()}</span>
            <SelectField
                id=id
                label=format!("Calls to {number} ring")
                value=current
                options=options
                state=state
                issues=issues
                on_commit=Callback::new(move |value: String| {
                    saver.save("extension", state, move |e: &mut DidEdit| {
                        e.extension = (!value.is_empty()).then_some(value);
                    })
                })
            />
        </li>
    }
}
