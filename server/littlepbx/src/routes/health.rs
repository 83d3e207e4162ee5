//! `GET /healthz`: is the process up, and can it reach its database.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub database: DatabaseHealth,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DatabaseHealth {
    pub kind: &'static str,
    pub reachable: bool,
    pub pending_migrations: Option<usize>,
    pub error: Option<String>,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let store = state.store();
    let kind = match store.kind() {
        store::DatabaseKind::Sqlite => "sqlite",
        store::DatabaseKind::MySql => "mysql",
    };
    let (reachable, error) = match store.ping().await {
        Ok(()) => (true, None),
        Err(err) => {
            tracing::warn!(error = %err, "health check: database unreachable");
            (false, Some("database unreachable".to_owned()))
        }
    };
    let pending_migrations = if reachable {
        store.pending_migrations().await.ok()
    } else {
        None
    };
    let healthy = reachable && pending_migrations == Some(0);
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if healthy { "ok" } else { "degraded" },
        database: DatabaseHealth {
            kind,
            reachable,
            pending_migrations,
            error,
        },
        version: env!("CARGO_PKG_VERSION"),
    };
    (status, Json(health))
}
