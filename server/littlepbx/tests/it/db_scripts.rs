//! scripts/db-create.sh and scripts/db-drop.sh against the private MariaDB of the test harness.

use std::path::PathBuf;
use std::process::Command;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
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
        .env_remove("LITTLEPBX_FS_DB_PASSWORD")
        .env_remove("LITTLEPBX_FS_READER_PASSWORD")
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
    let client = testkit::mariadb::client_args(&admin_url);
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
    assert_eq!(databases_like(&admin_url, &db).await, 0);
}

/// How many databases the server has whose names are LIKE `pattern`.
async fn databases_like(admin_url: &str, pattern: &str) -> usize {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(admin_url).await.unwrap();
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SHOW DATABASES LIKE '{pattern}'"),
        ))
        .await
        .unwrap();
    rows.len()
}

fn line_from(stdout: &str, key: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {stdout}"))
        .to_owned()
}

/// Runs `sql` as the user of `url`; the error text when it is refused.
async fn as_user(url: &str, sql: &str) -> Result<(), String> {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let result = db
        .execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = db.close().await;
    result
}

#[tokio::test]
async fn freeswitchs_database_with_its_user_and_a_read_only_reader() {
    let admin_url = match testkit::mariadb_admin_url() {
        Ok(url) => url,
        Err(why) if testkit::mysql_required() => panic!("MariaDB required: {why}"),
        Err(why) => return eprintln!("skipping: {why}"),
    };
    let client = testkit::mariadb::client_args(&admin_url);
    let n = std::process::id();
    let names = [
        format!("lpbx_fsx_{n}"),
        format!("lpbx_fsxu_{n}"),
        format!("lpbx_fsxd_{n}"),
        format!("fsx_{n}"),
        format!("fsxr_{n}"),
    ];
    let port = admin_url.rsplit(':').next().unwrap().to_owned();
    let args: Vec<&str> = vec![
        "--database",
        &names[0],
        "--user",
        &names[1],
        "--fs-database",
        &names[2],
        "--fs-user",
        &names[3],
        "--fs-reader",
        &names[4],
        "--user-host",
        "127.0.0.1",
        "--url-port",
        &port,
    ];

    // A password that would break FreeSWITCH's DSN or XML: refused, nothing created.
    for bad in ["semi;colon", "dollar$${x}", "quote\"", "sp ace"] {
        let (ok, _, stderr) = run(
            "db-create.sh",
            &args,
            &client,
            &[("LITTLEPBX_FS_DB_PASSWORD", bad)],
        );
        assert!(
            !ok && stderr.contains("LITTLEPBX_FS_DB_PASSWORD"),
            "{bad}: {stderr}"
        );
    }
    let littlepbx_db = format!("{admin_url}/{}", names[0]);
    assert!(
        as_user(&littlepbx_db, "SELECT 1").await.is_err(),
        "nothing was created by a refused run"
    );

    let (ok, stdout, stderr) = run("db-create.sh", &args, &client, &[]);
    assert!(ok, "{stderr}");
    let reader_url = line_from(&stdout, "LITTLEPBX_FREESWITCH__DB_URL=");
    let dsn = line_from(&stdout, "FS_DB_DSN=");
    let fs_password = line_from(&stdout, "LITTLEPBX_FS_DB_PASSWORD=");
    assert!(url_from(&stdout).contains(&names[1]));
    assert_eq!(
        dsn,
        format!(
            "mariadb://Server=127.0.0.1;Port={port};Database={};Uid={};",
            names[2], names[3]
        )
    );
    assert!(!dsn.contains("Pwd"), "no password in the DSN: {dsn}");
    let fs_url = format!(
        "mysql://{}:{fs_password}@127.0.0.1:{port}/{}",
        names[3], names[2]
    );

    // FreeSWITCH's user makes its tables; it cannot reach LittlePBX's database.
    as_user(
        &fs_url,
        "CREATE TABLE sip_registrations (sip_user VARCHAR(255), sip_host VARCHAR(255))",
    )
    .await
    .expect("FreeSWITCH creates its tables");
    as_user(
        &fs_url,
        "INSERT INTO sip_registrations VALUES ('101', 'pbx.acme.test')",
    )
    .await
    .expect("and writes them");
    let foreign = as_user(&fs_url, &format!("CREATE TABLE `{}`.t (x INT)", names[0])).await;
    assert!(
        foreign.is_err(),
        "FreeSWITCH's user reached LittlePBX's database"
    );

    // The reader reads, nothing else.
    let reader = store::freeswitch_db::FreeSwitchDb::connect_lazily(&reader_url)
        .await
        .unwrap();
    reader.ping().await.expect("the reader reads");
    for sql in [
        "INSERT INTO sip_registrations VALUES ('999', 'pbx.acme.test')",
        "DELETE FROM sip_registrations",
        "DROP TABLE sip_registrations",
        "CREATE TABLE other (x INT)",
    ] {
        assert!(
            as_user(&reader_url, sql).await.is_err(),
            "reader may: {sql}"
        );
    }
    assert!(
        as_user(
            &reader_url,
            &format!("SELECT * FROM `{}`.seaql_migrations", names[0])
        )
        .await
        .is_err(),
        "the reader reached LittlePBX's database"
    );

    // Again: idempotent, passwords unchanged.
    let (ok, stdout, stderr) = run("db-create.sh", &args, &client, &[]);
    assert!(ok, "{stderr}");
    assert!(!stdout.contains("LITTLEPBX_FS_DB_PASSWORD="), "{stdout}");
    as_user(&fs_url, "SELECT 1")
        .await
        .expect("FreeSWITCH's password kept");
    reader.ping().await.expect("the reader's password kept");

    // Drop removes both databases and all three users.
    let drop_args: Vec<&str> = [
        &["--yes"][..],
        &args[..10],
        &["--user-host", "127.0.0.1"][..],
    ]
    .concat();
    let (ok, _, stderr) = run("db-drop.sh", &drop_args, &client, &[]);
    assert!(ok, "{stderr}");
    assert!(
        as_user(&fs_url, "SELECT 1").await.is_err(),
        "FreeSWITCH's user is gone"
    );
    assert!(
        as_user(&reader_url, "SELECT 1").await.is_err(),
        "the reader is gone"
    );
    assert_eq!(
        databases_like(&admin_url, &format!("lpbx_fsx%_{n}")).await,
        0,
        "databases left"
    );
}
