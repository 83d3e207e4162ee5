//! Registration storm: every phone of `LPBX_STORM_ORGS` orgs x `LPBX_STORM_EXTENSIONS`
//! extensions (default 100 x 100) registers at once after a FreeSWITCH restart, with digest
//! authentication, against the real FreeSWITCH of `../shared/freeswitch` configured by
//! `scripts/fs-install.sh`: once with FreeSWITCH asking LittlePBX for the users, once with the
//! same users as static XML (LittlePBX's own answers, written into FreeSWITCH's directory). The
//! two setups alternate at each rate (`LPBX_STORM_RATES`, default 75,150,200,250,300,400
//! REGISTERs/s), each run on a FreeSWITCH started afresh with no registrations.
//!
//! `LPBX_STORM_COMPARE=fs-db` compares FreeSWITCH's own database instead: both runs ask LittlePBX,
//! one with FreeSWITCH's database in its SQLite files, one with it on a private MariaDB
//! (`fs-install.sh --fs-db`), emptied before each run.
//!
//! `phones` plays the phones (one unique Contact each, digest per user, retransmitting like a
//! phone). Per run: registrations that succeeded and
//! failed, retransmissions, the achieved rate, p50/p95 of REGISTER-to-200 (both round trips),
//! and the CPU FreeSWITCH and LittlePBX used. `scripts/bench-registration-storm.sh` runs it.

#[allow(dead_code)]
#[path = "../../tests/freeswitch/fixture.rs"]
mod fixture;

#[path = "../common/mod.rs"]
mod common;
mod phones;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{domain_of, env_usize, fixture as capture, seed, sip_auth_body};
use fixture::{FreeSwitch, Pbx, Ports};
use phones::Phone;

/// fixture.rs seeds its port choice with it.
fn now_ms() -> i64 {
    store::now_ms()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Setup {
    StaticXml,
    LittlePbx,
    /// LittlePBX, and FreeSWITCH's database on MariaDB.
    LittlePbxFsOnMariaDb,
}

/// The FreeSWITCH configured with `--fs-db`, and where its database lives.
struct MariaDbFreeSwitch {
    fs: FreeSwitch,
    admin_url: String,
}

const STORM_FS_DATABASE: &str = "lpbx_storm_fs";

impl MariaDbFreeSwitch {
    async fn configure(tree: &std::path::Path, dir: &std::path::Path, ports: Ports) -> Self {
        let admin_url = testkit::mariadb_admin_url().expect("MariaDB for the fs-db comparison");
        let server = testkit::mariadb::AdminUrl::parse(&admin_url).unwrap();
        let (host, port, user) = (&server.host, &server.port, &server.user);
        let dsn =
            format!("mariadb://Server={host};Port={port};Database={STORM_FS_DATABASE};Uid={user};");
        let password = server.password.as_str();
        let fs = FreeSwitch::configure(tree, &dir.join("fs-db"), ports, Some((&dsn, password)))
            .expect("FreeSWITCH configuration with --fs-db");
        Self { fs, admin_url }
    }

    /// FreeSWITCH's database, empty: FreeSWITCH creates its tables when it starts.
    async fn empty(&self) {
        use sea_orm::ConnectionTrait;
        let admin = sea_orm::Database::connect(self.admin_url.as_str())
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {STORM_FS_DATABASE}; CREATE DATABASE {STORM_FS_DATABASE} \
                 CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
}

#[derive(Debug, Default)]
struct Run {
    ok: u64,
    failed: u64,
    retransmissions: u64,
    achieved_rate: f64,
    p50_ms: f64,
    p95_ms: f64,
    freeswitch_cpu: f64,
    littlepbx_cpu: Option<f64>,
    /// Registrations FreeSWITCH holds afterwards (`show registrations`).
    registered: u64,
    /// FreeSWITCH's requests to the phones (voicemail-lamp NOTIFYs) the phones answered.
    requests_answered: u64,
}

/// CPU seconds (user + system) a process used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

fn freeswitch_pid(fs: &FreeSwitch) -> u32 {
    let pid_file = fs.state.join("run/freeswitch.pid");
    std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {}", pid_file.display()))
}

/// LittlePBX's own `sip_auth` answers for every user, merged into one static directory file.
async fn static_directory(port: u16, orgs: usize, extensions: usize) -> String {
    let template = capture("10_directory_register_sip_auth.txt");
    let http = reqwest::Client::new();
    let mut xml = String::from("<include>\n");
    for i in 0..orgs {
        for n in 0..extensions {
            let answer = http
                .post(format!("http://127.0.0.1:{port}/fs/xml"))
                .basic_auth(fixture::HTTP_USER, Some(fixture::HTTP_PASSWORD))
                .body(sip_auth_body(&template, i, n))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let domain_start = answer.find("<domain ").expect("a domain");
            let users_open = answer.find("<users>").expect("users") + "<users>".len();
            let user = &answer[users_open..answer.find("</users>").expect("users end")];
            if n == 0 {
                xml.push_str(&answer[domain_start..users_open]);
            }
            xml.push_str(user);
            if n + 1 == extensions {
                xml.push_str("</users></group></groups></domain>\n");
            }
        }
    }
    xml.push_str("</include>\n");
    xml
}

/// Makes the configuration ask LittlePBX for the directory, or read it from the static file.
fn select_setup(fs: &FreeSwitch, setup: Setup, directory: &str) {
    let curl = fs.conf.join("autoload_configs/xml_curl.conf.xml");
    let text = std::fs::read_to_string(&curl).unwrap();
    let (from, to) = match setup {
        Setup::StaticXml => ("bindings=\"directory|dialplan", "bindings=\"dialplan"),
        Setup::LittlePbx | Setup::LittlePbxFsOnMariaDb => {
            ("bindings=\"dialplan", "bindings=\"directory|dialplan")
        }
    };
    std::fs::write(&curl, text.replace(from, to)).unwrap();
    let file = fs.conf.join("directory/storm.xml");
    match setup {
        Setup::StaticXml => std::fs::write(file, directory).unwrap(),
        Setup::LittlePbx | Setup::LittlePbxFsOnMariaDb => {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// How many registrations FreeSWITCH holds ("N total." ends `show registrations`), once the
/// count stopped moving (FreeSWITCH writes them through a queue).
fn registrations(fs: &FreeSwitch) -> u64 {
    let count = || -> u64 {
        let output = fs.api("show registrations").unwrap_or_default();
        output
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_suffix(" total.")?.parse().ok())
            .unwrap_or(0)
    };
    let mut last = count();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(500));
        let now = count();
        if now == last {
            break;
        }
        last = now;
    }
    last
}

/// What every storm runs on.
struct Bench {
    fs: FreeSwitch,
    fs_on_mariadb: Option<MariaDbFreeSwitch>,
    pbx: Pbx,
    ports: Ports,
    /// The static directory file (the users as LittlePBX answers them).
    directory: String,
    phones: Arc<Vec<Phone>>,
    /// Where FreeSWITCH's temp and log directories live (`LPBX_STORM_FS_SCRATCH`).
    fs_scratch: FsScratch,
}

/// Where FreeSWITCH writes its scratch files. For every lookup, mod_xml_curl writes the answer to a
/// file in the temp directory (`-temp`), and `switch_xml_parse_file` copies it to two more files
/// in the log directory (`-log`) while it holds one lock shared by every lookup. On ext4 this
/// create-and-delete cycle costs FreeSWITCH measurable CPU and makes lookups queue for that lock.
/// Static XML is read once at start-up, so only the LittlePBX setup pays for it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FsScratch {
    /// fs-run's default: `<state>/tmp` and `<state>/log`, on the disk of the benchmark's files.
    Disk,
    /// `<state>/tmp` and `<state>/log` are links to directories in /dev/shm (tmpfs).
    Tmpfs,
}

impl FsScratch {
    /// tmpfs, the recommended set-up (docs/registration-storm.md), unless
    /// `LPBX_STORM_FS_SCRATCH=disk`.
    fn from_env() -> Self {
        match std::env::var("LPBX_STORM_FS_SCRATCH").as_deref() {
            Ok("disk") => Self::Disk,
            _ => Self::Tmpfs,
        }
    }

    /// Puts FreeSWITCH's temp and log directories where `self` says, before it starts.
    fn place(self, fs: &FreeSwitch) {
        std::fs::create_dir_all(&fs.state).unwrap();
        for name in ["tmp", "log"] {
            let dir = fs.state.join(name);
            let _ = std::fs::remove_file(&dir);
            let _ = std::fs::remove_dir_all(&dir);
            match self {
                Self::Disk => std::fs::create_dir_all(&dir).unwrap(),
                Self::Tmpfs => {
                    let shm = Path::new("/dev/shm")
                        .join(format!("lpbx-storm-{}", std::process::id()))
                        .join(name);
                    let _ = std::fs::remove_dir_all(&shm);
                    std::fs::create_dir_all(&shm).unwrap();
                    std::os::unix::fs::symlink(&shm, &dir).unwrap();
                }
            }
        }
    }
}

impl Bench {
    /// One storm at `rate` on a FreeSWITCH started afresh for `setup`.
    async fn storm(&mut self, setup: Setup, rate: usize) -> Run {
        self.fs.stop();
        if let Some(other) = &self.fs_on_mariadb {
            other.fs.stop();
        }
        let fs = match (setup, &self.fs_on_mariadb) {
            (Setup::LittlePbxFsOnMariaDb, Some(other)) => {
                other.empty().await;
                &other.fs
            }
            _ => &self.fs,
        };
        let _ = std::fs::remove_dir_all(fs.state.join("db"));
        self.fs_scratch.place(fs);
        select_setup(fs, setup, &self.directory);
        fs.start().expect("FreeSWITCH starts");
        std::thread::sleep(Duration::from_secs(2));
        let fs_pid = freeswitch_pid(fs);
        let pbx_pid = self.pbx.pid();
        let (fs_cpu, pbx_cpu) = (cpu_seconds(fs_pid), cpu_seconds(pbx_pid));
        let target = SocketAddr::from(([127, 0, 0, 1], self.ports.sip()));
        let outcome = phones::storm(self.phones.clone(), target, rate as f64).await;
        let seconds = outcome.elapsed.as_secs_f64();
        let mut run = Run {
            ok: outcome.ok,
            failed: outcome.failed,
            retransmissions: outcome.retransmissions,
            requests_answered: outcome.requests_answered,
            achieved_rate: outcome.ok as f64 / seconds,
            p50_ms: outcome.percentile_ms(0.50),
            p95_ms: outcome.percentile_ms(0.95),
            ..Run::default()
        };
        run.freeswitch_cpu = (cpu_seconds(fs_pid) - fs_cpu) / seconds * 100.0;
        if setup != Setup::StaticXml {
            run.littlepbx_cpu = Some((cpu_seconds(pbx_pid) - pbx_cpu) / seconds * 100.0);
        }
        run.registered = registrations(fs);
        run
    }
}

fn row(run: &Run) -> String {
    format!(
        "{:>6} / {:<6} {:>7} {:>8.0}/s {:>7.0} {:>7.0} {:>5.0}%{}  held {}, NOTIFYs answered {}",
        run.ok,
        run.failed,
        run.retransmissions,
        run.achieved_rate,
        run.p50_ms,
        run.p95_ms,
        run.freeswitch_cpu,
        run.littlepbx_cpu
            .map(|c| format!(" ({c:.0}%)"))
            .unwrap_or_default(),
        run.registered,
        run.requests_answered
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orgs = env_usize("LPBX_STORM_ORGS", 100);
    let extensions = env_usize("LPBX_STORM_EXTENSIONS", 100);
    let users = orgs * extensions;
    let rates: Vec<usize> = std::env::var("LPBX_STORM_RATES")
        .unwrap_or_else(|_| "75,150,200,250,300,400".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let tree = match fixture::freeswitch_tree() {
        Ok(tree) => tree,
        Err(why) => {
            eprintln!("registration storm skipped: {why}");
            return;
        }
    };
    // LPBX_STORM_KEEP=1 keeps the files (sipp's logs, FreeSWITCH's configuration) for a look.
    let temp = tempfile::Builder::new()
        .prefix("lpbx-storm-")
        .disable_cleanup(std::env::var_os("LPBX_STORM_KEEP").is_some())
        .tempdir()
        .unwrap();
    let dir: PathBuf = temp.path().to_owned();
    eprintln!("files in {}", dir.display());
    let database_url = format!("sqlite://{}?mode=rwc", dir.join("storm.db").display());
    seed(&database_url, orgs, extensions).await;
    let ports = Ports::pick().unwrap();
    let fs = FreeSwitch::configure(&tree, &dir, ports, None).expect("FreeSWITCH configuration");
    // LPBX_STORM_LOG sets LittlePBX's log filter (its log is in the kept files).
    let log = std::env::var("LPBX_STORM_LOG").unwrap_or_else(|_| "warn".into());
    let pbx = Pbx::start(&dir, ports, 0, &database_url, &[("LITTLEPBX_LOG", &log)])
        .await
        .expect("LittlePBX starts");
    let directory = static_directory(ports.http(0), orgs, extensions).await;
    let compare_fs_db = std::env::var("LPBX_STORM_COMPARE").is_ok_and(|v| v == "fs-db");
    let fs_on_mariadb = if compare_fs_db {
        Some(MariaDbFreeSwitch::configure(&tree, &dir, ports).await)
    } else {
        None
    };

    println!("Registration storm: {users} users of {orgs} orgs registering from empty (REGISTER, 401, REGISTER with digest, 200), UDP on loopback");
    println!("columns: ok / failed, retransmissions, achieved rate, p50 and p95 ms (first REGISTER to 200), FreeSWITCH CPU (LittlePBX's own CPU), registrations FreeSWITCH holds afterwards, FreeSWITCH's requests (MWI NOTIFYs) the phones answered 200");
    let phones = (0..extensions)
        .flat_map(|n| (0..orgs).map(move |i| (n, i)))
        .map(|(n, i)| {
            Phone::new(
                &(1000 + n).to_string(),
                &domain_of(i),
                &format!("o{i}"),
                "secret",
            )
        })
        .collect();
    let mut bench = Bench {
        fs,
        fs_on_mariadb,
        pbx,
        ports,
        directory,
        phones: Arc::new(phones),
        fs_scratch: FsScratch::from_env(),
    };
    println!(
        "FreeSWITCH's temp and log directories (mod_xml_curl's answer files): {:?}",
        bench.fs_scratch
    );
    let repeat = env_usize("LPBX_STORM_REPEAT", 1).max(1);
    let compare = std::env::var("LPBX_STORM_COMPARE").unwrap_or_default();
    if compare_fs_db {
        println!("comparing FreeSWITCH's database in SQLite files with it on MariaDB; both ask LittlePBX for the users");
        for rate in rates {
            let mariadb = bench.storm(Setup::LittlePbxFsOnMariaDb, rate).await;
            let sqlite = bench.storm(Setup::LittlePbx, rate).await;
            println!("{rate:>4}/s FS db SQLite:  {}", row(&sqlite));
            println!("{rate:>4}/s FS db MariaDB: {}", row(&mariadb));
            println!("{}", ratios(rate, "MariaDB/SQLite", &mariadb, &sqlite));
        }
        bench.fs.stop();
        if let Some(other) = &bench.fs_on_mariadb {
            other.fs.stop();
        }
        return;
    }
    if compare == "fs-scratch" {
        println!("comparing FreeSWITCH's temp and log directories on disk with them on tmpfs; both ask LittlePBX for the users");
        let mut summary = FailureFree::default();
        for rate in rates {
            for _ in 0..repeat {
                bench.fs_scratch = FsScratch::Disk;
                let disk = bench.storm(Setup::LittlePbx, rate).await;
                bench.fs_scratch = FsScratch::Tmpfs;
                let tmpfs = bench.storm(Setup::LittlePbx, rate).await;
                println!("{rate:>4}/s scratch on disk:  {}", row(&disk));
                println!("{rate:>4}/s scratch on tmpfs: {}", row(&tmpfs));
                summary.add(rate, &disk, &tmpfs, users);
            }
        }
        summary.print("on disk", "on tmpfs");
        bench.fs.stop();
        return;
    }
    let mut summary = FailureFree::default();
    for rate in rates {
        for _ in 0..repeat {
            let ours = bench.storm(Setup::LittlePbx, rate).await;
            let baseline = bench.storm(Setup::StaticXml, rate).await;
            println!("{rate:>4}/s static XML: {}", row(&baseline));
            println!("{rate:>4}/s LittlePBX:  {}", row(&ours));
            println!("{}", ratios(rate, "LittlePBX/static", &ours, &baseline));
            summary.add(rate, &baseline, &ours, users);
        }
    }
    summary.print("static XML", "LittlePBX");
    bench.fs.stop();
}

/// One rate's ratios of a setup to its baseline.
fn ratios(rate: usize, label: &str, ours: &Run, baseline: &Run) -> String {
    format!(
        "{rate:>4}/s ratio {label}: ok {:.2}, achieved rate {:.2}, p95 {:.2}",
        ours.ok as f64 / baseline.ok.max(1) as f64,
        ours.achieved_rate / baseline.achieved_rate.max(f64::MIN_POSITIVE),
        ours.p95_ms / baseline.p95_ms
    )
}

/// The highest rate each of two setups carried without failing: every registration succeeded and
/// retransmissions stayed under 10% of the registrations (no retransmission storm), in every run at that rate and below.
#[derive(Default)]
struct FailureFree {
    /// Per run, in the order run: the rate, and whether each setup's run was clean.
    runs: Vec<(usize, [bool; 2])>,
}

impl FailureFree {
    fn clean(run: &Run, users: usize) -> bool {
        run.failed == 0 && run.ok as usize == users && run.retransmissions * 10 < users as u64
    }

    fn add(&mut self, rate: usize, first: &Run, second: &Run, users: usize) {
        self.runs.push((
            rate,
            [Self::clean(first, users), Self::clean(second, users)],
        ));
    }

    /// The highest rate below which setup `which` never failed (0 if its lowest rate failed).
    fn rate(&self, which: usize) -> usize {
        let first_failure = self
            .runs
            .iter()
            .filter(|(_, clean)| !clean[which])
            .map(|(rate, _)| *rate)
            .min()
            .unwrap_or(usize::MAX);
        self.runs
            .iter()
            .map(|(rate, _)| *rate)
            .filter(|rate| *rate < first_failure)
            .max()
            .unwrap_or(0)
    }

    fn print(&self, first: &str, second: &str) {
        let (a, b) = (self.rate(0), self.rate(1));
        println!(
            "failure-free rate (no failure, retransmissions under 10%): {first} {a}/s, {second} {b}/s, ratio {:.2}",
            b as f64 / a.max(1) as f64
        );
    }
}
