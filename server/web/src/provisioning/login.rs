//! A phone's sign-in for provisioning: the extension's SIP credentials (Digest, Basic, or the
//! Acrobits form) checked against the org's applied configuration, failures counted by the
//! [`ProvisionGuard`]; and [`Refusal`], every way such a request is turned away (a challenge, a
//! lock-out, a used link).

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::md5_hex;
use store::orgs::Org;
use store::snapshot::AppliedSnapshot;

use crate::error::{ApiError, ApiResult};
use crate::provisioning::auth::{
    challenges, parse_authorization, Credentials, DigestContext, NonceCheck, NonceKey,
};
use crate::provisioning::guard::ProvisionGuard;
use crate::provisioning::{find_extension, Provisioned, Site};
use crate::state::AppState;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why a provisioning request was refused.
pub enum Refusal {
    Api(ApiError),
    /// 410: a provisioning link that worked once, or no longer works.
    Gone(String),
    /// 401 with fresh Digest and Basic challenges for the org's realm.
    Challenge {
        realm: String,
        nonce: String,
        stale: bool,
    },
}

impl From<ApiError> for Refusal {
    fn from(err: ApiError) -> Self {
        Refusal::Api(err)
    }
}

impl From<store::StoreError> for Refusal {
    fn from(err: store::StoreError) -> Self {
        Refusal::Api(err.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(err) => err.into_response(),
            Refusal::Gone(detail) => {
                let problem = api_types::Problem {
                    problem_type: "about:blank".into(),
                    title: "Gone".into(),
                    status: StatusCode::GONE.as_u16(),
                    detail,
                    errors: vec![],
                    current_revision: None,
                };
                let body = serde_json::to_vec(&problem).unwrap_or_default();
                (
                    StatusCode::GONE,
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/problem+json"),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    ],
                    body,
                )
                    .into_response()
            }
            Refusal::Challenge {
                realm,
                nonce,
                stale,
            } => {
                let detail = if stale {
                    "The sign-in expired; send it again with the new nonce."
                } else {
                    "Sign in with your extension number and its SIP password."
                };
                let mut response = ApiError::Unauthorized(detail.into()).into_response();
                for challenge in challenges(&realm, &nonce, stale) {
                    if let Ok(value) = HeaderValue::from_str(&challenge) {
                        response
                            .headers_mut()
                            .append(header::WWW_AUTHENTICATE, value);
                    }
                }
                response
            }
        }
    }
}

/// An extension that proved its SIP credentials, with the applied snapshot it was found in.
pub struct Authenticated {
    pub snapshot: AppliedSnapshot,
    pub number: String,
    /// The password, when the client sent it in clear (Basic or form): only ever echoed to
    /// that client (Acrobits has no HA1 form). Never stored, never logged.
    pub password: Option<String>,
}

impl Authenticated {
    /// The account to provision for this extension.
    pub fn provisioned(&self, state: &AppState) -> ApiResult<Provisioned> {
        let extension = find_extension(&self.snapshot, &self.number)
            .ok_or_else(|| ApiError::not_found("Extension"))?;
        Ok(Provisioned::new(
            &self.snapshot,
            extension,
            Site::from_config(state.config()),
        ))
    }
}

/// What a request presents to [`authenticate`].
pub struct Attempt<'a> {
    pub method: &'a Method,
    /// The request target as sent (path and query): a digest must be computed over it.
    pub uri: &'a str,
    pub headers: &'a HeaderMap,
    pub ip: Option<IpAddr>,
    /// Credentials from a form body (Acrobits POST), taking precedence over the header.
    pub form: Option<Credentials>,
}

/// Checks the extension's SIP credentials against the org's applied configuration.
pub async fn authenticate(
    state: &AppState,
    guard: &ProvisionGuard,
    org: Org,
    attempt: Attempt<'_>,
) -> Result<Authenticated, Refusal> {
    if org.status != domain::OrgStatus::Active {
        return Err(ApiError::Forbidden("This PBX is suspended; ask your provider.".into()).into());
    }
    let key = NonceKey::new(state.config().secret_key.expose());
    let now = now_secs();
    let realm = org.sip_domain.to_string();
    let challenge = |stale| Refusal::Challenge {
        realm: realm.clone(),
        nonce: key.issue(org.id.0, now),
        stale,
    };
    let credentials = attempt.form.clone().or_else(|| {
        attempt
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_authorization)
    });
    let Some(credentials) = credentials else {
        guard.check_source(attempt.ip).map_err(too_many)?;
        return Err(challenge(false));
    };
    let user = credentials.username().to_owned();
    guard.check(attempt.ip, org.id, &user).map_err(too_many)?;
    if let Credentials::Digest(digest) = &credentials {
        // A stale nonce of ours is a normal part of the exchange, not a failure.
        if key.check(&digest.nonce, org.id.0, now) == NonceCheck::Stale {
            return Err(challenge(true));
        }
    }
    let snapshot = state.store().applied_snapshot(org.id).await?;
    let verified = verify(&snapshot, &credentials, &attempt, &key, now);
    if !verified {
        guard.record_failure(attempt.ip, org.id, &user);
        tracing::info!(
            org = %org.slug,
            user = %user.chars().take(16).collect::<String>(),
            ip = ?attempt.ip,
            "provisioning: authentication failed"
        );
        return Err(challenge(false));
    }
    guard.record_success(org.id, &user);
    let password = match credentials {
        Credentials::Basic { password, .. } => Some(password),
        Credentials::Digest(_) => None,
    };
    Ok(Authenticated {
        snapshot,
        number: user,
        password,
    })
}

/// True when the credentials are right for an applied extension of this org.
fn verify(
    snapshot: &AppliedSnapshot,
    credentials: &Credentials,
    attempt: &Attempt<'_>,
    key: &NonceKey,
    now: u64,
) -> bool {
    let domain = &snapshot.org.sip_domain;
    let extension = find_extension(snapshot, credentials.username());
    match credentials {
        Credentials::Basic { username, password } => match extension {
            Some(ext) => ext.a1_hash.matches_password(&ext.number, domain, password),
            None => {
                // The same work as for a known user, so timing tells nothing.
                let _ = md5_hex(&format!("{username}:{domain}:{password}"));
                false
            }
        },
        Credentials::Digest(digest) => {
            let context = DigestContext {
                method: attempt.method.as_str(),
                uri: attempt.uri,
                realm: domain.as_str(),
                key,
                org: snapshot.org.id.0,
                now,
            };
            digest.verifies(&context, extension.map(|ext| &ext.a1_hash))
        }
    }
}

pub fn too_many(wait: std::time::Duration) -> Refusal {
    Refusal::Api(ApiError::TooManyRequests {
        detail: "Too many failed sign-ins; wait a while before trying again.".into(),
        retry_after_seconds: wait.as_secs().max(1),
    })
}

/// The credentials of Acrobits' web-service form (`username=...&password=...`, a POST body so
/// that they stay out of the URL); `None` unless both are there.
pub fn form_credentials(body: &[u8]) -> Option<Credentials> {
    let mut username = None;
    let mut password = None;
    for (key, value) in form_urlencoded::parse(body) {
        match key.as_ref() {
            "username" => username = Some(value.into_owned()),
            "password" => password = Some(value.into_owned()),
            _ => {}
        }
    }
    Some(Credentials::Basic {
        username: username?,
        password: password?,
    })
}
