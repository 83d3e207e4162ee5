//! Every HTTP request of the app goes through [`call`]: JSON in and out, the CSRF header on
//! every changing request, the provider's bearer key when there is one, and errors parsed into
//! one typed [`ApiError`] (RFC 9457 problem+json from the server, or a network failure).
//!
//! The thin functions below name the endpoints; pages never build URLs or requests themselves.

use std::cell::RefCell;

use api_types::desk_phones::{DeskPhone, DeskPhoneChange, DeskPhoneList, NewDeskPhone};
use api_types::history::{HistoryPage, RestorePreview, RestoreRequest, RestoreResult};
use api_types::org::{
    ApplyRequest, CreatedExtension, DidView, ExtensionPatch, ExtensionView, InviteAccept, JobView,
    LoginRequest, Me, NewExtension, NewPassword, OptionsPatch, OptionsView, OrgInfo, PbxView,
    ResetRequest, ResetResult, RevisionRef, RouteUpdate, CSRF_HEADER,
};
use api_types::phones::{FilledGuide, GuideList};
use api_types::provisioning::{NewProvisioningLink, PhonesView, ProvisioningLink};
use api_types::stats::{
    DidsView, ExtensionsView, HoursView, LiveView, Period, RecentCallsView, SummaryView,
};
use api_types::{FieldError, Problem};
use gloo_net::http::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status (its problem body, or one made from the status).
    Problem {
        problem: Problem,
        /// `Retry-After` in seconds (429).
        retry_after: Option<u32>,
    },
    /// The server could not be reached.
    Network(String),
    /// The answer was not what this app understands (a server of another version?).
    Unexpected(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem { problem, .. } => Some(problem.status),
            _ => None,
        }
    }

    pub fn is_status(&self, status: u16) -> bool {
        self.status() == Some(status)
    }

    /// Someone else changed the object since it was loaded.
    pub fn is_conflict(&self) -> bool {
        self.is_status(409)
    }

    /// The server cannot do its work now (its configuration database is unreachable): 503.
    pub fn is_unavailable(&self) -> bool {
        self.is_status(503)
    }

    /// What to tell a person.
    pub fn message(&self) -> String {
        match self {
            ApiError::Problem { problem, .. } if !problem.detail.is_empty() => {
                problem.detail.clone()
            }
            ApiError::Problem { problem, .. } => problem.title.clone(),
            ApiError::Network(_) => {
                "The server cannot be reached. Check your connection and try again.".into()
            }
            ApiError::Unexpected(_) => {
                "The server gave an answer this page does not understand. Reload the page.".into()
            }
        }
    }

    /// Per-field errors of a 422.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ApiError::Problem { problem, .. } => &problem.errors,
            _ => &[],
        }
    }

    /// The message for `field` (of `subject`, when given), else `None`.
    pub fn field_message(&self, subject: Option<&str>, field: &str) -> Option<String> {
        self.field_errors()
            .iter()
            .find(|e| {
                e.field == field
                    && match (subject, e.subject.as_deref()) {
                        (Some(want), Some(got)) => want == got,
                        _ => true,
                    }
            })
            .map(|e| e.message.clone())
    }

    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::Problem { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A request body.
pub enum Body<'a> {
    None,
    Json(serde_json::Value),
    /// Raw bytes (a file), with their content type.
    Blob(&'a web_sys::Blob, &'a str),
}

impl Body<'_> {
    fn json(value: &impl Serialize) -> Result<Self, ApiError> {
        serde_json::to_value(value)
            .map(Body::Json)
            .map_err(|e| ApiError::Unexpected(e.to_string()))
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// The org admin's session cookie (sent by the browser; same origin only).
    Session,
    /// A provider API key.
    Bearer(&'a str),
}

type Availability = Box<dyn Fn(Option<String>)>;

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    static ON_AVAILABILITY: RefCell<Option<Availability>> = const { RefCell::new(None) };
}

/// Called when a session request answers 401 (the session ended): the app shows the login page.
pub fn on_session_expired(hook: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
}

/// Called after each answer to a session request that says whether the server can work:
/// `None` after a success, `Some(the server's words)` after a 503 (see [`crate::service`]).
pub fn on_availability(hook: impl Fn(Option<String>) + 'static) {
    ON_AVAILABILITY.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
}

fn availability(state: Option<String>) {
    ON_AVAILABILITY.with(|h| {
        if let Some(hook) = h.borrow().as_ref() {
            hook(state);
        }
    });
}

/// The one request function: sends, and parses the answer (an empty one as `null`).
pub async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Body<'_>,
    auth: Auth<'_>,
) -> Result<T, ApiError> {
    let text = exchange(method, path, body, auth).await?;
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    serde_json::from_str(text).map_err(|e| ApiError::Unexpected(e.to_string()))
}

/// The request itself (not generic, so that it is compiled once): the text of a 2xx answer, or
/// the error.
async fn exchange(
    method: Method,
    path: &str,
    body: Body<'_>,
    auth: Auth<'_>,
) -> Result<String, ApiError> {
    let mut builder = RequestBuilder::new(path)
        .method(method.clone())
        .header("accept", "application/json, application/problem+json");
    if method != Method::GET {
        builder = builder.header(CSRF_HEADER, "1");
    }
    if let Auth::Bearer(key) = auth {
        builder = builder.header("authorization", &format!("Bearer {}", key.trim()));
    }
    let request = match body {
        Body::None => builder.build(),
        Body::Json(value) => builder.json(&value),
        Body::Blob(blob, content_type) => builder
            .header("content-type", content_type)
            .body(wasm_bindgen::JsValue::from(blob.clone())),
    }
    .map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let session = matches!(auth, Auth::Session);
    if (200..300).contains(&status) {
        if session {
            availability(None);
        }
        return Ok(text);
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse().ok());
    let problem = serde_json::from_str::<Problem>(&text).ok();
    if status == 503 && session {
        // The server's own words, when it sent a problem (not, say, a proxy's error page).
        let words = problem
            .as_ref()
            .map(|p| {
                if p.detail.is_empty() {
                    &p.title
                } else {
                    &p.detail
                }
            })
            .cloned()
            .unwrap_or_default();
        availability(Some(words));
    }
    let problem = problem.unwrap_or_else(|| Problem {
        problem_type: "about:blank".into(),
        title: response.status_text(),
        status,
        detail: default_detail(status).into(),
        errors: Vec::new(),
        current_revision: None,
    });
    if status == 401 && session && !path.ends_with("/login") {
        ON_UNAUTHORIZED.with(|h| {
            if let Some(hook) = h.borrow().as_ref() {
                hook();
            }
        });
    }
    Err(ApiError::Problem {
        problem,
        retry_after,
    })
}

fn default_detail(status: u16) -> &'static str {
    match status {
        401 => "Please log in again.",
        403 => "You are not allowed to do this.",
        404 => "Not found. It may have been removed meanwhile.",
        409 => "This was changed elsewhere meanwhile. Reload to see the current state.",
        413 => "The file is too large.",
        429 => "Too many attempts. Wait a moment and try again.",
        500..=599 => "The server had a problem. Try again in a moment.",
        _ => "The request failed.",
    }
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    call(Method::GET, path, Body::None, Auth::Session).await
}

async fn send<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: &impl Serialize,
) -> Result<T, ApiError> {
    call(method, path, Body::json(body)?, Auth::Session).await
}

/// Percent-encodes one path segment (`+` of E.164 numbers included).
pub fn segment(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

// --- The org admin's API (`/api/org`, session cookie) ---

pub async fn org_info() -> Result<OrgInfo, ApiError> {
    get("/api/org/info").await
}

pub async fn login(email: &str, password: &str) -> Result<Me, ApiError> {
    let body = LoginRequest {
        email: email.trim().to_owned(),
        password: password.to_owned(),
    };
    send(Method::POST, "/api/org/login", &body).await
}

pub async fn logout() -> Result<(), ApiError> {
    call(Method::POST, "/api/org/logout", Body::None, Auth::Session).await
}

pub async fn accept_invite(token: &str, password: &str) -> Result<Me, ApiError> {
    let body = InviteAccept {
        token: token.to_owned(),
        password: password.to_owned(),
    };
    send(Method::POST, "/api/org/invite/accept", &body).await
}

pub async fn pbx() -> Result<PbxView, ApiError> {
    get("/api/org/pbx").await
}

pub async fn create_extension(new: &NewExtension) -> Result<CreatedExtension, ApiError> {
    send(Method::POST, "/api/org/extensions", new).await
}

pub async fn patch_extension(
    number: &str,
    patch: &ExtensionPatch,
) -> Result<ExtensionView, ApiError> {
    let path = format!("/api/org/extensions/{}", segment(number));
    send(Method::PATCH, &path, patch).await
}

pub async fn delete_extension(number: &str, revision: i64) -> Result<(), ApiError> {
    let path = format!(
        "/api/org/extensions/{}?revision={revision}",
        segment(number)
    );
    call(Method::DELETE, &path, Body::None, Auth::Session).await
}

pub async fn new_password(number: &str, revision: i64) -> Result<NewPassword, ApiError> {
    let path = format!("/api/org/extensions/{}/password", segment(number));
    send(Method::POST, &path, &RevisionRef { revision }).await
}

pub async fn route_did(number: &str, update: &RouteUpdate) -> Result<DidView, ApiError> {
    let path = format!("/api/org/dids/{}/route", segment(number));
    send(Method::PUT, &path, update).await
}

pub async fn patch_options(patch: &OptionsPatch) -> Result<OptionsView, ApiError> {
    send(Method::PATCH, "/api/org/options", patch).await
}

pub async fn upload_moh(file: &web_sys::Blob, content_type: &str) -> Result<OptionsView, ApiError> {
    call(
        Method::PUT,
        "/api/org/moh",
        Body::Blob(file, content_type),
        Auth::Session,
    )
    .await
}

pub async fn apply(request: &ApplyRequest) -> Result<JobView, ApiError> {
    send(Method::POST, "/api/org/apply", request).await
}

pub async fn latest_job() -> Result<Option<JobView>, ApiError> {
    get("/api/org/jobs/latest").await
}

pub async fn job(id: i64) -> Result<JobView, ApiError> {
    get(&format!("/api/org/jobs/{id}")).await
}

pub async fn stop_job(id: i64) -> Result<JobView, ApiError> {
    call(
        Method::POST,
        &format!("/api/org/jobs/{id}/stop"),
        Body::None,
        Auth::Session,
    )
    .await
}

pub async fn discard() -> Result<PbxView, ApiError> {
    call(Method::POST, "/api/org/discard", Body::None, Auth::Session).await
}

pub async fn reset() -> Result<ResetResult, ApiError> {
    let body = ResetRequest {
        confirm: "RESET".into(),
    };
    send(Method::POST, "/api/org/reset", &body).await
}

// --- The Apply history and restoring a version into the draft ---

/// The org's Applies newest first, a page at a time: those below version `before` (the
/// previous page's `next_before`), or from the newest.
pub async fn history(before: Option<i64>) -> Result<HistoryPage, ApiError> {
    match before {
        Some(before) => get(&format!("/api/org/history?before={before}")).await,
        None => get("/api/org/history").await,
    }
}

/// What restoring `version` would make of the draft as it is now (404: no such version).
pub async fn restore_preview(version: i64) -> Result<RestorePreview, ApiError> {
    get(&format!("/api/org/history/{version}")).await
}

/// Copies `version` into the draft, decided on the preview of draft revision
/// `based_on_revision` (409 when the draft changed since). Nothing is applied.
pub async fn restore(
    version: i64,
    based_on_revision: i64,
    restore_secrets: bool,
) -> Result<RestoreResult, ApiError> {
    let body = RestoreRequest {
        based_on_revision: Some(based_on_revision),
        restore_secrets,
    };
    let path = format!("/api/org/history/{version}/restore");
    send(Method::POST, &path, &body).await
}

// --- Phones: help pages and provisioning links ---

/// The org's SIP domain, server, transports and applied extensions (never a password).
pub async fn phones() -> Result<PhonesView, ApiError> {
    get("/api/org/phones").await
}

/// The help pages there are, by kind of device.
pub async fn phone_guides() -> Result<GuideList, ApiError> {
    get("/api/org/phones/guides").await
}

/// One help page, filled for the org and the applied extension `extension`.
pub async fn phone_guide(id: &str, extension: &str) -> Result<FilledGuide, ApiError> {
    let path = format!(
        "/api/org/phones/guides/{}?extension={}",
        segment(id),
        segment(extension)
    );
    get(&path).await
}

/// A single-use link (and its QR code) that provisions Linphone for `extension`.
pub async fn provisioning_link(extension: &str) -> Result<ProvisioningLink, ApiError> {
    let body = NewProvisioningLink {
        extension: extension.to_owned(),
    };
    send(Method::POST, "/api/org/provisioning-links", &body).await
}

// --- Desk phones that set themselves up ---

/// The org's desk phones, and the models one can be added as.
pub async fn desk_phones() -> Result<DeskPhoneList, ApiError> {
    get("/api/org/desk-phones").await
}

/// Adds a phone (422: field errors for `mac`, `model`, `extension`; 409: its MAC is known).
pub async fn add_desk_phone(new: &NewDeskPhone) -> Result<DeskPhone, ApiError> {
    send(Method::POST, "/api/org/desk-phones", new).await
}

/// Gives the phone `mac` another model or extension (`None`: no extension).
pub async fn change_desk_phone(mac: &str, change: &DeskPhoneChange) -> Result<DeskPhone, ApiError> {
    let path = format!("/api/org/desk-phones/{}", segment(mac));
    send(Method::PUT, &path, change).await
}

/// Removes the phone `mac`: at its next check it forgets its account.
pub async fn remove_desk_phone(mac: &str) -> Result<(), ApiError> {
    let path = format!("/api/org/desk-phones/{}", segment(mac));
    call(Method::DELETE, &path, Body::None, Auth::Session).await
}

// --- Statistics (days and hours counted in the browser's time zone) ---

/// The browser's IANA time zone (`Europe/Berlin`), `UTC` if it does not say.
fn time_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .filter(|tz| !tz.is_empty())
        .unwrap_or_else(|| "UTC".into())
}

fn stats_path(section: &str, period: Period) -> String {
    format!(
        "/api/org/stats/{section}?period={}&tz={}",
        period.as_str(),
        segment(&time_zone())
    )
}

pub async fn stats_summary(period: Period) -> Result<SummaryView, ApiError> {
    get(&stats_path("summary", period)).await
}

pub async fn stats_hours(period: Period) -> Result<HoursView, ApiError> {
    get(&stats_path("hours", period)).await
}

pub async fn stats_extensions(period: Period) -> Result<ExtensionsView, ApiError> {
    get(&stats_path("extensions", period)).await
}

pub async fn stats_dids(period: Period) -> Result<DidsView, ApiError> {
    get(&stats_path("dids", period)).await
}

/// Calls newest first, `limit` of them, older than the cursor `before` of the previous page.
pub async fn recent_calls(limit: u32, before: Option<&str>) -> Result<RecentCallsView, ApiError> {
    let mut path = format!("/api/org/stats/calls?limit={limit}");
    if let Some(before) = before {
        path.push_str("&before=");
        path.push_str(&segment(before));
    }
    get(&path).await
}

/// Registered phones and calls in progress, from FreeSWITCH (200 also when it is down).
pub async fn live() -> Result<LiveView, ApiError> {
    get("/api/org/stats/live").await
}

/// The provider's REST API (`/api/v1`, bearer key), as the admin demo page uses it.
#[cfg(feature = "admin-demo")]
pub mod provider {
    use api_types::desk_phones::NewDeskPhones;
    use api_types::provider::{
        AdminCreate, AdminCreated, AdminView, DidCreate, DidList, OrgCreate, OrgCreated, OrgList,
        OrgPatch, OrgStatusView, OrgView, TrunkPut, TrunkView,
    };

    use super::*;

    const BASE: &str = "/api/v1";

    /// `{"items": [...]}` lists (admins, trunks).
    #[derive(serde::Deserialize)]
    struct Items<T> {
        items: Vec<T>,
    }

    async fn p<T: DeserializeOwned>(
        key: &str,
        method: Method,
        path: &str,
        body: Body<'_>,
    ) -> Result<T, ApiError> {
        let path = format!("{BASE}{path}");
        call(method, &path, body, Auth::Bearer(key)).await
    }

    fn org_path(slug: &str) -> String {
        format!("/orgs/{}", segment(slug))
    }

    pub async fn list_orgs(key: &str, offset: u64, limit: u64) -> Result<OrgList, ApiError> {
        let path = format!("/orgs?offset={offset}&limit={limit}");
        p(key, Method::GET, &path, Body::None).await
    }

    pub async fn create_org(key: &str, body: &OrgCreate) -> Result<OrgCreated, ApiError> {
        p(key, Method::POST, "/orgs", Body::json(body)?).await
    }

    pub async fn patch_org(key: &str, slug: &str, body: &OrgPatch) -> Result<OrgView, ApiError> {
        p(key, Method::PATCH, &org_path(slug), Body::json(body)?).await
    }

    pub async fn org_status(key: &str, slug: &str) -> Result<OrgStatusView, ApiError> {
        let path = format!("{}/status", org_path(slug));
        p(key, Method::GET, &path, Body::None).await
    }

    pub async fn trunks(key: &str, slug: &str) -> Result<Vec<TrunkView>, ApiError> {
        let path = format!("{}/trunks", org_path(slug));
        let list: Items<TrunkView> = p(key, Method::GET, &path, Body::None).await?;
        Ok(list.items)
    }

    pub async fn put_trunk(
        key: &str,
        slug: &str,
        role: &str,
        body: &TrunkPut,
    ) -> Result<TrunkView, ApiError> {
        let path = format!("{}/trunks/{}", org_path(slug), segment(role));
        p(key, Method::PUT, &path, Body::json(body)?).await
    }

    pub async fn dids(key: &str, slug: &str) -> Result<DidList, ApiError> {
        let path = format!("{}/dids", org_path(slug));
        p(key, Method::GET, &path, Body::None).await
    }

    pub async fn add_did(key: &str, slug: &str, number: &str) -> Result<DidList, ApiError> {
        let path = format!("{}/dids", org_path(slug));
        let body = DidCreate {
            number: number.trim().to_owned(),
        };
        p(key, Method::POST, &path, Body::json(&body)?).await
    }

    pub async fn remove_did(key: &str, slug: &str, number: &str) -> Result<(), ApiError> {
        let path = format!("{}/dids/{}", org_path(slug), segment(number));
        p(key, Method::DELETE, &path, Body::None).await
    }

    pub async fn admins(key: &str, slug: &str) -> Result<Vec<AdminView>, ApiError> {
        let path = format!("{}/admins", org_path(slug));
        let list: Items<AdminView> = p(key, Method::GET, &path, Body::None).await?;
        Ok(list.items)
    }

    pub async fn create_admin(
        key: &str,
        slug: &str,
        body: &AdminCreate,
    ) -> Result<AdminCreated, ApiError> {
        let path = format!("{}/admins", org_path(slug));
        p(key, Method::POST, &path, Body::json(body)?).await
    }

    pub async fn desk_phones(key: &str, slug: &str) -> Result<DeskPhoneList, ApiError> {
        let path = format!("{}/desk-phones", org_path(slug));
        p(key, Method::GET, &path, Body::None).await
    }

    /// Adds a shipment of phones, all or none (errors name `phones[i].field`).
    pub async fn add_desk_phones(
        key: &str,
        slug: &str,
        body: &NewDeskPhones,
    ) -> Result<Vec<DeskPhone>, ApiError> {
        let path = format!("{}/desk-phones", org_path(slug));
        p(key, Method::POST, &path, Body::json(body)?).await
    }

    pub async fn remove_desk_phone(key: &str, slug: &str, mac: &str) -> Result<(), ApiError> {
        let path = format!("{}/desk-phones/{}", org_path(slug), segment(mac));
        p(key, Method::DELETE, &path, Body::None).await
    }

    pub async fn upload_logo(
        key: &str,
        slug: &str,
        file: &web_sys::Blob,
        content_type: &str,
    ) -> Result<(), ApiError> {
        let path = format!("{}/logo", org_path(slug));
        p(key, Method::PUT, &path, Body::Blob(file, content_type)).await
    }
}
