//! HTTP routes, one module per area.

pub mod cdr;
pub mod database_gate;
pub mod fs;
pub mod health;
pub mod org;
pub mod provider;
pub mod provision;
pub mod web;

use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// Every route of LittlePBX.
pub fn router(state: AppState) -> Router {
    let gate = || axum::middleware::from_fn_with_state(state.clone(), database_gate::database_gate);
    Router::new()
        .merge(health::router())
        .merge(fs::router())
        .merge(cdr::router())
        .merge(provision::router().layer(gate()))
        .nest("/api/v1", provider::router().layer(gate()))
        .nest("/api/org", org::router().layer(gate()))
        .merge(web::router())
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
}

/// A handler that panicked answers a generic 500 (and logs why) instead of dropping the
/// connection without an answer.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let why = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    ApiError::Internal(anyhow::anyhow!("handler panicked: {why}")).into_response()
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_generic_500() {
        async fn boom() -> &'static str {
            panic!("secret detail")
        }
        let app: Router = Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::custom(panic_response));
        let response = app
            .oneshot(
                axum::http::Request::builder()
                    .uri("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = axum::body::to_bytes(response.into_body(), 10_000)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret detail"));
    }
}
