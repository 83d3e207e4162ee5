//! LittlePBX while its MariaDB is frozen, killed and restarted, on a MariaDB server of the test's
//! own: FreeSWITCH keeps being answered, `/healthz` and the APIs answer fast and plainly, and
//! everything resumes without a restart. Then the snapshot file: a restart during an outage
//! serves it, a stale or damaged one is ignored with a log line.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use testkit::PrivateMariaDb;

use crate::common::{binary, spawn_app, status_and_json, wait_for_job, TestApp};
use crate::fs_xml::{acme, add_extension, fixture, post_xml, FS_PASSWORD, FS_USER};

const PASSWORD: &str = "correct horse battery";

/// A MariaDB server of this test alone (it is frozen and killed) with one empty database.
async fn own_mariadb() -> Option<(PrivateMariaDb, String)> {
    let server = match tokio::task::spawn_blocking(PrivateMariaDb::start)
        .await
        .unwrap()
    {
        Ok(server) => server,
        Err(why) if testkit::mysql_required() => panic!("MariaDB is required: {why}"),
        Err(why) => {
            eprintln!("skipping the database outage test: {why}");
            return None;
        }
    };
    let admin = Database::connect(server.admin_url.as_str()).await.unwrap();
    admin
        .execute_unprepared("CREATE DATABASE lpbx CHARACTER SET utf8mb4")
        .await
        .unwrap();
    let url = format!("{}/lpbx", server.admin_url);
    Some((server, url))
}

/// Times a GET; answers (elapsed, status, JSON body).
async fn timed_get(
    http: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
) -> (Duration, u16, serde_json::Value) {
    let started = Instant::now();
    let mut request = http.get(url).timeout(Duration::from_secs(10));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("an answer within 10 s");
    let (status, body) = status_and_json(response).await;
    (started.elapsed(), status, body)
}

/// Polls `/healthz` (each answer must come within 1 s) until its status is `want`.
async fn healthz_until(
    http: &reqwest::Client,
    base: &str,
    want: u16,
    within: Duration,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let (took, status, body) = timed_get(http, &format!("{base}/healthz"), None).await;
        assert!(
            took < Duration::from_secs(1),
            "/healthz took {took:?}: {body}"
        );
        if status == want {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz never answered {want}; last {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// FreeSWITCH asks for extension 1002 of acme.test; the answer must come fast and name it.
async fn freeswitch_still_answered(app: &TestApp) {
    let started = Instant::now();
    let (status, xml) =
        post_xml(app, &fixture("22_directory_user_call_bridge_user_1002.txt")).await;
    assert_eq!(status, 200);
    assert!(xml.contains("<user id=\"1002\""), "{xml}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "took {:?}",
        started.elapsed()
    );
}

/// An org API call answers 503 with the plain message within 2 s.
async fn api_says_unavailable(app: &TestApp, cookie: &str) {
    let client = app.org_client("globex");
    let url = format!("{}/api/org/info", client.base);
    let (took, status, body) = timed_get(&client.http, &url, Some(cookie)).await;
    assert_eq!(status, 503, "{body}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("calls and registrations continue"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_fails_fast_and_heals_by_itself() {
    let Some((mariadb, url)) = own_mariadb().await else {
        return;
    };
    let app = spawn_app(&url).await;
    acme(&app).await;
    app.create_org("globex", "boss@globex.example", PASSWORD)
        .await;
    let mut admin = app.org_client("globex");
    assert_eq!(admin.login("boss@globex.example", PASSWORD).await, 200);
    let cookie = admin.cookie.clone().unwrap();
    let body = healthz_until(&app.http, &app.base, 200, Duration::from_secs(10)).await;
    assert_eq!(body["freeswitch_config"]["source"], "database");
    freeswitch_still_answered(&app).await;

    // Frozen: connections stay open and nothing answers. A call made right after the freeze,
    // before the probe noticed, still ends within 2 s.
    mariadb.freeze();
    api_says_unavailable(&app, &cookie).await;
    let body = healthz_until(&app.http, &app.base, 503, Duration::from_secs(3)).await;
    assert_eq!(body["database"]["state"], "down", "{body}");
    assert_eq!(body["database"]["reachable"], false);
    assert!(
        body["database"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    api_says_unavailable(&app, &cookie).await;
    freeswitch_still_answered(&app).await;
    let (took, status, _) =
        timed_get(&admin.http, &format!("{}/api/v1/orgs", app.base), None).await;
    assert_eq!(
        (status, took < Duration::from_secs(2)),
        (503, true),
        "provider API {took:?}"
    );

    mariadb.thaw();
    healthz_until(&app.http, &app.base, 200, Duration::from_secs(10)).await;
    let (status, _) = admin.get_json("/api/org/info").await;
    assert_eq!(status, 200, "no restart needed");

    // An Apply waiting for calls (FreeSWITCH cannot count them here: it waits the maximum).
    let (status, job) = admin
        .send_json(
            Method::POST,
            "/api/org/apply",
            json!({"wait_for_calls": true, "max_wait_seconds": 20, "email_me": false}),
        )
        .await;
    assert_eq!(status, 202, "{job}");
    wait_for_job(&admin, 10, |job| job["state"] == "waiting").await;

    // Killed: connections are refused.
    mariadb.kill();
    api_says_unavailable(&app, &cookie).await;
    let body = healthz_until(&app.http, &app.base, 503, Duration::from_secs(3)).await;
    assert_eq!(body["database"]["state"], "down", "{body}");
    freeswitch_still_answered(&app).await;

    // Back: the API, the XML cache refresher and the Apply jobs go on by themselves; the Apply
    // that was waiting still waits, then applies when its wait is over.
    mariadb.restart().unwrap();
    healthz_until(&app.http, &app.base, 200, Duration::from_secs(20)).await;
    let (status, latest) = admin.get_json("/api/org/jobs/latest").await;
    assert_eq!(
        (status, &latest["state"]),
        (200, &json!("waiting")),
        "{latest}"
    );
    let done = wait_for_job(&admin, 30, |job| {
        !matches!(
            job["state"].as_str(),
            Some("waiting" | "applying" | "syncing")
        )
    })
    .await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["id"], job["id"]);
    let org = app
        .state
        .store()
        .org_by_slug("acme")
        .await
        .unwrap()
        .unwrap()
        .id;
    add_extension(&app, org, "1003").await;
    engine::services::apply_now(&app.state, org, "test", None)
        .await
        .unwrap();
    let ask_1003 =
        fixture("22_directory_user_call_bridge_user_1002.txt").replace("user=1002", "user=1003");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, xml) = post_xml(&app, &ask_1003).await;
        if xml.contains("<user id=\"1003\"") {
            break;
        }
        assert!(Instant::now() < deadline, "the cache did not resume: {xml}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The real `littlepbx serve`, its log in a file.
struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Server {
    fn start(url: &str, data_dir: &Path, secret: &str, n: u32) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = data_dir.join(format!("log-{n}.txt"));
        let child = Command::new(binary())
            .arg("serve")
            .env("LITTLEPBX_DATABASE_URL", url)
            .env("LITTLEPBX_LISTEN", format!("127.0.0.1:{port}"))
            .env("LITTLEPBX_DATA_DIR", data_dir)
            .env("LITTLEPBX_SECRET_KEY", secret)
            .env("LITTLEPBX_FREESWITCH__HTTP_PASSWORD", FS_PASSWORD)
            .env("LITTLEPBX_LOG", "info,sqlx=warn,sea_orm=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start littlepbx");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "littlepbx did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM; the process must end, successfully, within the grace period and a margin.
    fn terminate(mut self) -> Duration {
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let limit = littlepbx::app::SHUTDOWN_GRACE + Duration::from_secs(3);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "exit {status}: {}", self.log());
                return started.elapsed();
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("still running {limit:?} after SIGTERM: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    async fn xml(&self, http: &reqwest::Client, body: &str) -> (u16, String) {
        let response = http
            .post(format!("{}/fs/xml", self.base))
            .basic_auth(FS_USER, Some(FS_PASSWORD))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// acme.test with extensions 1001 and 1002 (password "secret", as in the captures), applied.
async fn acme_in(store: &store::Store) -> store::OrgId {
    let domain = domain::SipDomain::parse("acme.test").unwrap();
    let reception = testkit::fixtures::reception_secrets(&domain, "x");
    let new = store::orgs::NewOrg {
        slug: domain::OrgSlug::parse("acme").unwrap(),
        name: domain::CompanyName::parse("Acme").unwrap(),
        sip_domain: domain.clone(),
        limits: store::orgs::OrgLimits::default(),
    };
    let org = store.create_org(&new, reception).await.unwrap().id;
    for number in ["1001", "1002"] {
        let ext = testkit::fixtures::extension(number, domain.as_str(), "secret");
        store.create_extension(org, &ext).await.unwrap();
    }
    apply(store, org).await;
    org
}

async fn apply(store: &store::Store, org: store::OrgId) {
    let emergency = ["112".to_owned()].into();
    let request = store::apply::ApplyRequest {
        applied_by: "setup",
        job_id: None,
        emergency_numbers: &emergency,
    };
    store
        .prepare_apply(org, &request)
        .await
        .unwrap()
        .commit(vec![])
        .await
        .unwrap();
}

/// Polls FreeSWITCH's question for 1002 until `served` says what the answer must be.
async fn until_1002(server: &Server, http: &reqwest::Client, served: bool, within: Duration) {
    let body = fixture("22_directory_user_call_bridge_user_1002.txt");
    let deadline = Instant::now() + within;
    loop {
        let (status, xml) = server.xml(http, &body).await;
        if (status == 200 && xml.contains("<user id=\"1002\"")) == served {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "1002 served should be {served}; last {status} {xml}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_an_outage_serves_the_snapshot_and_never_a_stale_one() {
    let Some((mariadb, url)) = own_mariadb().await else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let secret = engine::secrets::random_key_base64();
    let store = store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let org = acme_in(&store).await;
    let http = reqwest::Client::new();
    let snapshot = data_dir.path().join("freeswitch-snapshot.jsonl");

    // A first run writes the snapshot file; SIGTERM stops it cleanly.
    let server = Server::start(&url, data_dir.path(), &secret, 1);
    healthz_until(&http, &server.base, 200, Duration::from_secs(20)).await;
    until_1002(&server, &http, true, Duration::from_secs(5)).await;
    assert!(snapshot.exists(), "{}", server.log());
    let took = server.terminate();
    eprintln!("SIGTERM to exit: {took:?}");

    // Started while MariaDB is down: FreeSWITCH is served from the file within seconds.
    mariadb.kill();
    let started = Instant::now();
    let server = Server::start(&url, data_dir.path(), &secret, 2);
    until_1002(&server, &http, true, Duration::from_secs(8)).await;
    let served_after = started.elapsed();
    eprintln!("served from the snapshot {served_after:?} after start");
    assert!(served_after < Duration::from_secs(3), "{served_after:?}");
    let body = healthz_until(&http, &server.base, 503, Duration::from_secs(2)).await;
    assert_eq!(body["freeswitch_config"]["source"], "snapshot", "{body}");
    let (took, status, _) = timed_get(&http, &format!("{}/api/v1/orgs", server.base), None).await;
    assert_eq!(
        (status, took < Duration::from_secs(2)),
        (503, true),
        "{took:?}"
    );
    // MariaDB back: the same process reads the database, no restart.
    mariadb.restart().unwrap();
    healthz_until(&http, &server.base, 200, Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, body) = timed_get(&http, &format!("{}/healthz", server.base), None).await;
        if body["freeswitch_config"]["source"] == "database" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still not from the database: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.terminate();

    // Stale: 1002 deleted and applied while LittlePBX was stopped. The file is older than the
    // database: ignored with a log line, 1002 never served.
    let store = store::Store::connect(&url).await.unwrap();
    let number = domain::ExtensionNumber::parse("1002").unwrap();
    let revision = store
        .load_draft(org)
        .await
        .unwrap()
        .extensions
        .iter()
        .find(|e| e.value.number == number)
        .unwrap()
        .revision;
    store
        .delete_extension(org, &number, revision)
        .await
        .unwrap();
    apply(&store, org).await;
    let server = Server::start(&url, data_dir.path(), &secret, 3);
    until_1002(&server, &http, false, Duration::from_secs(1)).await;
    healthz_until(&http, &server.base, 200, Duration::from_secs(20)).await;
    until_1002(&server, &http, false, Duration::from_secs(1)).await;
    assert!(
        server.log().contains("ignoring the snapshot file"),
        "{}",
        server.log()
    );
    // The file was rewritten at the database's epoch.
    server.terminate();

    // Damaged, with MariaDB down: ignored with a log line; nothing is served rather than it.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&snapshot, bytes).unwrap();
    mariadb.kill();
    let server = Server::start(&url, data_dir.path(), &secret, 4);
    tokio::time::sleep(Duration::from_secs(4)).await;
    until_1002(&server, &http, false, Duration::from_secs(1)).await;
    let body = healthz_until(&http, &server.base, 503, Duration::from_secs(2)).await;
    assert_eq!(body["freeswitch_config"]["source"], "loading", "{body}");
    let log = server.log();
    assert!(
        log.contains("ignoring the snapshot file") && log.contains("damaged"),
        "{log}"
    );
}
