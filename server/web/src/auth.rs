//! Who is asking: the org a page belongs to (from the Host header), the org admin's session
//! (an HttpOnly cookie), and the limits on guessing passwords.
//!
//! A session belongs to one org. It is honoured only on that org's host name, so a session of
//! org A opens nothing of org B whatever the Host header says (the cookie is host-only too).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header::{COOKIE, HOST, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use store::admins::Admin;
use store::orgs::Org;

use crate::error::ApiError;
use crate::state::AppState;
use engine::config::Config;
use engine::secrets;

pub const SESSION_COOKIE: &str = "lpbx_session";

/// The org slug a host name `pbx.<slug>.<base_domain>[:port]` names.
pub fn slug_from_host<'a>(host: &'a str, base_domain: &str) -> Option<&'a str> {
    let host = strip_port(host);
    let inner = host
        .strip_prefix("pbx.")?
        .strip_suffix(base_domain)?
        .strip_suffix('.')?;
    (!inner.is_empty() && !inner.contains('.')).then_some(inner)
}

fn strip_port(host: &str) -> &str {
    host.rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
}

/// The host the request was sent to.
pub fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers.get(HOST).and_then(|v| v.to_str().ok())
}

/// The org whose pages the request is for.
pub struct HostOrg(pub Org);

impl<S> FromRequestParts<S> for HostOrg
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = AppState::from_ref(state);
        let no_such = || ApiError::NotFound("No such PBX at this address.".into());
        let host = request_host(&parts.headers).ok_or_else(no_such)?;
        let slug = slug_from_host(host, &state.config().base_domain).ok_or_else(no_such)?;
        let org = state.store().org_by_slug(slug).await?.ok_or_else(no_such)?;
        Ok(HostOrg(org))
    }
}

/// A logged-in admin of the org of the host.
pub struct OrgAdmin {
    pub org: Org,
    pub admin: Admin,
    pub token_hash: String,
}

impl<S> FromRequestParts<S> for OrgAdmin
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let HostOrg(org) = HostOrg::from_request_parts(parts, state).await?;
        let state = AppState::from_ref(state);
        let not_logged_in = || ApiError::Unauthorized("Please log in.".into());
        let token = session_token(&parts.headers).ok_or_else(not_logged_in)?;
        let token_hash = secrets::sha256_hex(token);
        let session = state
            .store()
            .session(&token_hash)
            .await?
            .ok_or_else(not_logged_in)?;
        if session.org != org.id {
            return Err(not_logged_in());
        }
        let admin = state
            .store()
            .admin(org.id, session.admin_id)
            .await
            .map_err(|_| not_logged_in())?;
        Ok(OrgAdmin {
            org,
            admin,
            token_hash,
        })
    }
}

/// The session token from the request's cookies.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// `Set-Cookie` for a new session (host-only, HttpOnly, SameSite=Strict).
pub fn session_cookie(config: &Config, token: &str) -> HeaderValue {
    let max_age = u64::from(config.web.session_hours) * 3600;
    let secure = if config.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that ends the session in the browser.
pub fn expired_session_cookie() -> HeaderValue {
    HeaderValue::from_static("lpbx_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

pub fn set_cookie(response: &mut Response, value: HeaderValue) {
    response.headers_mut().append(SET_COOKIE, value);
}

/// Refuses changing requests without the CSRF header (see `api_types::org::CSRF_HEADER`).
pub async fn require_csrf_header(
    request: axum::extract::Request,
    next: Next,
) -> Result<Response, ApiError> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let marked = request
        .headers()
        .get(api_types::org::CSRF_HEADER)
        .is_some_and(|v| v == "1");
    if !safe && !marked {
        return Err(ApiError::Forbidden(format!(
            "Changing requests must carry the header {}: 1.",
            api_types::org::CSRF_HEADER
        )));
    }
    Ok(next.run(request).await)
}

/// The client's address: the TCP peer (LittlePBX does not trust forwarding headers). `None`
/// only when the server runs without peer information (unit tests with `oneshot`).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

/// Limits login attempts per address and per account, so passwords cannot be guessed quickly.
pub struct LoginLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    /// `attempts` per account per minute, four times that per address (an office shares one).
    pub fn new(attempts: u32) -> Arc<Self> {
        let per_account = NonZeroU32::new(attempts.max(1)).unwrap_or(NonZeroU32::MIN);
        let per_ip = NonZeroU32::new(attempts.max(1).saturating_mul(4)).unwrap_or(NonZeroU32::MIN);
        Arc::new(Self {
            by_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            by_account: RateLimiter::keyed(Quota::per_minute(per_account)),
        })
    }

    /// Counts an attempt; `Err(seconds)` when the address or the account must wait.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), u64> {
        let clock = governor::clock::DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            not_until
                .wait_time_from(governor::clock::Clock::now(&clock))
                .as_secs()
                .max(1)
        };
        if let Some(ip) = ip {
            self.by_ip.check_key(&ip).map_err(wait)?;
        }
        self.by_account
            .check_key(&account.to_ascii_lowercase())
            .map_err(wait)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_slugs_come_from_the_host() {
        assert_eq!(
            slug_from_host("pbx.acme.localhost:8080", "localhost"),
            Some("acme")
        );
        assert_eq!(
            slug_from_host("pbx.acme.example.com", "example.com"),
            Some("acme")
        );
        for host in [
            "acme.localhost",
            "pbx.localhost",
            "pbx.a.b.localhost",
            "pbx.acme.localhostx",
            "localhost:8080",
            "pbx..localhost",
        ] {
            assert_eq!(slug_from_host(host, "localhost"), None, "{host}");
        }
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; lpbx_session=abc123; x=y"),
        );
        assert_eq!(session_token(&headers), Some("abc123"));
        headers.insert(COOKIE, HeaderValue::from_static("lpbx_session="));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let cookie = session_cookie(&Config::default(), "tok");
        let text = cookie.to_str().unwrap();
        assert!(
            text.contains("HttpOnly")
                && text.contains("SameSite=Strict")
                && text.contains("Max-Age=43200"),
            "{text}"
        );
        assert!(
            !text.contains("Domain="),
            "host-only: another org's host never gets it"
        );
    }

    #[test]
    fn logins_are_limited_per_account_and_per_address() {
        let limiter = LoginLimiter::new(3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some(ip), "ann@example.com").is_ok());
        }
        assert!(
            limiter.check(Some(ip), "ANN@example.com").is_err(),
            "same account, any case"
        );
        assert!(limiter.check(Some(ip), "bob@example.com").is_ok());
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(
            limiter.check(Some(other), "ann@example.com").is_err(),
            "the account stays limited from elsewhere"
        );
    }
}
