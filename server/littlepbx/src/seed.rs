//! `littlepbx seed-demo` and `littlepbx api-key create`.
//!
//! The demo org is `acme` (SIP domain `pbx.acme.<base domain>`) with extensions 101-103 (voicemail
//! on), the DID +15550100100 routed to 101, an org admin and a provider API key named "demo".
//! Running it again refreshes the same objects (new passwords unless fixed ones are given) and
//! replaces the previous demo key, so it can be run any number of times.

use anyhow::Context;
use domain::{
    CallFlow, CompanyName, DisplayName, Email, Extension, ExtensionNumber, NoAnswer, OrgSlug,
    RingSeconds, SipDomain, VoicemailPin, E164,
};
use serde::Serialize;
use store::admins::AdminCredential;
use store::orgs::OrgLimits;
use store::OrgId;

use engine::secrets;
use engine::services;
use web::AppState;

pub const DEMO_SLUG: &str = "acme";
pub const DEMO_DID: &str = "+15550100100";
const DEMO_EXTENSIONS: [(&str, &str); 3] = [
    ("101", "Alice Adams"),
    ("102", "Bob Brown"),
    ("103", "Carol Clark"),
];
const DEMO_KEY_NAME: &str = "demo";

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub org: String,
    pub sip_domain: String,
    pub url: String,
    pub admin: DemoLogin,
    pub extensions: Vec<DemoExtension>,
    pub dids: Vec<String>,
    pub api_key: String,
    pub applied_version: i64,
}

#[derive(Debug, Serialize)]
pub struct DemoLogin {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct DemoExtension {
    pub number: String,
    pub name: String,
    pub sip_password: String,
    pub voicemail_pin: String,
}

pub async fn seed_demo(
    state: &AppState,
    sip_password: Option<String>,
    admin_password: Option<String>,
) -> anyhow::Result<DemoReport> {
    let store = state.store();
    let org = match store.org_by_slug(DEMO_SLUG).await? {
        Some(org) => org,
        None => {
            let slug = OrgSlug::parse(DEMO_SLUG)?;
            let domain = SipDomain::parse(&state.config().default_sip_domain(DEMO_SLUG))?;
            services::create_org(
                state,
                slug,
                CompanyName::parse("Acme Inc.")?,
                domain,
                OrgLimits::default(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("creating the demo org: {e}"))?
            .org
        }
    };
    let did = E164::parse(DEMO_DID)?;
    if !store.list_dids(org.id).await?.contains(&did) {
        store
            .add_did(org.id, &did)
            .await
            .context("assigning the demo DID")?;
    }
    let mut extensions = Vec::new();
    for (number, name) in DEMO_EXTENSIONS {
        let password = sip_password.clone().unwrap_or_else(secrets::sip_password);
        let pin = secrets::voicemail_pin();
        upsert_extension(
            state,
            org.id,
            &org.sip_domain,
            number,
            name,
            &password,
            &pin,
        )
        .await?;
        extensions.push(DemoExtension {
            number: number.into(),
            name: name.into(),
            sip_password: password,
            voicemail_pin: pin,
        });
    }
    route_did(state, org.id, &did, "101").await?;
    let admin = ensure_admin(state, org.id, admin_password).await?;
    let outcome = services::apply_now(state, org.id, "seed-demo", None)
        .await
        .context("applying the demo configuration")?;
    let api_key = replace_demo_key(state).await?;
    Ok(DemoReport {
        org: DEMO_SLUG.into(),
        sip_domain: org.sip_domain.to_string(),
        url: state.config().org_url(DEMO_SLUG),
        admin,
        extensions,
        dids: vec![DEMO_DID.into()],
        api_key,
        applied_version: outcome.version,
    })
}

async fn upsert_extension(
    state: &AppState,
    org: OrgId,
    domain: &SipDomain,
    number: &str,
    name: &str,
    password: &str,
    pin: &str,
) -> anyhow::Result<()> {
    let number = ExtensionNumber::parse(number)?;
    let a1_hash = domain::A1Hash::compute(&number, domain, password);
    engine::desk_phones::keep_sip_password(state, org, &a1_hash, password)
        .await
        .map_err(|e| anyhow::anyhow!("keeping the SIP password of {number}: {e}"))?;
    let extension = Extension {
        a1_hash,
        number: number.clone(),
        display_name: DisplayName::parse(name)?,
        voicemail_enabled: true,
        voicemail_pin: VoicemailPin::parse(pin)?,
        voicemail_email: None,
        call_flow: CallFlow {
            ring_seconds: RingSeconds::parse(20)?,
            no_answer: NoAnswer::Voicemail,
        },
        do_not_disturb: false,
        outbound_caller_id: None,
    };
    let draft = state.store().load_draft(org).await?;
    match draft.extensions.iter().find(|e| e.value.number == number) {
        Some(existing) => {
            state
                .store()
                .update_extension(org, &number, existing.revision, |e| {
                    *e = extension;
                    Ok(())
                })
                .await?;
        }
        None => {
            state.store().create_extension(org, &extension).await?;
        }
    }
    Ok(())
}

async fn route_did(
    state: &AppState,
    org: OrgId,
    did: &E164,
    extension: &str,
) -> anyhow::Result<()> {
    let draft = state.store().load_draft(org).await?;
    let route = draft
        .did_routes
        .iter()
        .find(|r| &r.value.did == did)
        .context("the demo DID has no route row")?;
    state
        .store()
        .set_did_route(
            org,
            did,
            Some(ExtensionNumber::parse(extension)?),
            route.revision,
        )
        .await?;
    Ok(())
}

async fn ensure_admin(
    state: &AppState,
    org: OrgId,
    password: Option<String>,
) -> anyhow::Result<DemoLogin> {
    let email = Email::parse(&format!("admin@{DEMO_SLUG}.example"))?;
    let password = password.unwrap_or_else(|| secrets::random_token(12));
    let hash = hash_blocking(password.clone()).await?;
    match state.store().admin_by_email(org, &email).await? {
        Some(admin) => {
            state
                .store()
                .set_admin_password(org, admin.id, &hash)
                .await?
        }
        None => {
            state
                .store()
                .create_admin(org, &email, AdminCredential::PasswordHash(hash))
                .await?;
        }
    }
    Ok(DemoLogin {
        email: email.to_string(),
        password,
    })
}

async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .context("hashing task")?
}

async fn replace_demo_key(state: &AppState) -> anyhow::Result<String> {
    for key in state.store().list_api_keys().await? {
        if key.name == DEMO_KEY_NAME && key.org.is_none() {
            state.store().delete_api_key(key.id).await?;
        }
    }
    Ok(services::create_api_key(state, DEMO_KEY_NAME, None)
        .await?
        .key)
}
