//! Provider API: keys, organizations, errors, the published contract.

use std::time::Duration;

use esl::testpeer::TestPeer;
use reqwest::Method;
use serde_json::json;
use testkit::db_test;

use crate::common::{app_with_peer, spawn_app, TestApp, ESL_PASSWORD};
use crate::provider_client::{delivered, provider_key, told, Api};

/// Waits until the server's event socket is up.
async fn wait_connected(app: &TestApp) {
    for _ in 0..100 {
        if app.state.freeswitch().is_connected() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not connect to the event-socket peer");
}

db_test!(provider_keys_are_required, |url: String| async move {
    let app = spawn_app(&url).await;
    let key = provider_key(&app).await;

    let anonymous = Api::new(&app, None).get("/orgs").await;
    assert!(anonymous.problem(401).contains("Authorization: Bearer"));
    assert_eq!(
        anonymous.header("www-authenticate"),
        "Bearer realm=\"littlepbx\""
    );

    let wrong = Api::new(&app, Some("lpbx_not-a-real-key"))
        .get("/orgs")
        .await;
    assert!(wrong.problem(401).contains("not valid"));
    let basic = Api::new(&app, None)
        .send(
            app.http
                .get(format!("{}/api/v1/orgs", app.base))
                .basic_auth("x", Some(&key)),
        )
        .await;
    basic.problem(401);
    // Checked before anything else: a bad body or an unknown org changes nothing.
    Api::new(&app, None)
        .post("/orgs", json!({"slug": "acme", "name": "Acme"}))
        .await
        .problem(401);
    Api::new(&app, None).get("/orgs/nope").await.problem(401);

    let ok = Api::new(&app, Some(&key)).get("/orgs").await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["total"], 0);
});

db_test!(
    provider_orgs_are_created_listed_and_paged,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));

        let created = api
            .post("/orgs", json!({"slug": "acme", "name": "Acme Inc."}))
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.header("location"), "/api/v1/orgs/acme");
        let org = &created.json["org"];
        assert_eq!(org["sip_domain"], "pbx.acme.localhost");
        assert_eq!(org["status"], "active");
        assert_eq!(org["applied_version"], 1);
        assert_eq!(org["limits"]["max_extensions"], 1000);
        assert_eq!(org["has_logo"], false);
        assert_eq!(
            org["url"],
            format!("http://pbx.acme.localhost:{}", app.port)
        );
        assert_eq!(created.json["reception_number"], "100");
        assert_eq!(
            created.json["reception_sip_password"]
                .as_str()
                .unwrap()
                .len(),
            16
        );

        let own_domain = api
        .post(
            "/orgs",
            json!({"slug": "globex", "name": "Globex", "sip_domain": "VoIP.Globex.example",
                   "limits": {"max_extensions": 20, "max_outbound_calls": 0, "max_calls_per_second": 1}}),
        )
        .await;
        assert_eq!(own_domain.status, 201, "{}", own_domain.text);
        assert_eq!(own_domain.json["org"]["sip_domain"], "voip.globex.example");
        assert_eq!(own_domain.json["org"]["limits"]["max_outbound_calls"], 0);

        let blank_domain = api
            .post(
                "/orgs",
                json!({"slug": "initech", "name": "Initech", "sip_domain": " "}),
            )
            .await;
        assert_eq!(
            blank_domain.json["org"]["sip_domain"],
            "pbx.initech.localhost"
        );
        assert_eq!(api.delete("/orgs/initech?force=true").await.status, 204);

        let same_slug = api
            .post("/orgs", json!({"slug": "acme", "name": "Other"}))
            .await;
        assert!(same_slug.problem(409).contains("\"acme\" already exists"));
        let same_domain = api
            .post(
                "/orgs",
                json!({"slug": "initech", "name": "I", "sip_domain": "voip.globex.example"}),
            )
            .await;
        assert!(same_domain.problem(409).contains("SIP domain"));

        let invalid = api
        .post(
            "/orgs",
            json!({"slug": "No_Good", "name": "", "limits": {"max_extensions": 0, "max_outbound_calls": 1, "max_calls_per_second": 5000}}),
        )
        .await;
        assert_eq!(
            invalid.invalid_fields(),
            [
                "slug",
                "name",
                "limits.max_extensions",
                "limits.max_calls_per_second"
            ]
        );
        let reserved = api
            .post("/orgs", json!({"slug": "admin", "name": "A"}))
            .await;
        assert_eq!(reserved.invalid_fields(), ["slug"]);

        api.create_org("initech").await;
        let page = api.get("/orgs?limit=2").await;
        assert_eq!(page.status, 200);
        let slugs = |answer: &crate::provider_client::Answer| -> Vec<String> {
            answer.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["slug"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(slugs(&page), ["acme", "globex"]);
        assert_eq!(page.json["total"], 3);
        assert_eq!(page.json["limit"], 2);
        let next = api.get("/orgs?offset=2&limit=2").await;
        assert_eq!(slugs(&next), ["initech"]);
        assert_eq!(next.json["offset"], 2);
        assert_eq!(
            api.get("/orgs").await.json["items"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(api.get("/orgs?limit=0").await.invalid_fields(), ["limit"]);
        assert_eq!(api.get("/orgs?limit=501").await.invalid_fields(), ["limit"]);
        api.get("/orgs?offset=-1").await.problem(400);
        assert_eq!(
            api.get("/orgs?offset=9223372036854775808")
                .await
                .invalid_fields(),
            ["offset"]
        );
        assert_eq!(
            api.get("/orgs?offset=9223372036854775807").await.json["items"],
            json!([])
        );
        api.get("/orgs?limit=ten").await.problem(400);

        let one = api.get("/orgs/globex").await;
        assert_eq!(one.status, 200);
        assert_eq!(one.json["name"], "Globex");
        assert!(api
            .get("/orgs/nope")
            .await
            .problem(404)
            .contains("\"nope\""));
        api.get("/orgs/NOT%20A%20SLUG").await.problem(404);
    }
);

db_test!(provider_orgs_are_changed, |url: String| async move {
    let app = spawn_app(&url).await;
    let api = Api::new(&app, Some(&provider_key(&app).await));
    api.create_org("acme").await;
    let org = app
        .state
        .store()
        .org_by_slug("acme")
        .await
        .unwrap()
        .unwrap();

    let renamed = api
        .patch("/orgs/acme", json!({"name": "Acme Corporation"}))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json["name"], "Acme Corporation");
    assert_eq!(renamed.json["status"], "active");
    assert_eq!(
        app.state
            .store()
            .pending_fs_commands_of(org.id)
            .await
            .unwrap(),
        0
    );

    let suspended = api
        .patch("/orgs/acme", json!({"status": "suspended"}))
        .await;
    assert_eq!(suspended.json["status"], "suspended");
    // Its reception phone is flushed from FreeSWITCH at once (queued: no FreeSWITCH here).
    assert!(
        app.state
            .store()
            .pending_fs_commands_of(org.id)
            .await
            .unwrap()
            >= 2
    );
    let stored = app.state.store().org(org.id).await.unwrap();
    assert_eq!(stored.status, domain::OrgStatus::Suspended);
    assert!(stored.xml_version > org.xml_version);

    let limits = api
        .patch("/orgs/acme", json!({"limits": {"max_extensions": 5, "max_outbound_calls": 2, "max_calls_per_second": 1}}))
        .await;
    assert_eq!(limits.json["limits"]["max_extensions"], 5);
    let unchanged = api.patch("/orgs/acme", json!({})).await;
    assert_eq!(unchanged.status, 200);
    assert_eq!(unchanged.json["name"], "Acme Corporation");

    let invalid = api
        .patch("/orgs/acme", json!({"status": "paused", "name": "a<b"}))
        .await;
    assert_eq!(invalid.invalid_fields(), ["name", "status"]);
    assert_eq!(
        api.patch("/orgs/acme", json!({"limits": {"max_extensions": 1, "max_outbound_calls": 99999, "max_calls_per_second": 1}}))
            .await
            .invalid_fields(),
        ["limits.max_outbound_calls"]
    );
    api.patch("/orgs/acme", json!({"status": 1}))
        .await
        .problem(422);
    api.patch("/orgs/nope", json!({"name": "X"}))
        .await
        .problem(404);
    assert_eq!(api.get("/orgs/acme").await.json["name"], "Acme Corporation");
});

db_test!(
    provider_delete_asks_freeswitch_about_calls,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond("limit_usage hash lpbx_calls acme", "2");
        peer.respond_verb("sofia", "+OK\n");
        peer.respond_verb("xml_flush_cache", "+OK cleared 0 entries\n");
        peer.respond_verb("reloadacl", "+OK acl reloaded\n");
        let app = app_with_peer(&url, &peer).await;
        wait_connected(&app).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        api.create_org("acme").await;
        api.create_org("globex").await;
        for slug in ["acme", "globex"] {
            let trunk = api
            .put(
                &format!("/orgs/{slug}/trunks/inbound"),
                json!({"username": "u", "password": "pw-123456", "host": "sip.carrier.example", "allowed_cidrs": ["203.0.113.5"]}),
            )
            .await;
            assert_eq!(trunk.status, 200, "{}", trunk.text);
        }
        api.post(
            "/orgs/acme/admins",
            json!({"email": "boss@acme.example", "password": "long enough pw"}),
        )
        .await;
        let music = app.data_dir.path().join("moh").join("acme").join("8000");
        std::fs::create_dir_all(&music).unwrap();
        std::fs::write(music.join("music.wav"), b"RIFF").unwrap();
        let org = app
            .state
            .store()
            .org_by_slug("acme")
            .await
            .unwrap()
            .unwrap();

        let busy = api.delete("/orgs/acme").await;
        assert!(busy.problem(409).contains("2 call(s) in progress"));
        assert_eq!(api.get("/orgs/acme").await.status, 200);

        peer.respond("limit_usage hash lpbx_calls acme", "0");
        delivered(&app).await;
        peer.clear_commands();
        assert_eq!(api.delete("/orgs/acme").await.status, 204);
        api.get("/orgs/acme").await.problem(404);
        assert!(app
            .state
            .store()
            .list_admins(org.id)
            .await
            .unwrap()
            .is_empty());
        assert!(
            !music.parent().unwrap().exists(),
            "the org's music files are removed"
        );
        let sent = told(
            &peer,
            &[
                "sofia profile external killgw acme.in",
                "xml_flush_cache id 100 pbx.acme.localhost",
                "sofia profile internal flush_inbound_reg 100@pbx.acme.localhost",
            ],
        )
        .await;
        assert!(!sent.iter().any(|c| c.contains("globex")), "{sent:?}");
        assert_eq!(api.get("/orgs/globex").await.status, 200);
        api.delete("/orgs/acme").await.problem(404);
    }
);

db_test!(
    provider_delete_without_freeswitch_needs_force,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        api.create_org("acme").await;
        let refused = api.delete("/orgs/acme").await;
        assert!(refused.problem(503).contains("force=true"));
        api.delete("/orgs/acme?force=maybe").await.problem(400);
        assert_eq!(api.get("/orgs/acme").await.status, 200);
        assert_eq!(api.delete("/orgs/acme?force=true").await.status, 204);
        api.get("/orgs/acme").await.problem(404);
        // The slug is free again.
        api.create_org("acme").await;
    }
);

db_test!(
    provider_bad_requests_are_problems,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        let not_json = api
            .raw(
                Method::POST,
                "/orgs",
                "application/json",
                b"{\"slug\": ".to_vec(),
            )
            .await;
        assert!(not_json.problem(400).contains("not valid JSON"));
        let no_type = api
            .raw(
                Method::POST,
                "/orgs",
                "",
                br#"{"slug":"acme","name":"A"}"#.to_vec(),
            )
            .await;
        assert!(no_type.problem(415).contains("application/json"));
        let text = api
            .raw(
                Method::POST,
                "/orgs",
                "text/plain",
                br#"{"slug":"acme","name":"A"}"#.to_vec(),
            )
            .await;
        text.problem(415);
        let wrong_types = api.post("/orgs", json!({"slug": 5, "name": "A"})).await;
        assert!(wrong_types.problem(422).contains("expected fields"));
        api.post("/orgs", json!({"name": "A"})).await.problem(422);
        // serde would build a struct from an array of its fields; the API takes objects only.
        assert!(api
            .post("/orgs", json!(["acme", "Acme"]))
            .await
            .problem(422)
            .contains("JSON object"));
        api.create_org("acme").await;
        api.patch("/orgs/acme", json!([null, null]))
            .await
            .problem(422);
        api.delete("/orgs/acme?force=true").await;
        let huge = format!(r#"{{"slug":"acme","name":"{}"}}"#, "x".repeat(100 * 1024));
        let too_large = api
            .raw(Method::POST, "/orgs", "application/json", huge.into_bytes())
            .await;
        too_large.problem(413);
        assert!(api
            .get("/nothing-here")
            .await
            .problem(404)
            .contains("/api/v1/docs"));
        let method = api.put("/orgs", json!({})).await;
        method.problem(405);
        assert!(
            method.header("allow").contains("GET"),
            "{:?}",
            method.headers
        );
        assert_eq!(
            api.get("/orgs").await.json["total"],
            0,
            "nothing was created"
        );
    }
);

db_test!(provider_contract_is_published, |url: String| async move {
    let app = spawn_app(&url).await;
    let anonymous = Api::new(&app, None);
    let doc = anonymous.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["openapi"], "3.1.0");
    let paths: Vec<&String> = doc.json["paths"].as_object().unwrap().keys().collect();
    for path in [
        "/api/v1/orgs",
        "/api/v1/orgs/{slug}",
        "/api/v1/orgs/{slug}/logo",
        "/api/v1/orgs/{slug}/admins/{id}/password",
        "/api/v1/orgs/{slug}/trunks/{role}",
        "/api/v1/orgs/{slug}/dids/{number}",
        "/api/v1/orgs/{slug}/status",
        "/api/v1/api-keys/{id}",
    ] {
        assert!(paths.iter().any(|p| *p == path), "{path} missing");
    }
    assert_eq!(
        doc.json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc.json["paths"]["/api/v1/orgs"]["post"]["responses"]["409"]["content"]
            ["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    let page = anonymous.get("/docs").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.text.contains("/api/v1/orgs/{slug}/dids/{number}"));
    assert!(page.text.contains("id=\"schema-OrgCreate\""));
    assert!(!page.text.contains("<script"));
});
