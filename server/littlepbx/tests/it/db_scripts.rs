//! scripts/db-create.sh and scripts/db-drop.sh against the private MariaDB of the test harness.

use std::path::PathBuf;
use std::process::Command;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
}

/// Client options reaching the test server as its administrator, from the admin URL.
fn client_args(admin_url: &str) -> Vec<String> {
    let rest = admin_url.trim_start_matches("mysql://");
    let (credentials, host_port) = rest.split_once('@').expect("user@host");
    let (user, password) = credentials.split_once(':').expect("user:password");
    let (host, port) = host_port.split_once(':').expect("host:port");
    vec![
        format!("-h{host}"),
        format!("-P{port}"),
        format!("-u{user}"),
        format!("-p{password}"),
    ]
}

fn run(
    name: &str,
    args: &[&str],
    client: &[String],
    env: &[(&str, &str)],
) -> (bool, String, String) {
    let output = Command::new("bash")
        .arg(script(name))
        .args(args)
        .arg("--")
        .args(client)
        .env_remove("LITTLEPBX_DB_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("run script");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn url_from(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("LITTLEPBX_DATABASE_URL="))
        .expect("a URL line")
        .to_owned()
}

async fn can_connect(url: &str) -> bool {
    match store::Store::connect(url).await {
        Ok(store) => store.ping().await.is_ok(),
        Err(_) => false,
    }
}

#[tokio::test]
async fn create_is_idempotent_grants_enough_and_drop_removes_everything() {
    let admin_url = match testkit::mariadb_admin_url() {
        Ok(url) => url,
        Err(why) if testkit::mysql_required() => panic!("MariaDB required: {why}"),
        Err(why) => return eprintln!("skipping: {why}"),
    };
    let client = client_args(&admin_url);
    let suffix = std::process::id();
    let (db, user) = (format!("lpbx_script_{suffix}"), format!("lpbx_u_{suffix}"));
    let port = admin_url.rsplit(':').next().unwrap().to_owned();
    let args = [
        "--database",
        db.as_str(),
        "--user",
        user.as_str(),
        "--user-host",
        "127.0.0.1",
        "--url-port",
        port.as_str(),
    ];

    let (ok, stdout, stderr) = run("db-create.sh", &args, &client, &[]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("generated"), "{stderr}");
    let url = url_from(&stdout);
    assert!(url.starts_with(&format!("mysql://{user}:")), "{url}");

    // The new user can run LittlePBX's migrations and write.
    let store = store::Store::connect(&url)
        .await
        .expect("connect as the new user");
    store
        .migrate()
        .await
        .expect("migrate with the granted privileges");
    store.close().await.unwrap();

    // Again: nothing breaks, the password stays unless one is given.
    let (ok, _, stderr) = run("db-create.sh", &args, &client, &[]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("password unchanged"), "{stderr}");
    store::Store::connect(&url)
        .await
        .expect("old password still valid")
        .close()
        .await
        .unwrap();
    let (ok, stdout, stderr) = run(
        "db-create.sh",
        &args,
        &client,
        &[("LITTLEPBX_DB_PASSWORD", "n3w'pa\\ss")],
    );
    assert!(ok, "{stderr}");
    let new_url = url_from(&stdout);
    assert!(
        !can_connect(&url).await,
        "old password refused after the change"
    );
    store::Store::connect(&new_url)
        .await
        .expect("new password with a quote and a backslash")
        .close()
        .await
        .unwrap();

    // Bad names are refused before anything reaches the server.
    let (ok, _, stderr) = run(
        "db-create.sh",
        &["--database", "x`; DROP DATABASE mysql; --"],
        &client,
        &[],
    );
    assert!(!ok && stderr.contains("database name"), "{stderr}");

    let (ok, _, stderr) = run(
        "db-drop.sh",
        &[
            "--database",
            db.as_str(),
            "--user",
            user.as_str(),
            "--user-host",
            "127.0.0.1",
        ],
        &client,
        &[],
    );
    assert!(!ok && stderr.contains("--yes"), "{stderr}");
    let (ok, _, stderr) = run(
        "db-drop.sh",
        &[
            "--yes",
            "--database",
            db.as_str(),
            "--user",
            user.as_str(),
            "--user-host",
            "127.0.0.1",
        ],
        &client,
        &[],
    );
    assert!(ok, "{stderr}");
    assert!(!can_connect(&new_url).await, "user and database are gone");
    let admin = sea_orm::Database::connect(admin_url.as_str())
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SHOW DATABASES LIKE '{db}'"),
        ))
        .await
        .unwrap();
    assert!(rows.is_empty());
}
