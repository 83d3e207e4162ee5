//! The org's Apply history and restoring a version into the draft.

use api_types::history::{
    HistoryPage, HistoryQuery, RestorePreview, RestoreRequest, RestoreResult,
};
use axum::extract::{Path, State};
use engine::history;

use crate::auth::OrgAdmin;
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<ApiJson<HistoryPage>> {
    let page = history::page(&state, admin.org.id, query.before, query.limit).await?;
    Ok(ApiJson(page))
}

pub async fn preview(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(version): Path<i64>,
) -> ApiResult<ApiJson<RestorePreview>> {
    Ok(ApiJson(
        history::preview(&state, admin.org.id, version).await?,
    ))
}

pub async fn restore(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(version): Path<i64>,
    ApiJson(body): ApiJson<RestoreRequest>,
) -> ApiResult<ApiJson<RestoreResult>> {
    let result = history::restore(
        &state,
        admin.org.id,
        version,
        body.based_on_revision,
        body.restore_secrets,
        admin.admin.email.as_str(),
    )
    .await?;
    Ok(ApiJson(result))
}
