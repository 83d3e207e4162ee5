//! What FreeSWITCH must be told after a provider change, as the strings the store queues.
//!
//! The commands themselves come from `freeswitch::sync`; this module only gathers their inputs
//! (decrypted trunk passwords, the org's applied view) from the state.

use domain::OrgStatus;
use freeswitch::sync::{self, Command};
use freeswitch::OrgView;
use store::orgs::Org;
use store::telephony::StoredTrunk;

use crate::error::ApiResult;
use crate::state::AppState;
use engine::xml_cache;

/// Restart exactly the org's gateways whose parameters changed between `before` and `after`.
pub fn trunk_commands(
    state: &AppState,
    org: &Org,
    before: &[StoredTrunk],
    after: &[StoredTrunk],
) -> Vec<String> {
    let inputs =
        |trunks: &[StoredTrunk]| xml_cache::trunk_inputs(state.secret_box(), trunks.to_vec());
    sync::to_strings(&sync::trunk_commands(
        &org.slug,
        &inputs(before),
        &inputs(after),
        state.fs_settings(),
    ))
}

/// The org's applied state as FreeSWITCH sees it, with `status` as it will be.
pub async fn applied_view(state: &AppState, org: &Org, status: OrgStatus) -> ApiResult<OrgView> {
    let mut snapshot = state.store().applied_snapshot(org.id).await?;
    snapshot.org.status = status;
    Ok(xml_cache::build_view(
        state.config(),
        state.secret_box(),
        snapshot,
    ))
}

/// After a suspension or a reactivation (`view` built with the new status).
pub fn status_commands(state: &AppState, view: &OrgView, previous: OrgStatus) -> Vec<String> {
    sync::to_strings(&sync::status_commands(view, previous, state.fs_settings()))
}

/// What makes FreeSWITCH forget a deleted org.
pub fn removal_commands(state: &AppState, view: &OrgView) -> Vec<String> {
    let commands: Vec<Command> = sync::removal_commands(view, state.fs_settings());
    sync::to_strings(&commands)
}
