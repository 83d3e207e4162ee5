//! The PBX page: the org's numbers, extensions, music on hold and options, all saved into the
//! draft as they change, and the Apply / Discard / Reset controls.

mod apply;
mod dids;
mod extensions;
mod settings;

use api_types::org::{IssueView, JobView, PbxView};
use api_types::FieldError;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::Reload;

/// The page's state, shared by its sections.
#[derive(Clone, Copy)]
pub struct Pbx {
    pub view: RwSignal<Option<PbxView>>,
    pub load_error: RwSignal<Option<String>>,
    /// Bumped by every local change; a reload started before one is stale and dropped.
    generation: StoredValue<u64>,
    /// Problems of a refused Apply (until the next edit).
    pub apply_issues: RwSignal<Vec<IssueView>>,
    /// The Apply job shown (the unfinished one, or the last one).
    pub job: RwSignal<Option<JobView>>,
}

impl Pbx {
    fn new() -> Self {
        Self {
            view: RwSignal::new(None),
            load_error: RwSignal::new(None),
            generation: StoredValue::new(0),
            apply_issues: RwSignal::new(Vec::new()),
            job: RwSignal::new(None),
        }
    }

    pub fn use_ctx() -> Self {
        expect_context::<Pbx>()
    }

    /// Fetches the whole page again.
    pub fn reload(self) {
        let generation = self.generation.get_value();
        spawn_local(async move {
            match api::pbx().await {
                Ok(view) if self.generation.get_value() == generation => {
                    self.load_error.set(None);
                    // Show the job shown already (updated), or one that is unfinished or failed;
                    // an earlier success is old news.
                    let show = match (&view.job, self.job.get_untracked()) {
                        (Some(v), Some(mine)) if v.id == mine.id => true,
                        (Some(v), _) => apply::unfinished(v) || v.state == "failed",
                        _ => false,
                    };
                    if show {
                        self.job.set(view.job.clone());
                    }
                    self.view.set(Some(view));
                }
                Ok(_) => {}
                Err(e) if e.is_unavailable() => self.load_error.set(Some(
                    "Your phone system is shown here as soon as the configuration database is back."
                        .into(),
                )),
                Err(e) => self.load_error.set(Some(e.message())),
            }
        });
    }

    /// Changes the page's copy of the draft after a successful save.
    pub fn update(self, change: impl FnOnce(&mut PbxView)) {
        self.generation.update_value(|g| *g += 1);
        self.apply_issues.set(Vec::new());
        // The last Apply's outcome is old news once the draft changes again.
        if self
            .job
            .with_untracked(|j| j.as_ref().is_some_and(|j| !apply::unfinished(j)))
        {
            self.job.set(None);
        }
        self.view.update(|v| {
            if let Some(v) = v {
                change(v)
            }
        });
    }

    /// The messages of the problems blocking Apply for one field.
    pub fn issues_for(
        self,
        kind: &'static str,
        id: Option<String>,
        field: &'static str,
    ) -> Signal<Vec<String>> {
        Memo::new(move |_| {
            let matches =
                |i: &&IssueView| i.subject_kind == kind && i.subject_id == id && i.field == field;
            let mut messages: Vec<String> = self.view.with(|v| {
                v.as_ref()
                    .map(|v| {
                        v.issues
                            .iter()
                            .filter(matches)
                            .map(|i| i.message.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            });
            self.apply_issues.with(|a| {
                for i in a.iter().filter(matches) {
                    if !messages.contains(&i.message) {
                        messages.push(i.message.clone());
                    }
                }
            });
            messages
        })
        .into()
    }
}

/// A refused Apply's field errors (`subject` like `extension:101`) as issues.
pub fn issues_from_errors(errors: &[FieldError]) -> Vec<IssueView> {
    errors
        .iter()
        .map(|e| {
            let (kind, id) = match e.subject.as_deref().and_then(|s| s.split_once(':')) {
                Some((kind, id)) => (kind.to_owned(), Some(id.to_owned())),
                None => (e.subject.clone().unwrap_or_else(|| "options".into()), None),
            };
            IssueView {
                subject_kind: kind,
                subject_id: id,
                field: e.field.clone(),
                code: e.code.clone().unwrap_or_default(),
                message: e.message.clone(),
            }
        })
        .collect()
}

#[component]
pub fn PbxPage() -> impl IntoView {
    let pbx = Pbx::new();
    provide_context(pbx);
    provide_context(Reload::new(move || pbx.reload()));
    pbx.reload();
    crate::service::retry_with(move || pbx.reload());
    let loaded = Memo::new(move |_| pbx.view.with(Option::is_some));
    view! {
        <div class="pbx">
            <h1 class="visually-hidden">"Your phone system"</h1>
            <Show
                when=move || loaded.get()
                fallback=move || view! {
                    <div class="page-loading" aria-busy=move || pbx.load_error.with(Option::is_none).to_string()>
                        <p>{move || pbx.load_error.get().unwrap_or_else(|| "Loading your phone system…".into())}</p>
                    </div>
                }
            >
                <apply::ApplyBar/>
                <p class="intro">
                    "Every change below is saved at once. The phones keep the current settings until you press "
                    <strong>"Apply"</strong> "."
                </p>
                <dids::Dids/>
                <extensions::Extensions/>
                <settings::Settings/>
            </Show>
        </div>
    }
}
