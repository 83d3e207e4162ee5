//! Org info, logo, login, logout, invitations.

use api_types::org::{InviteAccept, LoginRequest, Me, OrgInfo};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::Email;
use store::admins::Admin;
use store::orgs::Org;

use crate::auth::{self, ClientIp, HostOrg};
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::AppState;
use engine::secrets;

pub async fn info(
    State(state): State<AppState>,
    HostOrg(org): HostOrg,
    headers: axum::http::HeaderMap,
) -> ApiResult<ApiJson<OrgInfo>> {
    let me = match auth::session_token(&headers) {
        Some(token) => match state.store().session(&secrets::sha256_hex(token)).await? {
            Some(session) if session.org == org.id => state
                .store()
                .admin(org.id, session.admin_id)
                .await
                .ok()
                .map(|a| Me {
                    email: a.email.to_string(),
                }),
            _ => None,
        },
        None => None,
    };
    Ok(ApiJson(OrgInfo {
        slug: org.slug.to_string(),
        name: org.name.to_string(),
        sip_domain: org.sip_domain.to_string(),
        logo_url: org.has_logo.then(|| "/api/org/logo".to_owned()),
        me,
    }))
}

pub async fn logo(State(state): State<AppState>, HostOrg(org): HostOrg) -> ApiResult<Response> {
    let logo = state
        .store()
        .logo(org.id)
        .await?
        .ok_or_else(|| ApiError::not_found("Logo"))?;
    let mut response = Response::new(Body::from(logo.bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&logo.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

pub async fn login(
    State(state): State<AppState>,
    HostOrg(org): HostOrg,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let account = format!("{}:{}", org.slug, body.email.trim());
    if let Err(retry_after_seconds) = state.login_limiter().check(ip, &account) {
        return Err(ApiError::TooManyRequests {
            detail: format!("Too many login attempts. Try again in {retry_after_seconds} seconds."),
            retry_after_seconds,
        });
    }
    let admin = match Email::parse(&body.email) {
        Ok(email) => state.store().admin_by_email(org.id, &email).await?,
        Err(_) => None,
    };
    let hash = admin.as_ref().and_then(|a| a.password_hash.clone());
    if !verify_blocking(body.password, hash).await? {
        tracing::info!(org = %org.slug, "failed login");
        return Err(ApiError::Unauthorized("Wrong e-mail or password.".into()));
    }
    let admin = admin.ok_or_else(|| ApiError::Unauthorized("Wrong e-mail or password.".into()))?;
    start_session(&state, &org, &admin).await
}

/// Checks the password against the hash, or against a dummy hash when there is no account, so
/// that both cases take the same time.
async fn verify_blocking(password: String, hash: Option<String>) -> ApiResult<bool> {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| secrets::dummy_password_hash().to_owned());
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password check: {e}")))?;
    Ok(ok && known)
}

async fn start_session(state: &AppState, org: &Org, admin: &Admin) -> ApiResult<Response> {
    let token = secrets::random_token(32);
    let expires_at = store::now_ms() + i64::from(state.config().web.session_hours) * 3_600_000;
    state
        .store()
        .create_session(org.id, admin.id, &secrets::sha256_hex(&token), expires_at)
        .await?;
    let mut response = ApiJson(Me {
        email: admin.email.to_string(),
    })
    .into_response();
    auth::set_cookie(&mut response, auth::session_cookie(state.config(), &token));
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = auth::session_token(&headers) {
        state
            .store()
            .delete_session(&secrets::sha256_hex(token))
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    auth::set_cookie(&mut response, auth::expired_session_cookie());
    Ok(response)
}

pub async fn accept_invite(
    State(state): State<AppState>,
    HostOrg(org): HostOrg,
    ApiJson(body): ApiJson<InviteAccept>,
) -> ApiResult<Response> {
    check_new_password(&body.password)?;
    let admin = state
        .store()
        .admin_by_invite(&secrets::sha256_hex(body.token.trim()))
        .await?
        .filter(|a| a.org == org.id)
        .ok_or_else(|| {
            ApiError::NotFound(
                "This invitation is not valid (any more). Ask your provider for a new one.".into(),
            )
        })?;
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing task: {e}")))??;
    state
        .store()
        .set_admin_password(org.id, admin.id, &hash)
        .await?;
    start_session(&state, &org, &admin).await
}

/// Web passwords: 10 to 200 characters.
pub fn check_new_password(password: &str) -> ApiResult<()> {
    let length = password.chars().count();
    if !(10..=200).contains(&length) {
        return Err(ApiError::invalid_field(
            "password",
            "Choose a password of at least 10 characters.",
        ));
    }
    Ok(())
}
