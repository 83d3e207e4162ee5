//! The org's desk phones for the provider: a shipment of phones added at once, each phone
//! moved to another extension or removed.

use api_types::desk_phones::{DeskPhone, DeskPhoneChange, DeskPhoneList, NewDeskPhones};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::KeyOrg;
use super::extract::{ApiPath, JsonObject};
use super::SlugPath;
use crate::desk_phones;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MacPath {
    /// The org's short name.
    #[param(example = "acme")]
    #[allow(dead_code)]
    pub slug: String,
    /// The phone's MAC address (`001565aabbcc` or `00:15:65:aa:bb:cc`).
    #[param(example = "001565aabbcc")]
    pub mac: String,
}

/// The org's desk phones (their provisioning credentials included) and the models phones can
/// be added as.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/desk-phones", tag = "desk-phones", params(SlugPath),
    responses((status = 200, description = "The phones and the models", body = DeskPhoneList)))]
pub async fn list(State(state): State<AppState>, key: KeyOrg) -> ApiResult<ApiJson<DeskPhoneList>> {
    Ok(ApiJson(desk_phones::list(&state, &key.org).await?))
}

/// Adds up to 500 phones at once, all or none: each names its MAC, model and optionally the
/// extension it carries (an extension of the org's draft). Errors name `phones[i].field`.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/desk-phones", tag = "desk-phones", params(SlugPath),
    request_body = NewDeskPhones,
    responses(
        (status = 201, description = "The phones added, with their provisioning credentials", body = [DeskPhone]),
        (status = 409, description = "A MAC is registered already (to this org or another one); nothing was added", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn add(
    State(state): State<AppState>,
    key: KeyOrg,
    JsonObject(body): JsonObject<NewDeskPhones>,
) -> ApiResult<(StatusCode, ApiJson<Vec<DeskPhone>>)> {
    let added = desk_phones::add(&state, &key.org, &body.phones, true).await?;
    tracing::info!(org = %key.org.slug, count = added.len(), "desk phones added by the provider");
    Ok((StatusCode::CREATED, ApiJson(added)))
}

/// Gives a phone another model or extension (absent or empty extension: none). The phone gets
/// its new file at its next check.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/desk-phones/{mac}", tag = "desk-phones", params(MacPath),
    request_body = DeskPhoneChange,
    responses((status = 200, description = "The phone now", body = DeskPhone)))]
pub async fn change(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<MacPath>,
    JsonObject(body): JsonObject<DeskPhoneChange>,
) -> ApiResult<ApiJson<DeskPhone>> {
    Ok(ApiJson(
        desk_phones::change(&state, &key.org, &path.mac, &body).await?,
    ))
}

/// Removes a phone from the org: at its next check it is told to forget its account; its MAC
/// may then be added again (to any org).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/desk-phones/{mac}", tag = "desk-phones", params(MacPath),
    responses((status = 204, description = "Removed")))]
pub async fn remove(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<MacPath>,
) -> ApiResult<StatusCode> {
    desk_phones::remove(&state, &key.org, &path.mac).await?;
    Ok(StatusCode::NO_CONTENT)
}
