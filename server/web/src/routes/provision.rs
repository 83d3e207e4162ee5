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
//!
//! Every answer is `Cache-Control: no-store`. Failed authentications are counted per source
//! address and per extension ([`ProvisionGuard`]); a locked source or extension is answered
//! 429 with `Retry-After`. An extension number of another org simply does not exist here: it is
//! answered like a wrong password.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use api_types::phones::{FilledGuide, GuideList, GuideQuery};
use api_types::provisioning::{
    NewProvisioningLink, Phonebook, PhonesView, ProvisioningConfig, ProvisioningLink,
};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Extension, Router};
use domain::{md5_hex, DigestParams};
use store::orgs::Org;
use store::provisioning::Redemption;
use store::snapshot::AppliedSnapshot;

use crate::auth::{require_csrf_header, ClientIp, HostOrg, OrgAdmin};
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::provisioning::auth::{
    challenges, parse_authorization, Credentials, NonceCheck, NonceKey,
};
use crate::provisioning::guard::ProvisionGuard;
use crate::provisioning::{
    feature_codes, find_extension, formats, guides, qr, Directory, Provisioned, Site,
    LINK_LIFETIME_SECS, REGISTRATION_EXPIRY_SECS,
};
use crate::state::AppState;
use engine::secrets;

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
    fn provisioned(&self, state: &AppState) -> ApiResult<Provisioned> {
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
struct Attempt<'a> {
    method: &'a Method,
    /// The request target as sent (path and query): a digest must be computed over it.
    uri: &'a str,
    headers: &'a HeaderMap,
    ip: Option<IpAddr>,
    /// Credentials from a form body (Acrobits POST), taking precedence over the header.
    form: Option<Credentials>,
}

/// Checks the extension's SIP credentials against the org's applied configuration.
async fn authenticate(
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
            let qop_ok = digest
                .qop
                .as_deref()
                .is_some_and(|q| q.eq_ignore_ascii_case("auth"));
            let algorithm_ok = digest
                .algorithm
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case("MD5"));
            let fields_ok = qop_ok
                && algorithm_ok
                && digest.realm == domain.as_str()
                && digest.uri == attempt.uri
                && key.check(&digest.nonce, snapshot.org.id.0, now) == NonceCheck::Valid;
            let params = DigestParams {
                method: attempt.method.as_str(),
                uri: &digest.uri,
                nonce: &digest.nonce,
                nc: &digest.nc,
                cnonce: &digest.cnonce,
                qop: Some("auth"),
            };
            let response_ok = match extension {
                Some(ext) => ext.a1_hash.verifies_digest(&params, &digest.response),
                None => {
                    let _ = md5_hex(&format!("{}:{}", digest.nonce, digest.response));
                    false
                }
            };
            fields_ok && response_ok
        }
    }
}

fn too_many(wait: std::time::Duration) -> Refusal {
    Refusal::Api(ApiError::TooManyRequests {
        detail: "Too many failed sign-ins; wait a while before trying again.".into(),
        retry_after_seconds: wait.as_secs().max(1),
    })
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
    let mut username = None;
    let mut password = None;
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "username" => username = Some(value.into_owned()),
            "password" => password = Some(value.into_owned()),
            _ => {}
        }
    }
    let form = match (username, password) {
        (Some(username), Some(password)) => Some(Credentials::Basic { username, password }),
        _ => None,
    };
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
    guard.check_source(ip).map_err(too_many)?;
    if org.status != domain::OrgStatus::Active {
        return Err(ApiError::Forbidden("This PBX is suspended; ask your provider.".into()).into());
    }
    let gone = |what: &str| {
        Refusal::Gone(format!(
            "This provisioning link {what}; ask your administrator for a new QR code."
        ))
    };
    if token.len() > 64 {
        guard.record_source_failure(ip);
        return Err(ApiError::not_found("Provisioning link").into());
    }
    let redemption = state
        .store()
        .redeem_provisioning_link(org.id, &secrets::sha256_hex(&token), store::now_ms())
        .await?;
    let number = match redemption {
        Redemption::Redeemed(number) => number,
        Redemption::AlreadyUsed => return Err(gone("was used already")),
        Redemption::Expired => return Err(gone("has expired")),
        Redemption::NotFound => {
            guard.record_source_failure(ip);
            return Err(ApiError::not_found("Provisioning link").into());
        }
    };
    let snapshot = state.store().applied_snapshot(org.id).await?;
    let extension = find_extension(&snapshot, number.as_str())
        .ok_or_else(|| gone("is for an extension that no longer exists"))?;
    let provisioned = Provisioned::new(&snapshot, extension, Site::from_config(state.config()));
    Ok(document(XML, formats::linphone_xml(&provisioned)))
}

/// `GET /api/org/phones`: the org's values for the phone help pages.
async fn phones(State(state): State<AppState>, admin: OrgAdmin) -> ApiResult<ApiJson<PhonesView>> {
    let snapshot = state.store().applied_snapshot(admin.org.id).await?;
    let directory = Directory::from_snapshot(&snapshot);
    let site = Site::from_config(state.config());
    let org_url = state.config().org_url(&directory.org_slug);
    Ok(ApiJson(PhonesView {
        org_name: directory.org_name.clone(),
        sip_domain: directory.sip_domain.clone(),
        server: site.server.clone(),
        transports: site.transport_views(),
        registration_expiry_seconds: REGISTRATION_EXPIRY_SECS,
        feature_codes: feature_codes(),
        values: crate::provisioning::placeholder_values(&directory, &site, &org_url),
        extensions: directory.entry_views(),
    }))
}

/// `GET /api/org/phones/guides`: the help pages there are, by kind of device.
async fn guide_list(_admin: OrgAdmin) -> ApiJson<GuideList> {
    ApiJson(guides::guide_list())
}

/// `GET /api/org/phones/guides/{id}?extension=N`: one help page with the org's values and the
/// applied extension's number and name in place. The password fields name the password (and
/// where it is made), never hold one.
async fn guide(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<GuideQuery>,
) -> ApiResult<ApiJson<FilledGuide>> {
    let guide = guides::guide(&id).ok_or_else(|| ApiError::not_found("Help page"))?;
    let snapshot = state.store().applied_snapshot(admin.org.id).await?;
    let wanted = query.extension.as_deref().map(str::trim).unwrap_or("");
    let Some(extension) = find_extension(&snapshot, wanted) else {
        return Err(ApiError::invalid_field(
            "extension",
            "Choose an extension that is applied: phones only know applied extensions.",
        ));
    };
    let directory = Directory::from_snapshot(&snapshot);
    let site = Site::from_config(state.config());
    let org_url = state.config().org_url(&directory.org_slug);
    let mut values = crate::provisioning::placeholder_values(&directory, &site, &org_url);
    let number = extension.number.to_string();
    let other = directory
        .entries
        .iter()
        .find(|e| e.number != number)
        .map_or_else(|| "a second extension".to_owned(), |e| e.number.clone());
    values.insert("extension".into(), number.clone());
    values.insert("display_name".into(), extension.display_name.to_string());
    values.insert(
        "password".into(),
        format!("the SIP password of extension {number}"),
    );
    values.insert("other_extension".into(), other);
    Ok(ApiJson(
        guide.filled(&number, |name| values.get(name).cloned()),
    ))
}

/// `POST /api/org/provisioning-links`: a single-use link (and its QR code) that provisions a
/// Linphone app for one applied extension, valid for [`LINK_LIFETIME_SECS`].
async fn create_link(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiJson(body): ApiJson<NewProvisioningLink>,
) -> ApiResult<Response> {
    let snapshot = state.store().applied_snapshot(admin.org.id).await?;
    let Some(extension) = find_extension(&snapshot, body.extension.trim()) else {
        return Err(ApiError::invalid_field(
            "extension",
            "Choose an extension that is applied: phones only know applied extensions.",
        ));
    };
    let token = secrets::random_token(32);
    let expires_at = store::now_ms() + i64::from(LINK_LIFETIME_SECS) * 1000;
    state
        .store()
        .create_provisioning_link(
            admin.org.id,
            &extension.number,
            &secrets::sha256_hex(&token),
            expires_at,
        )
        .await?;
    let url = format!(
        "{}/provision/t/{token}",
        state.config().org_url(admin.org.slug.as_str())
    );
    let qr_svg = qr::svg(&url)?;
    tracing::info!(
        org = %admin.org.slug,
        extension = %extension.number,
        admin = %admin.admin.email,
        "provisioning link created"
    );
    let link = ProvisioningLink {
        extension: extension.number.to_string(),
        url,
        expires_at,
        expires_in_seconds: LINK_LIFETIME_SECS,
        qr_svg,
    };
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
