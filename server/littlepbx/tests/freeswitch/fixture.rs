//! The tier's world: a real FreeSWITCH configured by `scripts/fs-install.sh`, LittlePBX processes
//! (the built binary) on the same database, and HTTP clients for the provider and org APIs.
//!
//! Every process is started here and stopped here, by its own pid, also when a test fails (the
//! `Drop` impls run when `main` returns).

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// The ports of one run, all on 127.0.0.1, picked from a free block.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    base: u16,
}

impl Ports {
    /// A block of 400 ports where every port the tier binds is free for TCP and UDP.
    pub fn pick() -> anyhow::Result<Self> {
        let seed = std::process::id() as u64 ^ (crate::now_ms() as u64);
        for attempt in 0..50u64 {
            let base = 20_000 + ((seed + attempt * 7919) % 100) as u16 * 400;
            let ports = Self { base };
            if ports.all().into_iter().all(port_is_free) {
                return Ok(ports);
            }
        }
        bail!("no free block of loopback ports found")
    }

    fn all(&self) -> Vec<u16> {
        let mut all = vec![
            self.http(0),
            self.http(1),
            self.sip(),
            self.tls(),
            self.carrier(),
            self.esl(),
        ];
        all.extend((0..60).map(|i| self.base + 40 + i));
        all
    }

    /// LittlePBX instance `n`'s HTTP port.
    pub fn http(&self, n: u16) -> u16 {
        self.base + n
    }
    pub fn sip(&self) -> u16 {
        self.base + 10
    }
    pub fn tls(&self) -> u16 {
        self.base + 11
    }
    pub fn carrier(&self) -> u16 {
        self.base + 20
    }
    pub fn esl(&self) -> u16 {
        self.base + 30
    }
    /// The `n`th port for sipp phones and carriers (0..60).
    pub fn agent(&self, n: u16) -> u16 {
        assert!(n < 60, "agent port {n} out of the block");
        self.base + 40 + n
    }
    pub fn rtp(&self) -> (u16, u16) {
        (self.base + 200, self.base + 399)
    }
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
        && UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// The repository's root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Where the FreeSWITCH test tree is: `LITTLEPBX_FREESWITCH_DIR`, else `../shared/freeswitch`
/// beside the repository.
pub fn freeswitch_tree() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("LITTLEPBX_FREESWITCH_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("../shared/freeswitch"),
    };
    if dir.join("fs-run").is_file() && dir.join("bin/freeswitch").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "no FreeSWITCH test tree at {} (set LITTLEPBX_FREESWITCH_DIR)",
            dir.display()
        ))
    }
}

pub const HTTP_USER: &str = "freeswitch";
pub const HTTP_PASSWORD: &str = "tier-http-password";
pub const ESL_PASSWORD: &str = "tier-esl-password";

/// A FreeSWITCH started with `fs-run` from a configuration `fs-install.sh` made.
pub struct FreeSwitch {
    tree: PathBuf,
    pub conf: PathBuf,
    pub state: PathBuf,
    running: std::sync::atomic::AtomicBool,
}

impl FreeSwitch {
    /// Makes the configuration: `fs-run init-conf` (FreeSWITCH's vanilla tree), then the
    /// project's own `scripts/fs-install.sh` with the tier's ports and LittlePBX addresses;
    /// with `fs_db` (DSN without password, password) FreeSWITCH keeps its database there.
    pub fn configure(
        tree: &Path,
        root: &Path,
        ports: Ports,
        fs_db: Option<(&str, &str)>,
    ) -> anyhow::Result<Self> {
        let fs_db_args = match fs_db {
            Some((dsn, _)) => vec!["--fs-db".to_owned(), dsn.to_owned()],
            None => Vec::new(),
        };
        let fs_db_password = fs_db.map(|(_, password)| password).unwrap_or_default();
        let conf = root.join("fs-conf");
        let state = root.join("fs-state");
        let (rtp_start, rtp_end) = ports.rtp();
        run(Command::new(tree.join("fs-run"))
            .arg("init-conf")
            .arg(&conf)
            .args(["--sip-port-internal", &ports.sip().to_string()])
            .args(["--sip-port-external", &ports.carrier().to_string()])
            .args(["--esl-port", &ports.esl().to_string()])
            .args(["--esl-password", ESL_PASSWORD])
            .args(["--rtp-start", &rtp_start.to_string()])
            .args(["--rtp-end", &rtp_end.to_string()]))
        .context("fs-run init-conf")?;
        let printed = run(Command::new(repo_root().join("scripts/fs-install.sh"))
            .arg("--fs-conf-dir")
            .arg(&conf)
            .args([
                "--url",
                &format!("http://127.0.0.1:{}/fs/xml", ports.http(0)),
            ])
            .args([
                "--url2",
                &format!("http://127.0.0.1:{}/fs/xml", ports.http(1)),
            ])
            .args(["--user", HTTP_USER, "--password", HTTP_PASSWORD])
            .args(["--esl-password", ESL_PASSWORD])
            .args(["--sip-port", &ports.sip().to_string()])
            .args(["--tls-port", &ports.tls().to_string()])
            .args(["--carrier-port", &ports.carrier().to_string()])
            .args(["--esl-port", &ports.esl().to_string()])
            .args(&fs_db_args)
            .env("LITTLEPBX_FS_DB_PASSWORD", fs_db_password))
        .context("scripts/fs-install.sh")?;
        let esl_line = format!(
            "LITTLEPBX_FREESWITCH__ESL_ADDRESS=127.0.0.1:{}",
            ports.esl()
        );
        if !printed.lines().any(|line| line == esl_line) {
            bail!("fs-install.sh did not print {esl_line}: {printed}");
        }
        run(Command::new(repo_root().join("scripts/fs-install.sh"))
            .arg("--fs-conf-dir")
            .arg(&conf)
            .arg("--check")
            .args(["--sip-port", &ports.sip().to_string()])
            .args(["--carrier-port", &ports.carrier().to_string()])
            .args(["--esl-port", &ports.esl().to_string()])
            .args(&fs_db_args))
        .context("scripts/fs-install.sh --check")?;
        Ok(Self {
            tree: tree.to_owned(),
            conf,
            state,
            running: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Starts FreeSWITCH and waits until its profiles run (fs-run's own wait, 30 s at most). On
    /// failure the error carries the last lines of its log.
    pub fn start(&self) -> anyhow::Result<()> {
        let result = run(Command::new(self.tree.join("fs-run"))
            .arg("start")
            .arg("--conf")
            .arg(&self.conf)
            .arg("--state")
            .arg(&self.state)
            .args(["--timeout", "30"]));
        self.running
            .store(true, std::sync::atomic::Ordering::SeqCst);
        result
            .map(|_| ())
            .with_context(|| format!("FreeSWITCH did not start\n{}", self.log_tail(30)))
    }

    pub fn stop(&self) {
        if self
            .running
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            let _ = Command::new(self.tree.join("fs-run"))
                .arg("stop")
                .arg("--state")
                .arg(&self.state)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// An API command over fs_cli (`fs-run cli`); its output.
    pub fn api(&self, command: &str) -> anyhow::Result<String> {
        run(Command::new(self.tree.join("fs-run"))
            .arg("cli")
            .arg("--state")
            .arg(&self.state)
            .args(["-x", command]))
        .with_context(|| format!("fs_cli -x {command:?}"))
    }

    /// Polls `command` until `done` accepts its output, or fails after `timeout` with the last
    /// output.
    pub fn wait_for(
        &self,
        command: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let output = self.api(command)?;
            if done(&output) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                bail!("after {timeout:?}, {command:?} still answers:\n{output}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.state.join("log/freeswitch.log")
    }

    /// The log's size now: `log_since` reads what was written after it.
    pub fn log_mark(&self) -> u64 {
        std::fs::metadata(self.log_path())
            .map(|m| m.len())
            .unwrap_or(0)
    }

    pub fn log_since(&self, mark: u64) -> String {
        let bytes = std::fs::read(self.log_path()).unwrap_or_default();
        let start = (mark as usize).min(bytes.len());
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log_path())
            .or_else(|_| std::fs::read_to_string(self.state.join("fs-run.out")))
            .unwrap_or_else(|_| "(no log)".into());
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for FreeSwitch {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One LittlePBX process (the built binary, `littlepbx serve`).
pub struct Pbx {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Pbx {
    /// The environment of instance `n` on `database_url`; every instance shares the secrets.
    fn env(root: &Path, ports: Ports, n: u16, database_url: &str) -> Vec<(String, String)> {
        let data_dir = root.join(format!("pbx-{n}"));
        [
            ("LITTLEPBX_LISTEN", format!("127.0.0.1:{}", ports.http(n))),
            ("LITTLEPBX_DATABASE_URL", database_url.to_owned()),
            ("LITTLEPBX_DATA_DIR", data_dir.display().to_string()),
            (
                "LITTLEPBX_SECRET_KEY",
                "dGllci1zZWNyZXQta2V5LTMyLWJ5dGVzLWxvbmctISE=".to_owned(),
            ),
            (
                "LITTLEPBX_FREESWITCH__HTTP_PASSWORD",
                HTTP_PASSWORD.to_owned(),
            ),
            (
                "LITTLEPBX_FREESWITCH__ESL_ADDRESS",
                format!("127.0.0.1:{}", ports.esl()),
            ),
            (
                "LITTLEPBX_FREESWITCH__ESL_PASSWORD",
                ESL_PASSWORD.to_owned(),
            ),
            ("LITTLEPBX_FREESWITCH__SIP_PORT", ports.sip().to_string()),
            // The LDAP phone book on a free port (two instances run at once).
            ("LITTLEPBX_LDAP__LISTEN", "127.0.0.1:0".to_owned()),
            ("LITTLEPBX_LOG", "info,littlepbx=debug".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Creates a provider API key on the database (`littlepbx api-key create`).
    pub fn create_api_key(root: &Path, ports: Ports, database_url: &str) -> anyhow::Result<String> {
        let output = run(Command::new(env!("CARGO_BIN_EXE_littlepbx"))
            .args(["api-key", "create", "tier"])
            .envs(Self::env(root, ports, 0, database_url)))?;
        let created: Value = serde_json::from_str(&output).context("api-key create output")?;
        created["key"]
            .as_str()
            .map(str::to_owned)
            .context("no key printed")
    }

    /// Starts instance `n` (`extra` adds environment) and waits until `/healthz` answers.
    pub async fn start(
        root: &Path,
        ports: Ports,
        n: u16,
        database_url: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let log = root.join(format!("littlepbx-{n}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let child = Command::new(env!("CARGO_BIN_EXE_littlepbx"))
            .arg("serve")
            .envs(Self::env(root, ports, n, database_url))
            .envs(extra.iter().map(|(k, v)| (*k, *v)))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("starting littlepbx")?;
        let pbx = Self {
            child,
            port: ports.http(n),
            log,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = format!("http://127.0.0.1:{}/healthz", pbx.port);
            if let Ok(response) = http.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(pbx);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "LittlePBX did not answer /healthz in 30 s:\n{}",
                    pbx.log_tail(30)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// (The registration storm benchmark reads its CPU time.)
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Pbx {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs a command to its end; its standard output, or an error with both outputs.
pub fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}

/// The provider API with a key.
#[derive(Clone)]
pub struct Provider {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Provider {
    pub fn new(port: u16, key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}/api/v1"),
            key: key.to_owned(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        Ok(status_and_json(response).await)
    }

    /// Sends and requires a 2xx answer.
    pub async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let answer = self.send(method.clone(), path, body).await?;
        success(&method, path, answer)
    }
}

/// An org admin's browser: the org's host name, the session cookie, the CSRF header.
#[derive(Clone)]
pub struct OrgAdmin {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl OrgAdmin {
    pub async fn login(port: u16, slug: &str, email: &str, password: &str) -> anyhow::Result<Self> {
        let host = format!("pbx.{slug}.localhost");
        let http = reqwest::Client::builder()
            .resolve(&host, (Ipv4Addr::LOCALHOST, port).into())
            .build()?;
        let base = format!("http://{host}:{port}/api/org");
        let response = http
            .post(format!("{base}/login"))
            .header("x-littlepbx", "1")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("login to {slug}: {}", response.status());
        }
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("no session cookie")?
            .to_owned();
        Ok(Self { http, base, cookie })
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-littlepbx", "1")
            .header("cookie", &self.cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Ok(status_and_json(request.send().await?).await)
    }

    /// Sends and requires a 2xx answer.
    pub async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let answer = self.send(method.clone(), path, body).await?;
        success(&method, path, answer)
    }

    /// Uploads music on hold (`PUT /moh`, the raw file).
    pub async fn upload_moh(&self, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .put(format!("{}/moh", self.base))
            .header("x-littlepbx", "1")
            .header("cookie", &self.cookie)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await?;
        success(
            &reqwest::Method::PUT,
            "/moh",
            status_and_json(response).await,
        )
    }

    /// The revision of an extension, DID or the options, as `GET /pbx` shows it now.
    pub async fn revision(&self, kind: &str, id: &str) -> anyhow::Result<i64> {
        let pbx = self.ok(reqwest::Method::GET, "/pbx", None).await?;
        let item = match kind {
            "options" => Some(&pbx["options"]),
            "extension" => pbx["extensions"]
                .as_array()
                .and_then(|all| all.iter().find(|e| e["number"] == id)),
            "did" => pbx["dids"]
                .as_array()
                .and_then(|all| all.iter().find(|d| d["number"] == id)),
            _ => None,
        };
        item.and_then(|i| i["revision"].as_i64())
            .with_context(|| format!("no revision of {kind} {id} in {pbx}"))
    }

    /// Changes an extension in the draft.
    pub async fn patch_extension(&self, number: &str, mut patch: Value) -> anyhow::Result<()> {
        patch["revision"] = json!(self.revision("extension", number).await?);
        self.ok(
            reqwest::Method::PATCH,
            &format!("/extensions/{number}"),
            Some(patch),
        )
        .await
        .map(|_| ())
    }

    /// Starts an Apply; the job.
    pub async fn apply(&self, wait_for_calls: bool) -> anyhow::Result<Value> {
        self.ok(
            reqwest::Method::POST,
            "/apply",
            Some(json!({"wait_for_calls": wait_for_calls, "max_wait_seconds": 600, "email_me": false})),
        )
        .await
    }

    /// Waits (at most `timeout`) until the latest job satisfies `done`; the job.
    pub async fn wait_job(
        &self,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let started = Instant::now();
        loop {
            let job = self.ok(reqwest::Method::GET, "/jobs/latest", None).await?;
            if done(&job) {
                return Ok(job);
            }
            if started.elapsed() > timeout {
                bail!("after {timeout:?} the job is {job}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Applies without waiting and waits until FreeSWITCH has been told.
    pub async fn apply_and_sync(&self) -> anyhow::Result<Value> {
        self.apply(false).await?;
        self.wait_job(Duration::from_secs(20), |job| {
            job["state"] == "done" && job["freeswitch"] == "told"
        })
        .await
    }
}

/// The body of a 2xx answer, or an error naming the request and what came back.
fn success(
    method: &reqwest::Method,
    path: &str,
    (status, value): (u16, Value),
) -> anyhow::Result<Value> {
    if !(200..300).contains(&status) {
        bail!("{method} {path}: {status} {value}");
    }
    Ok(value)
}

pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, json)
}
