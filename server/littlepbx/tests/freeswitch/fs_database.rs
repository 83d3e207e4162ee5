//! FreeSWITCH's own database on the same MariaDB as LittlePBX: the databases and users made by
//! `scripts/db-create.sh --fs-database`, FreeSWITCH configured by `fs-install.sh --fs-db`, and
//! the scenarios that show registrations land there, stay each org's own, survive a restart and
//! go, and that calls stay up while the server does not answer.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::Value;
use testkit::mariadb::AdminUrl;

use crate::fixture::{repo_root, run};
use crate::scenarios::{call_in, ended_by_caller, phone_port};
use crate::sipp;
use crate::world::{Env, Org};

const FS_PASSWORD: &str = "tier-fs-db-password";
const READER_PASSWORD: &str = "tier-fs-reader-password";
const LITTLEPBX_PASSWORD: &str = "tier-littlepbx-db-password";

/// LittlePBX's database and FreeSWITCH's (with its user and LittlePBX's read-only user), made by
/// `scripts/db-create.sh` on the test server and removed by `scripts/db-drop.sh` on drop.
pub struct FsDatabases {
    server: AdminUrl,
    names: [String; 5],
    /// LittlePBX's `database_url`.
    pub littlepbx_url: String,
    /// LittlePBX's `freeswitch.db_url` (the read-only user).
    pub reader_url: String,
    /// `fs-install.sh --fs-db`, without the password.
    pub dsn: String,
    pub password: String,
    /// The administrator on FreeSWITCH's database, to look at its tables directly.
    pub admin_url: String,
}

impl FsDatabases {
    pub fn create() -> anyhow::Result<Self> {
        let admin = testkit::mariadb_admin_url().map_err(anyhow::Error::msg)?;
        let server = AdminUrl::parse(&admin).context("admin URL")?;
        let (host, port) = (server.host.as_str(), server.port.as_str());
        let n = std::process::id();
        let names = [
            format!("lpbx_tier_{n}"),
            format!("lpbx_tier_{n}"),
            format!("lpbx_tier_fs_{n}"),
            format!("fs_tier_{n}"),
            format!("fsr_tier_{n}"),
        ];
        let printed = run(Command::new("bash")
            .arg(repo_root().join("scripts/db-create.sh"))
            .args(["--database", &names[0], "--user", &names[1]])
            .args(["--fs-database", &names[2], "--fs-user", &names[3]])
            .args(["--fs-reader", &names[4], "--user-host", host])
            .args(["--url-host", host, "--url-port", port])
            .arg("--")
            .args(server.client_args())
            .env("LITTLEPBX_DB_PASSWORD", LITTLEPBX_PASSWORD)
            .env("LITTLEPBX_FS_DB_PASSWORD", FS_PASSWORD)
            .env("LITTLEPBX_FS_READER_PASSWORD", READER_PASSWORD))
        .context("scripts/db-create.sh --fs-database")?;
        let line = |key: &str| {
            printed
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::to_owned)
                .with_context(|| format!("db-create.sh printed no {key}: {printed}"))
        };
        Ok(Self {
            littlepbx_url: line("LITTLEPBX_DATABASE_URL=")?,
            reader_url: line("LITTLEPBX_FREESWITCH__DB_URL=")?,
            dsn: line("FS_DB_DSN=")?,
            password: FS_PASSWORD.to_owned(),
            admin_url: format!("{admin}/{}", names[2]),
            server,
            names,
        })
    }
}

impl Drop for FsDatabases {
    fn drop(&mut self) {
        let [database, user, fs_database, fs_user, fs_reader] = &self.names;
        let _ = run(Command::new("bash")
            .arg(repo_root().join("scripts/db-drop.sh"))
            .args(["--yes", "--database", database, "--user", user])
            .args(["--fs-database", fs_database, "--fs-user", fs_user])
            .args(["--fs-reader", fs_reader, "--user-host", &self.server.host])
            .arg("--")
            .args(self.server.client_args()));
    }
}

fn databases(env: &Env) -> anyhow::Result<&FsDatabases> {
    env.fs_db
        .as_ref()
        .context("this environment has no FreeSWITCH database")
}

async fn admin(env: &Env) -> anyhow::Result<DatabaseConnection> {
    Ok(Database::connect(databases(env)?.admin_url.as_str()).await?)
}

/// `sip_registrations` rows per (host, user), read as the database's administrator.
async fn table_rows(env: &Env) -> anyhow::Result<BTreeMap<(String, String), usize>> {
    let db = admin(env).await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT sip_host, sip_user FROM sip_registrations",
        ))
        .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let host: String = row.try_get("", "sip_host")?;
        let user: String = row.try_get("", "sip_user")?;
        *out.entry((host, user)).or_insert(0) += 1;
    }
    db.close().await?;
    Ok(out)
}

fn rows_of(rows: &BTreeMap<(String, String), usize>, org: &Org, user: &str) -> usize {
    rows.get(&(org.domain.clone(), user.to_owned()))
        .copied()
        .unwrap_or(0)
}

/// The live view's phones per extension number.
pub(crate) async fn live_phones(
    org: &Org,
) -> anyhow::Result<(Value, BTreeMap<String, Vec<String>>)> {
    let live = org.admin.ok(Method::GET, "/stats/live", None).await?;
    let mut phones = BTreeMap::new();
    for extension in live["extensions"].as_array().context("extensions")? {
        let agents: Vec<String> = extension["phones"]
            .as_array()
            .context("phones")?
            .iter()
            .map(|p| p["user_agent"].as_str().unwrap_or_default().to_owned())
            .collect();
        if !agents.is_empty() {
            let number = extension["number"].as_str().unwrap_or_default().to_owned();
            phones.insert(number, agents);
        }
    }
    Ok((live, phones))
}

fn register(env: &Env, org: &Org, number: &str, expires: u32) -> anyhow::Result<()> {
    let port = phone_port(env, org, number);
    let outcome = sipp::register(&org.account(number), env.target(), port, expires)?;
    ensure!(
        outcome.final_code == Some(200),
        "REGISTER {number}@{} (expires {expires}): {outcome:?}",
        org.domain
    );
    Ok(())
}

async fn wait_rows(
    env: &Env,
    what: &str,
    done: impl Fn(&BTreeMap<(String, String), usize>) -> bool,
) -> anyhow::Result<BTreeMap<(String, String), usize>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = table_rows(env).await?;
        if done(&rows) {
            return Ok(rows);
        }
        ensure!(
            Instant::now() < deadline,
            "{what}: sip_registrations {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

pub async fn registrations_land_in_mariadb_and_each_org_sees_only_its_own(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    register(&env, &env.acme, "101", 600)?;
    register(&env, &env.acme, "102", 600)?;
    register(&env, &env.globex, "101", 600)?;
    let rows = wait_rows(&env, "three registrations", |rows| {
        rows_of(rows, &env.acme, "101") == 1
            && rows_of(rows, &env.acme, "102") == 1
            && rows_of(rows, &env.globex, "101") == 1
    })
    .await?;
    ensure!(
        rows.values().sum::<usize>() == 3,
        "only the three phones: {rows:?}"
    );
    // An attacker's phone cannot put a row under another org's domain: acme's credentials in
    // globex's domain, and globex's password for acme's 102, are refused and write nothing.
    let port = crate::scenarios::caller_port(&env, 1);
    let foreign = sipp::Account {
        domain: env.globex.domain.clone(),
        ..env.acme.account("102")
    };
    let crossed = sipp::Account {
        password: env.globex.account("102").password,
        ..env.acme.account("102")
    };
    for (what, account) in [("foreign domain", foreign), ("crossed password", crossed)] {
        let outcome = sipp::register(&account, env.target(), port, 600)?;
        ensure!(outcome.final_code != Some(200), "{what}: {outcome:?}");
    }
    let after = table_rows(&env).await?;
    ensure!(
        after == rows,
        "refused REGISTERs changed the table: {after:?}"
    );
    // FreeSWITCH's core tables are there too (core-db-dsn).
    let db = admin(&env).await?;
    let tables = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SHOW TABLES",
        ))
        .await?
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect::<Vec<_>>();
    for table in ["channels", "calls", "registrations", "sip_registrations"] {
        ensure!(
            tables.iter().any(|t| t == table),
            "no table {table}: {tables:?}"
        );
    }
    // A row written straight into the table shows in its own org's view only: the view reads
    // the table, not the event socket, and filters by domain.
    for (org, agent) in [(&env.acme, "Planted acme"), (&env.globex, "Planted globex")] {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO sip_registrations (call_id, sip_user, sip_host, contact, status, \
             expires, user_agent, profile_name, hostname, network_ip, network_port) \
             VALUES (?, '199', ?, '<sip:199@127.0.0.9:5099>', 'Registered(TCP)', ?, ?, \
             'internal', 'tier', '127.0.0.9', '5099')",
            [
                format!("planted-{}", org.slug).into(),
                org.domain.clone().into(),
                (crate::now_ms() / 1000 + 600).into(),
                agent.into(),
            ],
        ))
        .await?;
    }
    let outcome = async {
        let (acme_live, acme) = live_phones(&env.acme).await?;
        let (_, globex) = live_phones(&env.globex).await?;
        ensure!(acme_live["source"]["state"] == "ok", "{acme_live}");
        ensure!(
            acme.keys().map(String::as_str).collect::<Vec<_>>() == ["101", "102", "199"],
            "acme's live view: {acme:?}"
        );
        ensure!(
            acme["199"] == ["Planted acme"],
            "acme's view must show acme's planted row only: {acme:?}"
        );
        ensure!(
            globex.keys().map(String::as_str).collect::<Vec<_>>() == ["101", "199"]
                && globex["199"] == ["Planted globex"],
            "globex's live view: {globex:?}"
        );
        ensure!(
            acme_live["registered_phones"] == 3,
            "acme counts its 3 rows: {acme_live}"
        );
        for (org, phones) in [(&env.acme, 3), (&env.globex, 2)] {
            let status = env
                .provider
                .ok(Method::GET, &format!("/orgs/{}/status", org.slug), None)
                .await?;
            ensure!(
                status["registered_phones"] == phones,
                "{}: provider status {status}",
                org.slug
            );
        }
        let port = crate::scenarios::lock_pbx(&env)?[0].port;
        let health: Value = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await?
            .json()
            .await?;
        ensure!(health["freeswitch_database"] == "up", "{health}");
        Ok(())
    }
    .await;
    db.execute_unprepared("DELETE FROM sip_registrations WHERE call_id LIKE 'planted-%'")
        .await?;
    db.close().await?;
    outcome
}

pub async fn registrations_survive_a_freeswitch_restart_and_go_with_flush_or_unregister(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    register(&env, &env.acme, "101", 600)?;
    register(&env, &env.acme, "102", 600)?;
    register(&env, &env.globex, "101", 600)?;
    wait_rows(&env, "registered", |rows| {
        rows_of(rows, &env.acme, "101") == 1 && rows_of(rows, &env.globex, "101") == 1
    })
    .await?;
    restart_freeswitch(&env)?;
    let reg = env.fs.api("sofia status profile internal reg")?;
    for org in [&env.acme, &env.globex] {
        ensure!(
            reg.contains(&format!("101@{}", org.domain)),
            "FreeSWITCH lost 101@{} in its restart:\n{reg}",
            org.domain
        );
    }
    let (_, acme) = live_phones(&env.acme).await?;
    ensure!(
        acme.contains_key("101") && acme.contains_key("102"),
        "after the restart: {acme:?}"
    );

    // A phone that unregisters is gone at once.
    register(&env, &env.acme, "102", 0)?;
    wait_rows(&env, "102 unregistered", |rows| {
        rows_of(rows, &env.acme, "102") == 0 && rows_of(rows, &env.acme, "101") == 1
    })
    .await?;
    // flush_inbound_reg of acme's 101 leaves globex's 101 alone.
    env.fs.api(&format!(
        "sofia profile internal flush_inbound_reg 101@{}",
        env.acme.domain
    ))?;
    let rows = wait_rows(&env, "acme's 101 flushed", |rows| {
        rows_of(rows, &env.acme, "101") == 0
    })
    .await?;
    ensure!(
        rows_of(&rows, &env.globex, "101") == 1,
        "globex's 101 must stay: {rows:?}"
    );
    let (acme_live, acme) = live_phones(&env.acme).await?;
    ensure!(
        acme.is_empty() && acme_live["registered_phones"] == 0,
        "{acme_live}"
    );
    let (_, globex) = live_phones(&env.globex).await?;
    ensure!(globex.contains_key("101"), "{globex:?}");
    Ok(())
}

fn restart_freeswitch(env: &Env) -> anyhow::Result<()> {
    env.fs.stop();
    env.fs.start()
}

pub async fn calls_stay_up_while_mariadb_does_not_answer_and_littlepbx_says_so(
    env: Arc<Env>,
) -> anyhow::Result<()> {
    let Some(mariadb) = testkit::shared_private_mariadb() else {
        eprintln!("skipped: MariaDB is not a private server of this run");
        return Ok(());
    };
    let port = crate::scenarios::lock_pbx(&env)?[0].port;
    // The call outlasts the outage: it is up before MariaDB stops answering and is hung up by
    // its caller after it answers again. Nothing asks FreeSWITCH over the event socket meanwhile
    // (its API waits for its database too).
    let (caller, callee) = call_in(&env, &env.globex, 12, 14_000)?;
    mariadb.freeze();
    let frozen = async {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(6);
        let health = loop {
            let body: Value = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await?
                .json()
                .await?;
            if body["database"]["state"] == "down"
                && body["freeswitch_database"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("down"))
            {
                break body;
            }
            ensure!(Instant::now() < deadline, "/healthz: {body}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        eprintln!("while MariaDB is frozen: {health}");
        let (status, body) = env
            .globex
            .admin
            .send(Method::GET, "/stats/live", None)
            .await?;
        ensure!(
            status == 503 && body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "the org's page during the outage: {status} {body}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(())
    }
    .await;
    mariadb.thaw();
    frozen?;
    ended_by_caller(&caller.wait()?, "globex's call across the outage")?;
    callee.stop()?;
    // FreeSWITCH goes on by itself: a new registration lands in its table.
    register(&env, &env.acme, "101", 600)?;
    wait_rows(&env, "a registration after the outage", |rows| {
        rows_of(rows, &env.acme, "101") == 1
    })
    .await?;
    let (_, acme) = live_phones(&env.acme).await?;
    ensure!(acme.contains_key("101"), "{acme:?}");
    Ok(())
}
