//! Music on hold: upload a recording; it is converted for FreeSWITCH and set in the draft.

use api_types::org::OptionsView;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use domain::MohFileId;

use crate::auth::OrgAdmin;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::state::AppState;
use crate::views;
use media::audio::{self, AudioError};
use media::moh_files;

/// Largest upload accepted.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

pub async fn upload(
    State(state): State<AppState>,
    admin: OrgAdmin,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<ApiJson<OptionsView>> {
    if body.is_empty() {
        return Err(ApiError::invalid_field(
            "file",
            "Choose an audio file to upload.",
        ));
    }
    let hint = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let converted = tokio::task::spawn_blocking(move || {
        let converted = audio::convert_for_moh(&body, hint.as_deref())?;
        Ok::<_, AudioError>((moh_files::content_id(&body), converted))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("conversion task: {e}")))?;
    let (id, audio) = converted.map_err(audio_error)?;
    let id = MohFileId::parse(&id).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    moh_files::store(&state.config().moh_dir(), &admin.org.slug, &id, &audio).await?;
    let current = state
        .store()
        .load_draft(admin.org.id)
        .await?
        .options
        .revision;
    let updated = state
        .store()
        .update_options(admin.org.id, current, |options| {
            options.moh_file = Some(id);
            options.moh_enabled = true;
            Ok(())
        })
        .await?;
    tracing::info!(org = %admin.org.slug, seconds = audio.duration_ms / 1000, by = %admin.admin.email, "music on hold uploaded");
    Ok(ApiJson(views::options(&updated)))
}

fn audio_error(err: AudioError) -> ApiError {
    if let AudioError::ConversionFailed { detail } = &err {
        return ApiError::Internal(anyhow::anyhow!("audio conversion: {detail}"));
    }
    if err.is_unsupported_format() {
        ApiError::UnsupportedMediaType(err.to_string())
    } else {
        ApiError::invalid_field("file", err.to_string())
    }
}
