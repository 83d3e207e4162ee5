//! The org's admins (the people who log in to the org's web pages).

use api_types::provider::{
    AdminCreate, AdminCreated, AdminList, AdminPasswordReset, AdminPasswordResult, AdminView,
};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use domain::Email;
use serde::Deserialize;
use store::admins::{Admin, AdminCredential};
use utoipa::IntoParams;

use super::auth::KeyOrg;
use super::extract::{ApiPath, JsonObject};
use super::SlugPath;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::AppState;
use engine::secrets;

/// Invitations are valid this long.
pub const INVITE_DAYS: i64 = 7;
const MIN_PASSWORD: usize = 10;
const MAX_PASSWORD: usize = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AdminPath {
    /// The org's short name.
    #[param(example = "acme")]
    #[allow(dead_code)]
    pub slug: String,
    /// The admin's id.
    #[param(example = 1)]
    pub id: i64,
}

fn admin_view(admin: &Admin) -> AdminView {
    AdminView {
        id: admin.id,
        email: admin.email.to_string(),
        invite_pending: admin.invite_pending,
        created_at: admin.created_at,
    }
}

fn check_password(password: &str) -> ApiResult<()> {
    let length = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) || password.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "password",
            format!(
                "A password has {MIN_PASSWORD} to {MAX_PASSWORD} characters, without control characters."
            ),
        ));
    }
    Ok(())
}

async fn hash(password: String) -> ApiResult<String> {
    let hashed = tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing task: {e}")))??;
    Ok(hashed)
}

/// The org's admins, ordered by e-mail.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/admins", tag = "admins", params(SlugPath),
    responses((status = 200, description = "The admins", body = AdminList)))]
pub async fn list(State(state): State<AppState>, key: KeyOrg) -> ApiResult<ApiJson<AdminList>> {
    let admins = state.store().list_admins(key.org.id).await?;
    Ok(ApiJson(AdminList {
        items: admins.iter().map(admin_view).collect(),
    }))
}

/// One admin.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/admins/{id}", tag = "admins", params(AdminPath),
    responses((status = 200, description = "The admin", body = AdminView)))]
pub async fn get(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<AdminPath>,
) -> ApiResult<ApiJson<AdminView>> {
    let admin = state.store().admin(key.org.id, path.id).await?;
    Ok(ApiJson(admin_view(&admin)))
}

/// Add an admin: with a password (at least 10 characters), or without one to get an
/// invitation link (valid 7 days, works once) to hand over; the link's page lets the admin
/// choose a password.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/admins", tag = "admins", params(SlugPath),
    request_body = AdminCreate,
    responses(
        (status = 201, description = "Created", body = AdminCreated,
            headers(("Location" = String, description = "/api/v1/orgs/{slug}/admins/{id}"))),
        (status = 409, description = "This e-mail is already an admin of the org", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    key: KeyOrg,
    JsonObject(body): JsonObject<AdminCreate>,
) -> ApiResult<impl IntoResponse> {
    let email = Email::parse(&body.email).map_err(|e| ApiError::invalid_field("email", e.0))?;
    // MariaDB compares e-mails without case and SQLite with it; this makes both refuse
    // `Boss@...` beside `boss@...`.
    let admins = state.store().list_admins(key.org.id).await?;
    if admins
        .iter()
        .any(|a| a.email.as_str().eq_ignore_ascii_case(email.as_str()))
    {
        return Err(ApiError::Conflict(format!(
            "{email} is already an admin of this organization."
        )));
    }
    let (credential, invite_url) = match body.password {
        Some(password) => {
            check_password(&password)?;
            (AdminCredential::PasswordHash(hash(password).await?), None)
        }
        None => {
            let token = secrets::random_token(32);
            let credential = AdminCredential::Invite {
                token_hash: secrets::sha256_hex(&token),
                expires_at: store::now_ms() + INVITE_DAYS * 24 * 3600 * 1000,
            };
            let url = format!(
                "{}/invite/{token}",
                state.config().org_url(key.org.slug.as_str())
            );
            (credential, Some(url))
        }
    };
    let admin = state
        .store()
        .create_admin(key.org.id, &email, credential)
        .await?;
    let location = format!("/api/v1/orgs/{}/admins/{}", key.org.slug, admin.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        ApiJson(AdminCreated {
            admin: admin_view(&admin),
            invite_url,
        }),
    ))
}

/// Set a new password (given, or generated and returned in this answer only). Ends the admin's
/// sessions and any pending invitation.
#[utoipa::path(post, path = "/api/v1/orgs/{slug}/admins/{id}/password", tag = "admins",
    params(AdminPath), request_body = AdminPasswordReset,
    responses((status = 200, description = "Done; the generated password when none was given", body = AdminPasswordResult)))]
pub async fn reset_password(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<AdminPath>,
    JsonObject(body): JsonObject<AdminPasswordReset>,
) -> ApiResult<ApiJson<AdminPasswordResult>> {
    // Checked first so that an unknown admin costs no hashing.
    let admin = state.store().admin(key.org.id, path.id).await?;
    let (password, generated) = match body.password {
        Some(password) => {
            check_password(&password)?;
            (password, false)
        }
        None => (secrets::random_token(12), true),
    };
    let hashed = hash(password.clone()).await?;
    state
        .store()
        .set_admin_password(key.org.id, admin.id, &hashed)
        .await?;
    Ok(ApiJson(AdminPasswordResult {
        password: generated.then_some(password),
    }))
}

/// Remove an admin (their sessions end with them).
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/admins/{id}", tag = "admins",
    params(AdminPath), responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<AdminPath>,
) -> ApiResult<StatusCode> {
    state.store().delete_admin(key.org.id, path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
