//! What FreeSWITCH calls: `POST /fs/xml` (mod_xml_curl). Basic auth and an address allow-list;
//! answers come from the in-memory index of applied snapshots, never from the draft and never
//! from a database round trip.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::state::AppState;

/// Largest request accepted from FreeSWITCH (a dialplan lookup is about 6 KB).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fs/xml", post(xml))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

/// Why a caller of a `/fs/*` route is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Outside `freeswitch.allowed_ips`: 403.
    Address,
    /// Missing or wrong basic-auth credentials: 401.
    Credentials,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Address => (StatusCode::FORBIDDEN, "address not allowed\n").into_response(),
            Refused::Credentials => {
                let mut response =
                    (StatusCode::UNAUTHORIZED, "credentials required\n").into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"littlepbx\""),
                );
                response
            }
        }
    }
}

/// Refuses callers outside `freeswitch.allowed_ips` or without the right basic-auth
/// credentials. Shared by every `/fs/*` route.
pub fn check_freeswitch(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<(), Refused> {
    let allowed = state
        .config()
        .freeswitch
        .allowed_ips
        .iter()
        .filter_map(|c| c.parse::<ipnet::IpNet>().ok());
    if !allowed.into_iter().any(|net| net.contains(&peer.ip())) {
        tracing::warn!(%peer, "FreeSWITCH endpoint called from an address not allowed");
        return Err(Refused::Address);
    }
    let fs = &state.config().freeswitch;
    let expected = format!("{}:{}", fs.http_user, fs.http_password.expose());
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .unwrap_or_default();
    if !domain::constant_time_eq(&given, expected.as_bytes()) {
        tracing::warn!(%peer, "FreeSWITCH endpoint called with wrong credentials");
        return Err(Refused::Credentials);
    }
    Ok(())
}

async fn xml(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = check_freeswitch(&state, peer, &headers) {
        return refused.into_response();
    }
    let cache = state.xml_cache();
    if !cache.wait_ready(Duration::from_secs(5)).await {
        tracing::warn!("FreeSWITCH asked before the configuration cache was loaded");
        return (StatusCode::SERVICE_UNAVAILABLE, "loading\n").into_response();
    }
    let request = match freeswitch::Request::parse(&body) {
        Ok(request) => request,
        Err(err) => {
            tracing::warn!(error = %err, bytes = body.len(), "mod_xml_curl request is not a form");
            return (StatusCode::BAD_REQUEST, format!("{err}\n")).into_response();
        }
    };
    let index = cache.current();
    let answer = freeswitch::answer(&request, &*index, state.fs_settings(), &**state.sip_guard());
    if let Some(ip) = &answer.source {
        if answer.auth.is_failure() {
            let user = answer.user.as_deref().unwrap_or("-");
            state.sip_guard().record_failure(ip, user);
        } else if answer.auth == freeswitch::AuthCheck::Verified {
            state.sip_guard().record_success(ip);
        }
    }
    if answer.reason.is_refusal() {
        // One line per refusal, naming the org and why (cross-org attempts, wrong passwords).
        tracing::info!(
            section = ?request.section(),
            reason = %answer.reason,
            org = answer.org.as_deref().unwrap_or("-"),
            source = answer.source.as_deref().unwrap_or("-"),
            "FreeSWITCH told to refuse"
        );
    } else {
        tracing::debug!(section = ?request.section(), action = ?request.action(), purpose = ?request.purpose(), reason = %answer.reason, org = answer.org.as_deref().unwrap_or("-"), "mod_xml_curl");
    }
    if request.section() == freeswitch::Section::Channels {
        log_refused_transfer(&state, &request);
    }
    let mut response = answer.xml.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

/// A `channels` lookup does not say whose call it is; the channel that sent the REFER does.
/// Asked in the background, so the answer to FreeSWITCH is not held up.
fn log_refused_transfer(state: &AppState, request: &freeswitch::Request<'_>) {
    let from = request.param("refer-from-channel-id").unwrap_or("");
    let refer_to = format!(
        "{}@{}",
        request.param("refer-to-user").unwrap_or("-"),
        request.param("refer-to-host").unwrap_or("-")
    );
    let Some(command) =
        freeswitch::status::channel_variable_command(from, freeswitch::names::ORG_MARKER)
    else {
        tracing::warn!(
            refer_to,
            "REFER refused: it names a call FreeSWITCH does not know (channel unknown)"
        );
        return;
    };
    let fs = state.freeswitch().clone();
    let channel = from.to_owned();
    tokio::spawn(async move {
        let org = match fs.api_raw(&command).await {
            Ok(answer)
                if !matches!(answer.trim(), "" | "_undef_") && !answer.starts_with("-ERR") =>
            {
                answer.trim().to_owned()
            }
            _ => "-".to_owned(),
        };
        tracing::warn!(
            org,
            channel,
            refer_to,
            "REFER refused: it names a call FreeSWITCH does not know; nothing was called"
        );
    });
}
