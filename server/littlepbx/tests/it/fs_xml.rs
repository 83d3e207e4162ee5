//! `POST /fs/xml` over real HTTP with the bodies FreeSWITCH really sends (../freeswitch/tests/fixtures).

use std::time::{Duration, Instant};

use domain::*;
use testkit::db_test;

use crate::common::{spawn_app, spawn_app_with, TestApp};

pub(crate) const FS_USER: &str = "freeswitch";
pub(crate) const FS_PASSWORD: &str = "fs-test-password";

/// The raw body of a captured request.
pub(crate) fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../freeswitch/tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().skip_while(|l| *l != "# raw body:");
    lines.nth(1).expect("a raw body line").to_owned()
}

pub(crate) async fn post_xml(app: &TestApp, body: &str) -> (u16, String) {
    let response = app
        .http
        .post(format!("{}/fs/xml", app.base))
        .basic_auth(FS_USER, Some(FS_PASSWORD))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", "freeswitch-xml/1.0")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Org "acme" with SIP domain acme.test and extensions 1001, 1002 (password "secret", as in the
/// captures), applied.
pub(crate) async fn acme(app: &TestApp) -> store::OrgId {
    let created = engine::services::create_org(
        &app.state,
        OrgSlug::parse("acme").unwrap(),
        CompanyName::parse("Acme").unwrap(),
        SipDomain::parse("acme.test").unwrap(),
        store::orgs::OrgLimits::default(),
    )
    .await
    .map_err(|e| e.to_string())
    .unwrap();
    for number in ["1001", "1002"] {
        add_extension(app, created.org.id, number).await;
    }
    engine::services::apply_now(&app.state, created.org.id, "test", None)
        .await
        .unwrap();
    created.org.id
}

pub(crate) async fn add_extension(app: &TestApp, org: store::OrgId, number: &str) {
    let ext = testkit::fixtures::extension(number, "acme.test", "secret");
    app.state.store().create_extension(org, &ext).await.unwrap();
}

/// Polls until the answer to `body` satisfies `ok`.
async fn eventually(app: &TestApp, body: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, xml) = post_xml(app, body).await;
        if status == 200 && ok(&xml) {
            return xml;
        }
        assert!(
            Instant::now() < deadline,
            "never got the expected answer; last: {status} {xml}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

db_test!(
    freeswitch_sees_the_applied_configuration_only,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let org = acme(&app).await;
        let user_call = fixture("22_directory_user_call_bridge_user_1002.txt");
        let xml = eventually(&app, &user_call, |x| x.contains("<user id=\"1002\"")).await;
        assert!(xml.contains("name=\"a1-hash\""), "{xml}");
        assert!(!xml.contains("cacheable"), "{xml}");

        // A draft-only extension is not served; after Apply it is.
        add_extension(&app, org, "1003").await;
        let ask_1003 = user_call.replace("user=1002", "user=1003");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let (_, xml) = post_xml(&app, &ask_1003).await;
        assert!(!xml.contains("<user id=\"1003\""), "draft served: {xml}");
        engine::services::apply_now(&app.state, org, "test", None)
            .await
            .unwrap();
        eventually(&app, &ask_1003, |x| x.contains("<user id=\"1003\"")).await;

        // The REGISTER capture verifies against the stored a1-hash: the user is answered.
        let register = fixture("10_directory_register_sip_auth.txt");
        let xml = eventually(&app, &register, |x| x.contains("<user id=\"1001\"")).await;
        assert!(
            xml.starts_with("<document type=\"freeswitch/xml\">"),
            "{xml}"
        );
        // Unknown sections fall back to FreeSWITCH's static files.
        let (_, xml) = post_xml(&app, &fixture("01_config_cdr_csv_startup.txt")).await;
        assert_eq!(xml, freeswitch::NOT_FOUND);
    }
);

db_test!(only_freeswitch_may_ask, |url: String| async move {
    let app = spawn_app(&url).await;
    let body = fixture("12_directory_user_exists.txt");
    let no_auth = app
        .http
        .post(format!("{}/fs/xml", app.base))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), 401);
    assert!(no_auth.headers().contains_key("www-authenticate"));
    let wrong = app
        .http
        .post(format!("{}/fs/xml", app.base))
        .basic_auth(FS_USER, Some("guess"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let too_big = "a=".to_owned() + &"x".repeat(300 * 1024);
    assert_eq!(post_xml(&app, &too_big).await.0, 413);

    let elsewhere = spawn_app_with(&url, |config| {
        config.freeswitch.allowed_ips = vec!["10.0.0.0/8".into()]
    })
    .await;
    let response = elsewhere
        .http
        .post(format!("{}/fs/xml", elsewhere.base))
        .basic_auth(FS_USER, Some(FS_PASSWORD))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
});

db_test!(
    a_guessed_user_is_locked_out_at_the_guessing_source,
    |url: String| async move {
        let app = spawn_app(&url).await;
        acme(&app).await;
        let right = fixture("10_directory_register_sip_auth.txt");
        eventually(&app, &right, |x| x.contains("<user id=\"1001\"")).await;
        let wrong = fixture("14_directory_register_wrong_password.txt");
        for _ in 0..engine::sip_guard::MAX_USER_FAILURES {
            assert_eq!(post_xml(&app, &wrong).await.0, 200);
        }
        // That user from the same source, even with the right password, is now refused: the
        // domain without the user.
        let (_, xml) = post_xml(&app, &right).await;
        assert!(xml.contains("<domain name=\"acme.test\""), "{xml}");
        assert!(!xml.contains("<user id=\"1001\""), "{xml}");
        // Another source is not affected.
        let other = right.replace("&ip=127.0.0.1", "&ip=192.0.2.50");
        let (_, xml) = post_xml(&app, &other).await;
        assert!(xml.contains("<user id=\"1001\""), "{xml}");
    }
);

db_test!(
    another_instance_serves_an_apply_within_a_second,
    |url: String| async move {
        let first = spawn_app(&url).await;
        let org = acme(&first).await;
        let second = spawn_app(&url).await;
        let user_call = fixture("22_directory_user_call_bridge_user_1002.txt")
            .replace("user=1002", "user=1004");
        eventually(
            &second,
            &fixture("22_directory_user_call_bridge_user_1002.txt"),
            |x| x.contains("<user id=\"1002\""),
        )
        .await;
        let (_, xml) = post_xml(&second, &user_call).await;
        assert!(!xml.contains("<user id=\"1004\""));

        add_extension(&first, org, "1004").await;
        engine::services::apply_now(&first.state, org, "test", None)
            .await
            .unwrap();
        let applied_at = Instant::now();
        eventually(&second, &user_call, |x| x.contains("<user id=\"1004\"")).await;
        assert!(
            applied_at.elapsed() < Duration::from_millis(2500),
            "took {:?}",
            applied_at.elapsed()
        );
    }
);
