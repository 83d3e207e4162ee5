//! An org's Apply history, and restoring a version into its draft, for the provider.

use api_types::history::{
    HistoryPage, HistoryQuery, RestorePreview, RestoreRequest, RestoreResult,
};
use axum::extract::State;
use engine::history;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::KeyOrg;
use super::extract::ApiPath;
use super::SlugPath;
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// The org's short name.
    #[param(example = "acme")]
    #[allow(dead_code)]
    pub slug: String,
    /// The applied version (see the history).
    #[param(example = 3)]
    pub version: i64,
}

/// The org's Applies, newest first: who, when, how long each waited for calls, and what it
/// changed in sentences (secrets are named, never shown). Page with `before`.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/history", tag = "history", params(SlugPath, HistoryQuery),
    responses((status = 200, description = "A page of the org's Apply history", body = HistoryPage)))]
pub async fn list(
    State(state): State<AppState>,
    KeyOrg { org, .. }: KeyOrg,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<ApiJson<HistoryPage>> {
    Ok(ApiJson(
        history::page(&state, org.id, query.before, query.limit).await?,
    ))
}

/// What restoring a version would change in the org's draft now.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/history/{version}", tag = "history", params(VersionPath),
    responses((status = 200, description = "The version and what restoring it would change", body = RestorePreview)))]
pub async fn preview(
    State(state): State<AppState>,
    KeyOrg { org, .. }: KeyOrg,
    ApiPath(path): ApiPath<VersionPath>,
) -> ApiResult<ApiJson<RestorePreview>> {
    Ok(ApiJson(
        history::preview(&state, org.id, path.version).await?,
    ))
}

/// Copies a version's configuration into the org's draft (one transaction; nothing reaches
/// FreeSWITCH until the next Apply). Extensions that exist keep their SIP passwords and
/// voicemail PINs unless `restore_secrets`. With `based_on_revision`, a draft changed since
/// answers 409.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/history/{version}/restore", tag = "history", params(VersionPath),
    request_body = RestoreRequest,
    responses((status = 200, description = "The draft now holds that version", body = RestoreResult),
        (status = 409, description = "The draft changed since `based_on_revision` (the body names `current_revision`), or the version was applied before versions were kept whole", body = api_types::Problem, content_type = "application/problem+json")))]
pub async fn restore(
    State(state): State<AppState>,
    KeyOrg { org, .. }: KeyOrg,
    ApiPath(path): ApiPath<VersionPath>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> ApiResult<ApiJson<RestoreResult>> {
    let result = history::restore(
        &state,
        org.id,
        path.version,
        body.based_on_revision,
        body.restore_secrets,
        "provider",
    )
    .await?;
    Ok(ApiJson(result))
}
