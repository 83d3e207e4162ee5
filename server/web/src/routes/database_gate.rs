//! The API never waits on a database that is down: a request is answered 503 at once when the
//! database probe says it is down, and a request already running is answered 503 the moment the
//! probe finds it down (its transaction is dropped, so nothing is half-written).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

pub async fn database_gate(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut database = state.database().subscribe();
    if !database.borrow().is_up() {
        return ApiError::database_unavailable().into_response();
    }
    tokio::select! {
        response = next.run(request) => response,
        _ = database.wait_for(|state| !state.is_up()) => ApiError::database_unavailable().into_response(),
    }
}
