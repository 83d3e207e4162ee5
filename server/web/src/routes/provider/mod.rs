//! The provider's REST API under `/api/v1` (bearer API keys; see `openapi.rs` for the contract).
//!
//! Every answer is JSON; every error is a problem document, including those axum itself makes
//! (unknown path, wrong method, a body over the limit): [`problems_only`] rewrites them.

pub mod admins;
pub mod api_keys;
pub mod auth;
pub mod desk_phones;
pub mod dids;
pub mod docs;
pub mod extract;
pub mod fs_sync;
pub mod history;
pub mod logo;
pub mod openapi;
pub mod orgs;
pub mod stats;
pub mod status;
pub mod trunks;

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{middleware, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::state::AppState;
use auth::ApiKeyAuth;

/// JSON bodies of this API are small; anything larger is refused with 413.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    let org = "/orgs/{slug}";
    Router::new()
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/docs", get(docs::page))
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route(org, get(orgs::get).patch(orgs::patch).delete(orgs::delete))
        .route(
            &format!("{org}/logo"),
            put(logo::put)
                .layer(DefaultBodyLimit::max(logo::MAX_BYTES))
                .get(logo::get)
                .delete(logo::delete),
        )
        .route(
            &format!("{org}/admins"),
            get(admins::list).post(admins::create),
        )
        .route(
            &format!("{org}/admins/{{id}}"),
            get(admins::get).delete(admins::delete),
        )
        .route(
            &format!("{org}/admins/{{id}}/password"),
            post(admins::reset_password),
        )
        .route(&format!("{org}/trunks"), get(trunks::list))
        .route(
            &format!("{org}/trunks/{{role}}"),
            get(trunks::get).put(trunks::put).delete(trunks::delete),
        )
        .route(&format!("{org}/dids"), get(dids::list).post(dids::add))
        .route(&format!("{org}/dids/{{number}}"), delete(dids::remove))
        .route(&format!("{org}/status"), get(status::get))
        .route(&format!("{org}/stats"), get(stats::get))
        .route(
            &format!("{org}/desk-phones"),
            get(desk_phones::list).post(desk_phones::add),
        )
        .route(
            &format!("{org}/desk-phones/{{mac}}"),
            put(desk_phones::change).delete(desk_phones::remove),
        )
        .route(&format!("{org}/history"), get(history::list))
        .route(&format!("{org}/history/{{version}}"), get(history::preview))
        .route(
            &format!("{org}/history/{{version}}/restore"),
            post(history::restore),
        )
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api-keys/{id}", delete(api_keys::delete))
        .fallback(unknown_path)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::map_response(problems_only))
}

async fn unknown_path() -> ApiError {
    ApiError::NotFound("There is no such API address; GET /api/v1/docs lists them all.".into())
}

/// Turns the plain-text errors axum answers by itself (405 with `Allow`, 413, 415...) into
/// problem documents, keeping their status and headers.
async fn problems_only(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::BadRequest("This address does not take this method.".into())
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(format!(
            "The request body is over {} KiB.",
            JSON_BODY_LIMIT / 1024
        )),
        _ => ApiError::BadRequest("The request could not be handled.".into()),
    };
    let mut problem = error.problem();
    problem.status = status.as_u16();
    problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    (parts, body).into_response()
}

/// A provider-wide key; org-scoped keys are refused with 403.
pub struct ProviderKey(pub ApiKeyAuth);

impl FromRequestParts<AppState> for ProviderKey {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let auth = ApiKeyAuth::from_request_parts(parts, state).await?;
        auth.require_provider("this operation")
            .map_err(IntoResponse::into_response)?;
        Ok(Self(auth))
    }
}

/// `{slug}` in paths, for the OpenAPI document.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SlugPath {
    /// The org's short name.
    #[param(example = "acme")]
    pub slug: String,
}
