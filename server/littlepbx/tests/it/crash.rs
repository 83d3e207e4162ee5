//! Crash safety of Apply: the real `littlepbx serve` process is killed with SIGKILL at random
//! moments while Applies run (MariaDB), restarted, and the database is checked: the applied
//! configuration is exactly the old or the new version (never a mix), the draft is intact, and
//! the job ends consistently once the restarted process has resumed it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use serde_json::json;

use crate::common::{binary, OrgClient};

const RUNS: usize = 30;
const EXTENSIONS: usize = 300;
const PASSWORD: &str = "correct horse battery";

struct Server {
    child: Child,
    port: u16,
}

fn start_server(url: &str, data_dir: &std::path::Path, secret: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary())
        .arg("serve")
        .env("LITTLEPBX_DATABASE_URL", url)
        .env("LITTLEPBX_LISTEN", format!("127.0.0.1:{port}"))
        .env("LITTLEPBX_DATA_DIR", data_dir)
        .env("LITTLEPBX_SECRET_KEY", secret)
        .env("LITTLEPBX_FREESWITCH__HTTP_PASSWORD", "x")
        .env("LITTLEPBX_APPLY_LEASE_SECONDS", "1")
        .env("LITTLEPBX_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start littlepbx");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "littlepbx did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Server { child, port }
}

fn org_client(port: u16) -> OrgClient {
    let host = "pbx.acme.localhost";
    let http = reqwest::Client::builder()
        .resolve(host, ([127, 0, 0, 1], port).into())
        .build()
        .unwrap();
    OrgClient {
        http,
        base: format!("http://{host}:{port}"),
        cookie: None,
    }
}

/// Every extension's display name, by layer.
async fn names(store: &store::Store, org: store::OrgId, layer: store::Layer) -> Vec<String> {
    let config = store.load_layer(org, layer).await.unwrap();
    config
        .extensions
        .iter()
        .filter(|e| e.number.as_str() != "100")
        .map(|e| e.display_name.to_string())
        .collect()
}

/// Renames every extension of the draft to `name`, directly in the store (fast, and the server
/// is only needed for the Apply itself).
async fn rename_all(store: &store::Store, org: store::OrgId, name: &str) {
    let draft = store.load_draft(org).await.unwrap();
    let name = domain::DisplayName::parse(name).unwrap();
    for ext in draft
        .extensions
        .iter()
        .filter(|e| e.value.number.as_str() != "100")
    {
        store
            .update_extension(org, &ext.value.number, ext.revision, |e| {
                e.display_name = name.clone();
                Ok(())
            })
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_survive_sigkill_at_random_moments() {
    let Some(db) = testkit::TestDb::mariadb().await else {
        return;
    };
    let url = db.url().to_owned();
    let data_dir = tempfile::tempdir().unwrap();
    let secret = engine::secrets::random_key_base64();

    let store = store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let org = acme_applied_as_round_0(&store).await;

    let mut server = start_server(&url, data_dir.path(), &secret);
    let mut killed_in = std::collections::BTreeMap::<String, usize>::new();
    let mut rng = rand::thread_rng();
    for round in 1..=RUNS {
        let before = store.org(org).await.unwrap().applied_version;
        rename_all(&store, org, &format!("Round {round}")).await;
        let mut client = org_client(server.port);
        assert_eq!(client.login("boss@acme.example", PASSWORD).await, 200);
        // Every third run waits for calls (FreeSWITCH is not reachable, so it waits the full
        // second) so that kills also land while waiting.
        let wait = round % 3 == 0;
        let (status, job) = client
            .send_json(
                Method::POST,
                "/api/org/apply",
                json!({"wait_for_calls": wait, "max_wait_seconds": 1, "email_me": false}),
            )
            .await;
        assert_eq!(status, 202, "{job}");
        let job_id = job["id"].as_i64().unwrap();

        // Kill at a random moment while the job runs.
        let window = if wait { 1500 } else { 50 };
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..window))).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        let state_at_kill = store.job(org, job_id).await.unwrap().state;
        *killed_in.entry(state_at_kill.to_string()).or_default() += 1;

        // Right after the crash: applied is exactly the old or the new version, the draft intact.
        assert_old_or_new(&store, org, before, round).await;

        // After a restart the job is resumed and ends done, applied exactly once.
        server = start_server(&url, data_dir.path(), &secret);
        let job = until_done(&store, org, job_id, round).await;
        assert_eq!(job.applied_version, Some(before + 1), "round {round}");
        assert_eq!(job.active_org_id, None);
        assert_eq!(
            store.org(org).await.unwrap().applied_version,
            before + 1,
            "round {round}: applied once"
        );
        assert!(names(&store, org, store::Layer::Applied)
            .await
            .iter()
            .all(|n| *n == format!("Round {round}")));
        let history = store.apply_history(org, 3).await.unwrap();
        assert_eq!(
            history.iter().filter(|h| h.job_id == Some(job_id)).count(),
            1,
            "round {round}"
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    eprintln!("{RUNS} SIGKILL runs; job state when killed: {killed_in:?}");
    assert!(
        killed_in.len() >= 3,
        "kills should land in different phases: {killed_in:?}"
    );
}

/// An org with 300 extensions, all applied as "Round 0", and an admin.
async fn acme_applied_as_round_0(store: &store::Store) -> store::OrgId {
    let domain = domain::SipDomain::parse("pbx.acme.localhost").unwrap();
    let reception = testkit::fixtures::reception_secrets(&domain, "x");
    let new = store::orgs::NewOrg {
        slug: domain::OrgSlug::parse("acme").unwrap(),
        name: domain::CompanyName::parse("Acme").unwrap(),
        sip_domain: domain.clone(),
        limits: store::orgs::OrgLimits::default(),
    };
    let org = store.create_org(&new, reception).await.unwrap().id;
    let hash = engine::secrets::hash_password(PASSWORD).unwrap();
    store
        .create_admin(
            org,
            &domain::Email::parse("boss@acme.example").unwrap(),
            store::admins::AdminCredential::PasswordHash(hash),
        )
        .await
        .unwrap();
    for n in 0..EXTENSIONS {
        let number = (1000 + n).to_string();
        let ext = domain::Extension {
            display_name: domain::DisplayName::parse("Round 0").unwrap(),
            voicemail_pin: domain::VoicemailPin::parse("1234").unwrap(),
            ..testkit::fixtures::extension(&number, domain.as_str(), "pw")
        };
        store.create_extension(org, &ext).await.unwrap();
    }
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

    org
}

/// Applied is exactly the version before `round` or the one of `round`, never a mix; the draft
/// is intact.
async fn assert_old_or_new(store: &store::Store, org: store::OrgId, before: i64, round: usize) {
    let applied = names(store, org, store::Layer::Applied).await;
    let version = store.org(org).await.unwrap().applied_version;
    let old = format!("Round {}", round - 1);
    let new = format!("Round {round}");
    let all = |name: &str| applied.len() == EXTENSIONS && applied.iter().all(|n| n == name);
    match version - before {
        0 => assert!(
            all(&old),
            "round {round}: version unchanged but applied is not the old config"
        ),
        1 => assert!(
            all(&new),
            "round {round}: version bumped but applied is not the new config"
        ),
        other => panic!("round {round}: applied_version moved by {other}"),
    }
    assert!(
        names(store, org, store::Layer::Draft)
            .await
            .iter()
            .all(|n| *n == new),
        "round {round}: draft damaged"
    );
}

/// Waits until job `job_id` is done; returns it.
async fn until_done(
    store: &store::Store,
    org: store::OrgId,
    job_id: i64,
    round: usize,
) -> store::jobs::Job {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job = store.job(org, job_id).await.unwrap();
        if job.state == domain::JobState::Done {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "round {round}: job stuck in {}",
            job.state
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGTERM while an Apply runs (applying at once, or waiting for calls): the process finishes
/// the step under way and exits cleanly within the grace period; applied is the old or the new
/// version; the job ends done after a restart, applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_an_apply_stops_cleanly() {
    let Some(db) = testkit::TestDb::mariadb().await else {
        return;
    };
    let url = db.url().to_owned();
    let data_dir = tempfile::tempdir().unwrap();
    let secret = engine::secrets::random_key_base64();
    let store = store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let org = acme_applied_as_round_0(&store).await;
    for (round, wait, after_ms) in [(1, false, 30), (2, true, 400), (3, false, 0)] {
        let mut server = start_server(&url, data_dir.path(), &secret);
        let before = store.org(org).await.unwrap().applied_version;
        rename_all(&store, org, &format!("Round {round}")).await;
        let mut client = org_client(server.port);
        assert_eq!(client.login("boss@acme.example", PASSWORD).await, 200);
        let (status, job) = client
            .send_json(
                Method::POST,
                "/api/org/apply",
                json!({"wait_for_calls": wait, "max_wait_seconds": 2, "email_me": false}),
            )
            .await;
        assert_eq!(status, 202, "{job}");
        let job_id = job["id"].as_i64().unwrap();
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let signalled = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status();
        let exit = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                signalled.elapsed() < littlepbx::app::SHUTDOWN_GRACE + Duration::from_secs(2),
                "round {round}: still running after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let state = store.job(org, job_id).await.unwrap().state;
        eprintln!(
            "round {round}: exit {exit} after {:?}, job {state}",
            signalled.elapsed()
        );
        assert!(exit.success(), "round {round}: {exit}");
        assert_old_or_new(&store, org, before, round).await;

        let mut server = start_server(&url, data_dir.path(), &secret);
        let job = until_done(&store, org, job_id, round).await;
        assert_eq!(job.applied_version, Some(before + 1), "round {round}");
        assert_eq!(store.org(org).await.unwrap().applied_version, before + 1);
        server.child.kill().unwrap();
        server.child.wait().unwrap();
    }
}
