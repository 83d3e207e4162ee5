//! The org's two upstream trunks. A change reaches FreeSWITCH at once: the commands that restart
//! exactly the org's changed gateways are queued in the change's transaction.

use std::time::Duration;

use api_types::provider::{GatewayState, TrunkList, TrunkPut, TrunkView};
use axum::extract::State;
use axum::http::StatusCode;
use domain::trunk::{
    check_expire_seconds, check_port, Cidr, SipHost, SipUser, Transport, TrunkConfig, TrunkRole,
    TrunkSecret, TrunkSettings,
};
use domain::ValueError;
use serde::Deserialize;
use store::orgs::Org;
use store::telephony::{PasswordChange, StoredTrunk};
use utoipa::{IntoParams, ToSchema};

use super::auth::KeyOrg;
use super::extract::{ApiPath, JsonObject};
use super::{fs_sync, SlugPath};
use crate::error::{checked, ApiError, ApiJson, ApiResult, Fields};
use crate::state::AppState;

const MAX_CIDRS: usize = 32;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Inbound,
    Outbound,
}

impl From<Role> for TrunkRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Inbound => TrunkRole::Inbound,
            Role::Outbound => TrunkRole::Outbound,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TrunkPath {
    /// The org's short name.
    #[param(example = "acme")]
    #[allow(dead_code)]
    pub slug: String,
    /// `inbound` or `outbound`.
    #[param(inline)]
    pub role: Role,
}

/// What the request asks to do with the stored password.
enum PasswordInput {
    Keep,
    Clear,
    Set(TrunkSecret),
}

/// A blank optional field counts as absent (web forms send empty strings).
fn optional<T>(
    fields: &mut Fields,
    name: &str,
    value: &Option<String>,
    parse: fn(&str) -> Result<T, ValueError>,
) -> Option<T> {
    match value.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => fields.check(name, parse(text)),
    }
}

fn parse_settings(body: &TrunkPut, fields: &mut Fields) -> Option<TrunkSettings> {
    let username = fields.check("username", SipUser::parse(&body.username));
    let host = fields.check("host", SipHost::parse(&body.host));
    let transport = match body.transport.as_deref() {
        None | Some("") => Some(Transport::Udp),
        Some(text) => fields.check("transport", Transport::parse(text)),
    };
    let default_port = if transport == Some(Transport::Tls) {
        5061
    } else {
        5060
    };
    let port = fields.check("port", check_port(body.port.unwrap_or(default_port)));
    let expire_seconds = fields.check(
        "expire_seconds",
        check_expire_seconds(body.expire_seconds.unwrap_or(3600)),
    );
    if body.allowed_cidrs.len() > MAX_CIDRS {
        fields.add(
            "allowed_cidrs",
            format!("A trunk has at most {MAX_CIDRS} addresses."),
        );
    }
    let allowed_cidrs: Vec<Cidr> = body
        .allowed_cidrs
        .iter()
        .enumerate()
        .filter_map(|(i, cidr)| fields.check(&format!("allowed_cidrs[{i}]"), Cidr::parse(cidr)))
        .collect();
    Some(TrunkSettings {
        auth_username: optional(fields, "auth_username", &body.auth_username, SipUser::parse),
        proxy: optional(fields, "proxy", &body.proxy, SipHost::parse),
        realm: optional(fields, "realm", &body.realm, SipHost::parse),
        from_user: optional(fields, "from_user", &body.from_user, SipUser::parse),
        from_domain: optional(fields, "from_domain", &body.from_domain, SipHost::parse),
        username: username?,
        host: host?,
        port: port?,
        transport: transport?,
        register: body.register,
        caller_id_in_from: body.caller_id_in_from,
        expire_seconds: expire_seconds?,
        allowed_cidrs,
    })
}

fn parse_put(role: TrunkRole, body: &TrunkPut) -> ApiResult<(TrunkConfig, PasswordInput)> {
    if body.same_as_inbound {
        if role == TrunkRole::Inbound {
            return Err(ApiError::invalid_field(
                "same_as_inbound",
                "Only the outbound trunk can be the same as the inbound one.",
            ));
        }
        return Ok((TrunkConfig::SameAsInbound, PasswordInput::Clear));
    }
    let mut fields = Fields::new();
    let settings = parse_settings(body, &mut fields);
    let password = match body.password.as_deref() {
        None => Some(PasswordInput::Keep),
        Some("") => Some(PasswordInput::Clear),
        Some(text) => fields
            .check("password", TrunkSecret::parse(text))
            .map(PasswordInput::Set),
    };
    fields.finish()?;
    Ok((TrunkConfig::Own(checked(settings)?), checked(password)?))
}

/// Checks that need the org's current trunks.
fn check_with_stored(
    role: TrunkRole,
    config: &TrunkConfig,
    password: &PasswordInput,
    stored: &[StoredTrunk],
) -> ApiResult<()> {
    let current = stored.iter().find(|t| t.role == role);
    match config {
        TrunkConfig::SameAsInbound => {
            let inbound = stored.iter().any(|t| t.role == TrunkRole::Inbound);
            if !inbound {
                return Err(ApiError::Conflict(
                    "The org has no inbound trunk yet: set it first, then make the outbound trunk the same.".into(),
                ));
            }
        }
        TrunkConfig::Own(settings) if settings.register => {
            let has_password = match password {
                PasswordInput::Set(_) => true,
                PasswordInput::Clear => false,
                PasswordInput::Keep => current.is_some_and(|t| t.password_enc.is_some()),
            };
            if !has_password {
                return Err(ApiError::invalid_field(
                    "password",
                    "A trunk that registers with the carrier needs a password.",
                ));
            }
        }
        TrunkConfig::Own(_) => {}
    }
    Ok(())
}

/// The gateway a trunk is published as: its own, or the inbound one for "same as inbound".
fn gateway_of(org: &Org, trunk: &StoredTrunk) -> String {
    let role = match trunk.config {
        TrunkConfig::SameAsInbound => TrunkRole::Inbound,
        TrunkConfig::Own(_) => trunk.role,
    };
    freeswitch::names::gateway(&org.slug, role)
}

/// The gateway's last known state; asked of FreeSWITCH (briefly) when nothing is known yet.
pub async fn gateway_state(state: &AppState, gateway: &str, pending: u64) -> GatewayState {
    let fs = state.freeswitch();
    let mut status = fs.gateway_status(gateway);
    if status.is_none() && fs.is_connected() {
        let asked = tokio::time::timeout(Duration::from_secs(2), fs.refresh_gateway(gateway)).await;
        if let Ok(Ok(fresh)) = asked {
            status = fresh;
        }
    }
    match status {
        Some(status) => GatewayState {
            state: status.state,
            status: status.ping_status,
            checked_at: Some(status.checked_at),
            pending_commands: pending,
        },
        None => GatewayState {
            state: "unknown".into(),
            status: None,
            checked_at: None,
            pending_commands: pending,
        },
    }
}

async fn trunk_view(state: &AppState, org: &Org, trunk: &StoredTrunk, pending: u64) -> TrunkView {
    let gateway = gateway_of(org, trunk);
    let own = match &trunk.config {
        TrunkConfig::Own(settings) => Some(settings),
        TrunkConfig::SameAsInbound => None,
    };
    let text = |f: fn(&TrunkSettings) -> Option<String>| own.and_then(f);
    TrunkView {
        role: trunk.role.as_str().to_owned(),
        state: gateway_state(state, &gateway, pending).await,
        gateway,
        same_as_inbound: own.is_none(),
        username: text(|s| Some(s.username.to_string())),
        auth_username: text(|s| s.auth_username.as_ref().map(ToString::to_string)),
        has_password: trunk.password_enc.is_some(),
        host: text(|s| Some(s.host.to_string())),
        proxy: text(|s| s.proxy.as_ref().map(ToString::to_string)),
        port: own.map(|s| s.port),
        transport: text(|s| Some(s.transport.as_str().to_owned())),
        register: own.is_some_and(|s| s.register),
        realm: text(|s| s.realm.as_ref().map(ToString::to_string)),
        from_user: text(|s| s.from_user.as_ref().map(ToString::to_string)),
        from_domain: text(|s| s.from_domain.as_ref().map(ToString::to_string)),
        caller_id_in_from: own.is_some_and(|s| s.caller_id_in_from),
        expire_seconds: own.map(|s| s.expire_seconds),
        allowed_cidrs: own
            .map(|s| {
                s.allowed_cidrs
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
        updated_at: trunk.updated_at,
    }
}

/// The org's trunks (those that are set), with their gateways' registration state.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/trunks", tag = "trunks", params(SlugPath),
    responses((status = 200, description = "The trunks", body = TrunkList)))]
pub async fn list(State(state): State<AppState>, key: KeyOrg) -> ApiResult<ApiJson<TrunkList>> {
    let trunks = state.store().trunks(key.org.id).await?;
    let pending = state.store().pending_fs_commands_of(key.org.id).await?;
    let mut items = Vec::with_capacity(trunks.len());
    for trunk in &trunks {
        items.push(trunk_view(&state, &key.org, trunk, pending).await);
    }
    Ok(ApiJson(TrunkList { items }))
}

/// One trunk.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/trunks/{role}", tag = "trunks",
    params(TrunkPath), responses((status = 200, description = "The trunk", body = TrunkView)))]
pub async fn get(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<TrunkPath>,
) -> ApiResult<ApiJson<TrunkView>> {
    let role = TrunkRole::from(path.role);
    let trunks = state.store().trunks(key.org.id).await?;
    let trunk = trunks
        .iter()
        .find(|t| t.role == role)
        .ok_or_else(|| ApiError::NotFound(format!("The org has no {} trunk.", role.as_str())))?;
    let pending = state.store().pending_fs_commands_of(key.org.id).await?;
    Ok(ApiJson(trunk_view(&state, &key.org, trunk, pending).await))
}

/// Set a trunk (create or replace). Takes effect at once for this org's gateway only. The
/// password is write-only: omit it to keep the stored one.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/trunks/{role}", tag = "trunks",
    params(TrunkPath), request_body = TrunkPut,
    responses(
        (status = 200, description = "The trunk as stored", body = TrunkView),
        (status = 409, description = "`same_as_inbound` while the org has no inbound trunk", body = api_types::Problem, content_type = "application/problem+json"),
    ))]
pub async fn put(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<TrunkPath>,
    JsonObject(body): JsonObject<TrunkPut>,
) -> ApiResult<ApiJson<TrunkView>> {
    let role = TrunkRole::from(path.role);
    let (config, password) = parse_put(role, &body)?;
    let stored = state.store().trunks(key.org.id).await?;
    check_with_stored(role, &config, &password, &stored)?;
    let password = match password {
        PasswordInput::Keep => PasswordChange::Keep,
        PasswordInput::Clear => PasswordChange::Clear,
        PasswordInput::Set(secret) => {
            PasswordChange::Set(state.secret_box().seal(secret.expose())?)
        }
    };
    let org = &key.org;
    let saved = state
        .store()
        .set_trunk_with(org.id, role, &config, password, |before, after| {
            fs_sync::trunk_commands(&state, org, before, after)
        })
        .await?;
    state.freeswitch().commands_queued();
    let pending = state.store().pending_fs_commands_of(org.id).await?;
    Ok(ApiJson(trunk_view(&state, org, &saved, pending).await))
}

/// Remove a trunk (removing the inbound one also removes an outbound "same as inbound").
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/trunks/{role}", tag = "trunks",
    params(TrunkPath), responses((status = 204, description = "Removed")))]
pub async fn delete(
    State(state): State<AppState>,
    key: KeyOrg,
    ApiPath(path): ApiPath<TrunkPath>,
) -> ApiResult<StatusCode> {
    let org = &key.org;
    state
        .store()
        .remove_trunk_with(org.id, path.role.into(), |before, after| {
            fs_sync::trunk_commands(&state, org, before, after)
        })
        .await?;
    state.freeswitch().commands_queued();
    Ok(StatusCode::NO_CONTENT)
}
