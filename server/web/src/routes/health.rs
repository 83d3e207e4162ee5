//! `GET /healthz`: which parts work, answered within a second whatever the database does.
//!
//! 200 when the database answers with the current schema and FreeSWITCH's configuration is
//! loaded; 503 otherwise (what load balancers understand), with the part that is down named.
//! The answer comes from the database probe's last result (`engine::database`), never from a
//! query that could hang; only the migration count is read, with a short deadline.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;
use engine::database::DatabaseState;
use engine::xml_cache::Source;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub database: DatabaseHealth,
    pub freeswitch_config: ConfigHealth,
    pub event_socket: String,
    /// FreeSWITCH's own database (`freeswitch.db_url`): "not configured", "up", or "down: why".
    /// Not part of `status`: LittlePBX serves FreeSWITCH without it.
    pub freeswitch_database: String,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DatabaseHealth {
    pub kind: &'static str,
    pub reachable: bool,
    /// "up", "down" or "starting".
    pub state: &'static str,
    pub down_for_seconds: Option<u64>,
    pub pending_migrations: Option<usize>,
    pub error: Option<String>,
}

/// What `/fs/xml` answers FreeSWITCH from.
#[derive(Debug, Serialize)]
pub struct ConfigHealth {
    /// "database", "snapshot" (loaded from the local file, the database not read yet) or
    /// "loading" (nothing to serve yet).
    pub source: &'static str,
    pub epoch: i64,
    pub orgs: usize,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// How long the migration count (or FreeSWITCH's database's ping) may take before the database
/// counts as slow.
const QUERY_DEADLINE: Duration = Duration::from_millis(500);

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = database_health(&state).await;
    let cache = state.xml_cache();
    let freeswitch_config = ConfigHealth {
        source: match cache.source() {
            Source::Loading => "loading",
            Source::Snapshot => "snapshot",
            Source::Database => "database",
        },
        epoch: cache.served_epoch(),
        orgs: cache.current().len(),
    };
    let healthy = database.reachable
        && database.pending_migrations == Some(0)
        && freeswitch_config.source != "loading";
    let health = Health {
        status: if healthy { "ok" } else { "degraded" },
        database,
        freeswitch_config,
        event_socket: state.freeswitch().describe_connection(),
        freeswitch_database: freeswitch_database_health(&state).await,
        version: env!("CARGO_PKG_VERSION"),
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health))
}

async fn freeswitch_database_health(state: &AppState) -> String {
    let Some(db) = state.freeswitch_db() else {
        return "not configured".to_owned();
    };
    match tokio::time::timeout(QUERY_DEADLINE, db.ping()).await {
        Ok(Ok(())) => "up".to_owned(),
        Ok(Err(err)) if err.is_unavailable() => "down: it cannot be reached".to_owned(),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: FreeSWITCH's database");
            "down: it refused the query (see LittlePBX's log)".to_owned()
        }
        Err(_) => format!("down: no answer within {} ms", QUERY_DEADLINE.as_millis()),
    }
}

async fn database_health(state: &AppState) -> DatabaseHealth {
    let store = state.store();
    let kind = match store.kind() {
        store::DatabaseKind::Sqlite => "sqlite",
        store::DatabaseKind::MySql => "mysql",
    };
    let current = state.database().current();
    let (state_name, down_for_seconds) = match &current {
        DatabaseState::Up => ("up", None),
        DatabaseState::Starting { .. } => ("starting", None),
        DatabaseState::Down { since, .. } => ("down", Some(since.elapsed().as_secs())),
    };
    let mut health = DatabaseHealth {
        kind,
        reachable: current.is_up(),
        state: state_name,
        down_for_seconds,
        pending_migrations: None,
        error: current.problem(),
    };
    if health.reachable {
        match tokio::time::timeout(QUERY_DEADLINE, store.pending_migrations()).await {
            Ok(Ok(pending)) => health.pending_migrations = Some(pending),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "health check: reading the migrations");
                health.error = Some("the migrations could not be read".to_owned());
            }
            Err(_) => {
                health.error = Some(format!(
                    "the database did not list its migrations within {} ms",
                    QUERY_DEADLINE.as_millis()
                ));
            }
        }
    }
    health
}
