//! Desk phones fetching their file: `GET /provision/device/{file}` on the org's host, where
//! `{file}` is the vendor's usual name (`<mac>.cfg`, `cfg<mac>.xml`, ...).
//!
//! Invariants:
//! - A file is served only for a MAC registered to **this** org, to a request carrying that
//!   phone's own HTTP credentials (Digest or Basic; user = the phone's random user name,
//!   password derived from `secret_key`). Nothing is derivable from the MAC alone.
//! - An unknown MAC, another org's MAC, a name of another vendor's pattern and a wrong password
//!   are answered alike (a challenge) and counted as failures per source and per MAC
//!   ([`ProvisionGuard`]); a locked source or MAC is answered 429.
//! - The account comes from the org's **applied** configuration: a phone whose extension is
//!   not applied, or whose SIP password was not kept, gets a file without an account, as does a
//!   removed phone (so it forgets the account it had).

use std::net::IpAddr;

use axum::http::{header, HeaderMap, Method};
use deskphones::{Account, DeviceConfig, LdapPhonebook, ProvisioningServer, Transport};
use domain::{md5_hex, A1Hash};
use store::desk_phones::DeskPhone;
use store::orgs::Org;

use crate::desk_phones::provisioning_url;
use crate::error::ApiError;
use crate::provisioning::auth::{
    parse_authorization, Credentials, DigestContext, NonceCheck, NonceKey,
};
use crate::provisioning::guard::ProvisionGuard;
use crate::provisioning::login::{too_many, Refusal};
use crate::provisioning::{
    find_extension, Site, Transport as SiteTransport, REGISTRATION_EXPIRY_SECS,
};
use crate::state::AppState;
use engine::desk_phones;

/// A request for a phone's file.
pub struct DeviceRequest<'a> {
    pub file: &'a str,
    pub method: &'a Method,
    pub uri: &'a str,
    pub headers: &'a HeaderMap,
    pub ip: Option<IpAddr>,
}

/// The file, rendered.
pub struct DeviceFile {
    pub content_type: &'static str,
    pub body: String,
}

/// Checks the phone's credentials and renders its file.
pub async fn serve(
    state: &AppState,
    guard: &ProvisionGuard,
    org: Org,
    request: DeviceRequest<'_>,
) -> Result<DeviceFile, Refusal> {
    let Some((mac, candidates)) = deskphones::parse_file_name(request.file) else {
        return Err(ApiError::not_found("File").into());
    };
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
    let credentials = request
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_authorization);
    let Some(credentials) = credentials else {
        guard.check_source(request.ip).map_err(too_many)?;
        return Err(challenge(false));
    };
    // Counted per MAC (16 characters at most, as the guard keeps them).
    let counted = format!("p:{}", mac.lower());
    guard
        .check(request.ip, org.id, &counted)
        .map_err(too_many)?;
    if let Credentials::Digest(digest) = &credentials {
        if key.check(&digest.nonce, org.id.0, now) == NonceCheck::Stale {
            return Err(challenge(true));
        }
    }
    let phone = state.store().desk_phone(org.id, &mac.lower()).await?;
    // The phone must have asked for a name its own vendor uses.
    let phone = phone.and_then(|p| {
        let model = deskphones::model(&p.model)?;
        let kind = deskphones::kind_for(model.vendor, &candidates)?;
        Some((p, model, kind))
    });
    let password = phone
        .as_ref()
        .map(|(p, ..)| desk_phones::http_password(state, org.id, &p.mac, &p.http_username));
    let expected = phone
        .as_ref()
        .zip(password.as_deref())
        .map(|((p, ..), pw)| (p.http_username.as_str(), pw));
    if !verify(
        expected,
        &realm,
        &credentials,
        &request,
        &key,
        org.id.0,
        now,
    ) {
        guard.record_failure(request.ip, org.id, &counted);
        tracing::info!(org = %org.slug, mac = %mac.colons(), ip = ?request.ip, "desk phone: authentication failed");
        return Err(challenge(false));
    }
    let (Some((phone, model, kind)), Some(password)) = (phone, password) else {
        return Err(challenge(false));
    };
    guard.record_success(org.id, &counted);
    let config = DeviceConfig {
        mac,
        model,
        provisioning: ProvisioningServer {
            url: provisioning_url(state, &org),
            username: phone.http_username.clone(),
            password,
        },
        account: account(state, &org, &phone).await?,
        phonebook: phonebook(state, &org),
    };
    let rendered = deskphones::render(kind, &config).map_err(|err| {
        tracing::error!(org = %org.slug, mac = %mac.colons(), "desk phone file cannot be written: {err}");
        ApiError::Internal(anyhow::anyhow!("the phone's file cannot be written: {err}"))
    })?;
    let ip = request.ip.map(|ip| ip.to_string());
    if let Err(err) = state
        .store()
        .record_desk_phone_fetch(org.id, &phone.mac, ip.as_deref())
        .await
    {
        tracing::warn!(org = %org.slug, "recording a desk phone's fetch: {err}");
    }
    tracing::info!(org = %org.slug, mac = %mac.colons(), extension = ?phone.extension.as_ref().map(|e| e.to_string()), "desk phone fetched its file");
    Ok(DeviceFile {
        content_type: rendered.content_type,
        body: rendered.body,
    })
}

/// True when the credentials are the phone's. `expected`: its user name and password, `None`
/// for a MAC that is not this org's (the same work is done, and it fails).
fn verify(
    expected: Option<(&str, &str)>,
    realm: &str,
    credentials: &Credentials,
    request: &DeviceRequest<'_>,
    key: &NonceKey,
    org: i64,
    now: u64,
) -> bool {
    let (user, password) = expected.unwrap_or(("", ""));
    let user_ok = !user.is_empty()
        && domain::constant_time_eq(credentials.username().as_bytes(), user.as_bytes());
    match credentials {
        Credentials::Basic { password: sent, .. } => {
            let password_ok = domain::constant_time_eq(sent.as_bytes(), password.as_bytes());
            user_ok && password_ok && !password.is_empty()
        }
        Credentials::Digest(digest) => {
            let context = DigestContext {
                method: request.method.as_str(),
                uri: request.uri,
                realm,
                key,
                org,
                now,
            };
            let ha1 = A1Hash::parse(&md5_hex(&format!("{user}:{realm}:{password}"))).ok();
            user_ok && digest.verifies(&context, ha1.as_ref())
        }
    }
}

/// The phone's line, when its extension is applied and its SIP password was kept.
async fn account(
    state: &AppState,
    org: &Org,
    phone: &DeskPhone,
) -> Result<Option<Account>, Refusal> {
    if phone.retired_at.is_some() {
        return Ok(None);
    }
    let Some(number) = &phone.extension else {
        return Ok(None);
    };
    let applied = state.store().applied_snapshot(org.id).await?;
    let Some(extension) = find_extension(&applied, number.as_str()) else {
        return Ok(None);
    };
    let Some(password) = desk_phones::sip_password(state, org.id, &extension.a1_hash)
        .await
        .map_err(ApiError::from)?
    else {
        return Ok(None);
    };
    let site = Site::from_config(state.config());
    let (transport, port) = site.preferred();
    Ok(Some(Account {
        number: extension.number.to_string(),
        display_name: extension.display_name.to_string(),
        password,
        sip_domain: org.sip_domain.to_string(),
        proxy_host: site.server.clone(),
        proxy_port: port,
        transport: match transport {
            SiteTransport::Udp => Transport::Udp,
            SiteTransport::Tcp => Transport::Tcp,
            SiteTransport::Tls => Transport::Tls,
        },
        expiry_secs: REGISTRATION_EXPIRY_SECS,
        voicemail_number: freeswitch::names::FEATURE_OWN_VOICEMAIL.to_owned(),
        label: extension.number.to_string(),
    }))
}

/// The org's LDAP phone book, when the server runs one.
pub fn phonebook(state: &AppState, org: &Org) -> Option<LdapPhonebook> {
    let port = state.config().ldap.port_for_phones()?;
    let slug = org.slug.as_str();
    Some(LdapPhonebook {
        name: org.name.to_string(),
        // The org's own host name: it reaches LittlePBX (FreeSWITCH may run elsewhere).
        host: format!("pbx.{slug}.{}", state.config().base_domain),
        port,
        base: format!("o={slug}"),
        bind_dn: format!("cn=phonebook,o={slug}"),
        password: desk_phones::phonebook_password(state, org.id),
        name_filter: "(|(cn=%*)(sn=%*)(givenName=%*))".into(),
        number_filter: "(telephoneNumber=%)".into(),
        name_attr: "cn".into(),
        number_attr: "telephoneNumber".into(),
        max_hits: u16::try_from(state.config().ldap.max_results.min(500)).unwrap_or(500),
    })
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
