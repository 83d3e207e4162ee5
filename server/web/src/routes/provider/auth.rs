//! Bearer API keys, and the org a request names.
//!
//! A key is `lpbx_` and 43 random characters; only its SHA-256 is stored, so a key is looked up
//! by hash and never compared, logged or kept in clear. A provider-wide key reaches every org;
//! an org-scoped key reaches its own org only: any other slug answers 404, exactly like a slug
//! that does not exist, so a scoped key cannot even learn which other orgs exist.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use store::orgs::Org;
use store::OrgId;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use engine::secrets;

/// The caller, authenticated by `Authorization: Bearer lpbx_...`.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeyAuth {
    pub key_id: i64,
    /// `Some` for a key limited to one org.
    pub scope: Option<OrgId>,
}

/// 401 with the `WWW-Authenticate` challenge RFC 6750 asks for.
fn unauthorized(detail: &str) -> Response {
    let mut response = ApiError::Unauthorized(detail.to_owned()).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"littlepbx\""),
    );
    response
}

/// The token of a `Bearer` authorization header (scheme case-insensitive, RFC 7235).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for ApiKeyAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = bearer_token(parts) else {
            return Err(unauthorized(
                "Send your API key in the header Authorization: Bearer lpbx_...",
            ));
        };
        let key = state
            .store()
            .api_key_by_hash(&secrets::sha256_hex(token))
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        match key {
            Some(key) => Ok(Self {
                key_id: key.id,
                scope: key.org,
            }),
            None => Err(unauthorized(
                "This API key is not valid: it was mistyped or has been deleted.",
            )),
        }
    }
}

impl ApiKeyAuth {
    /// Refuses org-scoped keys (403) for what only the provider may do.
    pub fn require_provider(&self, what: &str) -> ApiResult<()> {
        match self.scope {
            None => Ok(()),
            Some(_) => Err(ApiError::Forbidden(format!(
                "This API key is limited to one organization; {what} needs a provider-wide key."
            ))),
        }
    }

    /// The org with this slug, if the key may see it; otherwise 404, whether it exists or not.
    pub async fn org(&self, state: &AppState, slug: &str) -> ApiResult<Org> {
        let not_found = || ApiError::NotFound(format!("There is no organization \"{slug}\"."));
        let org = state
            .store()
            .org_by_slug(slug)
            .await?
            .ok_or_else(not_found)?;
        match self.scope {
            Some(scope) if scope != org.id => Err(not_found()),
            _ => Ok(org),
        }
    }
}

/// The org named by the `{slug}` of the path, seen through the caller's key.
pub struct KeyOrg {
    pub auth: ApiKeyAuth,
    pub org: Org,
}

impl FromRequestParts<AppState> for KeyOrg {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let auth = ApiKeyAuth::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("Organization").into_response())?;
        let slug = params
            .iter()
            .find(|(name, _)| *name == "slug")
            .map(|(_, value)| value.to_owned())
            .ok_or_else(|| ApiError::not_found("Organization").into_response())?;
        let org = auth
            .org(state, &slug)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self { auth, org })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parts(value: &str) -> Parts {
        let (parts, ()) = axum::http::Request::builder()
            .header(header::AUTHORIZATION, value)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token(&parts("Bearer lpbx_abc")), Some("lpbx_abc"));
        assert_eq!(bearer_token(&parts("bearer  lpbx_abc ")), Some("lpbx_abc"));
        assert_eq!(bearer_token(&parts("Basic dXNlcjpwdw==")), None);
        assert_eq!(bearer_token(&parts("Bearer ")), None);
        assert_eq!(bearer_token(&parts("lpbx_abc")), None);
    }
}
