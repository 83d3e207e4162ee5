//! Autosave: every field saves itself as soon as it changes, and shows its own state.
//!
//! Edits of one object (an extension, a number's route, the options) are queued and sent one
//! request at a time, each on the revision the previous answer returned: quick edits of two
//! fields of one extension never conflict with each other, while an edit made elsewhere since the
//! page was loaded gives a conflict (409) that is shown plainly. A change the server could not
//! take because it is unavailable (503) is kept, shown as not saved, and sent again by itself
//! once the server is back ([`crate::service`]).

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;
use crate::service::Service;

/// The state shown next to one field.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SaveState {
    #[default]
    Idle,
    /// Waiting for more input before it can be saved (e.g. a forward without its number).
    Incomplete(String),
    Saving,
    Saved,
    Error(String),
    /// Changed elsewhere since it was loaded: reload to see the current value.
    Conflict,
    /// The server is unavailable: kept, and saved once it is back.
    Unsaved,
}

/// One field's save state, created per field widget.
pub type FieldState = RwSignal<SaveState>;

type Edit<P> = Box<dyn FnOnce(&mut P)>;
type SendFn<P> = Box<dyn Fn(P) -> Pin<Box<dyn Future<Output = Result<(), ApiError>>>>>;

struct Queue<P> {
    pending: Vec<(&'static str, FieldState, Edit<P>)>,
    busy: bool,
    /// A change the server could not take (503) and its fields: sent first once it is back.
    held: Option<(P, Vec<(&'static str, FieldState)>)>,
}

/// The save queue of one object. `P` is the object's change ("patch") type.
pub struct Saver<P: 'static> {
    queue: StoredValue<Queue<P>, LocalStorage>,
    send: StoredValue<SendFn<P>, LocalStorage>,
    /// Called once the queue is empty again after saves without a conflict (to refresh what
    /// depends on the draft).
    after: StoredValue<Option<Box<dyn Fn()>>, LocalStorage>,
}

impl<P> Clone for Saver<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for Saver<P> {}

impl<P: Default + Clone + 'static> Saver<P> {
    /// `send` fills in the object's current revision, sends the change and stores the answer.
    pub fn new<F, Fut>(send: F) -> Self
    where
        F: Fn(P) -> Fut + 'static,
        Fut: Future<Output = Result<(), ApiError>> + 'static,
    {
        let send: SendFn<P> = Box::new(move |p| Box::pin(send(p)));
        let saver = Self {
            queue: StoredValue::new_local(Queue {
                pending: Vec::new(),
                busy: false,
                held: None,
            }),
            send: StoredValue::new_local(send),
            after: StoredValue::new_local(None),
        };
        if let Some(service) = use_context::<Service>() {
            Effect::new(move |seen: Option<u64>| {
                let back = service.back.get();
                if seen.is_some_and(|seen| seen != back) {
                    saver.resume();
                }
                back
            });
        }
        saver
    }

    pub fn after_save(self, hook: impl Fn() + 'static) -> Self {
        self.after.set_value(Some(Box::new(hook)));
        self
    }

    /// Queues `edit` of `field` (named as in the API, for error messages) and saves it.
    pub fn save(self, field: &'static str, state: FieldState, edit: impl FnOnce(&mut P) + 'static) {
        state.set(SaveState::Saving);
        let start = self.queue.try_update_value(|q| {
            q.pending.push((field, state, Box::new(edit)));
            let start = !q.busy;
            q.busy = true;
            start
        });
        if start == Some(true) {
            spawn_local(self.run());
        }
    }

    /// Sends the change held while the server was unavailable.
    fn resume(self) {
        let start = self.queue.try_update_value(|q| {
            let start = q.held.is_some() && !q.busy;
            q.busy |= start;
            start
        });
        if start == Some(true) {
            spawn_local(self.run());
        }
    }

    /// The change to send next (the held one with the edits queued since on top) and its
    /// fields, or `None` when there is nothing left (the queue is then idle).
    fn next(self) -> Option<(P, Vec<(&'static str, FieldState)>)> {
        self.queue
            .try_update_value(|q| {
                let batch = std::mem::take(&mut q.pending);
                if q.held.is_none() && batch.is_empty() {
                    q.busy = false;
                    return None;
                }
                let (mut patch, mut fields) = q.held.take().unwrap_or_default();
                for (field, state, edit) in batch {
                    edit(&mut patch);
                    if !fields.iter().any(|(_, s)| *s == state) {
                        fields.push((field, state));
                    }
                }
                Some((patch, fields))
            })
            .flatten()
    }

    async fn run(self) {
        // After a conflict the page is not refreshed behind the admin's back: the field keeps
        // what they typed, and the message offers the reload.
        let mut conflicted = false;
        while let Some((patch, fields)) = self.next() {
            let Some(future) = self.send.try_with_value(|send| send(patch.clone())) else {
                return;
            };
            let result = future.await;
            let queued_again: Vec<FieldState> = self
                .queue
                .try_with_value(|q| q.pending.iter().map(|(_, s, _)| *s).collect())
                .unwrap_or_default();
            settle(&fields, &queued_again, &result);
            conflicted |= result.as_ref().is_err_and(ApiError::is_conflict);
            if result.as_ref().is_err_and(ApiError::is_unavailable) {
                // Kept until the server is back ([`Saver::resume`]), unless more edits wait.
                let more = self.queue.try_update_value(|q| {
                    q.held = Some((patch, fields));
                    q.busy = !q.pending.is_empty();
                    q.busy
                });
                if more != Some(true) {
                    return;
                }
            }
        }
        if conflicted {
            return;
        }
        self.after.with_value(|hook| {
            if let Some(hook) = hook {
                hook();
            }
        });
    }
}

/// Shows each field's outcome, except for fields edited again meanwhile: they keep "saving"
/// until their own turn. Not generic, so compiled once.
fn settle(
    fields: &[(&'static str, FieldState)],
    queued_again: &[FieldState],
    result: &Result<(), ApiError>,
) {
    for &(field, state) in fields {
        if queued_again.contains(&state) {
            continue;
        }
        if result.is_ok() {
            // "Saved" fades after a while; its line keeps its place.
            set_timeout(
                move || {
                    if state.try_get_untracked() == Some(SaveState::Saved) {
                        state.set(SaveState::Idle);
                    }
                },
                std::time::Duration::from_secs(5),
            );
        }
        state.set(match result {
            Ok(()) => SaveState::Saved,
            Err(e) if e.is_conflict() => SaveState::Conflict,
            Err(e) if e.is_unavailable() => SaveState::Unsaved,
            Err(e) => SaveState::Error(e.field_message(None, field).unwrap_or_else(|| e.message())),
        });
    }
}
