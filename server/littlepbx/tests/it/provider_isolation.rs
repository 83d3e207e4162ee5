//! Provider API isolation: with keys and objects of two orgs, every path that names the other
//! org (its slug, its admins' ids, its numbers) answers 404 and changes nothing, and no answer
//! ever carries a secret.

use reqwest::Method;
use serde_json::{json, Value};
use testkit::db_test;

use crate::common::spawn_app;
use crate::provider_client::{org_key, png, provider_key, Api, SVG_LOGO};

/// Everything the provider can read about an org.
async fn everything(api: &Api, slug: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in ["", "/admins", "/trunks", "/dids", "/status"] {
        let answer = api.get(&format!("/orgs/{slug}{path}")).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        let mut json = answer.json;
        // Gateway states carry the time they were read; they are not "data".
        if let Some(items) = json.get_mut("items").and_then(Value::as_array_mut) {
            for item in items {
                item.as_object_mut().unwrap().remove("state");
            }
        }
        json.as_object_mut().unwrap().remove("gateways");
        out.push(json);
    }
    let logo = api.get(&format!("/orgs/{slug}/logo")).await;
    out.push(json!({"logo": logo.text, "status": logo.status}));
    out
}

/// An org with an admin, two trunks, a number and a logo; returns its admin's id.
async fn furnish(api: &Api, slug: &str, number: &str, password: &str) -> i64 {
    api.create_org(slug).await;
    let admin = api
        .post(
            &format!("/orgs/{slug}/admins"),
            json!({"email": format!("boss@{slug}.example"), "password": "long enough password"}),
        )
        .await;
    assert_eq!(admin.status, 201, "{}", admin.text);
    let trunk = json!({"username": slug, "password": password, "host": "sip.carrier.example", "register": true});
    assert_eq!(
        api.put(&format!("/orgs/{slug}/trunks/inbound"), trunk.clone())
            .await
            .status,
        200
    );
    assert_eq!(
        api.put(&format!("/orgs/{slug}/trunks/outbound"), trunk)
            .await
            .status,
        200
    );
    assert_eq!(
        api.post(&format!("/orgs/{slug}/dids"), json!({"number": number}))
            .await
            .status,
        201
    );
    let logo = api
        .raw(
            Method::PUT,
            &format!("/orgs/{slug}/logo"),
            "image/svg+xml",
            SVG_LOGO.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(logo.status, 204);
    admin.json["admin"]["id"].as_i64().unwrap()
}

/// Every request of the API that names `other`'s objects, made with `own`'s key.
async fn attack(api: &Api, own: &str, other: &str, other_admin: i64, other_number: &str) {
    let o = format!("/orgs/{other}");
    let encoded = other_number.replace('+', "%2B");
    let trunk = json!({"username": "x", "password": "stolen-pw-1", "host": "evil.example"});
    let admin = json!({"email": "mallory@evil.example", "password": "mallory password"});
    let answers = vec![
        api.get(&o).await,
        api.patch(&o, json!({"name": "Owned"})).await,
        api.patch(&o, json!({"status": "suspended"})).await,
        api.delete(&o).await,
        api.delete(&format!("{o}?force=true")).await,
        api.get(&format!("{o}/logo")).await,
        api.raw(Method::PUT, &format!("{o}/logo"), "image/png", png(10, 10))
            .await,
        api.delete(&format!("{o}/logo")).await,
        api.get(&format!("{o}/admins")).await,
        api.post(&format!("{o}/admins"), admin.clone()).await,
        api.get(&format!("{o}/admins/{other_admin}")).await,
        api.post(&format!("{o}/admins/{other_admin}/password"), json!({}))
            .await,
        api.delete(&format!("{o}/admins/{other_admin}")).await,
        // The other org's admin through one's own slug: a foreign id.
        api.get(&format!("/orgs/{own}/admins/{other_admin}")).await,
        api.post(
            &format!("/orgs/{own}/admins/{other_admin}/password"),
            json!({"password": "taken over!!"}),
        )
        .await,
        api.delete(&format!("/orgs/{own}/admins/{other_admin}"))
            .await,
        api.get(&format!("{o}/trunks")).await,
        api.get(&format!("{o}/trunks/inbound")).await,
        api.put(&format!("{o}/trunks/inbound"), trunk.clone()).await,
        api.put(
            &format!("{o}/trunks/outbound"),
            json!({"same_as_inbound": true}),
        )
        .await,
        api.delete(&format!("{o}/trunks/outbound")).await,
        api.get(&format!("{o}/dids")).await,
        api.post(&format!("{o}/dids"), json!({"number": "+15550199999"}))
            .await,
        api.delete(&format!("{o}/dids/{encoded}")).await,
        // The other org's number through one's own slug.
        api.delete(&format!("/orgs/{own}/dids/{encoded}")).await,
        api.get(&format!("{o}/status")).await,
    ];
    for answer in &answers {
        answer.problem(404);
        assert!(!answer.text.contains("boss@"), "{}", answer.text);
    }
}

db_test!(
    provider_org_keys_see_only_their_org,
    |url: String| async move {
        let app = spawn_app(&url).await;
        let provider = Api::new(&app, Some(&provider_key(&app).await));
        let acme_admin = furnish(&provider, "acme", "+15550100001", "acme-trunk-secret-1").await;
        let globex_admin =
            furnish(&provider, "globex", "+15550100002", "globex-trunk-secret-2").await;
        let acme = provider.with_key(&org_key(&app, "acme").await);
        let globex = provider.with_key(&org_key(&app, "globex").await);
        let before = (
            everything(&provider, "acme").await,
            everything(&provider, "globex").await,
        );

        attack(&acme, "acme", "globex", globex_admin, "+15550100002").await;
        attack(&globex, "globex", "acme", acme_admin, "+15550100001").await;
        let after = (
            everything(&provider, "acme").await,
            everything(&provider, "globex").await,
        );
        assert_eq!(
            before, after,
            "a request with the other org's ids changed something"
        );

        // What a scoped key sees and may do in its own org.
        let list = acme.get("/orgs").await;
        assert_eq!(list.json["total"], 1);
        assert_eq!(list.json["items"][0]["slug"], "acme");
        assert_eq!(acme.get("/orgs?offset=1").await.json["items"], json!([]));
        assert_eq!(
            everything(&acme, "acme").await,
            everything(&provider, "acme").await
        );
        acme.post("/orgs", json!({"slug": "initech", "name": "Initech"}))
            .await
            .problem(403);
        acme.delete("/orgs/acme?force=true").await.problem(403);
        acme.patch("/orgs/acme", json!({"status": "active"}))
            .await
            .problem(403);
        acme.patch("/orgs/acme", json!({"limits": {"max_extensions": 9, "max_outbound_calls": 9, "max_calls_per_second": 9}})).await.problem(403);
        acme.get("/api-keys").await.problem(403);
        assert_eq!(
            acme.patch("/orgs/acme", json!({"name": "Acme Two"}))
                .await
                .json["name"],
            "Acme Two"
        );
        assert_eq!(
            acme.post("/orgs/acme/dids", json!({"number": "+15550100003"}))
                .await
                .status,
            201
        );
        assert_eq!(provider.get("/orgs").await.json["total"], 2);

        // No answer to anyone carried a trunk password or a key.
        let transcript = provider.transcript();
        for secret in [
            "acme-trunk-secret-1",
            "globex-trunk-secret-2",
            "stolen-pw-1",
        ] {
            assert!(!transcript.contains(secret), "{secret} was sent back");
        }
        for key in [&provider, &acme, &globex]
            .iter()
            .filter_map(|api| api.key.as_deref())
        {
            assert!(!transcript.contains(key), "an API key was sent back");
        }
        assert!(!transcript.contains("password_enc"));
        assert!(transcript.contains("\"has_password\":true"));
    }
);
