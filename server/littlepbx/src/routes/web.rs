//! The web app's files (the built Leptos app in `dist/`).

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
