use testkit::db_test;

use crate::common::spawn_app;

db_test!(healthz_reports_the_database, |url: String| async move {
    let app = spawn_app(&url).await;
    let response = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["reachable"], true);
    assert_eq!(body["database"]["pending_migrations"], 0);
    let expected_kind = if url.starts_with("mysql") {
        "mysql"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"]["kind"], expected_kind);
});
