//! Autosave: every field saves itself as soon as it changes, and shows its own state.
//!
//! Edits of one object (an extension, a number's route, the options) are queued and sent one
//! request at a time, each on the revision the previous answer returned: quick edits of two
//! fields of one extension never conflict with each other, while an edit made elsewhere since the
//! page was loaded gives a conflict (409) that is shown plainly.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;

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
}

/// One field's save state, created per field widget.
pub type FieldState = RwSignal<SaveState>;

type Edit<P> = Box<dyn FnOnce(&mut P)>;
type SendFn<P> = Box<dyn Fn(P) -> Pin<Box<dyn Future<Output = Result<(), ApiError>>>>>;

struct Queue<P> {
    pending: Vec<(&'static str, FieldState, Edit<P>)>,
    busy: bool,
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

impl<P: Default + 'static> Saver<P> {
    /// `send` fills in the object's current revision, sends the change and stores the answer.
    pub fn new<F, Fut>(send: F) -> Self
    where
        F: Fn(P) -> Fut + 'static,
        Fut: Future<Output = Result<(), ApiError>> + 'static,
    {
        let send: SendFn<P> = Box::new(move |p| Box::pin(send(p)));
        Self {
            queue: StoredValue::new_local(Queue {
                pending: Vec::new(),
                busy: false,
            }),
            send: StoredValue::new_local(send),
            after: StoredValue::new_local(None),
        }
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

    async fn run(self) {
        // After a conflict the page is not refreshed behind the admin's back: the field keeps
        // what they typed, and the message offers the reload.
        let mut conflicted = false;
        loop {
            let batch = self
                .queue
                .try_update_value(|q| {
                    let batch = std::mem::take(&mut q.pending);
                    if batch.is_empty() {
                        q.busy = false;
                    }
                    batch
                })
                .unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            let mut patch = P::default();
            let mut fields = Vec::with_capacity(batch.len());
            for (field, state, edit) in batch {
                edit(&mut patch);
                fields.push((field, state));
            }
            let Some(future) = self.send.try_with_value(|send| send(patch)) else {
                return;
            };
            let result = future.await;
            conflicted |= result.as_ref().is_err_and(ApiError::is_conflict);
            for (field, state) in fields {
                // A field edited again meanwhile keeps "saving" until its own turn.
                let queued_again = self
                    .queue
                    .try_with_value(|q| q.pending.iter().any(|(_, s, _)| *s == state))
                    .unwrap_or(false);
                if queued_again {
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
                state.set(match &result {
                    Ok(()) => SaveState::Saved,
                    Err(e) if e.is_conflict() => SaveState::Conflict,
                    Err(e) => SaveState::Error(
                        e.field_message(None, field).unwrap_or_else(|| e.message()),
                    ),
                });
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
