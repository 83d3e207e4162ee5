//! What FreeSWITCH must be told after a provider change, as the strings the store queues.
//!
//! The commands themselves come from `fsxml::sync`; this module only gathers their inputs
//! (decrypted trunk passwords, the org's applied view) from the state.

use domain::OrgStatus;
use fsxml::sync::{self, Command};
use fsxml::{OrgInput, OrgView, ProviderLimits, Settings, TrunkInput};
use store::orgs::Org;
use store::telephony::StoredTrunk;

use crate::error::ApiResult;
use crate::state::AppState;

/// The rendering settings the commands depend on (profile names), from the configuration.
pub fn settings(state: &AppState) -> Settings {
    let config = state.config();
    Settings {
        internal_profile: config.freeswitch.internal_profile.clone(),
        external_profile: config.freeswitch.external_profile.clone(),
        emergency_numbers: config.emergency_numbers.clone(),
        default_hold_music: config.freeswitch.default_hold_music.clone(),
        ..Settings::default()
    }
}

/// Trunks as fsxml takes them, passwords decrypted. A password that cannot be decrypted (the
/// secret key changed) counts as missing; the cause is logged without the secret.
pub fn trunk_inputs(state: &AppState, trunks: &[StoredTrunk]) -> Vec<TrunkInput> {
    trunks
        .iter()
        .map(|trunk| TrunkInput {
            role: trunk.role,
            config: trunk.config.clone(),
            password: trunk.password_enc.as_deref().and_then(|sealed| {
                state
                    .secret_box()
                    .open(sealed)
                    .map_err(|err| {
                        tracing::warn!(error = %err, role = trunk.role.as_str(), "trunk password cannot be decrypted");
                    })
                    .ok()
            }),
        })
        .collect()
}

/// Restart exactly the org's gateways whose parameters changed between `before` and `after`.
pub fn trunk_commands(
    state: &AppState,
    org: &Org,
    before: &[StoredTrunk],
    after: &[StoredTrunk],
) -> Vec<String> {
    sync::to_strings(&sync::trunk_commands(
        &org.slug,
        &trunk_inputs(state, before),
        &trunk_inputs(state, after),
        &settings(state),
    ))
}

/// The org's applied state as FreeSWITCH sees it, with `status` as it will be.
pub async fn applied_view(state: &AppState, org: &Org, status: OrgStatus) -> ApiResult<OrgView> {
    let snapshot = state.store().applied_snapshot(org.id).await?;
    let moh_dir = fsxml::org_has_music(&snapshot.config.options).then(|| {
        state
            .config()
            .moh_dir_for_freeswitch()
            .join(org.slug.as_str())
            .display()
            .to_string()
    });
    Ok(OrgView::new(OrgInput {
        slug: org.slug.clone(),
        domain: org.sip_domain.clone(),
        company: org.name.clone(),
        status,
        limits: ProviderLimits {
            max_outbound_calls: org.limits.max_outbound_calls,
            calls_per_second: org.limits.max_calls_per_second,
        },
        trunks: trunk_inputs(state, &snapshot.trunks),
        config: snapshot.config,
        dids: snapshot.dids,
        moh_dir,
    }))
}

/// After a suspension or a reactivation (`view` built with the new status).
pub fn status_commands(state: &AppState, view: &OrgView, previous: OrgStatus) -> Vec<String> {
    sync::to_strings(&sync::status_commands(view, previous, &settings(state)))
}

/// What makes FreeSWITCH forget a deleted org.
pub fn removal_commands(state: &AppState, view: &OrgView) -> Vec<String> {
    let commands: Vec<Command> = sync::removal_commands(view, &settings(state));
    sync::to_strings(&commands)
}
