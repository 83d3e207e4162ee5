//! The states of an Apply job and the moves between them.
//!
//! ```text
//! waiting ──▶ applying ──▶ syncing ──▶ done
//!    │           │  └────────────────▶ done (nothing to apply)
//!    ▼           ▼
//! stopped      failed
//! ```
//!
//! The table of moves lives here, once: the store refuses any other move in SQL (the update only
//! matches rows in a state the move may start from), and the job engine reads the same table.

use std::fmt;

use crate::values::ValueError;

/// Where an Apply job is. Stored as its [`JobState::as_str`] text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JobState {
    /// Requested; waiting for the org's calls to end (or for its turn).
    Waiting,
    /// Taken by the engine; the Apply transaction has not committed.
    Applying,
    /// Applied; FreeSWITCH is being told.
    Syncing,
    Done,
    /// Not applied: the draft had issues or the store failed.
    Failed,
    /// Stopped by the admin while waiting; nothing was changed.
    Stopped,
}

use JobState::*;

/// Every allowed move, `(from, to)`. Nothing leaves a finished state.
const MOVES: &[(JobState, JobState)] = &[
    (Waiting, Applying), // no calls in progress, or the wait is over
    (Waiting, Stopped),  // Stop
    (Applying, Syncing), // the Apply transaction committed
    (Applying, Done),    // nothing to apply
    (Applying, Failed),  // invalid draft, or the store failed
    (Syncing, Done),     // FreeSWITCH told, or not reachable
];

impl JobState {
    pub const ALL: [JobState; 6] = [Waiting, Applying, Syncing, Done, Failed, Stopped];

    pub fn as_str(self) -> &'static str {
        match self {
            Waiting => "waiting",
            Applying => "applying",
            Syncing => "syncing",
            Done => "done",
            Failed => "failed",
            Stopped => "stopped",
        }
    }

    /// Reads a stored state; any other text is refused, never taken for some state.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == value)
            .ok_or_else(|| ValueError(format!("unknown Apply job state {value:?}")))
    }

    /// Whether the job has ended (and so no longer holds its org).
    pub fn is_finished(self) -> bool {
        matches!(self, Done | Failed | Stopped)
    }

    /// Whether a job in this state may move to `next`.
    pub fn can_become(self, next: JobState) -> bool {
        MOVES.contains(&(self, next))
    }

    /// The states a job may be in to move to `next` (empty for `Waiting`: jobs start there).
    pub fn sources_of(next: JobState) -> Vec<JobState> {
        MOVES
            .iter()
            .filter(|(_, to)| *to == next)
            .map(|(from, _)| *from)
            .collect()
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_and_unknown_text_is_refused() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Ok(state));
        }
        assert!(JobState::parse("cancelled").is_err());
        assert!(JobState::parse("Done").is_err());
        assert!(JobState::parse("").is_err());
    }

    #[test]
    fn the_happy_path_and_its_exits() {
        assert!(Waiting.can_become(Applying));
        assert!(Applying.can_become(Syncing));
        assert!(Syncing.can_become(Done));
        assert!(Waiting.can_become(Stopped));
        assert!(Applying.can_become(Failed));
        assert!(Applying.can_become(Done), "nothing to apply");
    }

    #[test]
    fn no_shortcuts_and_no_going_back() {
        assert!(!Waiting.can_become(Syncing));
        assert!(!Waiting.can_become(Done));
        assert!(!Applying.can_become(Stopped), "too late to stop");
        assert!(!Syncing.can_become(Failed), "applied stays applied");
        assert!(!Syncing.can_become(Applying));
        for state in JobState::ALL {
            assert!(!state.can_become(state), "{state} to itself");
            assert!(!state.can_become(Waiting), "{state} back to waiting");
        }
    }

    #[test]
    fn finished_states_are_final() {
        for from in JobState::ALL.into_iter().filter(|s| s.is_finished()) {
            for to in JobState::ALL {
                assert!(!from.can_become(to), "{from} to {to}");
            }
        }
        for state in JobState::ALL.into_iter().filter(|s| !s.is_finished()) {
            assert!(
                JobState::ALL.into_iter().any(|to| state.can_become(to)),
                "{state} is stuck"
            );
        }
    }

    #[test]
    fn sources_agree_with_the_moves() {
        assert_eq!(JobState::sources_of(Done), [Applying, Syncing]);
        assert_eq!(JobState::sources_of(Stopped), [Waiting]);
        assert!(JobState::sources_of(Waiting).is_empty());
        for to in JobState::ALL {
            for from in JobState::ALL {
                assert_eq!(
                    JobState::sources_of(to).contains(&from),
                    from.can_become(to)
                );
            }
        }
    }
}
