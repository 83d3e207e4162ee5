//! Provider API: what belongs to an org (admins, trunks, DIDs, logo, status) and API keys.

use std::time::Duration;

use esl::testpeer::TestPeer;
use reqwest::Method;
use serde_json::json;
use testkit::db_test;

use crate::common::{spawn_app, spawn_app_with};
use crate::provider_client::{delivered, org_key, png, provider_key, told, Api, SVG_LOGO};

const ESL_PASSWORD: &str = "ClueCon-objects";
const TRUNK_PASSWORD: &str = "Tr-unk/Secret-4711";

db_test!(
    provider_admins_with_passwords_and_invitations,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        api.create_org("acme").await;

        let boss = api
            .post(
                "/orgs/acme/admins",
                json!({"email": "Boss@Acme.example", "password": "first password"}),
            )
            .await;
        assert_eq!(boss.status, 201, "{}", boss.text);
        let boss_id = boss.json["admin"]["id"].as_i64().unwrap();
        assert_eq!(
            boss.header("location"),
            format!("/api/v1/orgs/acme/admins/{boss_id}")
        );
        assert_eq!(
            boss.json["admin"]["email"], "boss@acme.example",
            "stored lowercase"
        );
        assert_eq!(boss.json["admin"]["invite_pending"], false);
        assert_eq!(boss.json["invite_url"], serde_json::Value::Null);
        let mut web = app.org_client("acme");
        assert_eq!(
            web.login("BOSS@acme.example", "first password").await,
            200,
            "any case logs in"
        );

        let invited = api
            .post("/orgs/acme/admins", json!({"email": "new@acme.example"}))
            .await;
        assert_eq!(invited.status, 201);
        assert_eq!(invited.json["admin"]["invite_pending"], true);
        let link = invited.json["invite_url"].as_str().unwrap();
        let prefix = format!("http://pbx.acme.localhost:{}/invite/", app.port);
        let token = link.strip_prefix(&prefix).expect(link);
        let by_invite = app
            .state
            .store()
            .admin_by_invite(&engine::secrets::sha256_hex(token))
            .await
            .unwrap()
            .expect("the invitation is valid");
        assert_eq!(by_invite.email.as_str(), "new@acme.example");
        // The link's page accepts the token once (the org API's side of the invitation).
        let invitee = app.org_client("acme");
        let accept = json!({"token": token, "password": "invited password"});
        let (status, _) = invitee
            .send_json(Method::POST, "/api/org/invite/accept", accept.clone())
            .await;
        assert!((200..300).contains(&status), "{status}");
        assert_eq!(
            app.org_client("acme")
                .login("new@acme.example", "invited password")
                .await,
            200
        );
        let (again, _) = invitee
            .send_json(Method::POST, "/api/org/invite/accept", accept)
            .await;
        assert_eq!(again, 404);

        assert!(api
            .post(
                "/orgs/acme/admins",
                json!({"email": "boss@acme.example", "password": "another password"})
            )
            .await
            .problem(409)
            .contains("already an admin"));
        assert_eq!(
            api.post(
                "/orgs/acme/admins",
                json!({"email": "x@acme.example", "password": "short"})
            )
            .await
            .invalid_fields(),
            ["password"]
        );
        assert_eq!(
            api.post("/orgs/acme/admins", json!({"email": "not an address"}))
                .await
                .invalid_fields(),
            ["email"]
        );
        api.post("/orgs/acme/admins", json!({"password": "no e-mail at all"}))
            .await
            .problem(422);

        let list = api.get("/orgs/acme/admins").await;
        assert_eq!(list.json["items"][1]["invite_pending"], false);
        let emails: Vec<&str> = list.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["boss@acme.example", "new@acme.example"]);
        assert_eq!(
            api.get(&format!("/orgs/acme/admins/{boss_id}")).await.json["id"],
            boss_id
        );

        let path = format!("/orgs/acme/admins/{boss_id}/password");
        let given = api
            .post(&path, json!({"password": "second password"}))
            .await;
        assert_eq!(given.status, 200, "{}", given.text);
        assert_eq!(given.json["password"], serde_json::Value::Null);
        let mut web = app.org_client("acme");
        assert_eq!(web.login("Boss@acme.example", "first password").await, 401);
        assert_eq!(web.login("Boss@acme.example", "second password").await, 200);
        let generated = api.post(&path, json!({})).await;
        let password = generated.json["password"].as_str().unwrap().to_owned();
        assert_eq!(password.len(), 16);
        assert_eq!(
            app.org_client("acme")
                .login("Boss@acme.example", &password)
                .await,
            200
        );
        assert_eq!(
            api.post(&path, json!({"password": "tiny"}))
                .await
                .invalid_fields(),
            ["password"]
        );
        api.post("/orgs/acme/admins/9999/password", json!({}))
            .await
            .problem(404);
        api.post("/orgs/acme/admins/abc/password", json!({}))
            .await
            .problem(404);

        assert_eq!(
            api.delete(&format!("/orgs/acme/admins/{boss_id}"))
                .await
                .status,
            204
        );
        api.get(&format!("/orgs/acme/admins/{boss_id}"))
            .await
            .problem(404);
        api.delete(&format!("/orgs/acme/admins/{boss_id}"))
            .await
            .problem(404);
        assert_eq!(
            api.get("/orgs/acme/admins").await.json["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(!api.transcript().contains("first password"));
    }
);

db_test!(
    provider_trunks_restart_only_the_org_gateway,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond_verb("sofia", "+OK\n");
        peer.respond_verb("reloadacl", "+OK acl reloaded\n");
        peer.respond(
        "sofia xmlstatus gateway acme.in",
        "<?xml version=\"1.0\"?>\n<gateway>\n  <name>acme.in</name>\n  <state>REGED</state>\n  <status>UP</status>\n</gateway>\n",
    );
        let addr = peer.addr_string();
        let app = spawn_app_with(&url, move |config| {
            config.freeswitch.esl_address = addr;
            config.freeswitch.esl_password = engine::config::Secret::new(ESL_PASSWORD);
        })
        .await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        api.create_org("acme").await;
        api.create_org("globex").await;
        let inbound = json!({
            "username": "acme-trunk", "password": TRUNK_PASSWORD, "host": "sip.carrier.example",
            "port": 5070, "transport": "tcp", "register": true, "realm": "carrier.example",
            "allowed_cidrs": ["203.0.113.10", "2001:db8::/48"], "proxy": ""
        });

        let set = api.put("/orgs/acme/trunks/inbound", inbound.clone()).await;
        assert_eq!(set.status, 200, "{}", set.text);
        assert_eq!(set.json["gateway"], "acme.in");
        assert_eq!(set.json["has_password"], true);
        assert_eq!(set.json["port"], 5070);
        assert_eq!(set.json["transport"], "tcp");
        assert_eq!(set.json["proxy"], serde_json::Value::Null);
        assert_eq!(
            set.json["allowed_cidrs"],
            json!(["203.0.113.10/32", "2001:db8::/48"])
        );
        assert!(set.json.get("password").is_none());
        told(&peer, &["sofia profile external rescan", "reloadacl"]).await;
        delivered(&app).await;

        // A new password restarts acme.in, and nothing of globex.
        peer.clear_commands();
        let mut changed = inbound.clone();
        changed["password"] = json!("another-secret");
        assert_eq!(
            api.put("/orgs/acme/trunks/inbound", changed).await.status,
            200
        );
        let sent = told(
            &peer,
            &[
                "sofia profile external killgw acme.in",
                "sofia profile external rescan",
            ],
        )
        .await;
        assert!(!sent.iter().any(|c| c.contains("globex")), "{sent:?}");
        assert!(
            !sent.iter().any(|c| c == "reloadacl"),
            "addresses did not change: {sent:?}"
        );
        delivered(&app).await;
        let stored = app
            .state
            .store()
            .trunks(
                app.state
                    .store()
                    .org_by_slug("acme")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        let sealed = stored[0].password_enc.as_deref().unwrap();
        assert!(!sealed.contains("another-secret"));
        assert_eq!(
            app.state.secret_box().open(sealed).unwrap(),
            "another-secret"
        );

        // Omitting the password keeps it.
        let mut kept = inbound.clone();
        kept.as_object_mut().unwrap().remove("password");
        assert_eq!(
            api.put("/orgs/acme/trunks/inbound", kept).await.json["has_password"],
            true
        );

        let same = api
            .put(
                "/orgs/acme/trunks/outbound",
                json!({"same_as_inbound": true}),
            )
            .await;
        assert_eq!(same.status, 200, "{}", same.text);
        assert_eq!(same.json["gateway"], "acme.in");
        assert_eq!(same.json["same_as_inbound"], true);
        assert_eq!(same.json["username"], serde_json::Value::Null);

        let list = api.get("/orgs/acme/trunks").await;
        let items = list.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["role"], "inbound");
        assert_eq!(items[0]["state"]["state"], "REGED");
        assert_eq!(items[0]["state"]["status"], "UP");
        assert_eq!(
            api.get("/orgs/acme/trunks/outbound").await.json["role"],
            "outbound"
        );

        // Bad input.
        assert_eq!(
            api.put(
                "/orgs/acme/trunks/inbound",
                json!({"same_as_inbound": true})
            )
            .await
            .invalid_fields(),
            ["same_as_inbound"]
        );
        assert!(api
            .put(
                "/orgs/globex/trunks/outbound",
                json!({"same_as_inbound": true})
            )
            .await
            .problem(409)
            .contains("no inbound trunk"));
        assert_eq!(
        api.put("/orgs/globex/trunks/inbound", json!({"username": "a b", "host": "x;y", "port": 70000, "transport": "sctp", "allowed_cidrs": ["10.0.0.0/2"]}))
            .await
            .invalid_fields(),
        ["username", "host", "transport", "port", "allowed_cidrs[0]"]
    );
        assert_eq!(
            api.put(
                "/orgs/globex/trunks/inbound",
                json!({"username": "g", "host": "sip.example", "register": true})
            )
            .await
            .invalid_fields(),
            ["password"]
        );
        api.put("/orgs/globex/trunks/sideways", inbound.clone())
            .await
            .problem(404);
        api.put("/orgs/globex/trunks/inbound", json!({"port": "5060"}))
            .await
            .problem(422);
        api.get("/orgs/globex/trunks/inbound").await.problem(404);
        assert_eq!(
            api.get("/orgs/globex/trunks").await.json["items"],
            json!([])
        );

        // Removing inbound removes the outbound "same as inbound" too.
        peer.clear_commands();
        assert_eq!(api.delete("/orgs/acme/trunks/inbound").await.status, 204);
        api.get("/orgs/acme/trunks/outbound").await.problem(404);
        api.delete("/orgs/acme/trunks/inbound").await.problem(404);
        told(
            &peer,
            &["sofia profile external killgw acme.in", "reloadacl"],
        )
        .await;
        assert!(!api.transcript().contains(TRUNK_PASSWORD));
        assert!(!api.transcript().contains("another-secret"));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
);

db_test!(
    provider_dids_are_unique_across_orgs,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        api.create_org("acme").await;
        api.create_org("globex").await;

        let added = api
            .post("/orgs/acme/dids", json!({"number": "+1 555 010-0123"}))
            .await;
        assert_eq!(added.status, 201, "{}", added.text);
        assert_eq!(added.json["numbers"], json!(["+15550100123"]));
        assert!(api
            .post("/orgs/acme/dids", json!({"number": "+15550100123"}))
            .await
            .problem(409)
            .contains("this organization"));
        let elsewhere = api
            .post("/orgs/globex/dids", json!({"number": "+15550100123"}))
            .await;
        let detail = elsewhere.problem(409);
        assert!(detail.contains("another organization"), "{detail}");
        assert!(
            !elsewhere.text.contains("acme"),
            "the other org is not named"
        );
        assert_eq!(
            api.post("/orgs/acme/dids", json!({"number": "5550100"}))
                .await
                .invalid_fields(),
            ["number"]
        );
        assert_eq!(
            api.post("/orgs/acme/dids", json!({"number": "+0123456789"}))
                .await
                .invalid_fields(),
            ["number"]
        );
        api.post("/orgs/acme/dids", json!({})).await.problem(422);

        api.post("/orgs/acme/dids", json!({"number": "+4930123456"}))
            .await;
        assert_eq!(
            api.get("/orgs/acme/dids").await.json["numbers"],
            json!(["+15550100123", "+4930123456"])
        );
        assert_eq!(
            api.get("/orgs/globex/dids").await.json["numbers"],
            json!([])
        );

        assert_eq!(
            api.delete("/orgs/acme/dids/%2B15550100123").await.status,
            204
        );
        api.delete("/orgs/acme/dids/%2B15550100123")
            .await
            .problem(404);
        api.delete("/orgs/acme/dids/not-a-number")
            .await
            .problem(404);
        api.delete("/orgs/globex/dids/%2B4930123456")
            .await
            .problem(404);
        assert_eq!(
            api.get("/orgs/acme/dids").await.json["numbers"],
            json!(["+4930123456"])
        );
        assert_eq!(
            api.post("/orgs/globex/dids", json!({"number": "+15550100123"}))
                .await
                .status,
            201
        );
    }
);

db_test!(
    provider_logos_are_checked_and_served_safely,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let api = Api::new(&app, Some(&provider_key(&app).await));
        api.create_org("acme").await;
        let image = png(300, 100);

        let stored = api
            .raw(Method::PUT, "/orgs/acme/logo", "image/png", image.clone())
            .await;
        assert_eq!(stored.status, 204, "{}", stored.text);
        let served = api.get("/orgs/acme/logo").await;
        assert_eq!(served.status, 200);
        assert_eq!(served.header("content-type"), "image/png");
        assert_eq!(served.header("x-content-type-options"), "nosniff");
        assert!(served.header("content-security-policy").contains("sandbox"));
        assert_eq!(served.bytes, image);
        assert_eq!(api.get("/orgs/acme").await.json["has_logo"], true);

        let svg = api
            .raw(
                Method::PUT,
                "/orgs/acme/logo",
                "image/svg+xml; charset=utf-8",
                SVG_LOGO.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(svg.status, 204, "{}", svg.text);
        let served = api.get("/orgs/acme/logo").await;
        assert_eq!(served.header("content-type"), "image/svg+xml");
        assert_eq!(served.text, SVG_LOGO);

        let script = SVG_LOGO.replace("<rect", "<script>alert(1)</script><rect");
        let refused = api
            .raw(
                Method::PUT,
                "/orgs/acme/logo",
                "image/svg+xml",
                script.into_bytes(),
            )
            .await;
        assert!(refused.problem(422).contains("<script>"));
        let handler = SVG_LOGO.replace("<rect", "<rect onclick=\"x()\"");
        assert!(api
            .raw(
                Method::PUT,
                "/orgs/acme/logo",
                "image/svg+xml",
                handler.into_bytes()
            )
            .await
            .problem(422)
            .contains("event handler"));
        assert!(api
            .raw(
                Method::PUT,
                "/orgs/acme/logo",
                "image/gif",
                b"GIF89a".to_vec()
            )
            .await
            .problem(415)
            .contains("image/png"));
        api.raw(Method::PUT, "/orgs/acme/logo", "", image.clone())
            .await
            .problem(415);
        let mut big = png(100, 100);
        big.resize(600 * 1024, 0);
        api.raw(Method::PUT, "/orgs/acme/logo", "image/png", big)
            .await
            .problem(413);
        assert!(api
            .raw(Method::PUT, "/orgs/acme/logo", "image/png", png(4096, 10))
            .await
            .problem(422)
            .contains("4096×10"));
        api.raw(Method::PUT, "/orgs/acme/logo", "image/jpeg", image.clone())
            .await
            .problem(422);
        api.raw(
            Method::PUT,
            "/orgs/acme/logo",
            "image/png",
            b"not a png".to_vec(),
        )
        .await
        .problem(422);
        api.raw(Method::PUT, "/orgs/acme/logo", "image/png", vec![])
            .await
            .problem(422);
        // Refusals left the stored logo alone.
        assert_eq!(api.get("/orgs/acme/logo").await.text, SVG_LOGO);

        assert_eq!(api.delete("/orgs/acme/logo").await.status, 204);
        api.get("/orgs/acme/logo").await.problem(404);
        api.delete("/orgs/acme/logo").await.problem(404);
        assert_eq!(api.get("/orgs/acme").await.json["has_logo"], false);
    }
);

db_test!(provider_status_shows_what_waits, |url: String| async move {
    let app = spawn_app(&url).await;
    let api = Api::new(&app, Some(&provider_key(&app).await));
    api.create_org("acme").await;
    let status = api.get("/orgs/acme/status").await;
    assert_eq!(status.status, 200, "{}", status.text);
    // No FreeSWITCH here (no event socket, no FreeSWITCH database): registrations are unknown.
    assert_eq!(
        status.json,
        json!({"slug": "acme", "status": "active", "applied_version": 1, "pending_changes": 0,
               "apply_job_state": null, "gateways": [], "registered_phones": null,
               "pending_freeswitch_commands": 0})
    );

    let store = app.state.store();
    let org = store.org_by_slug("acme").await.unwrap().unwrap().id;
    let draft = store.load_draft(org).await.unwrap();
    let reception = &draft.extensions[0];
    store
        .update_extension(org, &reception.value.number, reception.revision, |e| {
            e.display_name = domain::DisplayName::parse("Front desk").unwrap();
            Ok(())
        })
        .await
        .unwrap();
    api.put(
        "/orgs/acme/trunks/inbound",
        json!({"username": "u", "host": "sip.carrier.example", "allowed_cidrs": ["198.51.100.7"]}),
    )
    .await;
    let status = api.get("/orgs/acme/status").await;
    assert_eq!(status.json["pending_changes"], 1);
    assert_eq!(status.json["gateways"][0]["gateway"], "acme.in");
    assert_eq!(status.json["gateways"][0]["state"]["state"], "unknown");
    // No FreeSWITCH here: the gateway's start waits in the queue.
    assert!(status.json["pending_freeswitch_commands"].as_u64().unwrap() >= 1);
    api.get("/orgs/nope/status").await.problem(404);
});

db_test!(
    provider_api_keys_are_managed_by_provider_keys,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let key = provider_key(&app).await;
        let api = Api::new(&app, Some(&key));
        api.create_org("acme").await;
        let scoped = api.with_key(&org_key(&app, "acme").await);

        let list = api.get("/api-keys").await;
        assert_eq!(list.status, 200);
        let items = list.json["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["prefix"], key[..12]);
        assert_eq!(items[0]["org"], serde_json::Value::Null);
        assert_eq!(items[1]["org"], "acme");
        let own_id = items[0]["id"].as_i64().unwrap();

        let created = api.post("/api-keys", json!({"name": "billing"})).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let new_key = created.json["key"].as_str().unwrap().to_owned();
        let new_id = created.json["id"].as_i64().unwrap();
        assert!(new_key.starts_with("lpbx_") && new_key.len() > 40);
        let with_new = api.with_key(&new_key);
        assert_eq!(with_new.get("/orgs").await.json["total"], 1);
        let listed = api.get("/api-keys").await;
        assert!(!listed.text.contains(&new_key) && !listed.text.contains(&key));
        assert_eq!(
            api.post("/api-keys", json!({"name": "  "}))
                .await
                .invalid_fields(),
            ["name"]
        );

        scoped.get("/api-keys").await.problem(403);
        scoped
            .post("/api-keys", json!({"name": "mine"}))
            .await
            .problem(403);
        scoped
            .delete(&format!("/api-keys/{new_id}"))
            .await
            .problem(403);

        assert!(api
            .delete(&format!("/api-keys/{own_id}"))
            .await
            .problem(409)
            .contains("another key"));
        assert_eq!(
            with_new.delete(&format!("/api-keys/{own_id}")).await.status,
            204
        );
        api.get("/orgs").await.problem(401);
        with_new.delete("/api-keys/99999").await.problem(404);
        with_new.delete("/api-keys/x").await.problem(404);
    }
);
