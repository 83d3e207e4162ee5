//! The Apply history and restoring a version, for the org admin and the provider: what changed
//! in words, restore of a version with a deleted, an added and a changed extension, secrets
//! kept, a stale draft refused, a restore while an Apply waits, another org's version.

use esl::testpeer::TestPeer;
use reqwest::Method;
use serde_json::{json, Value};
use testkit::db_test;

use crate::common::{
    app_with_peer, new_org_logged_in, spawn_app_with, start_apply, wait_for_job, OrgClient,
    TestApp, ESL_PASSWORD,
};

const PASSWORD: &str = "correct horse battery";

async fn apply_and_wait(client: &OrgClient) -> i64 {
    let job = start_apply(client, false, 0, false).await;
    let done = wait_for_job(client, 10, |j| j["id"] == job["id"] && j["state"] == "done").await;
    done["applied_version"].as_i64().unwrap()
}

async fn add_extension(client: &OrgClient, number: &str, name: &str, ring: u32) {
    let (status, body) = client
        .send_json(
            Method::POST,
            "/api/org/extensions",
            json!({"number": number, "display_name": name, "ring_seconds": ring}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn extension(client: &OrgClient, number: &str) -> Option<Value> {
    let (_, pbx) = client.get_json("/api/org/pbx").await;
    pbx["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["number"] == number)
        .cloned()
}

async fn set_ring(client: &OrgClient, number: &str, ring: u32) {
    let ext = extension(client, number).await.unwrap();
    let (status, body) = client
        .send_json(
            Method::PATCH,
            &format!("/api/org/extensions/{number}"),
            json!({"revision": ext["revision"], "ring_seconds": ring}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn delete_extension(client: &OrgClient, number: &str) {
    let ext = extension(client, number).await.unwrap();
    let response = client
        .request(
            Method::DELETE,
            &format!("/api/org/extensions/{number}?revision={}", ext["revision"]),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// The draft's a1-hash of one extension, read from the store.
async fn draft_hash(app: &TestApp, org: &str, number: &str) -> String {
    let org = app.state.store().org_by_slug(org).await.unwrap().unwrap();
    let draft = app
        .state
        .store()
        .load_layer(org.id, store::Layer::Draft)
        .await
        .unwrap();
    let number = domain::ExtensionNumber::parse(number).unwrap();
    draft.extension(&number).unwrap().a1_hash.to_string()
}

db_test!(
    history_in_words_and_restore_of_a_version,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond("limit_usage hash lpbx_calls acme", "0");
        peer.respond_verb("xml_flush_cache", "+OK cleared 0 entries\n");
        let app = app_with_peer(&url, &peer).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        let globex = new_org_logged_in(&app, "globex", PASSWORD).await;

        add_extension(&acme, "101", "Front desk", 25).await;
        add_extension(&acme, "102", "Storage", 20).await;
        let v2 = apply_and_wait(&acme).await;
        assert_eq!(v2, 2);
        let hash_102_in_v2 = draft_hash(&app, "acme", "102").await;

        set_ring(&acme, "101", 20).await;
        delete_extension(&acme, "102").await;
        add_extension(&acme, "103", "Added later", 30).await;
        assert_eq!(apply_and_wait(&acme).await, 3);

        // The history, newest first, in words.
        let (status, page) = acme.get_json("/api/org/history").await;
        assert_eq!(status, 200, "{page}");
        let entries = page["entries"].as_array().unwrap();
        let versions: Vec<i64> = entries
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, [3, 2, 1]);
        assert_eq!(entries[0]["applied_by"], "boss@acme.example");
        assert_eq!(entries[0]["restorable"], true);
        assert_eq!(
            texts(&entries[0]["changes"]),
            [
                "Extension 101 'Front desk': rings 20 s instead of 25 s, then voicemail.",
                "Extension 102 'Storage' removed.",
                "Extension 103 'Added later' added: rings 30 s, then voicemail.",
            ]
        );
        assert_eq!(
            texts(&entries[1]["changes"]),
            [
                "Extension 101 'Front desk' added: rings 25 s, then voicemail.",
                "Extension 102 'Storage' added: rings 20 s, then voicemail.",
            ]
        );
        assert_eq!(page["next_before"], Value::Null);
        let (_, first) = acme.get_json("/api/org/history?limit=1").await;
        assert_eq!(first["entries"].as_array().unwrap().len(), 1);
        assert_eq!(first["next_before"], 3);
        let (_, older) = acme.get_json("/api/org/history?before=3&limit=1").await;
        assert_eq!(older["entries"][0]["version"], 2);

        // A new password for 101 since version 2: named in the preview, kept by the restore.
        let revision_101 = extension(&acme, "101").await.unwrap()["revision"].clone();
        let (status, body) = acme
            .send_json(
                Method::POST,
                "/api/org/extensions/101/password",
                json!({"revision": revision_101}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let hash_101_now = draft_hash(&app, "acme", "101").await;
        let (status, preview) = acme.get_json("/api/org/history/2").await;
        assert_eq!(status, 200, "{preview}");
        assert_eq!(texts(&preview["secrets_differ"]), ["101"]);
        assert_eq!(
            texts(&preview["returning"]),
            ["102"],
            "deleted since: old credentials"
        );
        assert_eq!(
            texts(&preview["changes"]),
            [
                "Extension 101 'Front desk': rings 25 s instead of 20 s, then voicemail.",
                "Extension 102 'Storage' added: rings 20 s, then voicemail.",
                "Extension 103 'Added later' removed.",
            ]
        );
        let revision = preview["draft_revision"].as_i64().unwrap();

        // A stale revision is refused and changes nothing.
        let (status, body) = acme
            .send_json(
                Method::POST,
                "/api/org/history/2/restore",
                json!({"based_on_revision": revision - 1}),
            )
            .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["current_revision"], revision);
        assert!(extension(&acme, "103").await.is_some());

        // Another org's version is not found, for reading and for restoring.
        assert_eq!(globex.get_json("/api/org/history/3").await.0, 404);
        let (status, _) = globex
            .send_json(
                Method::POST,
                "/api/org/history/3/restore",
                json!({"based_on_revision": null}),
            )
            .await;
        assert_eq!(status, 404);

        let (status, restored) = acme
            .send_json(
                Method::POST,
                "/api/org/history/2/restore",
                json!({"based_on_revision": revision}),
            )
            .await;
        assert_eq!(status, 200, "{restored}");
        assert_eq!(
            texts(&restored["pending"]),
            [
                "Extension 101 'Front desk': rings 25 s instead of 20 s, then voicemail; new SIP password.",
                "Extension 102 'Storage' added: rings 20 s, then voicemail.",
                "Extension 103 'Added later' removed.",
            ]
        );
        assert_eq!(extension(&acme, "101").await.unwrap()["ring_seconds"], 25);
        assert!(extension(&acme, "103").await.is_none());
        assert_eq!(
            draft_hash(&app, "acme", "101").await,
            hash_101_now,
            "current password kept"
        );
        assert_eq!(
            draft_hash(&app, "acme", "102").await,
            hash_102_in_v2,
            "deleted one comes back as it was"
        );
        assert_eq!(apply_and_wait(&acme).await, 4);
        let (_, page) = globex.get_json("/api/org/history").await;
        assert_eq!(
            page["entries"].as_array().unwrap().len(),
            1,
            "globex's history is its own"
        );
    }
);

db_test!(
    a_restore_while_an_apply_waits_is_what_it_applies,
    |url: String| async move {
        let peer = TestPeer::start(ESL_PASSWORD).await.unwrap();
        peer.respond("limit_usage hash lpbx_calls acme", "2");
        peer.respond_verb("xml_flush_cache", "+OK cleared 0 entries\n");
        let app = app_with_peer(&url, &peer).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        add_extension(&acme, "101", "Ann", 25).await;
        let job = start_apply(&acme, true, 600, false).await;
        wait_for_job(&acme, 10, |j| j["calls_in_progress"] == 2).await;

        // While the Apply waits, version 1 (no 101) is restored into the draft...
        let (_, preview) = acme.get_json("/api/org/history/1").await;
        let (status, body) = acme
            .send_json(
                Method::POST,
                "/api/org/history/1/restore",
                json!({"based_on_revision": preview["draft_revision"]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(extension(&acme, "101").await.is_none());

        // ...and the waiting Apply, which takes the draft when it applies, applies that.
        peer.respond("limit_usage hash lpbx_calls acme", "0");
        let done = wait_for_job(&acme, 10, |j| j["id"] == job["id"] && j["state"] == "done").await;
        assert_eq!(
            done["applied_version"],
            Value::Null,
            "nothing to apply: {done}"
        );
        let (_, page) = acme.get_json("/api/org/history").await;
        assert_eq!(page["entries"][0]["version"], 1);
    }
);

db_test!(
    the_provider_reads_and_restores_the_history,
    |url: String| async move {
        let app = spawn_app_with(&url, |_| {}).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        new_org_logged_in(&app, "globex", PASSWORD).await;
        add_extension(&acme, "101", "Ann", 25).await;
        assert_eq!(apply_and_wait(&acme).await, 2);
        let key = engine::services::create_api_key(&app.state, "test", None)
            .await
            .unwrap()
            .key;
        let globex_key =
            engine::services::create_api_key(&app.state, "globex only", Some("globex"))
                .await
                .unwrap()
                .key;
        let get = |path: &str, key: &str| {
            app.http
                .get(format!("{}/api/v1/orgs/{path}", app.base))
                .bearer_auth(key)
                .send()
        };
        let response = get("acme/history", &key).await.unwrap();
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["entries"][0]["version"], 2);
        assert_eq!(page["entries"][0]["applied_by"], "boss@acme.example");
        assert_eq!(
            get("acme/history", &globex_key).await.unwrap().status(),
            404
        );
        assert_eq!(
            get("acme/history/2", &globex_key).await.unwrap().status(),
            404
        );
        assert_eq!(get("acme/history/99", &key).await.unwrap().status(), 404);

        let restore = |version: i64, key: &str| {
            app.http
                .post(format!(
                    "{}/api/v1/orgs/acme/history/{version}/restore",
                    app.base
                ))
                .bearer_auth(key)
                .json(&json!({}))
                .send()
        };
        assert_eq!(restore(1, &globex_key).await.unwrap().status(), 404);
        let response = restore(1, &key).await.unwrap();
        assert_eq!(response.status(), 200);
        let result: Value = response.json().await.unwrap();
        assert_eq!(texts(&result["pending"]), ["Extension 101 'Ann' removed."]);
        assert!(extension(&acme, "101").await.is_none());
    }
);

db_test!(
    history_is_pruned_but_the_last_versions_stay_and_goes_with_its_org,
    |url: String| async move {
        let app = spawn_app_with(&url, |_| {}).await;
        let acme = new_org_logged_in(&app, "acme", PASSWORD).await;
        for (i, number) in ["101", "102", "103"].iter().enumerate() {
            add_extension(&acme, number, "Someone", 20).await;
            assert_eq!(apply_and_wait(&acme).await, i as i64 + 2);
        }
        let store = app.state.store();
        let org = store.org_by_slug("acme").await.unwrap().unwrap().id;
        // Everything is older than "now + 1 day"; the last 2 versions stay whatever their age.
        let later = store::now_ms() + 86_400_000;
        assert_eq!(store.prune_history(later, 2).await.unwrap(), 2);
        let left: Vec<i64> = store
            .history(org, None, 10)
            .await
            .unwrap()
            .iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(left, [4, 3]);
        assert_eq!(store.prune_history(later, 2).await.unwrap(), 0);
        // Nothing younger than the cut-off goes.
        assert_eq!(store.prune_history(0, 1).await.unwrap(), 0);
        // The history of a deleted org goes with it.
        store.delete_org(org, &[]).await.unwrap();
        assert_eq!(store.history(org, None, 10).await.unwrap(), vec![]);
    }
);
