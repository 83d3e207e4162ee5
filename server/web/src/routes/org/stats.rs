//! The stats page's API (`/api/org/stats/...`): one request per section of the page, each for
//! the org of the host and the session. The sections and their answers are described in
//! `api_types::stats`; the numbers are computed in [`calls::stats`].

use std::sync::Arc;

use api_types::stats::{
    DidsView, ExtensionsView, HoursView, LiveView, PeriodQuery, RecentCallsQuery, RecentCallsView,
    SummaryView,
};
use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router};

use crate::auth::OrgAdmin;
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;
use calls::stats::{self, RegistrationTracker, Window};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats/summary", get(summary))
        .route("/stats/hours", get(hours))
        .route("/stats/extensions", get(extensions))
        .route("/stats/dids", get(dids))
        .route("/stats/calls", get(calls))
        .route("/stats/live", get(live))
        .layer(Extension(Arc::new(RegistrationTracker::default())))
}

fn window(query: &PeriodQuery) -> ApiResult<Window> {
    Ok(Window::resolve(
        query.period,
        query.tz.as_deref(),
        store::now_ms(),
    )?)
}

async fn summary(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> ApiResult<ApiJson<SummaryView>> {
    let window = window(&query)?;
    Ok(ApiJson(
        stats::summary(state.store(), admin.org.id, &window).await?,
    ))
}

async fn hours(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> ApiResult<ApiJson<HoursView>> {
    let window = window(&query)?;
    Ok(ApiJson(
        stats::hours(state.store(), admin.org.id, &window).await?,
    ))
}

async fn extensions(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> ApiResult<ApiJson<ExtensionsView>> {
    let window = window(&query)?;
    Ok(ApiJson(
        stats::extensions(state.store(), admin.org.id, &window).await?,
    ))
}

async fn dids(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> ApiResult<ApiJson<DidsView>> {
    let window = window(&query)?;
    Ok(ApiJson(
        stats::dids(state.store(), admin.org.id, &window).await?,
    ))
}

async fn calls(
    State(state): State<AppState>,
    admin: OrgAdmin,
    ApiQuery(query): ApiQuery<RecentCallsQuery>,
) -> ApiResult<ApiJson<RecentCallsView>> {
    Ok(ApiJson(
        stats::recent(
            state.store(),
            admin.org.id,
            query.limit,
            query.before.as_deref(),
        )
        .await?,
    ))
}

async fn live(
    State(state): State<AppState>,
    Extension(tracker): Extension<Arc<RegistrationTracker>>,
    admin: OrgAdmin,
) -> ApiResult<ApiJson<LiveView>> {
    Ok(ApiJson(stats::live(&state, &admin.org, &tracker).await?))
}
