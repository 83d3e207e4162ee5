//! Starting the real server for a test.

use std::path::PathBuf;

use littlepbx::config::{Config, Secret};
use littlepbx::state::AppState;
use littlepbx::Application;

/// A running server on a free loopback port.
pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

/// Configuration for a test server on `database_url`.
pub fn test_config(database_url: &str, data_dir: &std::path::Path) -> Config {
    let mut config = Config::default();
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.database_url = Secret::new(database_url);
    config.data_dir = data_dir.to_owned();
    config.secret_key = Secret::new(littlepbx::secrets::random_key_base64());
    config.freeswitch.http_password = Secret::new("fs-test-password");
    config.web_dir = Some(PathBuf::from("/nonexistent-web-dir"));
    config
}

pub async fn spawn_app(database_url: &str) -> TestApp {
    spawn_app_with(database_url, |_| {}).await
}

pub async fn spawn_app_with(database_url: &str, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(database_url, data_dir.path());
    adjust(&mut config);
    let app = Application::build(config).await.expect("build app");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        port,
        state,
        data_dir,
        http,
    }
}

/// The built `littlepbx` binary (cargo builds it for integration tests).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_littlepbx"))
}
