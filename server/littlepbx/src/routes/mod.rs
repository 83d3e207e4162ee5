//! HTTP routes, one module per area.

pub mod cdr;
pub mod fs;
pub mod health;
pub mod org;
pub mod provider;
pub mod provision;
pub mod web;

use axum::Router;

use crate::state::AppState;

/// Every route of LittlePBX.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(fs::router())
        .merge(cdr::router())
        .merge(provision::router())
        .nest("/api/v1", provider::router())
        .nest("/api/org", org::router())
        .merge(web::router())
        .with_state(state)
}
