//! The environment the scenarios run in, built once per database backend: a database, LittlePBX
//! instance 0, a FreeSWITCH configured for it, and two orgs with the same extension numbers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fixture::{FreeSwitch, OrgAdmin, Pbx, Ports, Provider};
use crate::sipp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MariaDb,
    /// LittlePBX on MariaDB, and FreeSWITCH's own database there too (`--fs-db`).
    FsOnMariaDb,
}

pub const ADMIN_PASSWORD: &str = "tier-admin-password";

/// An org as the scenarios use it.
pub struct Org {
    pub slug: String,
    pub domain: String,
    pub did: String,
    pub admin: OrgAdmin,
    passwords: Mutex<HashMap<String, String>>,
}

impl Org {
    /// The SIP account of extension `number`.
    pub fn account(&self, number: &str) -> sipp::Account {
        let password = self
            .passwords
            .lock()
            .ok()
            .and_then(|p| p.get(number).cloned())
            .unwrap_or_default();
        sipp::Account {
            user: number.to_owned(),
            domain: self.domain.clone(),
            password,
        }
    }
}

pub struct Env {
    pub backend: Backend,
    pub root: PathBuf,
    pub ports: Ports,
    pub database_url: String,
    pub provider: Provider,
    pub fs: FreeSwitch,
    pub acme: Org,
    pub globex: Org,
    /// LittlePBX instances; [0] is the one FreeSWITCH asks first.
    pub pbx: Mutex<Vec<Pbx>>,
    _db: Option<testkit::TestDb>,
    /// The databases of [`Backend::FsOnMariaDb`].
    pub fs_db: Option<crate::fs_database::FsDatabases>,
}

impl Env {
    pub fn target(&self) -> sipp::Target {
        sipp::Target {
            ip: std::net::Ipv4Addr::LOCALHOST,
            port: self.ports.sip(),
        }
    }

    pub fn carrier_target(&self) -> sipp::Target {
        sipp::Target {
            ip: std::net::Ipv4Addr::LOCALHOST,
            port: self.ports.carrier(),
        }
    }

    /// Everything LittlePBX instance `n` logged so far.
    pub fn pbx_log_text(&self, n: usize) -> String {
        self.pbx
            .lock()
            .ok()
            .and_then(|all| all.get(n).map(|p| std::fs::read_to_string(&p.log)))
            .and_then(Result::ok)
            .unwrap_or_default()
    }

    /// The log of LittlePBX instance `n`, for failure messages.
    pub fn pbx_log(&self, n: usize) -> String {
        self.pbx
            .lock()
            .ok()
            .and_then(|all| all.get(n).map(|p| p.log_tail(40)))
            .unwrap_or_default()
    }

    async fn build(
        backend: Backend,
        root: PathBuf,
        tree: PathBuf,
        ports: Ports,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&root)?;
        let mut fs_db = None;
        let (database_url, db) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", root.join("littlepbx.db").display()),
                None,
            ),
            Backend::FsOnMariaDb => {
                let databases = crate::fs_database::FsDatabases::create()?;
                let url = databases.littlepbx_url.clone();
                fs_db = Some(databases);
                (url, None)
            }
            Backend::MariaDb => {
                let db = testkit::TestDb::mariadb().await.context(
                    "MariaDB is not available (install mariadb-server, or set LITTLEPBX_TEST_MYSQL_URL)",
                )?;
                (db.url().to_owned(), Some(db))
            }
        };
        let key = Pbx::create_api_key(&root, ports, &database_url)?;
        // Instance 0 polls slowly on MariaDB: the two-instance scenario needs FreeSWITCH's own
        // instance to learn of a change made through the other one late, not by luck early.
        let poll = match backend {
            Backend::Sqlite => "500",
            Backend::MariaDb => "3000",
            Backend::FsOnMariaDb => "500",
        };
        let mut extra = vec![("LITTLEPBX_XML_CACHE_POLL_MS", poll)];
        if let Some(databases) = &fs_db {
            extra.push((
                "LITTLEPBX_FREESWITCH__DB_URL",
                databases.reader_url.as_str(),
            ));
        }
        let pbx = Pbx::start(&root, ports, 0, &database_url, &extra).await?;
        let provider = Provider::new(ports.http(0), &key);
        let fs = FreeSwitch::configure(
            &tree,
            &root,
            ports,
            fs_db
                .as_ref()
                .map(|d| (d.dsn.as_str(), d.password.as_str())),
        )?;
        fs.start()?;
        let acme = create_org(
            &provider,
            ports,
            "acme",
            "+15550100100",
            json!({"username": "acme-trunk", "host": "127.0.0.1", "port": ports.agent(50),
                   "transport": "udp", "register": false, "allowed_cidrs": ["127.0.0.1/32"]}),
            true,
        )
        .await
        .with_context(|| pbx.log_tail(40))?;
        let globex = create_org(
            &provider,
            ports,
            "globex",
            "+15550200200",
            json!({"username": "globex-trunk", "host": "127.0.0.2", "port": ports.agent(51),
                   "transport": "udp", "register": false, "allowed_cidrs": ["127.0.0.2/32"]}),
            false,
        )
        .await?;
        // FreeSWITCH has both orgs' gateways once every command was delivered.
        for gateway in ["acme.in", "globex.in"] {
            fs.wait_for(
                &format!("sofia xmlstatus gateway {gateway}"),
                Duration::from_secs(10),
                |out| out.contains("<gateway>"),
            )?;
        }
        Ok(Self {
            backend,
            root,
            ports,
            database_url,
            provider,
            fs,
            acme,
            globex,
            pbx: Mutex::new(vec![pbx]),
            _db: db,
            fs_db,
        })
    }
}

/// Creates an org with an admin, a DID, an inbound trunk (and outbound "same as inbound"), and
/// extensions 101 and 102 (ring 5 s, then voicemail); the DID rings 101; applied.
async fn create_org(
    provider: &Provider,
    ports: Ports,
    slug: &str,
    did: &str,
    trunk: Value,
    outbound: bool,
) -> anyhow::Result<Org> {
    let created = provider
        .ok(
            Method::POST,
            "/orgs",
            Some(json!({"slug": slug, "name": format!("{slug} Ltd")})),
        )
        .await?;
    let domain = created["org"]["sip_domain"]
        .as_str()
        .context("sip_domain")?
        .to_owned();
    let email = format!("admin@{slug}.example");
    provider
        .ok(
            Method::POST,
            &format!("/orgs/{slug}/admins"),
            Some(json!({"email": email, "password": ADMIN_PASSWORD})),
        )
        .await?;
    provider
        .ok(
            Method::POST,
            &format!("/orgs/{slug}/dids"),
            Some(json!({"number": did})),
        )
        .await?;
    provider
        .ok(
            Method::PUT,
            &format!("/orgs/{slug}/trunks/inbound"),
            Some(trunk),
        )
        .await?;
    if outbound {
        provider
            .ok(
                Method::PUT,
                &format!("/orgs/{slug}/trunks/outbound"),
                Some(json!({"same_as_inbound": true})),
            )
            .await?;
    }
    let admin = OrgAdmin::login(ports.http(0), slug, &email, ADMIN_PASSWORD).await?;
    let mut passwords = HashMap::new();
    for number in ["101", "102"] {
        let created = admin
            .ok(
                Method::POST,
                "/extensions",
                Some(
                    json!({"number": number, "display_name": format!("Phone {number}"),
                            "ring_seconds": 5, "no_answer_action": "voicemail"}),
                ),
            )
            .await?;
        let password = created["sip_password"]
            .as_str()
            .context("sip_password")?
            .to_owned();
        passwords.insert(number.to_owned(), password);
    }
    let revision = admin.revision("did", did).await?;
    admin
        .ok(
            Method::PUT,
            &format!("/dids/{}/route", did.replace('+', "%2B")),
            Some(json!({"revision": revision, "extension": "101"})),
        )
        .await?;
    admin
        .patch_extension("101", json!({"outbound_caller_id": did}))
        .await?;
    admin.apply_and_sync().await?;
    Ok(Org {
        slug: slug.to_owned(),
        domain,
        did: did.to_owned(),
        admin,
        passwords: Mutex::new(passwords),
    })
}

/// The environments, built when a scenario first needs one; the previous one is stopped first.
pub struct World {
    root: tempfile::TempDir,
    current: tokio::sync::Mutex<Option<Arc<Env>>>,
}

impl World {
    pub fn new() -> Self {
        Self {
            root: tempfile::Builder::new()
                .prefix("littlepbx-fs-tier-")
                .disable_cleanup(std::env::var_os("LITTLEPBX_TIER_KEEP").is_some())
                .tempdir()
                .expect("temp dir"),
            current: tokio::sync::Mutex::new(None),
        }
    }

    pub async fn env(&self, backend: Backend) -> anyhow::Result<Arc<Env>> {
        let mut current = self.current.lock().await;
        if let Some(env) = current.as_ref().filter(|env| env.backend == backend) {
            return Ok(env.clone());
        }
        // Stop the previous environment's processes before its ports are reused.
        drop(current.take());
        let tree = crate::fixture::freeswitch_tree().map_err(anyhow::Error::msg)?;
        let ports = Ports::pick()?;
        let root = self.root.path().join(format!("{backend:?}").to_lowercase());
        let env = Arc::new(Env::build(backend, root, tree, ports).await?);
        *current = Some(env.clone());
        Ok(env)
    }

    /// Stops every process; with `LITTLEPBX_TIER_KEEP=1` the logs and configurations stay.
    pub async fn shutdown(&self) {
        drop(self.current.lock().await.take());
        if std::env::var_os("LITTLEPBX_TIER_KEEP").is_some() {
            eprintln!(
                "FreeSWITCH tier files kept in {}",
                self.root.path().display()
            );
        }
    }
}
