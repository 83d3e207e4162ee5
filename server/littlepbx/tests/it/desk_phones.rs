//! Desk phones over real HTTP: added by the org admin and by the provider (a shipment, all or
//! none), fetching their vendor's file with their own credentials, the file made from the
//! applied configuration (moved, unassigned, removed phones), and every way a request is
//! refused: unknown MAC, another org's MAC, another vendor's file name, a wrong password, the
//! lock-out.

use std::collections::BTreeMap;

use domain::{md5_hex, A1Hash, DigestParams};
use reqwest::Method;
use serde_json::{json, Value};
use testkit::db_test;

use crate::common::{
    apply_now, create_extension, fetch, new_org_logged_in, spawn_app, Fetched, OrgClient,
};

const PASSWORD: &str = "correct horse battery";

fn challenge_of(response: &Fetched) -> (String, String) {
    let challenge = response
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("Digest "))
        .unwrap_or_else(|| panic!("no Digest challenge: {:?}", response.headers))
        .to_owned();
    let field = |name: &str| {
        let start = challenge.find(&format!("{name}=\"")).expect("field") + name.len() + 2;
        challenge[start..].split('"').next().unwrap().to_owned()
    };
    (field("realm"), field("nonce"))
}

/// A full Digest exchange for `path` on the org's host with the phone's user and password.
async fn digest_get(client: &OrgClient, path: &str, user: &str, password: &str) -> Fetched {
    let url = format!("{}{path}", client.base);
    let first = fetch(client.http.get(&url)).await;
    if first.status != 401 {
        return first;
    }
    let (realm, nonce) = challenge_of(&first);
    let ha1 = A1Hash::parse(&md5_hex(&format!("{user}:{realm}:{password}"))).unwrap();
    let response = ha1.digest_response(&DigestParams {
        method: "GET",
        uri: path,
        nonce: &nonce,
        nc: "00000001",
        cnonce: "c0ffee",
        qop: Some("auth"),
    });
    let header = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{path}\", \
         response=\"{response}\", qop=auth, nc=00000001, cnonce=\"c0ffee\", algorithm=MD5"
    );
    fetch(client.http.get(&url).header("authorization", header)).await
}

/// A Yealink file as `key -> value`.
fn yealink(body: &str) -> BTreeMap<String, String> {
    assert!(body.starts_with("#!version:1.0.0.1"), "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or_else(|| panic!("line {l:?}"));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

async fn add_phone(client: &OrgClient, mac: &str, model: &str, extension: Option<&str>) -> Value {
    let (status, body) = client
        .send_json(
            Method::POST,
            "/api/org/desk-phones",
            json!({"mac": mac, "model": model, "extension": extension}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

fn creds(phone: &Value) -> (String, String) {
    (
        phone["username"].as_str().unwrap().to_owned(),
        phone["password"].as_str().unwrap().to_owned(),
    )
}

db_test!(
    a_desk_phone_fetches_its_line_with_its_own_credentials,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let ann = create_extension(&acme, "101", "Ann O'Neil").await;
        let bob = create_extension(&acme, "102", "Bob").await;
        apply_now(&app, "acme").await;

        let phone = add_phone(&acme, "00:15:65:AA:BB:01", "yealink-t4x-t5x", Some("101")).await;
        assert_eq!(phone["mac"], "00:15:65:aa:bb:01");
        assert_eq!(phone["state"], "ready", "{phone}");
        assert_eq!(phone["file_name"], "001565aabb01.cfg");
        assert_eq!(
            phone["provisioning_url"],
            format!("{}/provision/device/", acme.base)
        );
        let (user, password) = creds(&phone);
        assert!(!user.contains("001565") && password.len() >= 16, "{phone}");

        let path = "/provision/device/001565aabb01.cfg";
        let file = digest_get(&acme, path, &user, &password).await;
        assert_eq!(file.status, 200, "{}", file.body);
        assert_eq!(file.headers["cache-control"], "no-store");
        let cfg = yealink(&file.body);
        assert_eq!(cfg["account.1.enable"], "1");
        assert_eq!(cfg["account.1.user_name"], "101");
        assert_eq!(cfg["account.1.auth_name"], "101");
        assert_eq!(cfg["account.1.password"], ann);
        assert_eq!(cfg["account.1.display_name"], "Ann O'Neil");
        assert_eq!(cfg["account.1.sip_server.1.address"], "pbx.acme.localhost");
        assert_eq!(cfg["voice_mail.number.1"], "*97");
        assert_eq!(cfg["static.auto_provision.server.username"], user);
        assert_eq!(cfg["static.auto_provision.server.password"], password);
        assert_eq!(cfg["ldap.user"], "cn=phonebook,o=acme");
        assert_eq!(cfg["ldap.base"], "o=acme");
        assert_eq!(cfg["ldap.host"], "pbx.acme.localhost");
        assert_eq!(cfg["ldap.port"], app.ldap_port.unwrap().to_string());
        // The file's password is the one FreeSWITCH checks.
        let acme_org = app
            .state
            .store()
            .org_by_slug("acme")
            .await
            .unwrap()
            .unwrap();
        let applied = app
            .state
            .store()
            .applied_snapshot(acme_org.id)
            .await
            .unwrap();
        let ext = applied
            .config
            .extensions
            .iter()
            .find(|e| e.number.as_str() == "101")
            .unwrap();
        assert!(ext.a1_hash.matches_password(
            &ext.number,
            &acme_org.sip_domain,
            &cfg["account.1.password"]
        ));
        // Basic works as well (phones that only do Basic over https).
        let basic = fetch(
            acme.http
                .get(format!("{}{path}", acme.base))
                .basic_auth(&user, Some(&password)),
        )
        .await;
        assert_eq!(basic.status, 200);
        assert_eq!(yealink(&basic.body)["account.1.password"], ann);

        // Moved to 102: the next fetch carries 102.
        let (status, moved) = acme
            .send_json(
                Method::PUT,
                "/api/org/desk-phones/001565aabb01",
                json!({"model": "yealink-t4x-t5x", "extension": "102"}),
            )
            .await;
        assert_eq!(status, 200, "{moved}");
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(cfg["account.1.user_name"], "102");
        assert_eq!(cfg["account.1.password"], bob);

        // Off any extension: the line is cleared.
        acme.send_json(
            Method::PUT,
            "/api/org/desk-phones/001565aabb01",
            json!({"model": "yealink-t4x-t5x", "extension": null}),
        )
        .await;
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(cfg["account.1.enable"], "0");
        assert!(!cfg.values().any(|v| v == &bob || v == &ann));

        // The list says when it fetched.
        let (_, list) = acme.get_json("/api/org/desk-phones").await;
        assert_eq!(list["phones"][0]["state"], "no_extension");
        assert!(
            list["phones"][0]["last_fetch_at"].as_i64().is_some(),
            "{list}"
        );
        assert!(list["models"].as_array().unwrap().len() >= 7);

        // Removed: its next check clears the line, then the MAC is free for anyone.
        acme.send_json(
            Method::PUT,
            "/api/org/desk-phones/001565aabb01",
            json!({"model": "yealink-t4x-t5x", "extension": "101"}),
        )
        .await;
        let response = acme
            .request(Method::DELETE, "/api/org/desk-phones/00-15-65-aa-bb-01")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(cfg["account.1.enable"], "0");
        assert!(!cfg.values().any(|v| v == &ann));
        let (_, list) = acme.get_json("/api/org/desk-phones").await;
        assert_eq!(list["phones"].as_array().unwrap().len(), 0);
        let globex = new_org_logged_in(&app, "globex", PASSWORD).await;
        let again = add_phone(&globex, "001565aabb01", "fanvil", None).await;
        assert_eq!(again["state"], "no_extension");
        // The old credentials are gone with the old row.
        let old = digest_get(&acme, path, &user, &password).await;
        assert_eq!(old.status, 401);
    }
);

db_test!(
    a_phone_is_refused_unless_it_is_this_orgs_with_its_own_password,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let globex = new_org_logged_in(&app, "globex", PASSWORD).await;
        create_extension(&acme, "101", "Ann").await;
        create_extension(&globex, "101", "Gus").await;
        apply_now(&app, "acme").await;
        apply_now(&app, "globex").await;
        let a = add_phone(&acme, "001565000001", "yealink-t4x-t5x", Some("101")).await;
        let g = add_phone(&globex, "001565000002", "grandstream-gxp-grp", Some("101")).await;
        let (a_user, a_pass) = creds(&a);
        let (g_user, g_pass) = creds(&g);
        assert_ne!(a_pass, g_pass);

        // No credentials: a challenge, no file.
        let bare = fetch(
            acme.http
                .get(format!("{}/provision/device/001565000001.cfg", acme.base)),
        )
        .await;
        assert_eq!(bare.status, 401);
        assert!(!bare.body.contains("account"));
        // globex's phone with its own right credentials, asked on acme's host.
        let cross = digest_get(
            &acme,
            "/provision/device/cfg001565000002.xml",
            &g_user,
            &g_pass,
        )
        .await;
        assert_eq!(cross.status, 401, "{}", cross.body);
        // acme's credentials for globex's MAC.
        let cross = digest_get(
            &globex,
            "/provision/device/cfg001565000002.xml",
            &a_user,
            &a_pass,
        )
        .await;
        assert_eq!(cross.status, 401);
        // The right phone, a file name of another vendor.
        let wrong_kind = digest_get(
            &acme,
            "/provision/device/cfg001565000001.xml",
            &a_user,
            &a_pass,
        )
        .await;
        assert_eq!(wrong_kind.status, 401);
        // An unknown MAC, a wrong password, a name that is no phone's file.
        let unknown = digest_get(
            &acme,
            "/provision/device/001565999999.cfg",
            &a_user,
            &a_pass,
        )
        .await;
        assert_eq!(unknown.status, 401);
        let wrong = digest_get(
            &acme,
            "/provision/device/001565000001.cfg",
            &a_user,
            "guess",
        )
        .await;
        assert_eq!(wrong.status, 401);
        for name in [
            "000000000000.cfg",
            "..%2Fetc%2Fpasswd",
            "001565000001.cfg.bak",
            "y000000000028.cfg",
        ] {
            let response = digest_get(
                &acme,
                &format!("/provision/device/{name}"),
                &a_user,
                &a_pass,
            )
            .await;
            assert_eq!(response.status, 404, "{name}");
        }
        // The MAC gets nothing from a password guessed from it.
        let guess = fetch(
            acme.http
                .get(format!("{}/provision/device/001565000001.cfg", acme.base))
                .basic_auth("001565000001", Some("001565000001")),
        )
        .await;
        assert_eq!(guess.status, 401);
        // The right phone still works (fewer than 5 failures on its MAC so far: 4).
        let ok = digest_get(
            &globex,
            "/provision/device/cfg001565000002.xml",
            &g_user,
            &g_pass,
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(
            ok.body.contains("<P34>") && ok.body.contains("pbx.globex.localhost"),
            "{}",
            ok.body
        );
    }
);

db_test!(
    failed_fetches_lock_the_mac_even_for_the_right_password,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let phone = add_phone(&acme, "001565000001", "snom-d", None).await;
        let (user, password) = creds(&phone);
        let path = "/provision/device/001565000001.xml";
        for _ in 0..web::provisioning::guard::MAX_FAILURES_PER_EXTENSION {
            assert_eq!(digest_get(&acme, path, &user, "wrong").await.status, 401);
        }
        let locked = digest_get(&acme, path, &user, &password).await;
        assert_eq!(locked.status, 429, "{}", locked.body);
        assert!(locked.headers.contains_key("retry-after"));
        // Another phone of the org is not locked by it.
        let other = add_phone(&acme, "001565000002", "snom-d", None).await;
        let (user2, password2) = creds(&other);
        let ok = digest_get(
            &acme,
            "/provision/device/001565000002.xml",
            &user2,
            &password2,
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }
);

db_test!(
    a_phone_on_an_extension_not_applied_or_without_a_kept_password_gets_no_line,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        create_extension(&acme, "101", "Ann").await;
        // Not applied yet.
        let phone = add_phone(&acme, "001565000001", "yealink-t4x-t5x", Some("101")).await;
        assert_eq!(phone["state"], "waiting_for_apply", "{phone}");
        let (user, password) = creds(&phone);
        let path = "/provision/device/001565000001.cfg";
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(cfg["account.1.enable"], "0");
        apply_now(&app, "acme").await;
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(cfg["account.1.enable"], "1");

        // An extension whose password was set where it was not kept (an older LittlePBX).
        let org = app
            .state
            .store()
            .org_by_slug("acme")
            .await
            .unwrap()
            .unwrap();
        let old = testkit::fixtures::extension("103", org.sip_domain.as_str(), "old-password");
        app.state
            .store()
            .create_extension(org.id, &old)
            .await
            .unwrap();
        // A value sealed under another key counts as not kept (not a failure of the page).
        app.state
            .store()
            .keep_sip_password(
                org.id,
                old.a1_hash.as_str(),
                "v1:bm90IHNlYWxlZCBoZXJlIGF0IGFsbA==",
            )
            .await
            .unwrap();
        apply_now(&app, "acme").await;
        let (status, moved) = acme
            .send_json(
                Method::PUT,
                "/api/org/desk-phones/001565000001",
                json!({"model": "yealink-t4x-t5x", "extension": "103"}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(moved["state"], "needs_new_password", "{moved}");
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(cfg["account.1.enable"], "0");
        // A new password and an Apply give the phone its line.
        let (_, pbx) = acme.get_json("/api/org/pbx").await;
        let revision = pbx["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["number"] == "103")
            .unwrap()["revision"]
            .clone();
        let (status, new) = acme
            .send_json(
                Method::POST,
                "/api/org/extensions/103/password",
                json!({"revision": revision}),
            )
            .await;
        assert_eq!(status, 200, "{new}");
        apply_now(&app, "acme").await;
        let cfg = yealink(&digest_get(&acme, path, &user, &password).await.body);
        assert_eq!(
            cfg["account.1.password"],
            new["sip_password"].as_str().unwrap()
        );
    }
);

db_test!(
    adding_phones_checks_every_field_and_another_org_cannot_touch_them,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let globex = new_org_logged_in(&app, "globex", PASSWORD).await;
        create_extension(&acme, "101", "Ann").await;
        for (body, field) in [
            (json!({"mac": "00:15:65", "model": "fanvil"}), "mac"),
            (
                json!({"mac": "01:00:5e:00:00:01", "model": "fanvil"}),
                "mac",
            ),
            (
                json!({"mac": "001565000001", "model": "nokia-3310"}),
                "model",
            ),
            (
                json!({"mac": "001565000001", "model": "fanvil", "extension": "999"}),
                "extension",
            ),
            (
                json!({"mac": "001565000001", "model": "fanvil", "extension": "1x"}),
                "extension",
            ),
        ] {
            let (status, problem) = acme
                .send_json(Method::POST, "/api/org/desk-phones", body)
                .await;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        add_phone(&acme, "001565000001", "fanvil", Some("101")).await;
        let (status, problem) = globex
            .send_json(
                Method::POST,
                "/api/org/desk-phones",
                json!({"mac": "00:15:65:00:00:01", "model": "fanvil"}),
            )
            .await;
        assert_eq!(status, 409, "{problem}");
        assert!(!problem.to_string().contains("acme"));
        // globex can neither see, move nor remove acme's phone.
        let (_, list) = globex.get_json("/api/org/desk-phones").await;
        assert_eq!(list["phones"].as_array().unwrap().len(), 0);
        let (status, _) = globex
            .send_json(
                Method::PUT,
                "/api/org/desk-phones/001565000001",
                json!({"model": "fanvil"}),
            )
            .await;
        assert_eq!(status, 404);
        let response = globex
            .request(Method::DELETE, "/api/org/desk-phones/001565000001")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        let (_, list) = acme.get_json("/api/org/desk-phones").await;
        assert_eq!(list["phones"][0]["extension"], "101");
    }
);

db_test!(
    the_provider_adds_a_shipment_all_or_none,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        new_org_logged_in(&app, "globex", PASSWORD).await;
        create_extension(&acme, "101", "Ann").await;
        let key = engine::services::create_api_key(&app.state, "test", None)
            .await
            .unwrap()
            .key;
        let globex_key = engine::services::create_api_key(&app.state, "g", Some("globex"))
            .await
            .unwrap()
            .key;
        let post = |slug: &str, key: &str, body: Value| {
            app.http
                .post(format!("{}/api/v1/orgs/{slug}/desk-phones", app.base))
                .bearer_auth(key)
                .json(&body)
                .send()
        };
        let shipment = |macs: &[&str]| json!({"phones": macs.iter().map(|m| json!({"mac": m, "model": "poly-vvx-edge-e"})).collect::<Vec<_>>()});
        // One bad MAC: nothing is added, the error names it.
        let response = post(
            "acme",
            &key,
            shipment(&["0004f2000001", "zz", "0004f2000003"]),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 422);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "phones[1].mac", "{problem}");
        // Twice the same MAC in one shipment.
        let response = post(
            "acme",
            &key,
            shipment(&["0004f2000001", "00:04:f2:00:00:01"]),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 422);
        let response = post(
            "acme",
            &key,
            shipment(&["0004f2000001", "0004f2000002", "0004f2000003"]),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 201);
        let added: Value = response.json().await.unwrap();
        assert_eq!(added.as_array().unwrap().len(), 3);
        // A key of another org cannot add to acme; a MAC of acme in globex's shipment: 409, nothing added.
        assert_eq!(
            post("acme", &globex_key, shipment(&["0004f2000009"]))
                .await
                .unwrap()
                .status(),
            404
        );
        let response = post("globex", &key, shipment(&["0004f2000010", "0004f2000002"]))
            .await
            .unwrap();
        assert_eq!(response.status(), 409);
        let list: Value = app
            .http
            .get(format!("{}/api/v1/orgs/globex/desk-phones", app.base))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["phones"].as_array().unwrap().len(), 0, "{list}");
        // Moved to an extension by the provider.
        let response = app
            .http
            .put(format!(
                "{}/api/v1/orgs/acme/desk-phones/0004f2000002",
                app.base
            ))
            .bearer_auth(&key)
            .json(&json!({"model": "poly-vvx-edge-e", "extension": "101"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let phone: Value = response.json().await.unwrap();
        assert_eq!(phone["state"], "waiting_for_apply");
        // Too many at once.
        let many: Vec<String> = (0..501).map(|i| format!("0004f2{i:06x}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let response = post("acme", &key, shipment(&many)).await.unwrap();
        assert!(
            matches!(response.status().as_u16(), 413 | 422),
            "{}",
            response.status()
        );
    }
);
