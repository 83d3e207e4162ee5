//! The org's company logo: PNG, JPEG or a strictly checked SVG, at most 512 KiB and
//! 2048×2048 pixels (read from the header; images are never decoded).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use media::svg;
use store::orgs::Logo;
use utoipa::ToSchema;

use super::auth::KeyOrg;
use super::SlugPath;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The largest logo accepted (the body limit of the upload route).
pub const MAX_BYTES: usize = 512 * 1024;
const MAX_PIXELS: usize = 2048;
const PNG: &str = "image/png";
const JPEG: &str = "image/jpeg";
const SVG: &str = "image/svg+xml";

/// An image file, sent as the raw request body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageFile(#[allow(dead_code)] Vec<u8>);

/// The declared media type, without parameters.
fn media_type(headers: &HeaderMap) -> ApiResult<&'static str> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match declared.as_str() {
        PNG => Ok(PNG),
        JPEG => Ok(JPEG),
        SVG => Ok(SVG),
        _ => Err(ApiError::UnsupportedMediaType(
            "Send the logo as the request body with Content-Type image/png, image/jpeg or image/svg+xml.".into(),
        )),
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid_field("logo", message)
}

/// Checks a PNG or JPEG: the bytes are what the header says, and not too large in pixels.
fn check_raster(mime: &str, bytes: &[u8]) -> ApiResult<()> {
    let expected = if mime == PNG {
        imagesize::ImageType::Png
    } else {
        imagesize::ImageType::Jpeg
    };
    match imagesize::image_type(bytes) {
        Ok(actual) if actual == expected => {}
        _ => return Err(invalid(format!("The body is not a valid {mime} image."))),
    }
    let size = imagesize::blob_size(bytes)
        .map_err(|_| invalid(format!("The size of this {mime} image cannot be read.")))?;
    if size.width == 0 || size.height == 0 {
        return Err(invalid("The image has no pixels."));
    }
    if size.width > MAX_PIXELS || size.height > MAX_PIXELS {
        return Err(invalid(format!(
            "The image is {}×{} pixels; a logo is at most {MAX_PIXELS}×{MAX_PIXELS}.",
            size.width, size.height
        )));
    }
    Ok(())
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    match body {
        Ok(bytes) => Ok(bytes),
        Err(BytesRejection::FailedToBufferBody(
            axum::extract::rejection::FailedToBufferBody::LengthLimitError(_),
        )) => Err(ApiError::PayloadTooLarge(format!(
            "A logo is at most {} KiB.",
            MAX_BYTES / 1024
        ))),
        Err(other) => Err(ApiError::BadRequest(format!(
            "The body could not be read: {}",
            other.body_text()
        ))),
    }
}

/// Upload or replace the logo (raw body). SVGs with scripts, event handlers, foreign content or
/// references outside the file are refused.
#[utoipa::path(put, path = "/api/v1/orgs/{slug}/logo", tag = "logo", params(SlugPath),
    request_body(description = "The image itself, at most 512 KiB and 2048×2048 pixels",
        content((ImageFile = "image/png"), (ImageFile = "image/jpeg"), (ImageFile = "image/svg+xml"))),
    responses((status = 204, description = "Stored")))]
pub async fn put(
    State(state): State<AppState>,
    key: KeyOrg,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<StatusCode> {
    let mime = media_type(&headers)?;
    let bytes = body_bytes(body)?;
    if bytes.len() > MAX_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "A logo is at most {} KiB.",
            MAX_BYTES / 1024
        )));
    }
    if bytes.is_empty() {
        return Err(invalid("The body is empty: send the image itself."));
    }
    match mime {
        SVG => svg::check(&bytes).map_err(|refused| invalid(refused.0))?,
        _ => check_raster(mime, &bytes)?,
    }
    let logo = Logo {
        mime: mime.to_owned(),
        bytes: bytes.to_vec(),
    };
    state.store().set_logo(key.org.id, Some(logo)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logo as uploaded, served so that a browser never runs anything in it.
#[utoipa::path(get, path = "/api/v1/orgs/{slug}/logo", tag = "logo", params(SlugPath),
    responses((status = 200, description = "The image",
        content((ImageFile = "image/png"), (ImageFile = "image/jpeg"), (ImageFile = "image/svg+xml")))))]
pub async fn get(State(state): State<AppState>, key: KeyOrg) -> ApiResult<Response> {
    let logo = state
        .store()
        .logo(key.org.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("The organization has no logo.".into()))?;
    let mime = HeaderValue::from_str(&logo.mime)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("stored logo type is not a header")))?;
    let headers = [
        (header::CONTENT_TYPE, mime),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ),
    ];
    Ok((headers, logo.bytes).into_response())
}

/// Remove the logo.
#[utoipa::path(delete, path = "/api/v1/orgs/{slug}/logo", tag = "logo", params(SlugPath),
    responses((status = 204, description = "Removed")))]
pub async fn delete(State(state): State<AppState>, key: KeyOrg) -> ApiResult<StatusCode> {
    if !key.org.has_logo {
        return Err(ApiError::NotFound("The organization has no logo.".into()));
    }
    state.store().set_logo(key.org.id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header (signature + IHDR) claiming `width`×`height`.
    pub fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&width.to_be_bytes());
        png.extend_from_slice(&height.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png
    }

    #[test]
    fn raster_sizes_and_types_are_checked() {
        assert!(check_raster(PNG, &png_header(100, 50)).is_ok());
        assert!(check_raster(PNG, &png_header(2049, 50)).is_err());
        assert!(check_raster(PNG, &png_header(0, 50)).is_err());
        assert!(check_raster(JPEG, &png_header(10, 10)).is_err());
        assert!(check_raster(PNG, b"GIF89a....").is_err());
    }
}
