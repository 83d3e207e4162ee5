//! Serving the web app: files, the index.html fallback for app pages, cache headers, the
//! "not built" page and the "No such PBX" page for an unknown org host.

use std::path::Path;

use testkit::db_test;

use crate::common::{spawn_app, spawn_app_with, TestApp};

const CSS: &str = "app.0123456789abcdef.css";
const INDEX: &str = "<!doctype html><title>LittlePBX test index</title>";

/// A built app in miniature: index.html, a content-hashed stylesheet (and its .gz), a module.
fn fake_dist(dir: &Path) {
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join(CSS), "body { color: black }").unwrap();
    // The precompressed copy the build makes (skipped where gzip is missing).
    let _ = std::process::Command::new("gzip")
        .args(["-9", "-k", "-n"])
        .arg(dir.join(CSS))
        .status();
    std::fs::write(
        dir.join("pkg/app_bg.0123456789abcdef.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    std::fs::write(dir.join("pkg/snippet.js"), "export {};").unwrap();
}

async fn built_app(url: &str) -> (TestApp, tempfile::TempDir) {
    let dist = tempfile::tempdir().unwrap();
    fake_dist(dist.path());
    let web_dir = dist.path().to_owned();
    let app = spawn_app_with(url, move |c| c.web_dir = Some(web_dir)).await;
    (app, dist)
}

async fn get(app: &TestApp, path: &str, host: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(format!("{}{path}", app.base));
    if let Some(host) = host {
        request = request.header("host", format!("{host}:{}", app.port));
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

db_test!(
    app_pages_fall_back_to_index_html,
    |url: String| async move {
        let (app, _dist) = built_app(&url).await;
        for path in [
            "/",
            "/login",
            "/invite/some-token",
            "/admin-demo",
            "/statistics",
        ] {
            let response = get(&app, path, None).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
            assert!(header(&response, "content-type").starts_with("text/html"));
            assert!(header(&response, "content-security-policy").contains("frame-ancestors 'none'"));
            assert_eq!(response.text().await.unwrap(), INDEX, "{path}");
        }
    }
);

db_test!(
    hashed_assets_are_immutable_and_others_revalidated,
    |url: String| async move {
        let (app, _dist) = built_app(&url).await;
        let css = get(&app, &format!("/{CSS}"), None).await;
        assert_eq!(css.status(), 200);
        assert_eq!(
            header(&css, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert!(header(&css, "content-type").starts_with("text/css"));

        let wasm = get(&app, "/pkg/app_bg.0123456789abcdef.wasm", None).await;
        assert_eq!(wasm.status(), 200);
        assert_eq!(header(&wasm, "content-type"), "application/wasm");
        assert!(header(&wasm, "cache-control").contains("immutable"));

        let snippet = get(&app, "/pkg/snippet.js", None).await;
        assert_eq!(snippet.status(), 200);
        assert_eq!(header(&snippet, "cache-control"), "no-cache");

        // A missing file is a 404, not the app's page served as a script.
        let missing = get(&app, "/pkg/missing.0123456789abcdef.js", None).await;
        assert_eq!(missing.status(), 404);
        assert!(!missing
            .text()
            .await
            .unwrap()
            .contains("LittlePBX test index"));
    }
);

db_test!(
    precompressed_copies_are_served_to_gzip_clients,
    |url: String| async move {
        let (app, dist) = built_app(&url).await;
        if !dist.path().join(format!("{CSS}.gz")).exists() {
            return; // no gzip on this machine
        }
        let raw = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .unwrap();
        let (mut reader, mut writer) = raw.into_split();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        writer
        .write_all(
            format!("GET /{CSS} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = Vec::new();
        reader.read_to_end(&mut answer).await.unwrap();
        let head = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        assert!(head.contains("content-encoding: gzip"), "{head}");
    }
);

db_test!(
    api_and_freeswitch_paths_never_get_the_app,
    |url: String| async move {
        let (app, _dist) = built_app(&url).await;
        for path in [
            "/api/nothing",
            "/api/v1/nothing-here",
            "/api/org/nothing-here",
            "/fs/nothing",
        ] {
            let response = get(&app, path, None).await;
            assert_eq!(response.status(), 404, "{path}");
            let body = response.text().await.unwrap();
            assert!(!body.contains("LittlePBX test index"), "{path}: {body}");
        }
        let health = get(&app, "/healthz", None).await;
        assert_eq!(health.status(), 200);
        assert!(header(&health, "content-type").starts_with("application/json"));
        let post = app
            .http
            .post(format!("{}/login", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 405);
    }
);

db_test!(
    an_unknown_org_host_gets_no_such_pbx,
    |url: String| async move {
        let (app, _dist) = built_app(&url).await;
        littlepbx::seed::seed_demo(
            &app.state,
            Some("sip-pass-123456".into()),
            Some("admin-pass-123".into()),
        )
        .await
        .unwrap();
        let known = get(&app, "/", Some("pbx.acme.localhost")).await;
        assert_eq!(known.status(), 200);
        assert_eq!(known.text().await.unwrap(), INDEX);

        for path in ["/", "/login", "/invite/x"] {
            let unknown = get(&app, path, Some("pbx.nosuch.localhost")).await;
            assert_eq!(unknown.status(), 404, "{path}");
            assert!(header(&unknown, "content-type").starts_with("text/html"));
            assert!(unknown.text().await.unwrap().contains("No such PBX"));
        }
        // The plain host serves the app (the provider's admin demo page lives there).
        let plain = get(&app, "/admin-demo", Some("localhost")).await;
        assert_eq!(plain.status(), 200);
    }
);

db_test!(
    an_unbuilt_app_says_how_to_build_it,
    |url: String| async move {
        // test_config points web_dir at a directory that does not exist.
        let app = spawn_app(&url).await;
        let response = get(&app, "/", None).await;
        assert_eq!(response.status(), 503);
        assert!(header(&response, "content-type").starts_with("text/html"));
        let body = response.text().await.unwrap();
        assert!(body.contains("has not been built"), "{body}");
        assert!(body.contains("scripts/build-app.sh"), "{body}");
    }
);
