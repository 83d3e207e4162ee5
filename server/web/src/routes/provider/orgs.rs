//! Organizations: create, list, get, change, delete.

use api_types::provider::{Limits, OrgCreate, OrgCreated, OrgList, OrgPatch, OrgView};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use domain::{CompanyName, OrgSlug, OrgStatus, SipDomain};
use serde::Deserialize;
use store::orgs::{NewOrg, Org, OrgLimits, OrgUpdate};
use utoipa::IntoParams;

use super::auth::{ApiKeyAuth, KeyOrg};
use super::extract::JsonObject;
use super::{fs_sync, ProviderKey, SlugPath};
use crate::error::{checked, ApiError, ApiJson, ApiQuery, ApiResult, Fields};
use crate::state::AppState;
use engine::fs_socket::FsError;
use engine::services;

const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 500;

/// The org as the provider sees it.
pub fn org_view(state: &AppState, org: &Org) -> OrgView {
    OrgView {
        slug: org.slug.to_string(),
        name: org.name.to_string(),
        sip_domain: org.sip_domain.to_string(),
        status: org.status.as_str().to_owned(),
        limits: Limits {
            max_extensions: org.limits.max_extensions,
            max_outbound_calls: org.limits.max_outbound_calls,
            max_calls_per_second: org.limits.max_calls_per_second,
        },
        has_logo: org.has_logo,
        url: state.config().org_url(org.slug.as_str()),
        applied_version: org.applied_version,
        created_at: org.created_at,
        updated_at: org.updated_at,
    }
}

/// Limits within what FreeSWITCH and the database columns can hold; 0 outbound calls or 0
/// calls per second bars calls to the PSTN (emergency numbers excepted).
fn check_limits(fields: &mut Fields, limits: &Limits) -> OrgLimits {
    let mut check = |name: &str, value: u32, min: u32, max: u32| {
        if !(min..=max).contains(&value) {
            fields.add(
                &format!("limits.{name}"),
                format!("{name} is a number from {min} to {max}."),
            );
        }
    };
    check("max_extensions", limits.max_extensions, 1, 100_000);
    check("max_outbound_calls", limits.max_outbound_calls, 0, 10_000);
    check(
        "max_calls_per_second",
        limits.max_calls_per_second,
        0,
        1_000,
    );
    OrgLimits {
        max_extensions: limits.max_extensions,
        max_outbound_calls: limits.max_outbound_calls,
        max_calls_per_second: limits.max_calls_per_second,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// How many orgs to skip (ordered by slug). Default 0.
    #[param(minimum = 0, maximum = 9223372036854775807_i64, example = 0)]
    pub offset: Option<u64>,
    /// How many orgs to return, 1 to 500. Default 50.
    #[param(minimum = 1, maximum = 500, example = 50)]
    pub limit: Option<u64>,
}

/// List organizations, ordered by slug. An org-scoped key sees only its own org.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organizations", params(Paging),
    responses((status = 200, description = "One page of orgs and the total count", body = OrgList)))]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiKeyAuth,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<ApiJson<OrgList>> {
    let offset = paging.offset.unwrap_or(0);
    let limit = paging.limit.unwrap_or(DEFAULT_PAGE);
    let mut fields = Fields::new();
    // What the databases take (and what the document's int64 says).
    if offset > i64::MAX as u64 {
        fields.add("offset", format!("offset is at most {}.", i64::MAX));
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        fields.add("limit", format!("limit is a number from 1 to {MAX_PAGE}."));
    }
    fields.finish()?;
    let (orgs, total) = match auth.scope {
        None => state.store().list_orgs(offset, limit).await?,
        Some(org) => {
            let own = state.store().org(org).await?;
            (vec![own].into_iter().skip(offset as usize).collect(), 1)
        }
    };
    Ok(ApiJson(OrgList {
        items: orgs.iter().map(|org| org_view(&state, org)).collect(),
        total,
        offset,
        limit,
    }))
}

fn parse_create(state: &AppState, body: &OrgCreate) -> ApiResult<NewOrg> {
    let mut fields = Fields::new();
    let slug = fields.check("slug", OrgSlug::parse(&body.slug));
    let name = fields.check("name", CompanyName::parse(&body.name));
    // A blank domain (an empty form field) means the default one.
    let given = body.sip_domain.as_deref().filter(|d| !d.trim().is_empty());
    let sip_domain = match (given, &slug) {
        (Some(domain), _) => fields.check("sip_domain", SipDomain::parse(domain)),
        (None, Some(slug)) => fields.check(
            "sip_domain",
            SipDomain::parse(&state.config().default_sip_domain(slug.as_str())),
        ),
        (None, None) => None,
    };
    let limits = body
        .limits
        .map(|limits| check_limits(&mut fields, &limits))
        .unwrap_or_default();
    fields.finish()?;
    Ok(NewOrg {
        slug: checked(slug)?,
        name: checked(name)?,
        sip_domain: checked(sip_domain)?,
        limits,
    })
}

/// Create an organization with the default configuration. Its reception extension works at
/// once; its SIP password and voicemail PIN are shown in this answer only.
#[utoipa::path(post, path = "/api/v1/orgs", tag = "organizations", request_body = OrgCreate,
    responses(
        (status = 201, description = "Created; `Location` names the new org", body = OrgCreated,
            headers(("Location" = String, description = "/api/v1/orgs/{slug}"))),
        (status = 403, description = "An org-scoped key cannot create organizations", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug or the SIP domain is taken", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    _provider: ProviderKey,
    JsonObject(body): JsonObject<OrgCreate>,
) -> ApiResult<impl IntoResponse> {
    let new = parse_create(&state, &body)?;
    let created =
        services::create_org(&state, new.slug, new.name, new.sip_domain, new.limits).await?;
    let location = format!("/api/v1/orgs/{}", created.org.slug);
    let body = OrgCreated {
        org: org_view(&state, &created.org),
        reception_number: created.reception_number,
        reception_sip_password: created.reception_password,
        reception_voicemail_pin: created.reception_pin,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        ApiJson(body),
    ))
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}", tag = "organizations", params(SlugPath),
    responses((status = 200, description = "The org", body = OrgView)))]
pub async fn get(State(state): State<AppState>, key: KeyOrg) -> ApiJson<OrgView> {
    ApiJson(org_view(&state, &key.org))
}

/// Change the name, the status or the limits; omitted fields stay as they are. Suspending
/// takes the org's gateways down and its phones off FreeSWITCH at once; reactivating brings
/// them back. Status and limits need a provider-wide key.
#[utoipa::path(patch, path = "/api/v1/orgs/{slug}", tag = "organizations", params(SlugPath),
    request_body = OrgPatch,
    responses(
        (status = 200, description = "The org after the change", body = OrgView),
        (status = 403, description = "An org-scoped key cannot change status or limits", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    KeyOrg { auth, org }: KeyOrg,
    JsonObject(body): JsonObject<OrgPatch>,
) -> ApiResult<ApiJson<OrgView>> {
    if body.status.is_some() || body.limits.is_some() {
        auth.require_provider("changing the status or the limits")?;
    }
    let update = parse_patch(&body)?;
    let updated = match update.status {
        Some(status) if status != org.status => {
            change_status(&state, &org, &update, status).await?
        }
        _ => state.store().update_org(org.id, &update).await?,
    };
    Ok(ApiJson(org_view(&state, &updated)))
}

fn parse_patch(body: &OrgPatch) -> ApiResult<OrgUpdate> {
    let mut fields = Fields::new();
    let update = OrgUpdate {
        name: body
            .name
            .as_deref()
            .and_then(|name| fields.check("name", CompanyName::parse(name))),
        status: body
            .status
            .as_deref()
            .and_then(|status| fields.check("status", OrgStatus::parse(status))),
        limits: body.limits.map(|limits| check_limits(&mut fields, &limits)),
    };
    fields.finish()?;
    Ok(update)
}

/// A suspension or a reactivation: the org's gateways, phones and streams go or come back in
/// FreeSWITCH, by commands queued with the change.
async fn change_status(
    state: &AppState,
    org: &Org,
    update: &OrgUpdate,
    status: OrgStatus,
) -> ApiResult<Org> {
    let view = fs_sync::applied_view(state, org, status).await?;
    let updated = state
        .store()
        .update_org_with(org.id, update, |before, after| {
            if before.status == after.status {
                return Vec::new();
            }
            fs_sync::status_commands(state, &view, before.status)
        })
        .await?;
    state.freeswitch().commands_queued();
    Ok(updated)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Delete even while FreeSWITCH reports calls of the org, or cannot be asked.
    #[serde(default)]
    #[param(default = false)]
    pub force: bool,
}

/// Delete an organization with its configuration, admins, logo, numbers, trunks and music
/// files, and make FreeSWITCH forget it. Refused while it has calls in progress (409) or while
/// FreeSWITCH cannot be asked (503), unless `force=true`. Needs a provider-wide key.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}", tag = "organizations",
    params(SlugPath, DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "An org-scoped key cannot delete organizations", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The org has calls in progress", body = api_types::Problem, content_type = "application/problem+json"),
        (status = 503, description = "FreeSWITCH cannot be asked about calls", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    KeyOrg { auth, org }: KeyOrg,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    auth.require_provider("deleting an organization")?;
    if !query.force {
        ensure_no_calls(&state, &org).await?;
    }
    let view = fs_sync::applied_view(&state, &org, org.status).await?;
    let commands = fs_sync::removal_commands(&state, &view);
    state.store().delete_org(org.id, &commands).await?;
    state.freeswitch().commands_queued();
    remove_music(&state, &org.slug).await;
    tracing::info!(org = %org.slug, force = query.force, "organization deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn ensure_no_calls(state: &AppState, org: &Org) -> ApiResult<()> {
    match state
        .freeswitch()
        .calls_in_progress(org.slug.as_str())
        .await
    {
        Ok(0) => Ok(()),
        Ok(calls) => Err(ApiError::Conflict(format!(
            "{} has {calls} call(s) in progress. Delete it when they have ended, or add \
             ?force=true to delete it now (its calls may be cut off).",
            org.slug
        ))),
        Err(err) => {
            let why = match err {
                FsError::NotConfigured => "the event socket is not configured".to_owned(),
                other => other.to_string(),
            };
            Err(ApiError::Unavailable(format!(
                "FreeSWITCH cannot be asked whether {} has calls in progress ({why}). Try again \
                 later, or add ?force=true to delete it anyway.",
                org.slug
            )))
        }
    }
}

/// The org's converted music (`<moh_dir>/<slug>`). The database row is gone already, so a
/// failure here is logged, not answered.
async fn remove_music(state: &AppState, slug: &OrgSlug) {
    let dir = state.config().moh_dir().join(slug.as_str());
    match tokio::fs::remove_dir_all(&dir).await {
        Ok(()) => tracing::info!(dir = %dir.display(), "music files removed"),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(dir = %dir.display(), error = %err, "removing music files"),
    }
}
