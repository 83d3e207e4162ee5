//! The org admin's API under `/api/org`, used by the web app. The org is the one of the host
//! name; a session is only honoured on its own org's host (see `crate::auth`).

mod apply;
mod desk_phones;
mod history;
mod moh;
mod pbx;
mod session;
mod stats;

use axum::routing::{delete, get, patch, post, put};
use axum::{middleware, Router};

use crate::auth::require_csrf_header;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/info", get(session::info))
        .route("/logo", get(session::logo))
        .route("/login", post(session::login))
        .route("/logout", post(session::logout))
        .route("/invite/accept", post(session::accept_invite))
        .route("/pbx", get(pbx::view))
        .route("/extensions", post(pbx::create_extension))
        .route(
            "/extensions/{number}",
            patch(pbx::update_extension).delete(pbx::delete_extension),
        )
        .route("/extensions/{number}/password", post(pbx::new_password))
        .route("/dids/{number}/route", put(pbx::set_route))
        .route("/options", patch(pbx::update_options))
        .route(
            "/moh",
            put(moh::upload).layer(axum::extract::DefaultBodyLimit::max(moh::MAX_UPLOAD_BYTES)),
        )
        .route("/discard", post(pbx::discard))
        .route("/reset", post(pbx::reset))
        .route("/apply", post(apply::start))
        .route("/jobs/latest", get(apply::latest))
        .route("/jobs/{id}", get(apply::get_job))
        .route("/jobs/{id}/stop", post(apply::stop))
        .route("/changes", get(pbx::changes))
        .route("/history", get(history::list))
        .route("/history/{version}", get(history::preview))
        .route("/history/{version}/restore", post(history::restore))
        .route(
            "/desk-phones",
            get(desk_phones::list).post(desk_phones::add),
        )
        .route(
            "/desk-phones/{mac}",
            put(desk_phones::change).delete(desk_phones::remove),
        )
        .merge(stats::router())
        .route(
            "/{*rest}",
            delete(not_found)
                .get(not_found)
                .post(not_found)
                .put(not_found)
                .patch(not_found),
        )
        .layer(middleware::from_fn(require_csrf_header))
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("No such API endpoint.".into())
}
