//! The `littlepbx` command itself: seed-demo, migrate, configuration errors.

use std::process::Command;

use testkit::db_test;

use crate::common::binary;

fn run(args: &[&str], envs: &[(&str, &str)], dir: &std::path::Path) -> (i32, String, String) {
    let output = Command::new(binary())
        .args(args)
        .envs(envs.iter().copied())
        .env_remove("LITTLEPBX_CONFIG")
        .env("LITTLEPBX_LOG", "warn")
        .current_dir(dir)
        .output()
        .expect("run littlepbx");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

db_test!(
    seed_demo_prints_one_json_object_and_is_idempotent,
    |url: String| async move {
        let dir = tempfile::tempdir().unwrap();
        let secret = engine::secrets::random_key_base64();
        let envs = [
            ("LITTLEPBX_DATABASE_URL", url.as_str()),
            ("LITTLEPBX_SECRET_KEY", secret.as_str()),
            ("LITTLEPBX_FREESWITCH__HTTP_PASSWORD", "x"),
        ];
        let (code, stdout, stderr) = run(
            &[
                "seed-demo",
                "--sip-password",
                "s3cret-sip",
                "--admin-password",
                "admin-pass-1",
            ],
            &envs,
            dir.path(),
        );
        assert_eq!(code, 0, "{stderr}");
        let first: serde_json::Value =
            serde_json::from_str(&stdout).expect("stdout is one JSON object");
        assert_eq!(first["org"], "acme");
        assert_eq!(first["sip_domain"], "pbx.acme.localhost");
        assert_eq!(first["admin"]["password"], "admin-pass-1");
        assert_eq!(first["dids"], serde_json::json!(["+15550100100"]));
        let numbers: Vec<&str> = first["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["101", "102", "103"]);
        assert!(first["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["sip_password"] == "s3cret-sip"));
        assert!(first["api_key"].as_str().unwrap().starts_with("lpbx_"));

        let (code, stdout, stderr) = run(&["seed-demo"], &envs, dir.path());
        assert_eq!(code, 0, "{stderr}");
        let second: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_ne!(
            second["api_key"], first["api_key"],
            "the demo key is replaced"
        );
        assert_ne!(
            second["extensions"][0]["sip_password"], "s3cret-sip",
            "generated passwords without the flag"
        );

        // The stored state: one org, the applied config holds 100-103 and routes the DID to 101.
        let store = store::Store::connect(&url).await.unwrap();
        assert_eq!(store.list_orgs(0, 10).await.unwrap().1, 1);
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        let applied = store
            .load_layer(org.id, store::Layer::Applied)
            .await
            .unwrap();
        let numbers: Vec<&str> = applied
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .collect();
        assert_eq!(numbers, ["100", "101", "102", "103"]);
        assert_eq!(
            applied.did_routes[0].extension.as_ref().map(|e| e.as_str()),
            Some("101")
        );
        let ext = applied
            .extensions
            .iter()
            .find(|e| e.number.as_str() == "102")
            .unwrap();
        let password = second["extensions"][1]["sip_password"].as_str().unwrap();
        assert!(ext
            .a1_hash
            .matches_password(&ext.number, &org.sip_domain, password));
        let keys = store.list_api_keys().await.unwrap();
        assert_eq!(keys.len(), 1);
    }
);

#[test]
fn an_unknown_database_scheme_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(
        &["migrate"],
        &[("LITTLEPBX_DATABASE_URL", "postgresql://x/y")],
        dir.path(),
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("unsupported database URL scheme \"postgresql\""),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "no SQLite file was created"
    );
}

#[test]
fn migrate_creates_the_default_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["migrate"], &[], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(dir.path().join("data/littlepbx.db").exists());
    assert!(dir.path().join("data/generated-secrets.toml").exists());
}
