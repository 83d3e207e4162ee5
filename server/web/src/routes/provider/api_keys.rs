//! Provider API keys. Only provider-wide keys may manage keys; a key is shown once, when it is
//! created, and only its first characters are listed afterwards.

use std::collections::HashMap;

use api_types::provider::{ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyView};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiPath, JsonObject};
use super::ProviderKey;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::AppState;
use engine::services;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyPath {
    /// The key's id.
    #[param(example = 2)]
    pub id: i64,
}

/// Every API key (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys",
    responses(
        (status = 200, description = "The keys", body = ApiKeyList),
        (status = 403, description = "An org-scoped key cannot manage keys", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _provider: ProviderKey,
) -> ApiResult<ApiJson<ApiKeyList>> {
    let slugs: HashMap<_, _> = state
        .store()
        .all_orgs()
        .await?
        .into_iter()
        .map(|org| (org.id, org.slug.to_string()))
        .collect();
    let keys = state.store().list_api_keys().await?;
    let items = keys
        .into_iter()
        .map(|key| ApiKeyView {
            org: key.org.and_then(|org| slugs.get(&org).cloned()),
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            created_at: key.created_at,
        })
        .collect();
    Ok(ApiJson(ApiKeyList { items }))
}

/// Create a provider-wide key. The key is in this answer only: store it now.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys", request_body = ApiKeyCreate,
    responses(
        (status = 201, description = "Created", body = ApiKeyCreated),
        (status = 403, description = "An org-scoped key cannot manage keys", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    _provider: ProviderKey,
    JsonObject(body): JsonObject<ApiKeyCreate>,
) -> ApiResult<impl IntoResponse> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "name",
            "A key name has 1 to 100 printable characters.",
        ));
    }
    let created = services::create_api_key(&state, name, None).await?;
    tracing::info!(id = created.id, name = %created.name, "API key created");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/api-keys/{}", created.id))],
        ApiJson(created),
    ))
}

/// Delete a key; requests with it fail from now on. The key of this request cannot delete
/// itself (409), so a script cannot lock its provider out by mistake.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api-keys", params(KeyPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "An org-scoped key cannot manage keys", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 409, description = "This is the key of the request itself", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    ProviderKey(auth): ProviderKey,
    ApiPath(path): ApiPath<KeyPath>,
) -> ApiResult<StatusCode> {
    if path.id == auth.key_id {
        return Err(ApiError::Conflict(
            "This is the key this request is made with; delete it with another key.".into(),
        ));
    }
    state.store().delete_api_key(path.id).await?;
    tracing::info!(id = path.id, "API key deleted");
    Ok(StatusCode::NO_CONTENT)
}
