//! Start-up: database, migrations, state, router, listener.

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{ensure_secrets, Config};
use crate::routes;
use crate::secrets::SecretBox;
use crate::state::AppState;

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Connects to the database, runs migrations and binds the listener (port 0 picks a free one).
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        ensure_secrets(&mut config)?;
        let listen = config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        // With port 0 the system picks the port; the addresses LittlePBX writes (org pages,
        // invitation links) must name the real one.
        config.listen = listener.local_addr().context("reading the bound address")?;
        let state = open_state(config).await?;
        Ok(Self { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped.
    pub async fn run(self) -> anyhow::Result<()> {
        tokio::spawn(crate::freeswitch::run_command_delivery(self.state.clone()));
        tokio::spawn(crate::jobs::run(self.state.clone()));
        tokio::spawn(crate::xml_cache::run_refresher(self.state.clone()));
        tokio::spawn(crate::cdr::run_retention(self.state.clone()));
        let router = routes::router(self.state.clone());
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .context("serving HTTP")
    }
}

/// Opens the database (creating the SQLite directory), migrates it and builds the state.
pub async fn open_state(config: Config) -> anyhow::Result<AppState> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    let store = store::Store::connect(&config.effective_database_url())
        .await
        .context("connecting to the database")?;
    store
        .migrate()
        .await
        .context("running database migrations")?;
    let secret_box = SecretBox::new(config.secret_key.expose())?;
    let freeswitch = crate::freeswitch::FreeSwitch::start(&config);
    Ok(AppState::new(config, store, secret_box, freeswitch))
}
