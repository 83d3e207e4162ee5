//! Test support shared by the crates' test suites.
//!
//! Every database test runs twice, on SQLite and on a real MariaDB, each time in a database of
//! its own that is dropped afterwards (see [`db_test!`]). MariaDB is either the server named by
//! `LITTLEPBX_TEST_MYSQL_URL` (an admin URL without database) or a private server this crate
//! starts once per test process: its own data directory in a temp dir, a free loopback port, and a
//! watchdog that stops it and removes its files when the test process ends.
//!
//! With `LITTLEPBX_REQUIRE_MYSQL=1` (set by `.ci/run`) a MariaDB that cannot be reached or started
//! fails the tests instead of skipping them.
//!
//! [`fixtures`] builds the domain values tests need again and again, [`mariadb`] turns an admin
//! URL into the `mariadb` client's arguments.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

pub mod fixtures;
pub mod mariadb;

/// Runs a test body once on SQLite and once on MariaDB: `db_test!(name, |url| async move { .. })`
/// defines the tests `name::sqlite` and `name::mariadb`, each given the URL of a fresh database.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::TestDb::sqlite();
                ($body)(db.url().to_owned()).await;
                drop(db);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                let Some(db) = $crate::TestDb::mariadb().await else {
                    return;
                };
                ($body)(db.url().to_owned()).await;
                drop(db);
            }
        }
    };
}

/// A database of one test, removed when dropped.
pub struct TestDb {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    MariaDb { admin_url: String, name: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        Self {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh MariaDB database, or `None` when MariaDB is not available and not required.
    pub async fn mariadb() -> Option<Self> {
        let admin_url = match mariadb_admin_url() {
            Ok(url) => url,
            Err(why) if mysql_required() => {
                panic!("MariaDB is required for this run but unavailable: {why}")
            }
            Err(why) => {
                eprintln!("skipping MariaDB test: {why}");
                return None;
            }
        };
        let name = format!(
            "lpbx_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>() % 100_000
        );
        let admin = Database::connect(admin_url.as_str())
            .await
            .unwrap_or_else(|e| panic!("connect {admin_url}: {e}"));
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
            .await
            .unwrap_or_else(|e| panic!("create database: {e}"));
        let _ = admin.close().await;
        let url = format!("{}/{}", admin_url.trim_end_matches('/'), name);
        Some(Self {
            url,
            cleanup: Cleanup::MariaDb { admin_url, name },
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_mariadb(&self) -> bool {
        matches!(self.cleanup, Cleanup::MariaDb { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::MariaDb { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop may run inside a runtime; the database is dropped from a thread of its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        let _ = admin
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{name}`"))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn mysql_required() -> bool {
    std::env::var("LITTLEPBX_REQUIRE_MYSQL").is_ok_and(|v| v == "1")
}

/// The admin URL (no database) of the MariaDB server the tests use, starting one if needed.
pub fn mariadb_admin_url() -> Result<String, String> {
    if let Ok(url) = std::env::var("LITTLEPBX_TEST_MYSQL_URL") {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    SHARED_SERVER
        .get_or_init(PrivateMariaDb::start)
        .as_ref()
        .map(|s| s.admin_url.clone())
        .map_err(Clone::clone)
}

static SHARED_SERVER: OnceLock<Result<PrivateMariaDb, String>> = OnceLock::new();

/// The private server [`mariadb_admin_url`] started for this process, if it did (outage tests
/// kill and restart it; not possible with a server named by `LITTLEPBX_TEST_MYSQL_URL`).
pub fn shared_private_mariadb() -> Option<&'static PrivateMariaDb> {
    SHARED_SERVER.get().and_then(|server| server.as_ref().ok())
}

/// A MariaDB server private to this test process (or to one test: outage tests start their own
/// and freeze, kill and restart it).
pub struct PrivateMariaDb {
    pub admin_url: String,
    pub socket: PathBuf,
    pub port: u16,
    server: PathBuf,
    client: PathBuf,
    dir: PathBuf,
    child: std::sync::Mutex<std::process::Child>,
}

const TEST_USER: &str = "lpbx_test";
const TEST_PASSWORD: &str = "lpbx_test_pw";

fn find_binary(candidates: &[&str]) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs = path.split(':').map(PathBuf::from).chain([
        "/usr/sbin".into(),
        "/usr/bin".into(),
        "/sbin".into(),
    ]);
    for dir in dirs {
        for name in candidates {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

impl PrivateMariaDb {
    /// Installs a data directory, starts `mariadbd` on a free loopback port and creates a test
    /// user with every privilege. A watchdog stops the server when this process ends.
    pub fn start() -> Result<Self, String> {
        let server = find_binary(&["mariadbd", "mysqld"])
            .ok_or("mariadbd not installed (Debian: mariadb-server)")?;
        let install = find_binary(&["mariadb-install-db", "mysql_install_db"])
            .ok_or("mariadb-install-db not found")?;
        let client = find_binary(&["mariadb", "mysql"]).ok_or("mariadb client not found")?;
        let dir = tempfile::Builder::new()
            .prefix("lpbx-mariadb-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        let status = Command::new(&install)
            .args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg("--skip-name-resolve")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("mariadb-install-db: {e}"))?;
        if !status.success() {
            return Err(format!("mariadb-install-db failed ({status})"));
        }
        let socket = dir.join("sock");
        let mut last_error = String::new();
        for _attempt in 0..3 {
            let port = free_port()?;
            let mut child = launch(&server, &dir, port)?;
            match wait_ready(&client, &socket, &mut child) {
                Ok(()) => {
                    create_test_user(&client, &socket)?;
                    let admin_url = format!("mysql://{TEST_USER}:{TEST_PASSWORD}@127.0.0.1:{port}");
                    return Ok(Self {
                        admin_url,
                        socket,
                        port,
                        server,
                        client,
                        dir,
                        child: std::sync::Mutex::new(child),
                    });
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = e;
                }
            }
        }
        Err(format!(
            "mariadbd did not start: {last_error} (log: {})",
            dir.join("err.log").display()
        ))
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.lock().map(|c| c.id()).unwrap_or(0);
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status();
    }

    /// Stops the server's process (SIGSTOP): connections stay open and nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// Kills the server (SIGKILL) and waits until it is gone: connections are refused.
    pub fn kill(&self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the killed server again, on the same port and data.
    pub fn restart(&self) -> Result<(), String> {
        let mut child = launch(&self.server, &self.dir, self.port)?;
        wait_ready(&self.client, &self.socket, &mut child)?;
        if let Ok(mut current) = self.child.lock() {
            *current = child;
        }
        Ok(())
    }
}

/// Starts `mariadbd` on `dir`'s data at `port`, with a watchdog.
fn launch(server: &Path, dir: &Path, port: u16) -> Result<std::process::Child, String> {
    let child = Command::new(server)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", dir.join("data").display()))
        .arg(format!("--socket={}", dir.join("sock").display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg("--user=root")
        .arg(format!("--pid-file={}", dir.join("pid").display()))
        .arg(format!("--log-error={}", dir.join("err.log").display()))
        .args([
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=128M",
        ])
        .args([
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
        ])
        .args([
            "--innodb-flush-log-at-trx-commit=2",
            "--max-connections=500",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start mariadbd: {e}"))?;
    spawn_watchdog(child.id(), dir);
    Ok(child)
}

/// Stops `pid` and removes `dir` once this test process has exited.
fn spawn_watchdog(pid: u32, dir: &Path) {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill {pid} 2>/dev/null; \
         for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 {pid} 2>/dev/null || break; sleep 0.5; done; \
         kill -9 {pid} 2>/dev/null; rm -rf '{}'",
        dir.display()
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

fn wait_ready(client: &Path, socket: &Path, child: &mut std::process::Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("mariadbd exited ({status})"));
        }
        let ok = Command::new(client)
            .args(["--no-defaults", "-uroot"])
            .arg(format!("--socket={}", socket.display()))
            .args(["-e", "SELECT 1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("not ready after 30 s".into())
}

fn create_test_user(client: &Path, socket: &Path) -> Result<(), String> {
    let sql = format!(
        "CREATE USER IF NOT EXISTS '{TEST_USER}'@'127.0.0.1' IDENTIFIED BY '{TEST_PASSWORD}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
    );
    let status = Command::new(client)
        .args(["--no-defaults", "-uroot"])
        .arg(format!("--socket={}", socket.display()))
        .args(["-e", &sql])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("could not create the test user".into());
    }
    Ok(())
}
