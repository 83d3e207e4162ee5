//! Operations shared by several entry points (HTTP APIs, CLI): they combine domain values,
//! secrets and store calls, and know nothing of HTTP.

use anyhow::Context;
use api_types::provider::ApiKeyCreated;
use domain::defaults::{reception_number, ReceptionSecrets};
use domain::{A1Hash, CompanyName, OrgSlug, SipDomain, VoicemailPin};
use freeswitch::sync::apply_commands;
use store::apply::{ApplyOutcome, ApplyRequest};
use store::orgs::{NewOrg, Org, OrgLimits};
use store::{OrgId, StoreResult};

use crate::secrets;
use crate::Engine;

/// A new org and the credentials of its reception extension (shown once).
pub struct CreatedOrg {
    pub org: Org,
    pub reception_number: String,
    pub reception_password: String,
    pub reception_pin: String,
}

/// Fresh credentials for the default reception extension of `domain`.
pub fn reception_secrets(domain: &SipDomain) -> anyhow::Result<(ReceptionSecrets, String, String)> {
    let password = secrets::sip_password();
    let pin = secrets::voicemail_pin();
    let number = reception_number()?;
    let secrets = ReceptionSecrets {
        a1_hash: A1Hash::compute(&number, domain, &password),
        voicemail_pin: VoicemailPin::parse(&pin)?,
    };
    Ok((secrets, password, pin))
}

pub async fn create_org(
    state: &Engine,
    slug: OrgSlug,
    name: CompanyName,
    sip_domain: SipDomain,
    limits: OrgLimits,
) -> crate::Result<CreatedOrg> {
    let (reception, password, pin) = reception_secrets(&sip_domain)?;
    let reception_a1 = reception.a1_hash.clone();
    let org = state
        .store()
        .create_org(
            &NewOrg {
                slug,
                name,
                sip_domain,
                limits,
            },
            reception,
        )
        .await?;
    crate::desk_phones::keep_sip_password(state, org.id, &reception_a1, &password).await?;
    Ok(CreatedOrg {
        org,
        reception_number: domain::defaults::RECEPTION_NUMBER.to_owned(),
        reception_password: password,
        reception_pin: pin,
    })
}

/// Applies the org's draft at once (no waiting): the Apply job engine and the CLI use this. The
/// event-socket commands FreeSWITCH needs (for this org only) are derived from the facts of the
/// open Apply and queued in its transaction.
pub async fn apply_now(
    state: &Engine,
    org: OrgId,
    applied_by: &str,
    job_id: Option<i64>,
) -> StoreResult<ApplyOutcome> {
    let emergency = state.config().emergency_numbers.iter().cloned().collect();
    let request = ApplyRequest {
        applied_by,
        job_id,
        emergency_numbers: &emergency,
    };
    let prepared = state.store().prepare_apply(org, &request).await?;
    let commands = apply_commands(&prepared.facts(), state.fs_settings());
    let outcome = prepared
        .commit(freeswitch::sync::to_strings(&commands))
        .await?;
    state.xml_cache().invalidate();
    Ok(outcome)
}
/// Creates a provider API key (`lpbx_` + 43 random characters); only its SHA-256 is stored.
pub async fn create_api_key(
    state: &Engine,
    name: &str,
    org_slug: Option<&str>,
) -> anyhow::Result<ApiKeyCreated> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        anyhow::bail!("a key name has 1 to 100 printable characters");
    }
    let org = match org_slug {
        Some(slug) => Some(
            state
                .store()
                .org_by_slug(slug)
                .await?
                .with_context(|| format!("no org \"{slug}\""))?
                .id,
        ),
        None => None,
    };
    let key = format!("lpbx_{}", secrets::random_token(32));
    let prefix: String = key.chars().take(12).collect();
    let created = state
        .store()
        .create_api_key(name, &prefix, &secrets::sha256_hex(&key), org)
        .await?;
    Ok(ApiKeyCreated {
        id: created.id,
        name: created.name,
        key,
    })
}
