//! The org's phone numbers (DIDs). Unique across all orgs.

use api_types::provider::{DidCreate, DidList};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use domain::E164;
use serde::Deserialize;
use store::StoreError;
use utoipa::IntoParams;

use super::auth::KeyOrg;
use super::extract::{ApiPath, JsonObject};
use super::SlugPath;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DidPath {
    /// The org's short name.
    #[param(example = "acme")]
    #[allow(dead_code)]
    pub slug: String,
    /// The number in E.164, URL-encoded (`%2B15550100100`).
    #[param(example = "+15550100100")]
    pub number: String,
}

async fn did_list(state: &AppState, key: &KeyOrg) -> ApiResult<DidList> {
    let numbers = state.store().list_dids(key.org.id).await?;
    Ok(DidList {
        numbers: numbers.iter().map(ToString::to_string).collect(),
    })
}

/// The org's numbers.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/dids", tag = "dids", params(SlugPath),
    responses((status = 200, description = "The numbers", body = DidList)))]
pub async fn list(State(state): State<AppState>, key: KeyOrg) -> ApiResult<ApiJson<DidList>> {
    Ok(ApiJson(did_list(&state, &key).await?))
}

/// Assign a number to the org. It rings nothing until an org admin routes it to an extension
/// (and applies). A number belongs to one org at most.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/dids", tag = "dids", params(SlugPath),
    request_body = DidCreate,
    responses(
        (status = 201, description = "Assigned; the org's numbers now", body = DidList),
        (status = 409, description = "The number is already assigned (to this org or another one)", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn add(
    State(state): State<AppState>,
    key: KeyOrg,
    JsonObject(body): JsonObject<DidCreate>,
) -> ApiResult<impl IntoResponse> {
    let number = E164::parse(&body.number).map_err(|e| ApiError::invalid_field("number", e.0))?;
    if state.store().list_dids(key.org.id).await?.contains(&number) {
        return Err(ApiError::Conflict(format!(
            "{number} is already assigned to this organization."
        )));
    }
    match state.store().add_did(key.org.id, &number).await {
        Ok(()) => {}
        // The other org is not named: the caller may not even know it exists.
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict(format!(
                "{number} is assigned to another organization; it must be removed there first."
            )))
        }
        Err(err) => return Err(err.into()),
    }
    let location = format!("/api/v1/orgs/{}/dids", key.org.slug);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        ApiJson(did_list(&state, &key).await?),
    ))
}

/// Take a number away from the org, with its routing.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/dids/{number}", tag = "dids",
    params(DidPath), responses((status = 204, description = "Removed")))]
pub async fn remove(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<DidPath>,
) -> ApiResult<StatusCode> {
    let not_found = || {
        ApiError::NotFound(format!(
            "{} is not a number of this organization.",
            path.number
        ))
    };
    let number = E164::parse(&path.number).map_err(|_| not_found())?;
    match state.store().remove_did(key.org.id, &number).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(err) => Err(err.into()),
    }
}
