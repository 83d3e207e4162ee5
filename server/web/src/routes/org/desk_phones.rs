//! The org's desk phones, for the org admin (`/api/org/desk-phones`).

use api_types::desk_phones::{DeskPhone, DeskPhoneChange, DeskPhoneList, NewDeskPhone};
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::auth::OrgAdmin;
use crate::desk_phones;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    admin: OrgAdmin,
) -> ApiResult<ApiJson<DeskPhoneList>> {
    Ok(ApiJson(desk_phones::list(&state, &admin.org).await?))
}

pub async fn add(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(body): ApiJson<NewDeskPhone>,
) -> ApiResult<(StatusCode, ApiJson<DeskPhone>)> {
    let mut added =
        desk_phones::add(&state, &admin.org, std::slice::from_ref(&body), false).await?;
    let phone = added.remove(0);
    tracing::info!(org = %admin.org.slug, mac = %phone.mac, by = %admin.admin.email, "desk phone added");
    Ok((StatusCode::CREATED, ApiJson(phone)))
}

pub async fn change(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(mac): Path<String>,
    ApiJson(body): ApiJson<DeskPhoneChange>,
) -> ApiResult<ApiJson<DeskPhone>> {
    let phone = desk_phones::change(&state, &admin.org, &mac, &body).await?;
    tracing::info!(org = %admin.org.slug, mac = %phone.mac, extension = ?phone.extension, by = %admin.admin.email, "desk phone changed");
    Ok(ApiJson(phone))
}

pub async fn remove(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(mac): Path<String>,
) -> ApiResult<StatusCode> {
    desk_phones::remove(&state, &admin.org, &mac).await?;
    tracing::info!(org = %admin.org.slug, %mac, by = %admin.admin.email, "desk phone removed");
    Ok(StatusCode::NO_CONTENT)
}
