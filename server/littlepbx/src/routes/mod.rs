//! HTTP routes, one module per area.

pub mod health;

use axum::Router;

use crate::state::AppState;

/// Every route of LittlePBX.
pub fn router(state: AppState) -> Router {
    Router::new().merge(health::router()).with_state(state)
}
