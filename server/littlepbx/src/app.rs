//! Start-up and shutdown: database, migrations, snapshot, state, router, listener.
//!
//! The server starts even when its database does not answer: it then serves FreeSWITCH from
//! the local snapshot file (`engine::snapshot_file`), answers the APIs with 503, and migrates
//! and starts its database work (Apply jobs, FreeSWITCH commands, call-record retention) as
//! soon as the database answers.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use store::freeswitch_db::FreeSwitchDb;
use tokio::net::TcpListener;

use engine::config::{ensure_secrets, Config};
use engine::secrets::SecretBox;
use engine::snapshot_file::SnapshotError;
use engine::Engine;
use web::routes;
use web::AppState;

/// How long start-up waits for the database's first answer, then for the migrations, before
/// serving from the snapshot file.
const STARTUP_PROBE_WAIT: Duration = Duration::from_secs(1);
const STARTUP_DATABASE_WAIT: Duration = Duration::from_secs(3);

/// How long a stopping server lets requests in flight and the Apply step under way finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    /// The LDAP phone book's listener, when configured and free.
    ldap: Option<TcpListener>,
    state: AppState,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), opens the database (migrating it) or, when
    /// it does not answer, the snapshot file.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        ensure_secrets(&mut config)?;
        let listen = config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        // With port 0 the system picks the port; the addresses LittlePBX writes (org pages,
        // invitation links) must name the real one.
        config.listen = listener.local_addr().context("reading the bound address")?;
        let ldap = bind_ldap(&mut config).await;
        let state = start_state(config).await?;
        Ok(Self {
            listener,
            ldap,
            state,
        })
    }

    /// The LDAP phone book's port, when it runs.
    pub fn ldap_port(&self) -> Option<u16> {
        self.ldap
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is killed.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `stop` resolves, then stops taking requests, lets the requests in flight
    /// and the Apply step under way finish (at most [`SHUTDOWN_GRACE`]) and returns.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state;
        tokio::spawn(engine::database::run_probe(state.engine().clone()));
        tokio::spawn(engine::xml_cache::run_refresher(state.engine().clone()));
        let jobs = tokio::spawn(run_database_work(state.engine().clone()));
        if let Some(listener) = self.ldap {
            tokio::spawn(serve_ldap(listener, state.engine().clone()));
        }
        let router = routes::router(state.clone());
        let stopping = state.clone();
        let server = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            stop.await;
            tracing::info!(
                "stopping: finishing the requests in flight and the Apply step under way"
            );
            stopping.begin_shutdown();
        });
        let server = tokio::spawn(async move { server.await });
        state.shutting_down().await;
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
            let served = server.await;
            let _ = jobs.await;
            served
        })
        .await;
        match finished {
            Ok(served) => served.context("serving HTTP")?.context("serving HTTP")?,
            Err(_) => tracing::warn!(
                "stopping after {} s with work still in flight",
                SHUTDOWN_GRACE.as_secs()
            ),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Migrates when the database answers (at once when start-up did), then runs the work that
/// needs it; returns when the server stops.
async fn run_database_work(state: Engine) {
    // Start-up migrated already unless the database did not answer then.
    if !state.database().current().is_up() {
        tokio::select! {
            () = engine::database::migrate_until_done(&state) => {}
            () = state.shutting_down() => return,
        }
    }
    tokio::spawn(engine::fs_socket::run_command_delivery(state.clone()));
    tokio::spawn(calls::cdr::run_retention(state.clone()));
    tokio::spawn(engine::history::run_retention(state.clone()));
    tokio::spawn(engine::desk_phones::run_retention(state.clone()));
    engine::jobs::run(state).await;
}

/// Binds the LDAP phone book's address. A busy address is logged and leaves the phone book
/// off (phones are then not told about it) rather than stopping the PBX.
async fn bind_ldap(config: &mut Config) -> Option<TcpListener> {
    let address = config.ldap.listen?;
    match TcpListener::bind(address).await {
        Ok(listener) => {
            config.ldap.listen = listener.local_addr().ok();
            tracing::info!(address = ?config.ldap.listen, "LDAP phone book listening");
            Some(listener)
        }
        Err(err) => {
            tracing::error!("LDAP phone book off: cannot listen on {address}: {err}");
            config.ldap.listen = None;
            None
        }
    }
}

async fn serve_ldap(listener: TcpListener, engine: Engine) {
    let limits = ldap_phonebook::Limits {
        max_results: engine.config().ldap.max_results,
        ..ldap_phonebook::Limits::default()
    };
    let directory = std::sync::Arc::new(engine::phonebook::Phonebooks::new(engine.clone()));
    let stop = engine.clone();
    let stopped = async move { stop.shutting_down().await };
    if let Err(err) = ldap_phonebook::serve(listener, directory, limits, stopped).await {
        tracing::error!("LDAP phone book stopped: {err}");
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot listen for SIGTERM; stopping only when killed");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// FreeSWITCH's own database, when one is configured (connected on first use).
async fn freeswitch_db(config: &Config) -> anyhow::Result<Option<FreeSwitchDb>> {
    let url = config.freeswitch.db_url.expose();
    if url.is_empty() {
        return Ok(None);
    }
    let db = FreeSwitchDb::connect_lazily(url)
        .await
        .context("freeswitch.db_url")?;
    Ok(Some(db))
}

/// Opens the state for `serve`: the database when it answers within
/// [`STARTUP_DATABASE_WAIT`], otherwise the snapshot file until it does.
async fn start_state(config: Config) -> anyhow::Result<AppState> {
    // The data directory holds the snapshot file whatever the database.
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let store = store::Store::connect_lazily(&config.effective_database_url())
        .await
        .context("opening the database")?;
    let secret_box = SecretBox::new(config.secret_key.expose())?;
    let freeswitch = engine::fs_socket::FreeSwitch::start(&config);
    let freeswitch_db = freeswitch_db(&config).await?;
    let state = AppState::new(Engine::new(
        config,
        store,
        secret_box,
        freeswitch,
        freeswitch_db,
    ));
    let snapshot = snapshot_file_epoch(&state);
    // One probe first: a database that is down is known within a second, and the snapshot
    // is served without waiting for the migrations' longer deadline.
    let migrated = match tokio::time::timeout(STARTUP_PROBE_WAIT, state.store().probe()).await {
        Ok(Ok(())) => tokio::time::timeout(STARTUP_DATABASE_WAIT, state.store().migrate()).await,
        Ok(Err(err)) => Ok(Err(err)),
        Err(elapsed) => Err(elapsed),
    };
    match migrated {
        Ok(Ok(())) => {
            state.database().set_up();
            if let Some(epoch) = snapshot {
                serve_snapshot_if_current(&state, epoch).await;
            }
        }
        Ok(Err(err)) if !err.is_unavailable() => {
            return Err(err).context("running database migrations")
        }
        outcome => {
            let why = match outcome {
                Ok(Err(err)) => err.to_string(),
                _ => "no answer in time".to_owned(),
            };
            tracing::error!(error = %why, "the configuration database does not answer at start-up; retrying in the background");
            if snapshot.is_none() || !serve_snapshot(&state).await {
                tracing::error!(
                    "no snapshot file to serve: FreeSWITCH is refused until the database answers"
                );
            }
        }
    }
    Ok(state)
}

/// The epoch of the snapshot file, or `None` with a log line saying why it is not used.
fn snapshot_file_epoch(state: &AppState) -> Option<i64> {
    let file = engine::xml_cache::snapshot_file(state.config());
    match file.epoch() {
        Ok(epoch) => Some(epoch),
        Err(SnapshotError::Missing) => None,
        Err(err) => {
            ignoring_snapshot_file(&file, &err);
            None
        }
    }
}

fn ignoring_snapshot_file(file: &engine::snapshot_file::SnapshotFile, why: &SnapshotError) {
    tracing::warn!(file = %file.path().display(), reason = %why, "ignoring the snapshot file");
}

/// Serves the snapshot file (read on a blocking thread: it may be large); false, with a log
/// line, when it turned out damaged.
async fn serve_snapshot(state: &AppState) -> bool {
    let state = state.clone();
    let served = tokio::task::spawn_blocking(move || {
        let file = engine::xml_cache::snapshot_file(state.config());
        let served = state
            .xml_cache()
            .serve_snapshot(state.config(), state.secret_box(), &file);
        served.map_err(|err| ignoring_snapshot_file(&file, &err))
    })
    .await;
    matches!(served, Ok(Ok(())))
}

/// Serves the snapshot only when the database is at its epoch (a restart then skips the full
/// load); a snapshot older (or newer) than the database is never served over it.
async fn serve_snapshot_if_current(state: &AppState, file_epoch: i64) {
    match tokio::time::timeout(Duration::from_secs(1), state.store().xml_epoch()).await {
        Ok(Ok(epoch)) if epoch == file_epoch => {
            serve_snapshot(state).await;
        }
        Ok(Ok(epoch)) => tracing::warn!(
            file_epoch,
            database_epoch = epoch,
            "ignoring the snapshot file: it is not at the database's epoch; loading from the database"
        ),
        _ => tracing::warn!("ignoring the snapshot file: the database did not say its epoch"),
    }
}

fn create_sqlite_dir(config: &Config) -> anyhow::Result<()> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    Ok(())
}

/// Opens the database (creating the SQLite directory), migrates it and builds the state: for
/// the commands that need the database now (`migrate`, `seed-demo`, `api-key`).
pub async fn open_state(config: Config) -> anyhow::Result<AppState> {
    create_sqlite_dir(&config)?;
    let store = store::Store::connect(&config.effective_database_url())
        .await
        .context("connecting to the database")?;
    store
        .migrate()
        .await
        .context("running database migrations")?;
    let secret_box = SecretBox::new(config.secret_key.expose())?;
    let freeswitch = engine::fs_socket::FreeSwitch::start(&config);
    let freeswitch_db = freeswitch_db(&config).await?;
    let state = AppState::new(Engine::new(
        config,
        store,
        secret_box,
        freeswitch,
        freeswitch_db,
    ));
    state.database().set_up();
    Ok(state)
}
