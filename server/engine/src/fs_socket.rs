//! LittlePBX's side of the event socket: the connection, the delivery of queued commands, call
//! counts and gateway states.
//!
//! Commands FreeSWITCH must receive are queued in the database by the change that needs them
//! (see `store::fs_commands`). [`run_command_delivery`] sends them in queue order whenever the
//! socket is up, so an unreachable FreeSWITCH only delays them. Each instance keeps its own
//! connection; when several instances run, a command may be delivered twice, which is harmless
//! because every command we queue is idempotent.
//!
//! A command is sent only once every live instance serves the XML epoch it was queued at
//! (`store::instances`): each command makes FreeSWITCH read something again, and it may ask any
//! instance, so none may still answer with what was there before.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use esl::{ConnectionState, EslConfig, EslError, EventFormat, ReconnectingClient};
use freeswitch::status;
use tokio::sync::Notify;

use crate::config::Config;
use crate::Engine;

/// Why FreeSWITCH could not be asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FsError {
    #[error("FreeSWITCH event socket is not configured")]
    NotConfigured,
    #[error("FreeSWITCH is not reachable: {0}")]
    Unreachable(String),
    #[error("FreeSWITCH answered: {0}")]
    Refused(String),
}

impl From<EslError> for FsError {
    fn from(err: EslError) -> Self {
        match err {
            EslError::CommandFailed(text) => FsError::Refused(text),
            other => FsError::Unreachable(other.to_string()),
        }
    }
}

/// A gateway's registration state as last reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayStatus {
    pub state: String,
    pub ping_status: Option<String>,
    pub checked_at: i64,
}

pub struct FreeSwitch {
    client: Option<ReconnectingClient>,
    gateways: RwLock<HashMap<String, GatewayStatus>>,
    /// Wakes the delivery loop when commands were queued.
    queued: Notify,
}

impl FreeSwitch {
    /// Connects (in the background, retrying) when an event-socket password is configured.
    pub fn start(config: &Config) -> Arc<Self> {
        let client = (!config.freeswitch.esl_password.is_empty()).then(|| {
            let mut esl = EslConfig::new(
                config.freeswitch.esl_address.clone(),
                config.freeswitch.esl_password.expose(),
            );
            esl.timeout = Duration::from_secs(5);
            esl.backoff_max = Duration::from_secs(10);
            ReconnectingClient::spawn(esl)
        });
        let fs = Arc::new(Self {
            client,
            gateways: RwLock::default(),
            queued: Notify::new(),
        });
        if let Some(client) = fs.client.clone() {
            tokio::spawn(follow_gateway_events(Arc::downgrade(&fs), client.clone()));
            tokio::spawn(refresh_on_connect(
                client,
                config.freeswitch.external_profile.clone(),
            ));
        }
        fs
    }

    pub fn is_configured(&self) -> bool {
        self.client.is_some()
    }

    pub fn is_connected(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(ReconnectingClient::is_connected)
    }

    /// For people: "connected", "not configured" or why it is not reachable.
    pub fn describe_connection(&self) -> String {
        match self.client.as_ref().map(ReconnectingClient::state) {
            None => "not configured".into(),
            Some(ConnectionState::Connected) => "connected".into(),
            Some(ConnectionState::Connecting) => "connecting".into(),
            Some(ConnectionState::Disconnected { last_error, .. }) => {
                format!("not reachable ({last_error})")
            }
        }
    }

    fn client(&self) -> Result<&ReconnectingClient, FsError> {
        self.client.as_ref().ok_or(FsError::NotConfigured)
    }

    /// Runs an API command; any answer, `-ERR` included, comes back as text.
    pub async fn api_raw(&self, command: &str) -> Result<String, FsError> {
        Ok(self.client()?.api_raw(command).await?)
    }

    /// Fires an event inside FreeSWITCH (`sendevent`).
    pub async fn send_event(&self, event: &freeswitch::sync::FsEvent) -> Result<(), FsError> {
        let headers: Vec<(&str, &str)> = event
            .headers
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        Ok(self.client()?.sendevent(event.name, &headers).await?)
    }

    /// The org's calls in progress, counted by the `limit hash lpbx_calls <slug>` every call of
    /// the org passes (see `freeswitch::names`).
    pub async fn calls_in_progress(&self, slug: &str) -> Result<u32, FsError> {
        let output = self
            .client()?
            .api(&format!(
                "limit_usage hash {} {slug}",
                freeswitch::names::CALLS_REALM
            ))
            .await?;
        output.trim().parse().map_err(|_| {
            FsError::Refused(format!("unexpected limit_usage answer {:?}", output.trim()))
        })
    }

    pub fn gateway_status(&self, gateway: &str) -> Option<GatewayStatus> {
        self.gateways
            .read()
            .ok()
            .and_then(|map| map.get(gateway).cloned())
    }

    fn record_gateway(&self, gateway: &str, status: GatewayStatus) {
        if let Ok(mut map) = self.gateways.write() {
            map.insert(gateway.to_owned(), status);
        }
    }

    /// Asks FreeSWITCH for a gateway's state (`sofia xmlstatus gateway NAME`) and remembers it.
    pub async fn refresh_gateway(&self, gateway: &str) -> Result<Option<GatewayStatus>, FsError> {
        let output = self
            .api_raw(&status::gateway_status_command(gateway))
            .await?;
        let status = status::parse_gateway_status(&output).map(|gateway| GatewayStatus {
            state: gateway.state,
            ping_status: gateway.ping_status,
            checked_at: store::now_ms(),
        });
        match &status {
            Some(status) => self.record_gateway(gateway, status.clone()),
            None => {
                if let Ok(mut map) = self.gateways.write() {
                    map.remove(gateway);
                }
            }
        }
        Ok(status)
    }

    /// Tells the delivery loop that commands were queued.
    pub fn commands_queued(&self) {
        self.queued.notify_one();
    }
}

/// Keeps gateway states current from `CUSTOM sofia::gateway_state` events.
async fn follow_gateway_events(fs: std::sync::Weak<FreeSwitch>, client: ReconnectingClient) {
    let mut events = client.events();
    if let Err(err) = client
        .subscribe_events(EventFormat::Plain, &["CUSTOM", "sofia::gateway_state"])
        .await
    {
        tracing::warn!(error = %err, "subscribing to gateway events");
    }
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let Some(fs) = fs.upgrade() else { return };
        if event.subclass() != Some("sofia::gateway_state") {
            continue;
        }
        if let (Some(gateway), Some(state)) = (event.get("Gateway"), event.get("State")) {
            let status = GatewayStatus {
                state: state.to_owned(),
                ping_status: event.get("Ping-Status").map(str::to_owned),
                checked_at: store::now_ms(),
            };
            tracing::info!(gateway, state, "gateway state");
            fs.record_gateway(gateway, status);
        }
    }
}

async fn refresh_on_connect(client: ReconnectingClient, external_profile: String) {
    let mut state = client.watch_state();
    loop {
        if matches!(*state.borrow_and_update(), ConnectionState::Connected) {
            for command in status::on_connect_commands(&external_profile) {
                match client.api_raw(&command).await {
                    Ok(answer) => {
                        tracing::info!(command, answer = %answer.trim(), "FreeSWITCH connected")
                    }
                    Err(err) => tracing::warn!(command, error = %err, "FreeSWITCH connected"),
                }
            }
            crate::scratch_dirs::check(&client).await;
        }
        if state.changed().await.is_err() {
            return;
        }
    }
}

/// Delivers queued commands whenever FreeSWITCH is reachable, oldest first. Runs forever.
pub async fn run_command_delivery(state: Engine) {
    let fs = state.freeswitch().clone();
    if !fs.is_configured() {
        tracing::warn!(
            "no event-socket password configured: FreeSWITCH will not be told about changes"
        );
        return;
    }
    loop {
        let mut wait = Duration::from_secs(1);
        if fs.is_connected() {
            match deliver_pending(&state).await {
                Ok(Delivery::Idle) => {}
                Ok(Delivery::Sent(delivered)) => {
                    tracing::info!(delivered, "FreeSWITCH told");
                    continue;
                }
                // Look again soon: the instances catch up within their poll interval.
                Ok(Delivery::WaitingForInstances) => wait = Duration::from_millis(100),
                Err(err) => tracing::warn!(error = %err, "delivering FreeSWITCH commands"),
            }
        }
        let _ = tokio::time::timeout(wait, fs.queued.notified()).await;
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Nothing was waiting, or FreeSWITCH stopped answering.
    Idle,
    /// FreeSWITCH answered this many commands.
    Sent(usize),
    /// The oldest command waits until every live instance serves its epoch.
    WaitingForInstances,
}

/// Sends up to 100 queued commands, oldest first, stopping at the first one that some live
/// instance does not serve yet.
pub async fn deliver_pending(state: &Engine) -> anyhow::Result<Delivery> {
    let fs = state.freeswitch();
    let pending = state.store().pending_fs_commands(100).await?;
    if pending.is_empty() {
        return Ok(Delivery::Idle);
    }
    // This instance is one of the live ones; without any report yet, it alone counts.
    let served = state
        .store()
        .lowest_served_epoch()
        .await?
        .unwrap_or_else(|| state.xml_cache().served_epoch());
    let mut delivered = 0;
    for command in pending {
        if command.epoch > served {
            state.xml_cache().invalidate();
            return Ok(if delivered == 0 {
                Delivery::WaitingForInstances
            } else {
                Delivery::Sent(delivered)
            });
        }
        match fs.api_raw(&command.command).await {
            // Any answer means FreeSWITCH has seen the command; `-ERR no such gateway` after
            // a gateway was removed is the expected answer, not a reason to retry forever.
            Ok(output) => {
                if output.starts_with("-ERR") {
                    tracing::info!(command = %command.command, answer = %output.trim(), "FreeSWITCH refused a command");
                    state
                        .store()
                        .mark_fs_command_failed(command.id, output.trim())
                        .await?;
                }
                state.store().mark_fs_command_done(command.id).await?;
                delivered += 1;
                refresh_gateway_after(state, &command.command).await;
            }
            Err(FsError::Refused(text)) => {
                state
                    .store()
                    .mark_fs_command_failed(command.id, &text)
                    .await?;
                state.store().mark_fs_command_done(command.id).await?;
                delivered += 1;
            }
            Err(err) => {
                state
                    .store()
                    .mark_fs_command_failed(command.id, &err.to_string())
                    .await?;
                break;
            }
        }
    }
    Ok(if delivered == 0 {
        Delivery::Idle
    } else {
        Delivery::Sent(delivered)
    })
}

/// After a gateway was (re)started, its state is read again so the provider sees it change.
async fn refresh_gateway_after(state: &Engine, command: &str) {
    if let Some(gateway) = status::gateway_in_command(command) {
        if let Err(err) = state.freeswitch().refresh_gateway(gateway).await {
            tracing::debug!(error = %err, gateway, "reading gateway state");
        }
    }
}
