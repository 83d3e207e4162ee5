//! `GET /api/v1/docs`: the OpenAPI document as one readable HTML page, rendered on the server
//! ([`crate::api_docs`]) from the same document `openapi.json` serves. No script, no external
//! resource: it works offline and under the strictest CSP.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

use super::openapi::document;
use crate::api_docs::render;

/// `GET /api/v1/docs` (no key needed).
pub async fn page() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let html = PAGE.get_or_init(|| render(document()));
    let mut response = Html(html.as_str()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
