//! Is the configuration database answering? One probe watches it, so that a request never
//! waits on a database that is down: the API answers 503 at once, `/healthz` says which part is
//! down, and everything resumes by itself when the database answers again.
//!
//! FreeSWITCH does not depend on this: `/fs/xml` answers from the XML cache in memory.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::Engine;

/// What the last probes found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseState {
    /// The server started and the database has not answered (or not been migrated) yet.
    Starting {
        error: Option<String>,
    },
    Up,
    Down {
        since: Instant,
        error: String,
    },
}

impl DatabaseState {
    pub fn is_up(&self) -> bool {
        matches!(self, DatabaseState::Up)
    }

    /// Why the database is not usable, for people; `None` when it is.
    pub fn problem(&self) -> Option<String> {
        match self {
            DatabaseState::Up => None,
            DatabaseState::Starting { error: None } => {
                Some("the database has not answered since start-up".to_owned())
            }
            DatabaseState::Starting { error: Some(error) } | DatabaseState::Down { error, .. } => {
                Some(error.clone())
            }
        }
    }
}

/// The shared view of the database's state.
pub struct DatabaseWatch {
    state: watch::Sender<DatabaseState>,
}

impl Default for DatabaseWatch {
    fn default() -> Self {
        Self {
            state: watch::channel(DatabaseState::Starting { error: None }).0,
        }
    }
}

impl DatabaseWatch {
    pub fn current(&self) -> DatabaseState {
        self.state.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<DatabaseState> {
        self.state.subscribe()
    }

    /// Marks the database usable (after migrations ran).
    pub fn set_up(&self) {
        self.state.send_if_modified(|state| {
            if state.is_up() {
                return false;
            }
            tracing::info!("the configuration database answers");
            *state = DatabaseState::Up;
            true
        });
    }

    fn set_failed(&self, error: String) {
        self.state.send_if_modified(|state| match state {
            DatabaseState::Up => {
                tracing::error!(error = %error, "the configuration database does not answer; FreeSWITCH is served from memory");
                *state = DatabaseState::Down {
                    since: Instant::now(),
                    error,
                };
                true
            }
            DatabaseState::Down { error: known, .. }
            | DatabaseState::Starting { error: Some(known) }
                if *known == error =>
            {
                false
            }
            DatabaseState::Down { error: known, .. } => {
                *known = error;
                true
            }
            DatabaseState::Starting { error: known } => {
                *known = Some(error);
                true
            }
        });
    }
}

/// How often the database is probed, and how long one probe may take. A database that misses
/// [`FAILURES_TO_DOWN`] probes in a row is down: within about 1.5 s of freezing, so that an API
/// call never waits 2 s for it, while one slow answer on a loaded machine is not an outage.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
const FAILURES_TO_DOWN: u32 = 2;

/// Probes the database forever. Only marks it up once it is: the start-up sequence marks it up
/// after migrating, so a database that was never migrated is not "up".
pub async fn run_probe(state: Engine) {
    let watch = state.database();
    let mut failures = 0;
    loop {
        match probe_once(&state).await {
            Ok(()) => {
                failures = 0;
                if matches!(watch.current(), DatabaseState::Down { .. }) {
                    watch.set_up();
                }
            }
            Err(error) => {
                failures += 1;
                if failures >= FAILURES_TO_DOWN {
                    watch.set_failed(error);
                }
            }
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

async fn probe_once(state: &Engine) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, state.store().probe()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(short_error(&err.to_string())),
        Err(_) => Err(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis())),
    }
}

/// Runs the migrations until they succeed (the database may be down at start-up), marking the
/// database up when they did.
pub async fn migrate_until_done(state: &Engine) {
    loop {
        match state.store().migrate().await {
            Ok(()) => {
                state.database().set_up();
                return;
            }
            Err(err) => {
                let error = short_error(&err.to_string());
                tracing::warn!(error = %error, "the configuration database is not usable yet; retrying");
                state.database().set_failed(error);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The first line of a driver error, without the URL or password it may quote.
fn short_error(error: &str) -> String {
    let first = error.lines().next().unwrap_or(error);
    let cleaned: String = first
        .split_whitespace()
        .filter(|word| !word.contains("://"))
        .collect::<Vec<_>>()
        .join(" ");
    cleaned.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_down_database_says_why_and_recovers() {
        let watch = DatabaseWatch::default();
        assert!(watch.current().problem().is_some());
        watch.set_failed("Connection refused".into());
        assert_eq!(
            watch.current().problem().as_deref(),
            Some("Connection refused")
        );
        assert!(matches!(watch.current(), DatabaseState::Starting { .. }));
        watch.set_up();
        assert!(watch.current().is_up());
        watch.set_failed("no answer within 500 ms".into());
        assert!(matches!(watch.current(), DatabaseState::Down { .. }));
        watch.set_up();
        assert_eq!(watch.current(), DatabaseState::Up);
    }

    #[test]
    fn errors_never_quote_a_url() {
        assert_eq!(
            short_error("error connecting to mysql://u:secret@db:3306/x: refused\nmore"),
            "error connecting to refused"
        );
    }
}
