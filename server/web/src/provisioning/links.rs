//! Single-use QR provisioning links: an org admin makes one for an applied extension, and the
//! Linphone app that opens it gets that extension's account, once, within
//! [`LINK_LIFETIME_SECS`]. Only the token's SHA-256 is stored.

use std::net::IpAddr;

use api_types::provisioning::ProvisioningLink;
use store::orgs::Org;
use store::provisioning::Redemption;

use crate::auth::OrgAdmin;
use crate::error::{ApiError, ApiResult};
use crate::provisioning::guard::ProvisionGuard;
use crate::provisioning::login::{too_many, Refusal};
use crate::provisioning::{find_extension, formats, qr, Provisioned, Site, LINK_LIFETIME_SECS};
use crate::state::AppState;
use engine::secrets;

/// The Linphone document a link opens. The token alone authenticates (the admin made it for
/// this extension minutes ago), once; unknown tokens count as failures of the source address.
pub async fn redeem(
    state: &AppState,
    guard: &ProvisionGuard,
    org: Org,
    ip: Option<IpAddr>,
    token: &str,
) -> Result<String, Refusal> {
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
        .redeem_provisioning_link(org.id, &secrets::sha256_hex(token), store::now_ms())
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
    Ok(formats::linphone_xml(&provisioned))
}

/// A new link (and its QR code) for one applied extension of the admin's org.
pub async fn create(
    state: &AppState,
    admin: &OrgAdmin,
    extension: &str,
) -> ApiResult<ProvisioningLink> {
    let snapshot = state.store().applied_snapshot(admin.org.id).await?;
    let Some(extension) = find_extension(&snapshot, extension.trim()) else {
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
    Ok(ProvisioningLink {
        extension: extension.number.to_string(),
        url,
        expires_at,
        expires_in_seconds: LINK_LIFETIME_SECS,
        qr_svg,
    })
}
