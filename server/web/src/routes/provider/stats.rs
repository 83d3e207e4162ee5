//! An org's call totals for a period, for billing.

use api_types::stats::OrgTotalsView;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::KeyOrg;
use super::SlugPath;
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;
use calls::stats;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsRange {
    /// Start, inclusive: a date (UTC midnight) or an RFC 3339 instant.
    #[param(example = "2026-11-01")]
    pub from: String,
    /// End, exclusive: a date (UTC midnight) or an RFC 3339 instant.
    #[param(example = "2026-12-01")]
    pub to: String,
}

/// The org's calls that started in `[from, to)`: counts, answered and missed calls, billed
/// seconds and minutes per direction. Calls count in the period they started in; records are
/// kept for the configured retention (400 days by default).
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/stats", tag = "stats", params(SlugPath, StatsRange),
    responses((status = 200, description = "The org's totals for the period", body = OrgTotalsView)))]
pub async fn get(
    State(state): State<AppState>,
    KeyOrg { org, .. }: KeyOrg,
    ApiQuery(range): ApiQuery<StatsRange>,
) -> ApiResult<ApiJson<OrgTotalsView>> {
    Ok(ApiJson(
        stats::org_totals(state.store(), &org, &range.from, &range.to).await?,
    ))
}
