//! `POST /fs/cdr`: call records from FreeSWITCH's mod_json_cdr, authenticated like `/fs/xml`
//! (basic auth and the address allow-list). Decoding and attribution are in [`calls::cdr`].
//!
//! FreeSWITCH retries any answer outside 2xx and finally spools the record to disk, so: 200
//! for everything it must not send again (stored, a duplicate, kept aside for the provider, a
//! B leg), 400 for a record that is not one (with the reason), 413 above 1 MiB, 500 when the
//! database failed (it will retry).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use super::fs::check_freeswitch;
use crate::state::AppState;
use calls::cdr::{self, IngestError, MAX_BODY_BYTES};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fs/cdr", post(ingest))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn uuid_param(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "uuid")
        .map(|(_, value)| value.into_owned())
}

async fn ingest(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(refused) = check_freeswitch(&state, peer, &headers) {
        return refused.into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            tracing::warn!(%peer, "call record over the size limit refused");
            let text = format!("call record larger than {} KiB\n", MAX_BODY_BYTES / 1024);
            return (StatusCode::PAYLOAD_TOO_LARGE, text).into_response();
        }
        Err(rejection) => {
            return (rejection.status(), format!("{}\n", rejection.body_text())).into_response();
        }
    };
    let uuid = uuid_param(query.as_deref());
    match cdr::ingest(&state, &body, uuid.as_deref()).await {
        Ok(outcome) => (StatusCode::OK, outcome.text()).into_response(),
        Err(IngestError::Malformed(why)) => {
            tracing::warn!(uuid = uuid.as_deref().unwrap_or("-"), reason = %why, bytes = body.len(), "call record refused");
            (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response()
        }
        Err(err @ IngestError::Store(_)) => {
            tracing::error!(error = %err, uuid = uuid.as_deref().unwrap_or("-"), "call record not stored; FreeSWITCH will retry");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the record could not be stored; try again\n",
            )
                .into_response()
        }
    }
}
