//! An org at a glance: what is applied, what waits, what FreeSWITCH has not been told yet.

use api_types::provider::{OrgStatusView, TrunkGatewayState};
use axum::extract::State;
use domain::trunk::TrunkConfig;

use super::auth::KeyOrg;
use super::trunks::gateway_state;
use super::SlugPath;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;

/// Applied version, draft changes not applied yet, the Apply job's state, the gateways'
/// registration states, the phones registered and the FreeSWITCH commands not delivered yet.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/status", tag = "status", params(SlugPath),
    responses((status = 200, description = "The org's state", body = OrgStatusView)))]
pub async fn get(
    State(state): State<AppState>,
    KeyOrg { org, .. }: KeyOrg,
) -> ApiResult<ApiJson<OrgStatusView>> {
    let store = state.store();
    let pending_changes = store.pending_changes(org.id).await?.len() as u64;
    let job = store.latest_job(org.id).await?;
    let pending = store.pending_fs_commands_of(org.id).await?;
    let mut gateways = Vec::new();
    // Trunks come inbound first. Only those with their own carrier account are gateways.
    for trunk in store.trunks(org.id).await? {
        if let TrunkConfig::Own(_) = trunk.config {
            let gateway = freeswitch::names::gateway(&org.slug, trunk.role);
            gateways.push(TrunkGatewayState {
                state: gateway_state(&state, &gateway, pending).await,
                gateway,
            });
        }
    }
    let registered_phones = match calls::stats::org_registrations(&state, &org).await {
        Ok(regs) => Some(u32::try_from(regs.len()).unwrap_or(u32::MAX)),
        Err((_, why)) => {
            tracing::debug!(org = %org.slug, why, "status: registrations unknown");
            None
        }
    };
    Ok(ApiJson(OrgStatusView {
        slug: org.slug.to_string(),
        status: org.status.as_str().to_owned(),
        applied_version: org.applied_version,
        pending_changes,
        apply_job_state: job.map(|job| job.state.as_str().to_owned()),
        gateways,
        registered_phones,
        pending_freeswitch_commands: pending,
    }))
}
