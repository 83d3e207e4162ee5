//! Starting the real server for a test.

use std::path::PathBuf;

use engine::config::{Config, Secret};
use littlepbx::Application;
use web::AppState;

/// A running server on a free loopback port.
pub struct TestApp {
    pub base: String,
    pub port: u16,
    /// The LDAP phone book's port.
    #[allow(dead_code)]
    pub ldap_port: Option<u16>,
    pub state: AppState,
    #[allow(dead_code)]
    pub data_dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

/// The event-socket password of the test peers ([`esl::testpeer::TestPeer`]).
pub const ESL_PASSWORD: &str = "ClueCon-test";

/// A server that talks to the event-socket test `peer` (started with [`ESL_PASSWORD`]).
pub async fn app_with_peer(url: &str, peer: &esl::testpeer::TestPeer) -> TestApp {
    let addr = peer.addr_string();
    spawn_app_with(url, move |config| {
        config.freeswitch.esl_address = addr;
        config.freeswitch.esl_password = Secret::new(ESL_PASSWORD);
    })
    .await
}

/// Configuration for a test server on `database_url`.
pub fn test_config(database_url: &str, data_dir: &std::path::Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: Secret::new(database_url),
        data_dir: data_dir.to_owned(),
        secret_key: Secret::new(engine::secrets::random_key_base64()),
        web_dir: Some(PathBuf::from("/nonexistent-web-dir")),
        ..Config::default()
    };
    config.freeswitch.http_password = Secret::new("fs-test-password");
    config.ldap.listen = Some("127.0.0.1:0".parse().expect("address"));
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
    let ldap_port = app.ldap_port();
    let state = app.state().clone();
    tokio::spawn(app.run());
    // As a started server is: its FreeSWITCH configuration loaded (`/healthz` says 200).
    assert!(
        state
            .xml_cache()
            .wait_ready(std::time::Duration::from_secs(20))
            .await,
        "the XML cache did not load"
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        port,
        ldap_port,
        state,
        data_dir,
        http,
    }
}

/// The built `littlepbx` binary (cargo builds it for integration tests).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_littlepbx"))
}

/// A browser-like client of one org's pages: right host name, session cookie, CSRF header.
pub struct OrgClient {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

impl TestApp {
    /// A client for `http://pbx.<slug>.localhost:<port>` (resolved to this server).
    pub fn org_client(&self, slug: &str) -> OrgClient {
        let host = format!("pbx.{slug}.localhost");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, addr)
            .build()
            .expect("client");
        OrgClient {
            http,
            base: format!("http://{host}:{}", self.port),
            cookie: None,
        }
    }

    /// Creates an org with an admin; returns the org's id.
    pub async fn create_org(
        &self,
        slug: &str,
        admin_email: &str,
        admin_password: &str,
    ) -> store::OrgId {
        let domain =
            domain::SipDomain::parse(&self.state.config().default_sip_domain(slug)).unwrap();
        let created = engine::services::create_org(
            &self.state,
            domain::OrgSlug::parse(slug).unwrap(),
            domain::CompanyName::parse(&format!("{slug} Ltd")).unwrap(),
            domain,
            store::orgs::OrgLimits::default(),
        )
        .await
        .map_err(|e| e.to_string())
        .expect("create org");
        let hash = engine::secrets::hash_password(admin_password).unwrap();
        self.state
            .store()
            .create_admin(
                created.org.id,
                &domain::Email::parse(admin_email).unwrap(),
                store::admins::AdminCredential::PasswordHash(hash),
            )
            .await
            .unwrap();
        created.org.id
    }
}

impl OrgClient {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if method != reqwest::Method::GET {
            request = request.header("x-littlepbx", "1");
        }
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        status_and_json(response).await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .request(method, path)
            .json(&body)
            .send()
            .await
            .expect("request");
        status_and_json(response).await
    }

    /// Logs in; keeps the session cookie.
    pub async fn login(&mut self, email: &str, password: &str) -> u16 {
        let response = self
            .request(reqwest::Method::POST, "/api/org/login")
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login");
        let status = response.status().as_u16();
        if let Some(set_cookie) = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
        {
            self.cookie = set_cookie.split(';').next().map(str::to_owned);
        }
        status
    }
}

/// A client of org `slug`'s pages, logged in as its admin `boss@<slug>.example`.
pub async fn logged_in(app: &TestApp, slug: &str, password: &str) -> OrgClient {
    let mut client = app.org_client(slug);
    assert_eq!(
        client
            .login(&format!("boss@{slug}.example"), password)
            .await,
        200
    );
    client
}

/// Creates org `slug` with the admin `boss@<slug>.example` and logs in as that admin.
pub async fn new_org_logged_in(app: &TestApp, slug: &str, password: &str) -> OrgClient {
    app.create_org(slug, &format!("boss@{slug}.example"), password)
        .await;
    logged_in(app, slug, password).await
}

pub async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let json = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    };
    (status, json)
}

/// Requests an Apply (`POST /api/org/apply`); the job must be accepted (202).
pub async fn start_apply(
    client: &OrgClient,
    wait: bool,
    max_wait: u32,
    email: bool,
) -> serde_json::Value {
    let (status, job) = client
        .send_json(
            reqwest::Method::POST,
            "/api/org/apply",
            serde_json::json!({"wait_for_calls": wait, "max_wait_seconds": max_wait, "email_me": email}),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    job
}

/// Polls until `done` holds for the org's latest job, or panics after `seconds`.
pub async fn wait_for_job(
    client: &OrgClient,
    seconds: u64,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let (_, job) = client.get_json("/api/org/jobs/latest").await;
        if done(&job) {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job did not get there in time: {job}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// An HTTP answer read whole.
pub struct Fetched {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

pub async fn fetch(request: reqwest::RequestBuilder) -> Fetched {
    let response = request.send().await.expect("request");
    Fetched {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap_or_default(),
    }
}

/// Adds extension `number` through the admin API (201); returns its SIP password.
pub async fn create_extension(client: &OrgClient, number: &str, name: &str) -> String {
    let (status, body) = client
        .send_json(
            reqwest::Method::POST,
            "/api/org/extensions",
            serde_json::json!({"number": number, "display_name": name}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["sip_password"]
        .as_str()
        .expect("sip_password")
        .to_owned()
}

/// Applies org `slug`'s draft at once.
pub async fn apply_now(app: &TestApp, slug: &str) {
    let org = app
        .state
        .store()
        .org_by_slug(slug)
        .await
        .expect("org")
        .expect("org exists");
    engine::services::apply_now(&app.state, org.id, "test", None)
        .await
        .expect("apply");
}
