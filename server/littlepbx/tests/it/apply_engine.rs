//! Apply jobs end to end: waiting for the org's calls (counted over a real event-socket peer),
//! Stop, FreeSWITCH told only about the org concerned, FreeSWITCH unreachable, e-mail.

use std::time::Duration;

use esl::testpeer::TestPeer;
use reqwest::Method;
use serde_json::json;
use testkit::db_test;

use crate::common::{
    app_with_peer, new_org_logged_in, spawn_app_with, start_apply, wait_for_job, OrgClient,
    TestApp, ESL_PASSWORD,
};

const PASSWORD: &str = "correct horse battery";

/// Renames the reception extension in the draft: a change that makes FreeSWITCH flush a user.
async fn rename_reception(client: &OrgClient, name: &str) {
    let (_, pbx) = client.get_json("/api/org/pbx").await;
    let reception = pbx["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == "100")
        .unwrap()
        .clone();
    let (status, body) = client
        .send_json(
            Method::PATCH,
            "/api/org/extensions/100",
            json!({"revision": reception["revision"], "display_name": name}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn applied_version(app: &TestApp, slug: &str) -> i64 {
    app.state
        .store()
        .org_by_slug(slug)
        .await
        .unwrap()
        .unwrap()
        .applied_version
}

db_test!(
    apply_waits_for_the_orgs_calls_stop_cancels_and_only_the_org_is_told,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond("limit_usage hash lpbx_calls acme", "2");
        peer.respond_verb("xml_flush_cache", "+OK cleared 0 entries\n");
        let app = app_with_peer(&url, &peer).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let globex = new_org_logged_in(&app, "globex", PASSWORD).await;
        rename_reception(&acme, "Front Desk").await;
        rename_reception(&globex, "Globex Desk").await;

        // Two calls in progress: the job waits and shows them.
        let job = start_apply(&acme, true, 600, false).await;
        let waiting = wait_for_job(&acme, 10, |j| j["calls_in_progress"] == 2).await;
        assert_eq!(waiting["state"], "waiting");
        assert_eq!(applied_version(&app, "acme").await, 1);

        // A second Apply while one waits is refused; Stop cancels and changes nothing.
        let (status, _) = acme
            .send_json(
                Method::POST,
                "/api/org/apply",
                json!({"wait_for_calls": false, "max_wait_seconds": 0, "email_me": false}),
            )
            .await;
        assert_eq!(status, 409);
        let (status, stopped) = acme
            .send_json(
                Method::POST,
                &format!("/api/org/jobs/{}/stop", job["id"]),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{stopped}");
        assert_eq!(stopped["state"], "stopped");
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(applied_version(&app, "acme").await, 1);
        let (_, pbx) = acme.get_json("/api/org/pbx").await;
        assert_eq!(
            pbx["changes"].as_array().unwrap().len(),
            1,
            "the draft is kept"
        );

        // The calls end: the next Apply goes through and FreeSWITCH forgets acme's user only.
        peer.respond("limit_usage hash lpbx_calls acme", "0");
        start_apply(&acme, true, 600, false).await;
        let done = wait_for_job(&acme, 10, |j| {
            j["state"] == "done" && j["freeswitch"] == "told"
        })
        .await;
        assert_eq!(done["applied_version"], 2);
        let commands = peer.api_commands();
        assert!(
            commands.contains(&"xml_flush_cache id 100 pbx.acme.localhost".to_owned()),
            "{commands:?}"
        );
        assert!(
            commands.iter().all(|c| !c.contains("globex")),
            "an Apply of acme named globex: {commands:?}"
        );
        assert!(
            commands
                .iter()
                .all(|c| !c.contains("restart") && !c.contains(" stop")),
            "{commands:?}"
        );
        assert_eq!(
            applied_version(&app, "globex").await,
            1,
            "globex's draft was not applied"
        );
    }
);

db_test!(the_wait_ends_at_its_maximum, |url: String| async move {
    let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
    peer.respond("limit_usage hash lpbx_calls acme", "3");
    let app = app_with_peer(&url, &peer).await;
    let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
    rename_reception(&acme, "Front Desk").await;
    start_apply(&acme, true, 1, false).await;
    let done = wait_for_job(&acme, 10, |j| j["state"] == "done").await;
    assert_eq!(done["applied_version"], 2);
    assert_eq!(
        done["calls_in_progress"], 3,
        "it applied although 3 calls were still up, after the maximum wait"
    );
});

db_test!(
    an_unreachable_freeswitch_is_told_later,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond_verb("xml_flush_cache", "+OK cleared 1 entry\n");
        peer.set_refuse_connections(true);
        let app = app_with_peer(&url, &peer).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        rename_reception(&acme, "Front Desk").await;
        start_apply(&acme, false, 0, false).await;
        let done = wait_for_job(&acme, 10, |j| j["state"] == "done").await;
        assert_eq!(done["applied_version"], 2, "the database swap stands");
        assert_eq!(done["freeswitch"], "pending");
        assert!(
            done["message"]
                .as_str()
                .unwrap()
                .contains("FreeSWITCH not yet told"),
            "{done}"
        );

        // FreeSWITCH comes back: the queued command is delivered and the job view says so.
        peer.set_refuse_connections(false);
        wait_for_job(&acme, 30, |j| j["freeswitch"] == "told").await;
        assert!(peer
            .api_commands()
            .contains(&"xml_flush_cache id 100 pbx.acme.localhost".to_owned()));
    }
);

/// A real SMTP server on loopback: Python's aiosmtpd writing to a maildir.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpServer {
    fn start() -> Option<Self> {
        let python = std::env::var("LITTLEPBX_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let has_aiosmtpd = std::process::Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            assert!(
                !testkit::mysql_required(),
                "aiosmtpd is required in CI (scripts/test.sh installs it)"
            );
            eprintln!("skipping: aiosmtpd not installed for {python}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(&python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir.path().join("mail"))
            .spawn()
            .unwrap();
        // Owned at once, so that `Drop` stops the server on every path below.
        let server = Self {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("aiosmtpd did not start");
    }

    fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail/new");
        std::fs::read_dir(new)
            .map(|dir| {
                dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

db_test!(
    the_admin_gets_an_email_when_the_apply_is_done,
    |url: String| async move {
        let Some(smtp) = SmtpServer::start() else {
            return;
        };
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond("limit_usage hash lpbx_calls acme", "0");
        let port = smtp.port;
        let addr = peer.addr_string();
        let app = spawn_app_with(&url, move |config| {
            config.freeswitch.esl_address = addr;
            config.freeswitch.esl_password = engine::config::Secret::new(ESL_PASSWORD);
            config.smtp.host = "127.0.0.1".into();
            config.smtp.port = port;
            config.smtp.from = "LittlePBX <pbx@provider.example>".into();
        })
        .await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        rename_reception(&acme, "Front Desk").await;
        start_apply(&acme, true, 60, true).await;
        let done = wait_for_job(&acme, 15, |j| {
            j["state"] == "done" && j["email_status"].is_string()
        })
        .await;
        assert_eq!(done["email_status"], "sent", "{done}");
        let messages = smtp.messages();
        assert_eq!(messages.len(), 1);
        let message = &messages[0];
        assert!(message.contains("To: boss@acme.example"), "{message}");
        assert!(
            message.contains("From: LittlePBX <pbx@provider.example>"),
            "{message}"
        );
        assert!(
            message.contains("Subject: acme Ltd: your PBX changes are applied"),
            "{message}"
        );
        assert!(message.contains("Applied (version 2)"), "{message}");
    }
);

db_test!(
    a_failing_mail_server_does_not_fail_the_apply,
    |url: String| async move {
        let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let app = spawn_app_with(&url, move |config| {
            config.smtp.host = "127.0.0.1".into();
            config.smtp.port = closed_port;
        })
        .await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        rename_reception(&acme, "Front Desk").await;
        start_apply(&acme, false, 0, true).await;
        let done = wait_for_job(&acme, 30, |j| {
            j["state"] == "done" && j["email_status"].is_string()
        })
        .await;
        assert_eq!(done["applied_version"], 2);
        assert!(
            done["email_status"]
                .as_str()
                .unwrap()
                .starts_with("failed:"),
            "{done}"
        );
    }
);

/// Waits until the peer has received every one of `commands` as `api` commands.
async fn wait_for_api(peer: &TestPeer, commands: &[&str]) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = peer.api_commands();
        if commands.iter().all(|c| seen.iter().any(|s| s == c)) {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never received {commands:?}; got {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

db_test!(
    freeswitch_rereads_acl_and_gateways_whenever_the_event_socket_connects,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        let _app = app_with_peer(&url, &peer).await;
        let expected = ["reloadacl", "sofia profile external rescan"];
        wait_for_api(&peer, &expected).await;
        // FreeSWITCH restarts (the connection drops): it is told again once reconnected.
        peer.clear_commands();
        peer.drop_connections();
        wait_for_api(&peer, &expected).await;
    }
);
