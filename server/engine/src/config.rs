//! Configuration: built-in defaults, then `littlepbx.toml`, then `LITTLEPBX_*` environment
//! variables (nested keys with `__`: `LITTLEPBX_FREESWITCH__ESL_PASSWORD`). Validated at start-up;
//! secrets are typed so that they never print.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use store::DatabaseKind;

/// A configured secret. `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "<unset>" } else { "***" })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// `sqlite://PATH?mode=rwc` or `mysql://USER:PASSWORD@HOST:PORT/DB`. Empty: SQLite in `data_dir`.
    pub database_url: Secret,
    /// Where the SQLite file, generated secrets and music-on-hold files live.
    pub data_dir: PathBuf,
    /// Org pages are served at `pbx.<slug>.<base_domain>`; new orgs get that SIP domain.
    pub base_domain: String,
    /// Scheme of the org pages' links (`http` in development, `https` in production).
    pub public_scheme: String,
    /// Port shown in org page links; empty: the port LittlePBX listens on.
    pub public_port: Option<u16>,
    /// 32 random bytes, base64: encrypts trunk passwords at rest. Required with MariaDB/MySQL
    /// (every instance must share it); generated into `data_dir` for SQLite.
    pub secret_key: Secret,
    /// Numbers that always reach the emergency services and cannot be extensions.
    pub emergency_numbers: Vec<String>,
    /// Where the built web app is (`index.html`, `pkg/`). Empty: `dist/` beside the working dir.
    pub web_dir: Option<PathBuf>,
    pub freeswitch: FreeSwitchConfig,
    pub smtp: SmtpConfig,
    pub web: WebConfig,
    pub ldap: LdapConfig,
    /// How long an instance owns an Apply job without renewing its lease: after a crash, another
    /// instance (or the restarted one) resumes the job this long after the last renewal.
    pub apply_lease_seconds: u32,
    /// Call records older than this many days are deleted (in batches, hourly).
    pub cdr_retention_days: u32,
    /// Applies older than this many days leave the history (hourly)...
    pub history_retention_days: u32,
    /// ...except the last this many of every org, whatever their age.
    pub history_keep_versions: u32,
    /// How often (milliseconds) the XML cache looks for changes made through other instances.
    pub xml_cache_poll_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeSwitchConfig {
    /// Basic-auth user and password FreeSWITCH uses for /fs/xml and /fs/cdr
    /// (`gateway-credentials`). The password is generated into `data_dir` for SQLite if unset.
    pub http_user: String,
    pub http_password: Secret,
    /// Addresses allowed to call /fs/xml and /fs/cdr (CIDRs).
    pub allowed_ips: Vec<String>,
    /// Event socket. Without a password LittlePBX does not connect, and FreeSWITCH commands stay
    /// queued ("FreeSWITCH not yet told") until one is configured.
    pub esl_address: String,
    pub esl_password: Secret,
    pub internal_profile: String,
    pub external_profile: String,
    /// FreeSWITCH's own database, when it keeps it on MariaDB/MySQL (`fs-install.sh --fs-db`):
    /// a read-only user's URL (`scripts/db-create.sh --fs-database` prints it). Registrations
    /// are then read from there; empty: they are asked over the event socket.
    pub db_url: Secret,
    /// Music on hold directory as FreeSWITCH sees it. Empty: `<data_dir>/moh` (same machine).
    pub moh_dir: Option<PathBuf>,
    /// Hold music for orgs without their own.
    pub default_hold_music: String,
    /// The provider's default music (a directory holding `8000/` and `16000/`), streamed as
    /// `local_stream://default`.
    pub default_moh_dir: String,
    /// Host name and ports phones register to (shown in the phone help pages).
    pub sip_host: Option<String>,
    pub sip_port: u16,
    pub sip_tls_port: u16,
}

/// The read-only LDAP phone book desk phones search.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapConfig {
    /// Address the LDAP server listens on (plain LDAP: put a TLS terminator in front of it for
    /// phones outside the office network). Empty: no LDAP server.
    pub listen: Option<SocketAddr>,
    /// Port shown to phones; empty: the port it listens on.
    pub public_port: Option<u16>,
    /// Most entries one search returns.
    pub max_results: usize,
}

impl LdapConfig {
    /// The port phones are told, when the server runs.
    pub fn port_for_phones(&self) -> Option<u16> {
        self.listen
            .map(|listen| self.public_port.unwrap_or(listen.port()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Empty: e-mail is off (jobs say so).
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub security: String,
    pub username: String,
    pub password: Secret,
    pub from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    pub session_hours: u32,
    /// Mark cookies `Secure` (on behind https).
    pub secure_cookies: bool,
    /// Failed logins per e-mail and per address before a 15-minute pause.
    pub login_attempts: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: Secret::default(),
            data_dir: PathBuf::from("./data"),
            base_domain: "localhost".into(),
            public_scheme: "http".into(),
            public_port: None,
            secret_key: Secret::default(),
            emergency_numbers: vec!["112".into(), "911".into(), "999".into()],
            web_dir: None,
            freeswitch: FreeSwitchConfig {
                http_user: "freeswitch".into(),
                http_password: Secret::default(),
                allowed_ips: vec!["127.0.0.1/32".into(), "::1/128".into()],
                esl_address: "127.0.0.1:8021".into(),
                esl_password: Secret::default(),
                internal_profile: "internal".into(),
                external_profile: "external".into(),
                db_url: Secret::default(),
                moh_dir: None,
                default_hold_music: "local_stream://default".into(),
                default_moh_dir: "/usr/share/freeswitch/sounds/music".into(),
                sip_host: None,
                sip_port: 5060,
                sip_tls_port: 5061,
            },
            smtp: SmtpConfig {
                host: String::new(),
                port: 25,
                security: "none".into(),
                username: String::new(),
                password: Secret::default(),
                from: "LittlePBX <littlepbx@localhost>".into(),
            },
            web: WebConfig {
                session_hours: 12,
                secure_cookies: false,
                login_attempts: 5,
            },
            ldap: LdapConfig {
                listen: Some(SocketAddr::from(([127, 0, 0, 1], 3389))),
                public_port: None,
                max_results: 500,
            },
            apply_lease_seconds: 15,
            cdr_retention_days: 400,
            history_retention_days: 365,
            history_keep_versions: 50,
            xml_cache_poll_ms: 500,
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (when it exists; an explicitly named file must exist), then
    /// the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                bail!("configuration file {} does not exist", path.display())
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("littlepbx.toml")),
        }
        figment = figment.merge(
            Env::prefixed("LITTLEPBX_")
                .filter(is_config_key)
                .split("__"),
        );
        let config: Config = figment.extract().context("reading the configuration")?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what a typo would otherwise turn into a surprise at run time.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.database_url.is_empty() {
            DatabaseKind::from_url(self.database_url.expose()).map_err(anyhow::Error::msg)?;
        }
        let labels_ok = !self.base_domain.is_empty()
            && self.base_domain.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
            });
        if !labels_ok {
            bail!("base_domain \"{}\" is not a host name", self.base_domain);
        }
        if !matches!(self.public_scheme.as_str(), "http" | "https") {
            bail!("public_scheme must be http or https");
        }
        for number in &self.emergency_numbers {
            if number.is_empty() || number.len() > 6 || !number.bytes().all(|b| b.is_ascii_digit())
            {
                bail!("emergency number \"{number}\" must be 1 to 6 digits");
            }
        }
        if !self.freeswitch.db_url.is_empty()
            && DatabaseKind::from_url(self.freeswitch.db_url.expose()) != Ok(DatabaseKind::MySql)
        {
            bail!("freeswitch.db_url must be a mysql:// or mariadb:// URL (FreeSWITCH's database)");
        }
        for cidr in &self.freeswitch.allowed_ips {
            cidr.parse::<ipnet::IpNet>()
                .with_context(|| format!("freeswitch.allowed_ips: \"{cidr}\""))?;
        }
        if !matches!(self.smtp.security.as_str(), "none" | "starttls" | "tls") {
            bail!("smtp.security must be none, starttls or tls");
        }
        freeswitch_settings(self)
            .validate()
            .context("freeswitch settings")?;
        if !(1..=3600).contains(&self.apply_lease_seconds) {
            bail!("apply_lease_seconds must be 1 to 3600");
        }
        if !(50..=60_000).contains(&self.xml_cache_poll_ms) {
            bail!("xml_cache_poll_ms must be 50 to 60000");
        }
        if !(1..=36_500).contains(&self.cdr_retention_days) {
            bail!("cdr_retention_days must be 1 to 36500");
        }
        if !(1..=36_500).contains(&self.history_retention_days) {
            bail!("history_retention_days must be 1 to 36500");
        }
        if !(1..=10_000).contains(&self.history_keep_versions) {
            bail!("history_keep_versions must be 1 to 10000");
        }
        if self.web.session_hours == 0 {
            bail!("web.session_hours must be at least 1");
        }
        Ok(())
    }

    /// The database URL, the embedded SQLite file when none is configured.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("littlepbx.db").display()
            )
        } else {
            self.database_url.expose().to_owned()
        }
    }

    pub fn database_kind(&self) -> DatabaseKind {
        DatabaseKind::from_url(&self.effective_database_url()).unwrap_or(DatabaseKind::Sqlite)
    }

    /// The SIP domain a new org gets by default.
    pub fn default_sip_domain(&self, slug: &str) -> String {
        format!("pbx.{slug}.{}", self.base_domain)
    }

    /// The address of an org's web pages.
    pub fn org_url(&self, slug: &str) -> String {
        let port = self.public_port.unwrap_or(self.listen.port());
        let default_port = matches!(
            (self.public_scheme.as_str(), port),
            ("http", 80) | ("https", 443)
        );
        let port = if default_port {
            String::new()
        } else {
            format!(":{port}")
        };
        format!(
            "{}://pbx.{slug}.{}{port}",
            self.public_scheme, self.base_domain
        )
    }

    pub fn moh_dir(&self) -> PathBuf {
        self.data_dir.join("moh")
    }

    /// The music directory as FreeSWITCH sees it.
    pub fn moh_dir_for_freeswitch(&self) -> PathBuf {
        self.freeswitch
            .moh_dir
            .clone()
            .unwrap_or_else(|| absolute(&self.moh_dir()))
    }

    pub fn web_dir(&self) -> PathBuf {
        self.web_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("dist"))
    }

    /// The SIP host phones use: configured, else the base domain.
    pub fn sip_host(&self) -> String {
        self.freeswitch
            .sip_host
            .clone()
            .unwrap_or_else(|| self.base_domain.clone())
    }
}

/// How FreeSWITCH XML is rendered, from the configuration.
pub fn freeswitch_settings(config: &Config) -> freeswitch::Settings {
    let fs = &config.freeswitch;
    freeswitch::Settings {
        internal_profile: fs.internal_profile.clone(),
        external_profile: fs.external_profile.clone(),
        emergency_numbers: config.emergency_numbers.clone(),
        default_hold_music: fs.default_hold_music.clone(),
        default_moh: Some(freeswitch::DefaultMoh {
            name: "default".into(),
            dir: fs.default_moh_dir.clone(),
        }),
        ..freeswitch::Settings::default()
    }
}

/// Only variables naming a configuration field are configuration; `LITTLEPBX_LOG`,
/// `LITTLEPBX_CONFIG` and the test harness's variables are not.
fn is_config_key(key: &figment::value::UncasedStr) -> bool {
    const FIELDS: &[&str] = &[
        "listen",
        "database_url",
        "data_dir",
        "base_domain",
        "public_scheme",
        "public_port",
        "secret_key",
        "emergency_numbers",
        "web_dir",
        "freeswitch",
        "smtp",
        "web",
        "ldap",
        "apply_lease_seconds",
        "cdr_retention_days",
        "history_retention_days",
        "history_keep_versions",
        "xml_cache_poll_ms",
    ];
    let top = key.as_str().split("__").next().unwrap_or_default();
    FIELDS.iter().any(|field| top.eq_ignore_ascii_case(field))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The secrets generated for a single-machine SQLite set-up, kept in `data_dir`.
#[derive(Debug, Serialize, Deserialize)]
struct GeneratedSecrets {
    secret_key: Secret,
    freeswitch_http_password: Secret,
}

/// Fills unset secrets. With SQLite they are generated once into `data_dir/generated-secrets.toml`
/// (mode 0600); with MariaDB/MySQL they must be configured, because every instance must share them.
pub fn ensure_secrets(config: &mut Config) -> anyhow::Result<()> {
    let missing = config.secret_key.is_empty() || config.freeswitch.http_password.is_empty();
    if !missing {
        return Ok(());
    }
    if config.database_kind() == DatabaseKind::MySql {
        bail!(
            "with MariaDB/MySQL set secret_key and freeswitch.http_password (LITTLEPBX_SECRET_KEY, \
             LITTLEPBX_FREESWITCH__HTTP_PASSWORD): every LittlePBX instance must use the same values"
        );
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let path = config.data_dir.join("generated-secrets.toml");
    let generated: GeneratedSecrets = if path.exists() {
        toml_read(&path)?
    } else {
        let fresh = GeneratedSecrets {
            secret_key: Secret::new(crate::secrets::random_key_base64()),
            freeswitch_http_password: Secret::new(crate::secrets::random_token(24)),
        };
        write_private(&path, &toml_write(&fresh)?)?;
        fresh
    };
    if config.secret_key.is_empty() {
        config.secret_key = generated.secret_key;
    }
    if config.freeswitch.http_password.is_empty() {
        config.freeswitch.http_password = generated.freeswitch_http_password;
    }
    Ok(())
}

fn toml_read(path: &Path) -> anyhow::Result<GeneratedSecrets> {
    Figment::from(Toml::file_exact(path))
        .extract()
        .with_context(|| format!("reading {}", path.display()))
}

fn toml_write(secrets: &GeneratedSecrets) -> anyhow::Result<String> {
    Ok(format!(
        "# Generated by LittlePBX for this machine. Keep it private; back it up with the database.\nsecret_key = \"{}\"\nfreeswitch_http_password = \"{}\"\n",
        secrets.secret_key.expose(),
        secrets.freeswitch_http_password.expose()
    ))
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let mut config = Config {
            secret_key: Secret::new("c2VjcmV0"),
            ..Config::default()
        };
        config.freeswitch.esl_password = Secret::new("ClueCon");
        let printed = format!("{config:?}");
        assert!(
            !printed.contains("c2VjcmV0") && !printed.contains("ClueCon"),
            "{printed}"
        );
        assert!(printed.contains("***"));
    }

    #[test]
    fn unknown_database_schemes_are_refused() {
        let mut config = Config {
            database_url: Secret::new("postgres://x/y"),
            ..Config::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("unsupported database URL scheme \"postgres\""),
            "{err}"
        );
        config.database_url = Secret::new("sqlite:///tmp/x.db");
        config.validate().unwrap();
        config.database_url = Secret::new("mysql://u:p@127.0.0.1/db");
        config.validate().unwrap();
    }

    #[test]
    fn defaults_are_sqlite_on_loopback() {
        let config = Config::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.effective_database_url(),
            "sqlite://./data/littlepbx.db?mode=rwc"
        );
        assert_eq!(config.default_sip_domain("acme"), "pbx.acme.localhost");
        assert_eq!(config.org_url("acme"), "http://pbx.acme.localhost:8080");
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("littlepbx.toml");
        std::fs::write(
            &path,
            "base_domain = \"example.com\"\n[freeswitch]\nesl_address = \"127.0.0.1:9021\"\n",
        )
        .unwrap();
        // figment's Jail hands its closure errors as `figment::Error`, which is large.
        #[allow(clippy::result_large_err)]
        figment::Jail::expect_with(|jail| {
            jail.set_env("LITTLEPBX_FREESWITCH__ESL_ADDRESS", "127.0.0.1:7021");
            jail.set_env("LITTLEPBX_LOG", "debug");
            let config = Config::load(Some(&path)).map_err(|e| e.to_string())?;
            assert_eq!(config.base_domain, "example.com");
            assert_eq!(config.freeswitch.esl_address, "127.0.0.1:7021");
            jail.set_env("LITTLEPBX_LISTEN", "not an address");
            assert!(Config::load(Some(&path)).is_err());
            Ok(())
        });
        assert!(Config::load(Some(&dir.path().join("missing.toml"))).is_err());
    }

    #[test]
    fn mysql_requires_configured_secrets() {
        let mut config = Config {
            database_url: Secret::new("mysql://u:p@127.0.0.1/db"),
            ..Config::default()
        };
        let err = ensure_secrets(&mut config).unwrap_err().to_string();
        assert!(err.contains("LITTLEPBX_SECRET_KEY"), "{err}");
    }

    #[test]
    fn sqlite_secrets_are_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        ensure_secrets(&mut first).unwrap();
        let mut second = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        ensure_secrets(&mut second).unwrap();
        assert!(!first.secret_key.is_empty());
        assert_eq!(first.secret_key, second.secret_key);
        assert_eq!(
            first.freeswitch.http_password,
            second.freeswitch.http_password
        );
    }
}
