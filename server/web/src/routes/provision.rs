//! `/provision/*` on the org's host: phones and apps fetch their account and the org's
//! directory with the extension's own SIP credentials (Digest or Basic; realm = the org's SIP
//! domain; user = the extension number). And the org admin's side of it: the values of the
//! phone help pages (`GET /api/org/phones`), the help pages themselves filled for the org and
//! an extension (`GET /api/org/phones/guides`, `GET /api/org/phones/guides/{id}?extension=N`:
//! the content stays on the server, out of the web app's bundle) and single-use QR provisioning
//! links (`POST /api/org/provisioning-links`).
//!
//! | path | what | auth |
//! |---|---|---|
//! | `GET /provision/linphone.xml` | Linphone remote provisioning | SIP credentials |
//! | `GET, POST /provision/acrobits.xml` | Acrobits/Groundwire `<account>` | SIP credentials (POST: form `username`, `password`) |
//! | `GET /provision/v1/config.json` | our versioned JSON (OpenAPI) | SIP credentials |
//! | `GET /provision/v1/phonebook.json` | the org's directory as JSON | SIP credentials |
//! | `GET /provision/phonebook/yealink.xml` | Yealink remote phonebook | SIP credentials |
//! | `GET /provision/phonebook.vcf` | vCard 4.0 download | SIP credentials |
//! | `GET /provision/t/{token}` | Linphone document, once, from a QR link | the token |
//! | `GET /provision/device/{file}` | a desk phone's file by its vendor's name (`<mac>.cfg`, `cfg<mac>.xml`, ...) | the phone's own HTTP credentials |
//!
//! Every answer is `Cache-Control: no-store`. Failed authentications are counted per source
//! address and per extension ([`ProvisionGuard`]); a locked source or extension is answered
//! 429 with `Retry-After`. An extension number of another org simply does not exist here: it is
//! answered like a wrong password.

use std::sync::Arc;

use api_types::phones::{FilledGuide, GuideList, GuideQuery};
use api_types::provisioning::{NewProvisioningLink, Phonebook, PhonesView, ProvisioningConfig};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Extension, Router};

use crate::auth::{require_csrf_header, ClientIp, HostOrg, OrgAdmin};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::provisioning::guard::ProvisionGuard;
use crate::provisioning::login::{authenticate, form_credentials, Attempt, Authenticated, Refusal};
use crate::provisioning::{device, formats, guides, help, links, Directory};
use crate::state::AppState;

/// The routes; each call makes its own failure counters (one per running server).
pub fn router() -> Router<AppState> {
    let guard = Arc::new(ProvisionGuard::default());
    let phones = Router::new()
        .route("/api/org/phones", get(phones))
        .route("/api/org/phones/guides", get(guide_list))
        .route("/api/org/phones/guides/{id}", get(guide))
        .route("/api/org/provisioning-links", post(create_link))
        .route_layer(middleware::from_fn(require_csrf_header));
    Router::new()
        .route("/provision/linphone.xml", get(linphone))
        .route("/provision/acrobits.xml", get(acrobits).post(acrobits_form))
        .route("/provision/v1/config.json", get(config_json))
        .route("/provision/v1/phonebook.json", get(phonebook_json))
        .route("/provision/phonebook/yealink.xml", get(yealink_phonebook))
        .route("/provision/phonebook.vcf", get(vcard_phonebook))
        .route("/provision/t/{token}", get(token_linphone))
        .route("/provision/device/{file}", get(device_file))
        .layer(Extension(guard))
        .merge(phones)
}

const XML: &str = "application/xml; charset=utf-8";
/// A form with a user name and a password is far smaller.
const FORM_LIMIT: usize = 4096;

/// A document answered with `no-store`.
fn document(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn request_target(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refusal> {
        let HostOrg(org) = HostOrg::from_request_parts(parts, state).await?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp(None));
        let guard = guard_of(parts)?;
        let uri = request_target(parts);
        let attempt = Attempt {
            method: &parts.method,
            uri: &uri,
            headers: &parts.headers,
            ip,
            form: None,
        };
        authenticate(state, &guard, org, attempt).await
    }
}

fn guard_of(parts: &Parts) -> Result<Arc<ProvisionGuard>, Refusal> {
    parts
        .extensions
        .get::<Arc<ProvisionGuard>>()
        .cloned()
        .ok_or_else(|| {
            Refusal::Api(ApiError::Internal(anyhow::anyhow!(
                "provisioning guard missing from the router"
            )))
        })
}

/// A desk phone's file (see `provisioning::device`).
async fn device_file(
    State(state): State<AppState>,
    HostOrg(org): HostOrg,
    ClientIp(ip): ClientIp,
    Extension(guard): Extension<Arc<ProvisionGuard>>,
    Path(file): Path<String>,
    parts: Parts,
) -> Result<Response, Refusal> {
    let uri = request_target(&parts);
    let request = device::DeviceRequest {
        file: &file,
        method: &parts.method,
        uri: &uri,
        headers: &parts.headers,
        ip,
    };
    let served = device::serve(&state, &guard, org, request).await?;
    Ok(document(served.content_type, served.body))
}

async fn linphone(State(state): State<AppState>, auth: Authenticated) -> ApiResult<Response> {
    Ok(document(
        XML,
        formats::linphone_xml(&auth.provisioned(&state)?),
    ))
}

async fn acrobits(State(state): State<AppState>, auth: Authenticated) -> ApiResult<Response> {
    let provisioned = auth.provisioned(&state)?;
    Ok(document(
        XML,
        formats::acrobits_xml(&provisioned, auth.password.as_deref()),
    ))
}

/// Acrobits' web-service form: `username=...&password=...` in a POST body, so that the
/// credentials stay out of the URL (its `%account[password]%` placeholders).
async fn acrobits_form(
    State(state): State<AppState>,
    HostOrg(org): HostOrg,
    ClientIp(ip): ClientIp,
    Extension(guard): Extension<Arc<ProvisionGuard>>,
    request: axum::extract::Request,
) -> Result<Response, Refusal> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, FORM_LIMIT).await.map_err(|_| {
        ApiError::PayloadTooLarge("The form is larger than a user name and a password.".into())
    })?;
    let form = form_credentials(&body);
    let target = request_target(&parts);
    let attempt = Attempt {
        method: &parts.method,
        uri: &target,
        headers: &parts.headers,
        ip,
        form,
    };
    let auth = authenticate(&state, &guard, org, attempt).await?;
    let provisioned = auth.provisioned(&state)?;
    Ok(document(
        XML,
        formats::acrobits_xml(&provisioned, auth.password.as_deref()),
    ))
}

#[utoipa::path(
    get,
    path = "/provision/v1/config.json",
    tag = "provisioning",
    security(("sip_digest" = []), ("sip_basic" = [])),
    description = "The SIP account of the extension that authenticates, and the org's \
        directory. Sent to the org's own host (`pbx.<org>.<base domain>`), authenticated with \
        the extension's number and SIP password (HTTP Digest, realm = the org's SIP domain, \
        qop=auth; or Basic over https). Never contains a password. Versioned: fields are only \
        added within v1.",
    responses(
        (status = 200, description = "The account", body = ProvisioningConfig),
        (status = 401, description = "No or wrong credentials (a number of another org does not exist here); `WWW-Authenticate` carries Digest and Basic challenges", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The org is suspended", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such PBX at this address: the host name names the org (`pbx.<org>.<base domain>`)", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins from this address or for this extension; see `Retry-After`", body = api_types::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn config_json(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<ApiJson<ProvisioningConfig>> {
    Ok(ApiJson(formats::config_json(&auth.provisioned(&state)?)))
}

#[utoipa::path(
    get,
    path = "/provision/v1/phonebook.json",
    tag = "provisioning",
    security(("sip_digest" = []), ("sip_basic" = [])),
    description = "The org's directory (its own extensions only, as applied), for any \
        extension of the org. Authentication as for `/provision/v1/config.json`.",
    responses(
        (status = 200, description = "The directory", body = Phonebook),
        (status = 401, description = "No or wrong credentials", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such PBX at this address: the host name names the org (`pbx.<org>.<base domain>`)", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins; see `Retry-After`", body = api_types::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn phonebook_json(auth: Authenticated) -> ApiJson<Phonebook> {
    ApiJson(formats::phonebook_json(&Directory::from_snapshot(
        &auth.snapshot,
    )))
}

async fn yealink_phonebook(auth: Authenticated) -> Response {
    document(
        XML,
        formats::yealink_phonebook(&Directory::from_snapshot(&auth.snapshot)),
    )
}

async fn vcard_phonebook(auth: Authenticated) -> Response {
    let directory = Directory::from_snapshot(&auth.snapshot);
    let mut response = document("text/vcard; charset=utf-8", formats::vcards(&directory));
    let disposition = format!(
        "attachment; filename=\"{}-phonebook.vcf\"",
        directory.org_slug
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A QR link: the token alone authenticates (the admin made it for this extension minutes
/// ago), once.
async fn token_linphone(
    State(state): State<AppState>,
    HostOrg(org): HostOrg,
    ClientIp(ip): ClientIp,
    Extension(guard): Extension<Arc<ProvisionGuard>>,
    Path(token): Path<String>,
) -> Result<Response, Refusal> {
    let linphone = links::redeem(&state, &guard, org, ip, &token).await?;
    Ok(document(XML, linphone))
}

/// `GET /api/org/phones`: the org's values for the phone help pages.
async fn phones(State(state): State<AppState>, admin: OrgAdmin) -> ApiResult<ApiJson<PhonesView>> {
    Ok(ApiJson(help::phones_view(&state, admin.org.id).await?))
}

/// `GET /api/org/phones/guides`: the help pages there are, by kind of device.
async fn guide_list(_admin: OrgAdmin) -> ApiJson<GuideList> {
    ApiJson(guides::guide_list())
}

/// `GET /api/org/phones/guides/{id}?extension=N`: one help page with the org's values and the
/// applied extension's number and name in place.
async fn guide(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<GuideQuery>,
) -> ApiResult<ApiJson<FilledGuide>> {
    let filled = help::filled_guide(&state, admin.org.id, &id, query.extension.as_deref()).await?;
    Ok(ApiJson(filled))
}

/// `POST /api/org/provisioning-links`: a single-use link (and its QR code) that provisions a
/// Linphone app for one applied extension, valid for
/// [`LINK_LIFETIME_SECS`](crate::provisioning::LINK_LIFETIME_SECS).
async fn create_link(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(body): ApiJson<NewProvisioningLink>,
) -> ApiResult<Response> {
    let link = links::create(&state, &admin, &body.extension).await?;
    Ok((StatusCode::CREATED, ApiJson(link)).into_response())
}

/// The provisioning part of the OpenAPI document (merged into `/api/v1/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(config_json, phonebook_json),
    components(schemas(
        ProvisioningConfig,
        api_types::provisioning::ProvisionedOrg,
        api_types::provisioning::SipAccount,
        api_types::provisioning::SipTransport,
        api_types::provisioning::FeatureCode,
        api_types::provisioning::PhonebookEntry,
        Phonebook,
    )),
    modifiers(&SipCredentials),
    tags((name = "provisioning", description = "For phones and softphone apps: an extension's \
        SIP account and the org's directory, on the org's own host, with the extension's SIP \
        credentials"))
)]
pub struct ProvisionDoc;

struct SipCredentials;

impl utoipa::Modify for SipCredentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, scheme, description) in [
            (
                "sip_digest",
                HttpAuthScheme::Digest,
                "The extension number and its SIP password, HTTP Digest (MD5, qop=auth, realm = the org's SIP domain)",
            ),
            (
                "sip_basic",
                HttpAuthScheme::Basic,
                "The extension number and its SIP password, HTTP Basic (over https only)",
            ),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(scheme)
                        .description(Some(description))
                        .build(),
                ),
            );
        }
    }
}
