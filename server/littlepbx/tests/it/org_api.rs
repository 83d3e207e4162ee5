//! The org admin's API over real HTTP: login, sessions, CSRF, draft edits, Discard, Reset, Apply.

use reqwest::Method;
use serde_json::json;
use testkit::db_test;

use crate::common::{new_org_logged_in, spawn_app, wait_for_job};

const PASSWORD: &str = "correct horse battery";

db_test!(
    org_pages_know_their_org_and_sessions_stay_home,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let mut acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let globex = new_org_logged_in(&app, "globex", PASSWORD).await;

        let (status, body) = app.org_client("nosuch").get_json("/api/org/info").await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["detail"], "No such PBX at this address.");

        let (status, info) = acme.get_json("/api/org/info").await;
        assert_eq!(status, 200);
        assert_eq!(info["slug"], "acme");
        assert_eq!(info["sip_domain"], "pbx.acme.localhost");
        assert_eq!(info["me"]["email"], "boss@acme.example");

        // acme's session cookie sent to globex's host opens nothing there.
        let mut stolen = app.org_client("globex");
        stolen.cookie = acme.cookie.clone();
        let (status, _) = stolen.get_json("/api/org/pbx").await;
        assert_eq!(status, 401);
        let (_, info) = stolen.get_json("/api/org/info").await;
        assert_eq!(info["me"], serde_json::Value::Null);
        let (status, _) = globex.get_json("/api/org/pbx").await;
        assert_eq!(status, 200);

        // Logout ends the session on the server, not only in the browser.
        let cookie = acme.cookie.clone();
        let response = acme
            .request(Method::POST, "/api/org/logout")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        acme.cookie = cookie;
        assert_eq!(acme.get_json("/api/org/pbx").await.0, 401);
    }
);

db_test!(
    logins_are_checked_limited_and_csrf_safe,
    |url: String| async move {
        let app = spawn_app(&url).await;
        app.create_org("acme", "boss@acme.example", PASSWORD).await;
        let mut client = app.org_client("acme");
        assert_eq!(
            client.login("boss@acme.example", "wrong password").await,
            401
        );
        assert_eq!(client.login("nobody@acme.example", PASSWORD).await, 401);
        assert_eq!(client.login("not an email", PASSWORD).await, 401);
        assert!(client.cookie.is_none());

        // Without the CSRF header a changing request is refused, even with a valid session.
        assert_eq!(client.login("boss@acme.example", PASSWORD).await, 200);
        let response = client
            .http
            .post(format!("{}/api/org/discard", client.base))
            .header("cookie", client.cookie.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);

        // Guessing is slowed down: the 6th attempt within a minute is refused.
        let mut guesser = app.org_client("acme");
        for _ in 0..3 {
            guesser.login("boss@acme.example", "guess").await;
        }
        let response = guesser
            .request(Method::POST, "/api/org/login")
            .json(&json!({"email": "boss@acme.example", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert!(response.headers().get("retry-after").is_some());
    }
);

db_test!(
    extensions_are_edited_in_the_draft_with_revisions,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let client = new_org_logged_in(&app, "acme", PASSWORD).await;

        let (status, created) = client
            .send_json(
                Method::POST,
                "/api/org/extensions",
                json!({"number": "101", "display_name": "Ann Example"}),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let password = created["sip_password"].as_str().unwrap().to_owned();
        assert_eq!(created["extension"]["no_answer_action"], "voicemail");
        let revision = created["extension"]["revision"].as_i64().unwrap();

        // The stored hash is FreeSWITCH's a1-hash of the password shown once.
        let org = app
            .state
            .store()
            .org_by_slug("acme")
            .await
            .unwrap()
            .unwrap();
        let draft = app
            .state
            .store()
            .load_layer(org.id, store::Layer::Draft)
            .await
            .unwrap();
        let ext = draft
            .extensions
            .iter()
            .find(|e| e.number.as_str() == "101")
            .unwrap();
        assert!(ext
            .a1_hash
            .matches_password(&ext.number, &org.sip_domain, &password));

        let (status, body) = client
            .send_json(
                Method::POST,
                "/api/org/extensions",
                json!({"number": "101", "display_name": "Again"}),
            )
            .await;
        assert_eq!(status, 409, "{body}");
        let (status, body) = client
            .send_json(
                Method::POST,
                "/api/org/extensions",
                json!({"number": "1", "display_name": "<b>", "ring_seconds": 500}),
            )
            .await;
        assert_eq!(status, 422);
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["number", "display_name", "ring_seconds"]);
        let (status, _) = client
            .send_json(
                Method::POST,
                "/api/org/extensions",
                json!({"number": "911", "display_name": "Nope"}),
            )
            .await;
        assert_eq!(status, 422, "emergency numbers cannot be extensions");

        // Edit the call flow: forward to an outside number after 30 s.
        let (status, edited) = client
        .send_json(
            Method::PATCH,
            "/api/org/extensions/101",
            json!({"revision": revision, "ring_seconds": 30, "no_answer_action": "forward_external", "no_answer_target": "+4930123456"}),
        )
        .await;
        assert_eq!(status, 200, "{edited}");
        assert_eq!(edited["ring_seconds"], 30);
        assert_eq!(edited["no_answer_target"], "+4930123456");
        let new_revision = edited["revision"].as_i64().unwrap();

        // A second browser still on the old revision gets a conflict with the current revision.
        let (status, conflict) = client
            .send_json(
                Method::PATCH,
                "/api/org/extensions/101",
                json!({"revision": revision, "display_name": "Lost update"}),
            )
            .await;
        assert_eq!(status, 409);
        assert_eq!(conflict["current_revision"], new_revision);
        let (_, pbx) = client.get_json("/api/org/pbx").await;
        let ext = pbx["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["number"] == "101")
            .unwrap()
            .clone();
        assert_eq!(ext["display_name"], "Ann Example");

        let (status, body) = client
        .send_json(Method::PATCH, "/api/org/extensions/101", json!({"revision": new_revision, "no_answer_action": "forward_extension", "no_answer_target": "abc"}))
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["field"], "no_answer_target");

        // New password: shown once, hash changes, revision moves on.
        let (status, renewed) = client
            .send_json(
                Method::POST,
                "/api/org/extensions/101/password",
                json!({"revision": new_revision}),
            )
            .await;
        assert_eq!(status, 200, "{renewed}");
        assert_ne!(renewed["sip_password"], password.as_str());
        let latest = renewed["extension"]["revision"].as_i64().unwrap();

        let response = client
            .request(
                Method::DELETE,
                &format!("/api/org/extensions/101?revision={new_revision}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409, "delete with a stale revision");
        let response = client
            .request(
                Method::DELETE,
                &format!("/api/org/extensions/101?revision={latest}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        let (status, _) = client
            .send_json(
                Method::PATCH,
                "/api/org/extensions/101",
                json!({"revision": latest}),
            )
            .await;
        assert_eq!(status, 404);
    }
);

db_test!(
    the_page_shows_changes_and_issues_and_apply_publishes,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let client = new_org_logged_in(&app, "acme", PASSWORD).await;
        let (_, pbx) = client.get_json("/api/org/pbx").await;
        assert_eq!(pbx["changes"].as_array().unwrap().len(), 0);
        assert_eq!(pbx["applied_version"], 1);

        let (_, created) = client
        .send_json(Method::POST, "/api/org/extensions", json!({"number": "101", "display_name": "Ann", "no_answer_action": "forward_extension", "no_answer_target": "199"}))
        .await;
        let (_, pbx) = client.get_json("/api/org/pbx").await;
        assert_eq!(pbx["changes"].as_array().unwrap().len(), 1);
        assert_eq!(pbx["issues"][0]["code"], "forward_target_missing");
        assert_eq!(pbx["issues"][0]["subject_id"], "101");

        // Apply refuses at once, naming the field.
        let (status, body) = client
            .send_json(
                Method::POST,
                "/api/org/apply",
                json!({"wait_for_calls": false, "max_wait_seconds": 0, "email_me": false}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["subject"], "extension:101");
        assert_eq!(body["errors"][0]["field"], "no_answer_target");

        let revision = created["extension"]["revision"].as_i64().unwrap();
        client
            .send_json(
                Method::PATCH,
                "/api/org/extensions/101",
                json!({"revision": revision, "no_answer_action": "hangup"}),
            )
            .await;
        let (status, job) = client
            .send_json(
                Method::POST,
                "/api/org/apply",
                json!({"wait_for_calls": false, "max_wait_seconds": 0, "email_me": false}),
            )
            .await;
        assert_eq!(status, 202, "{job}");
        let done = wait_for_job(&client, 10, |job| job["state"] == "done").await;
        assert_eq!(done["applied_version"], 2);
        assert!(
            done["message"]
                .as_str()
                .unwrap()
                .starts_with("Applied (version 2)"),
            "{done}"
        );
        let (_, pbx) = client.get_json("/api/org/pbx").await;
        assert_eq!(pbx["changes"].as_array().unwrap().len(), 0);
        assert_eq!(pbx["applied_version"], 2);
        let org = app
            .state
            .store()
            .org_by_slug("acme")
            .await
            .unwrap()
            .unwrap();
        let applied = app
            .state
            .store()
            .load_layer(org.id, store::Layer::Applied)
            .await
            .unwrap();
        assert!(applied
            .extensions
            .iter()
            .any(|e| e.number.as_str() == "101"));
    }
);

db_test!(
    discard_and_reset_need_no_apply_and_reset_needs_confirmation,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let client = new_org_logged_in(&app, "acme", PASSWORD).await;
        client
            .send_json(
                Method::POST,
                "/api/org/extensions",
                json!({"number": "101", "display_name": "Ann"}),
            )
            .await;
        let (status, pbx) = client
            .send_json(Method::POST, "/api/org/discard", json!({}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(pbx["changes"].as_array().unwrap().len(), 0);
        assert!(pbx["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["number"] != "101"));

        let (status, body) = client
            .send_json(Method::POST, "/api/org/reset", json!({"confirm": "yes"}))
            .await;
        assert_eq!(status, 422);
        assert_eq!(body["errors"][0]["field"], "confirm");
        let (status, reset) = client
            .send_json(Method::POST, "/api/org/reset", json!({"confirm": "RESET"}))
            .await;
        assert_eq!(status, 200, "{reset}");
        assert_eq!(reset["reception_number"], "100");
        // Reset gave extension 100 a new password: one change waiting for Apply.
        let (_, pbx) = client.get_json("/api/org/pbx").await;
        assert_eq!(
            pbx["changes"][0]["fields"],
            json!(["sip_password", "voicemail_pin"])
        );
    }
);

db_test!(did_routes_and_options, |url: String| async move {
    let app = spawn_app(&url).await;
    let client = new_org_logged_in(&app, "acme", PASSWORD).await;
    let org = app
        .state
        .store()
        .org_by_slug("acme")
        .await
        .unwrap()
        .unwrap();
    app.state
        .store()
        .add_did(org.id, &domain::E164::parse("+15550100100").unwrap())
        .await
        .unwrap();
    let (_, pbx) = client.get_json("/api/org/pbx").await;
    let did = &pbx["dids"][0];
    assert_eq!(did["number"], "+15550100100");
    assert_eq!(did["extension"], serde_json::Value::Null);
    let (status, routed) = client
        .send_json(
            Method::PUT,
            "/api/org/dids/%2B15550100100/route",
            json!({"revision": did["revision"], "extension": "100"}),
        )
        .await;
    assert_eq!(status, 200, "{routed}");
    assert_eq!(routed["extension"], "100");
    let (status, _) = client
        .send_json(
            Method::PUT,
            "/api/org/dids/%2B15559999999/route",
            json!({"revision": 1, "extension": "100"}),
        )
        .await;
    assert_eq!(status, 404, "a number the org does not own");

    let revision = pbx["options"]["revision"].as_i64().unwrap();
    let (status, options) = client
        .send_json(Method::PATCH, "/api/org/options", json!({"revision": revision, "moh_enabled": false, "default_caller_id": "+15550100100"}))
        .await;
    assert_eq!(status, 200, "{options}");
    assert_eq!(options["moh_enabled"], false);
    assert_eq!(options["default_caller_id"], "+15550100100");
    let (status, body) = client
        .send_json(
            Method::PATCH,
            "/api/org/options",
            json!({"revision": options["revision"], "default_caller_id": "12"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
});

db_test!(bad_bodies_are_clear_4xx, |url: String| async move {
    let app = spawn_app(&url).await;
    let client = new_org_logged_in(&app, "acme", PASSWORD).await;
    let response = client
        .request(Method::POST, "/api/org/extensions")
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let response = client
        .request(Method::POST, "/api/org/extensions")
        .body("number=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let (status, _) = client
        .send_json(Method::POST, "/api/org/extensions", json!({"number": 101}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = client.get_json("/api/org/nothing-here").await;
    assert_eq!(status, 404);
    let response = client
        .request(Method::DELETE, "/api/org/extensions/101")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400, "revision is required");
});
