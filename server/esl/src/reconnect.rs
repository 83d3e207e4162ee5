//! A client that keeps one connection up: reconnects with backoff, re-authenticates, re-sends the
//! event subscriptions and reports its state.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::client::{event_command, EslClient, EVENT_CHANNEL_CAPACITY};
use crate::error::EslError;
use crate::event::{Event, EventFormat};

/// Where and how to connect.
#[derive(Clone)]
pub struct EslConfig {
    /// `host:port` of the event socket, normally `127.0.0.1:8021`.
    pub addr: String,
    /// The event socket password.
    pub password: String,
    /// Limit for connect + auth, and for each command.
    pub timeout: Duration,
    /// First wait after a failure; doubled after each further failure.
    pub backoff_min: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
}

impl EslConfig {
    /// Defaults: 5 s timeout, backoff from 250 ms to 30 s.
    pub fn new(addr: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            addr: addr.into(),
            password: password.into(),
            timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for EslConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EslConfig")
            .field("addr", &self.addr)
            .field("password", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .finish()
    }
}

/// What the application shows as "FreeSWITCH reachable or not".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// The first attempt has not finished yet.
    Connecting,
    /// Connected and authenticated; subscriptions sent.
    Connected,
    /// Not connected. `last_error` is why (connection refused, password rejected, dropped...);
    /// `failed_attempts` counts attempts since the last good connection (0 right after a drop).
    Disconnected {
        /// Display text of the last error.
        last_error: String,
        /// Failed attempts since the last successful connection.
        failed_attempts: u32,
    },
}

#[derive(Debug, Clone, Default)]
struct Subscription {
    format: Option<EventFormat>,
    names: Vec<String>,
}

struct Inner {
    config: EslConfig,
    current: Mutex<Option<EslClient>>,
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<Event>,
    /// Held while subscriptions are sent, so that a subscription added during a reconnection is
    /// neither lost nor sent to a connection that is being replaced.
    subs: tokio::sync::Mutex<Subscription>,
}

impl Inner {
    fn current(&self) -> MutexGuard<'_, Option<EslClient>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A handle to a self-healing event-socket connection. Clone it freely; the background task stops
/// when the last clone is dropped.
///
/// Commands are not queued while disconnected: they fail at once with
/// [`EslError::NotConnected`] (carrying the last error), so the caller can record what FreeSWITCH
/// has not been told and retry after [`ReconnectingClient::wait_connected`]. A command in flight
/// when the connection drops fails with [`EslError::Disconnected`]; whether FreeSWITCH ran it is
/// unknown, so only idempotent commands (flush, rescan, reload) should be retried blindly.
#[derive(Clone)]
pub struct ReconnectingClient {
    inner: Arc<Inner>,
    _task: Arc<AbortOnDrop>,
}

impl std::fmt::Debug for ReconnectingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingClient")
            .field("config", &self.inner.config)
            .field("state", &self.state())
            .finish()
    }
}

impl ReconnectingClient {
    /// Starts connecting in the background (must be called inside a tokio runtime) and returns
    /// at once; the state starts as [`ConnectionState::Connecting`].
    pub fn spawn(config: EslConfig) -> Self {
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let (state, _) = watch::channel(ConnectionState::Connecting);
        let inner = Arc::new(Inner {
            config,
            current: Mutex::new(None),
            state,
            events,
            subs: tokio::sync::Mutex::new(Subscription::default()),
        });
        let task = tokio::spawn(run(inner.clone()));
        Self {
            inner,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    /// The state now.
    pub fn state(&self) -> ConnectionState {
        self.inner.state.borrow().clone()
    }

    /// A receiver that sees every state change.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.inner.state.subscribe()
    }

    /// True when connected.
    pub fn is_connected(&self) -> bool {
        *self.inner.state.borrow() == ConnectionState::Connected
    }

    /// Waits until connected, at most `timeout`; on timeout returns
    /// [`EslError::NotConnected`] with the last error.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<(), EslError> {
        let mut rx = self.inner.state.subscribe();
        let waited =
            tokio::time::timeout(timeout, rx.wait_for(|s| *s == ConnectionState::Connected)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            _ => Err(self.not_connected()),
        }
    }

    /// Events from every connection, across reconnections (events sent while disconnected are
    /// lost: FreeSWITCH does not keep them).
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// [`EslClient::api`] on the current connection.
    pub async fn api(&self, cmd: &str) -> Result<String, EslError> {
        self.client()?.api(cmd).await
    }

    /// [`EslClient::api_raw`] on the current connection.
    pub async fn api_raw(&self, cmd: &str) -> Result<String, EslError> {
        self.client()?.api_raw(cmd).await
    }

    /// [`EslClient::sendevent`] on the current connection.
    pub async fn sendevent(&self, name: &str, headers: &[(&str, &str)]) -> Result<(), EslError> {
        self.client()?.sendevent(name, headers).await
    }

    /// [`EslClient::bgapi`] on the current connection.
    pub async fn bgapi(&self, cmd: &str) -> Result<String, EslError> {
        self.client()?.bgapi(cmd).await
    }

    /// Records the subscription (names are added; the format replaces the previous one, as in
    /// FreeSWITCH) and sends it now if connected; it is sent again after every reconnection.
    ///
    /// Returns `Ok` when recorded and, if connected, confirmed. If FreeSWITCH refuses it
    /// ([`EslError::CommandFailed`]) it is not recorded; on other errors it stays recorded and
    /// is sent with the next connection.
    pub async fn subscribe_events(
        &self,
        format: EventFormat,
        names: &[&str],
    ) -> Result<(), EslError> {
        event_command(format, names)?;
        let mut subs = self.inner.subs.lock().await;
        let before = subs.clone();
        subs.format = Some(format);
        for n in names {
            let n = n.trim();
            if !subs.names.iter().any(|have| have == n) {
                subs.names.push(n.to_string());
            }
        }
        let client = self.inner.current().clone();
        let Some(client) = client else {
            return Ok(());
        };
        let all: Vec<&str> = subs.names.iter().map(String::as_str).collect();
        match client.subscribe_events(format, &all).await {
            Ok(()) => Ok(()),
            Err(e @ EslError::CommandFailed(_)) => {
                *subs = before;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn client(&self) -> Result<EslClient, EslError> {
        let current = self.inner.current().clone();
        match current {
            Some(c) if c.is_connected() => Ok(c),
            _ => Err(self.not_connected()),
        }
    }

    fn not_connected(&self) -> EslError {
        match self.state() {
            ConnectionState::Disconnected { last_error, .. } => EslError::NotConnected(last_error),
            ConnectionState::Connecting => {
                EslError::NotConnected("first connection attempt not finished".into())
            }
            ConnectionState::Connected => EslError::NotConnected("connection just closed".into()),
        }
    }
}

/// Connects, subscribes and publishes the connection while holding the subscription lock.
async fn establish(inner: &Inner) -> Result<EslClient, EslError> {
    let cfg = &inner.config;
    let client =
        EslClient::connect_with_events(&cfg.addr, &cfg.password, cfg.timeout, inner.events.clone())
            .await?;
    let subs = inner.subs.lock().await;
    if let Some(format) = subs.format {
        let names: Vec<&str> = subs.names.iter().map(String::as_str).collect();
        client.subscribe_events(format, &names).await?;
    }
    *inner.current() = Some(client.clone());
    inner.state.send_replace(ConnectionState::Connected);
    drop(subs);
    Ok(client)
}

async fn run(inner: Arc<Inner>) {
    let min = inner.config.backoff_min;
    let max = inner.config.backoff_max.max(min);
    let mut backoff = min;
    let mut failed: u32 = 0;
    loop {
        match establish(&inner).await {
            Ok(client) => {
                tracing::info!(addr = %inner.config.addr, "connected to FreeSWITCH event socket");
                failed = 0;
                backoff = min;
                let reason = client.closed().await;
                *inner.current() = None;
                tracing::warn!(error = %reason, "FreeSWITCH event socket connection lost");
                inner.state.send_replace(ConnectionState::Disconnected {
                    last_error: reason.to_string(),
                    failed_attempts: 0,
                });
            }
            Err(e) => {
                failed = failed.saturating_add(1);
                tracing::warn!(error = %e, attempt = failed, retry_in = ?backoff,
                    "cannot connect to FreeSWITCH event socket");
                inner.state.send_replace(ConnectionState::Disconnected {
                    last_error: e.to_string(),
                    failed_attempts: failed,
                });
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(max);
                continue;
            }
        }
        tokio::time::sleep(backoff).await;
    }
}
