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

use freeswitch::channels;

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
    if request.section() == freeswitch::Section::Channels {
        // The facts are read first: a `Request` is not `Sync`, so no borrow of it may be
        // held across an await.
        let from = request.param("refer-from-channel-id").map(str::to_owned);
        let transferee = request.param("refer-for-channel-id").map(str::to_owned);
        let facts = tokio::time::timeout(
            TRANSFER_FACTS_TIMEOUT,
            transfer_facts(state.freeswitch(), from.as_deref(), transferee.as_deref()),
        )
        .await
        .unwrap_or_default();
        return xml_response(transfer_answer(&request, &facts));
    }
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
    xml_response(answer.xml)
}

fn xml_response(xml: String) -> Response {
    let mut response = xml.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

/// How long a `channels` lookup may spend asking FreeSWITCH about the channels (mod_xml_curl
/// gives up after its own timeout, 3 s in our templates); past it the transfer is refused.
const TRANSFER_FACTS_TIMEOUT: Duration = Duration::from_secs(2);

/// Answers a `channels` lookup (an attended transfer) from the channels read over the event
/// socket, and logs the outcome with the org.
fn transfer_answer(request: &freeswitch::Request<'_>, facts: &channels::TransferFacts) -> String {
    let answer = channels::answer(request, facts);
    let org = answer.org.as_deref().unwrap_or("-");
    let channel = request.param("refer-from-channel-id").unwrap_or("-");
    let refer_to = format!(
        "{}@{}",
        request.param("refer-to-user").unwrap_or("-"),
        request.param("refer-to-host").unwrap_or("-")
    );
    let replaces = request.param("replaces-call-id").unwrap_or("-");
    if answer.reason.is_refusal() {
        tracing::warn!(org, channel, refer_to, replaces, reason = %answer.reason, "REFER refused; nothing was called");
    } else {
        tracing::info!(org, channel, refer_to, replaces, reason = %answer.reason, "REFER accepted");
    }
    answer.xml
}

/// What `channels::decide` needs: the channel that received the REFER (`from`, the lookup's
/// `refer-from-channel-id`), the party it hands over (`refer-for-channel-id`) and the other
/// channels of the same phone (at most 16), each with the channel it talks to. Whatever cannot
/// be read is left out, which refuses.
async fn transfer_facts(
    fs: &engine::fs_socket::FreeSwitch,
    from: Option<&str>,
    transferee: Option<&str>,
) -> channels::TransferFacts {
    let mut facts = channels::TransferFacts::default();
    if let Some(transferee) = transferee {
        facts.transferee = read_leg(fs, transferee).await;
    }
    let Some(from) = from else {
        return facts;
    };
    let Some(from) = read_leg(fs, from).await else {
        return facts;
    };
    facts.from = Some(from.clone());
    let Some(presence_id) = &from.presence_id else {
        return facts;
    };
    let Ok(listing) = fs.api_raw(freeswitch::status::CHANNELS_COMMAND).await else {
        return facts;
    };
    for uuid in freeswitch::status::channels_with_presence(&listing, presence_id, 16) {
        if uuid == from.uuid {
            continue;
        }
        let Some(leg) = read_leg(fs, &uuid).await else {
            continue;
        };
        let partner = match leg.other_party() {
            Some(partner) => read_leg(fs, partner).await,
            None => None,
        };
        facts.phone_calls.push(channels::PhoneCall { leg, partner });
    }
    facts
}

/// One channel's variables ([`channels::FACT_VARIABLES`]), one `uuid_getvar` each; `None` when
/// `uuid` is not a uuid or the event socket does not answer.
async fn read_leg(fs: &engine::fs_socket::FreeSwitch, uuid: &str) -> Option<channels::Leg> {
    let mut values = Vec::with_capacity(channels::FACT_VARIABLES.len());
    for name in channels::FACT_VARIABLES {
        let command = freeswitch::status::channel_variable_command(uuid, name)?;
        values.push((name, fs.api_raw(&command).await.ok()?));
    }
    Some(channels::Leg::from_variables(
        uuid,
        values.iter().map(|(name, value)| (*name, value.as_str())),
    ))
}
