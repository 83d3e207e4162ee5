//! The web app's files: the built Leptos app in `web_dir` (default `dist/`, made by
//! `scripts/build-app.sh`).
//!
//! - Files are served from `web_dir` (precompressed `.gz` copies when the browser takes gzip).
//!   Content-hashed names (`app.<16 hex>.css`, `pkg/app_bg.<16 hex>.wasm`...) are cached for a
//!   year as immutable; everything else, `index.html` first, is `no-cache` (revalidated).
//! - Any other GET of a path without a file extension is a page of the app: `index.html`.
//!   `/api/*`, `/fs/*`, `/provision/*` and `/healthz` never fall back to it.
//! - On an org host (`pbx.<slug>.<base_domain>`) whose org does not exist, pages are a plain
//!   404 "No such PBX".
//! - When the app has not been built, pages say so (503) instead of an empty 404.

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::auth::{request_host, slug_from_host};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().fallback(serve)
}

/// Paths owned by the server's APIs: an unknown one there is a 404, never the app.
const RESERVED_PREFIXES: &[&str] = &["/api/", "/fs/", "/provision/"];
const RESERVED_EXACT: &[&str] = &["/api", "/fs", "/provision", "/healthz"];

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";
/// For the app's page. `wasm-unsafe-eval` lets the page compile its WebAssembly; `blob:` images
/// are previews made in the page.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'; object-src 'none'";

async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if is_reserved(&path) {
        return ApiError::NotFound("No such API endpoint.".into()).into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return plain_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not allowed",
            "This address only serves pages.",
        );
    }
    let dir = state.config().web_dir();
    if is_page(&path) {
        return page(&state, &dir, request.headers()).await;
    }
    asset(&dir, request).await
}

fn is_reserved(path: &str) -> bool {
    RESERVED_EXACT.contains(&path) || RESERVED_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// A path of the app's router (no file extension in its last segment), not a file.
fn is_page(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    !last.contains('.')
}

/// A name made by the build with its content hash: `name.<16 hex>.ext`.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.rsplit('.');
    let (_ext, hash) = (parts.next(), parts.next());
    parts.next().is_some()
        && hash.is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn page(state: &AppState, dir: &Path, headers: &HeaderMap) -> Response {
    let host = request_host(headers).unwrap_or_default();
    if let Some(slug) = slug_from_host(host, &state.config().base_domain) {
        match state.store().org_by_slug(slug).await {
            Ok(Some(_)) => {}
            Ok(None) => return no_such_pbx(),
            Err(err) => {
                tracing::error!(error = %err, "looking up the org of a page's host");
                return plain_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The page could not be loaded. Try again in a moment.",
                );
            }
        }
    }
    match tokio::fs::read(dir.join("index.html")).await {
        Ok(html) => {
            let mut response = Response::new(Body::from(html));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
            response
        }
        Err(_) => not_built(dir),
    }
}

async fn asset(dir: &Path, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let service = ServeDir::new(dir)
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let mut response = match service.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return plain_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no file at this address.",
        );
    }
    let cache = if response.status().is_success() && is_content_hashed(&path) {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn no_such_pbx() -> Response {
    plain_page(
        StatusCode::NOT_FOUND,
        "No such PBX",
        "There is no phone system at this address. Check the address you were given.",
    )
}

fn not_built(dir: &Path) -> Response {
    tracing::warn!(web_dir = %dir.display(), "the web app is not built");
    plain_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The web app has not been built",
        "The web app has not been built: run scripts/build-app.sh (or set LITTLEPBX_WEB_DIR to \
         where it was built).",
    )
}

/// A small self-contained HTML page (no scripts, no outside resources).
fn plain_page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\
         <body style=\"font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; \
         padding: 0 1rem; color: #1d2430\"><h1>{title}</h1><p>{text}</p></body></html>\n",
        title = escape(title),
        text = escape(text)
    );
    let mut response = (status, html).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

/// Escapes text for HTML content and attribute values (XML's five entities are HTML's too).
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_paths_without_an_extension() {
        assert!(is_page("/"));
        assert!(is_page("/login"));
        assert!(is_page("/invite/abc-DEF_123"));
        assert!(is_page("/admin-demo"));
        assert!(!is_page("/app.0123456789abcdef.css"));
        assert!(!is_page("/pkg/app_bg.0123456789abcdef.wasm"));
        assert!(!is_page("/favicon.ico"));
    }

    #[test]
    fn reserved_paths_never_get_the_app() {
        for path in [
            "/api",
            "/api/org/nothing",
            "/api/v1/x",
            "/fs/xml",
            "/healthz",
            "/provision/x",
        ] {
            assert!(is_reserved(path), "{path}");
        }
        for path in ["/", "/apiary", "/login", "/healthz2"] {
            assert!(!is_reserved(path), "{path}");
        }
    }

    #[test]
    fn only_content_hashed_names_are_immutable() {
        assert!(is_content_hashed("/app.0123456789abcdef.css"));
        assert!(is_content_hashed("/pkg/app_bg.0123456789abcdef.wasm"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/pkg/app.js"));
        assert!(!is_content_hashed("/0123456789abcdef.css"));
        assert!(!is_content_hashed("/app.0123456789abcdeg.css"));
    }
}
