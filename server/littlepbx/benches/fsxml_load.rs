//! Load benchmark of `POST /fs/xml` against nginx serving answers of the same size as static
//! files, in the same run, on loopback.
//!
//! `scripts/bench-fsxml.sh` (installs nginx and wrk) runs it. It seeds `LPBX_BENCH_ORGS` orgs
//! (default 10,000) of `LPBX_BENCH_EXTENSIONS` extensions (default 100) into a fresh SQLite file,
//! starts the release `littlepbx serve`, and replays the captured FreeSWITCH requests
//! (../freeswitch/tests/fixtures): REGISTER `sip_auth` and call routing `dialplan`, half and half, each
//! for a random org and extension. wrk measures the maximum rate of both servers, then ours at
//! half that rate for latency; the server's resident memory is read from /proc.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;

mod common;
use common::{domain_of, env_usize, fixture, seed, sip_auth_body, slug, FS_PASSWORD};

/// A call from `from` to `to` inside org `i`, routed in the org's context.
fn dialplan_body(template: &str, i: usize, from: usize, to: usize) -> String {
    template
        .replace(
            "Hunt-Context=acme.test",
            &format!("Hunt-Context=org_{}", slug(i)),
        )
        .replace(
            "Caller-Context=acme.test",
            &format!("Caller-Context=org_{}", slug(i)),
        )
        .replace("=1002&", &format!("={}&", 1000 + to))
        .replace("=1001&", &format!("={}&", 1000 + from))
        .replace("acme.test", &domain_of(i))
}

fn start_server(dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_littlepbx"))
        .arg("serve")
        .env(
            "LITTLEPBX_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        )
        .env("LITTLEPBX_DATA_DIR", dir)
        .env("LITTLEPBX_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "LITTLEPBX_SECRET_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .env("LITTLEPBX_FREESWITCH__HTTP_PASSWORD", FS_PASSWORD)
        .env("LITTLEPBX_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start littlepbx")
}

/// Time from now until the server answers `probe` with a user.
async fn until_served(port: u16, probe: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (status, xml) = post(port, probe).await;
        if status == 200 && xml.contains("<user id=") {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the server did not load"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn post(port: u16, body: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/fs/xml"))
        .basic_auth("freeswitch", Some(FS_PASSWORD))
        .body(body.to_owned())
        .send()
        .await;
    match response {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

/// True when the server refuses a correct REGISTER (the source was locked out).
async fn littlepbx_locked_out(port: u16, template: &str, orgs: usize) -> bool {
    for k in 0..12 {
        let (_, xml) = post(port, &sip_auth_body(template, k % orgs, 0)).await;
        if !xml.contains("<user id=") {
            return true;
        }
    }
    false
}

fn start_nginx(dir: &Path, port: u16) -> Child {
    let conf = dir.join("nginx.conf");
    let root = dir.join("www");
    std::fs::write(
        &conf,
        format!(
            // One process (no master): killing the child stops nginx, no worker is left behind.
            "daemon off; master_process off; worker_processes 1; pid {pid}; error_log {dir}/nginx-error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;\n\
               client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy; fastcgi_temp_path {dir}/fcgi;\n\
               uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {root}; default_type text/xml; }} }}\n",
            pid = dir.join("nginx.pid").display(),
            dir = dir.display(),
            root = root.display(),
        ),
    )
    .unwrap();
    Command::new("nginx")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("start nginx")
}

/// A wrk script sending the bodies (one per line) in turn, optionally pausing between requests
/// on each connection to hold a rate.
fn wrk_script(
    dir: &Path,
    name: &str,
    method: &str,
    bodies_file: Option<&Path>,
    paths: &[&str],
    delay_ms: Option<f64>,
) -> PathBuf {
    let mut lua = String::new();
    let auth = base64_basic("freeswitch", FS_PASSWORD);
    let _ = writeln!(
        lua,
        "local bodies = {{}}\nlocal paths = {{{}}}",
        paths
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    if let Some(file) = bodies_file {
        let _ = writeln!(
            lua,
            "for line in io.lines(\"{}\") do bodies[#bodies + 1] = line end",
            file.display()
        );
    }
    let _ = writeln!(
        lua,
        "local i = 0\nlocal headers = {{[\"Authorization\"] = \"Basic {auth}\", [\"Content-Type\"] = \"application/x-www-form-urlencoded\"}}\n\
         request = function()\n  i = i + 1\n  local body = nil\n  if #bodies > 0 then body = bodies[(i % #bodies) + 1] end\n  \
         return wrk.format(\"{method}\", paths[(i % #paths) + 1], headers, body)\nend"
    );
    if let Some(delay) = delay_ms {
        let _ = writeln!(lua, "delay = function() return {delay:.3} end");
    }
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, lua).unwrap();
    path
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

struct WrkResult {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn run_wrk(port: u16, script: &Path, connections: usize, seconds: u64) -> WrkResult {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let number_after = |label: &str| -> Option<&str> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(str::trim)
    };
    let latency = |p: &str| -> f64 {
        number_after(&format!("{p}%"))
            .map(parse_duration_ms)
            .unwrap_or(f64::NAN)
    };
    WrkResult {
        requests_per_second: number_after("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: latency("50"),
        p99_ms: latency("99"),
        non_2xx: number_after("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    }
}

fn parse_duration_ms(text: &str) -> f64 {
    let text = text.trim();
    let (number, factor) = if let Some(v) = text.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (text, 1.0)
    };
    number
        .parse::<f64>()
        .map(|n| n * factor)
        .unwrap_or(f64::NAN)
}

fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main]
async fn main() {
    let orgs = env_usize("LPBX_BENCH_ORGS", 10_000);
    let extensions = env_usize("LPBX_BENCH_EXTENSIONS", 100);
    let seconds = env_usize("LPBX_BENCH_SECONDS", 15) as u64;
    let connections = env_usize("LPBX_BENCH_CONNECTIONS", 32);
    // LPBX_BENCH_DIR keeps the seeded database between runs (seeded once per size).
    let temp = tempfile::tempdir().unwrap();
    let dir_path = std::env::var("LPBX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| temp.path().to_owned());
    let dir = dir_path.as_path();
    let db = dir.join("bench.db");
    let seeded_marker = dir.join(format!("seeded-{orgs}x{extensions}"));
    if !seeded_marker.exists() {
        let _ = std::fs::remove_file(&db);
        std::fs::create_dir_all(dir).unwrap();
        seed(
            &format!("sqlite://{}?mode=rwc", db.display()),
            orgs,
            extensions,
        )
        .await;
        std::fs::write(&seeded_marker, b"").unwrap();
    }

    let port = free_port();
    let sip_auth = fixture("10_directory_register_sip_auth.txt");
    let dialplan = fixture("21_dialplan_call_1001_to_1002.txt");
    let probe = sip_auth_body(&sip_auth, orgs - 1, extensions - 1);
    // First start: the XML cache loads from the database and writes the snapshot file. Second
    // start: the file is at the database's epoch and is served at once.
    let snapshot = dir.join("freeswitch-snapshot.jsonl");
    let _ = std::fs::remove_file(&snapshot);
    let mut server = start_server(dir, port);
    let from_database = until_served(port, &probe).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    while !snapshot.exists() {
        assert!(Instant::now() < deadline, "no snapshot file was written");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let snapshot_mib = std::fs::metadata(&snapshot).unwrap().len() as f64 / 1048576.0;
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    server = start_server(dir, port);
    let from_snapshot = until_served(port, &probe).await;
    eprintln!("server ready after {from_database:.1?} (database), {from_snapshot:.1?} (snapshot)");
    let (rss_ready, _) = rss_mib(server.id());

    // The request mix, and the answers to size nginx's files like ours.
    let mut rng = rand::thread_rng();
    let mut lines = String::new();
    for k in 0..20_000 {
        let i = rng.gen_range(0..orgs);
        let (a, b) = (rng.gen_range(0..extensions), rng.gen_range(0..extensions));
        let body = if k % 2 == 0 {
            sip_auth_body(&sip_auth, i, a)
        } else {
            dialplan_body(&dialplan, i, a, b)
        };
        lines.push_str(&body);
        lines.push('\n');
    }
    let bodies = dir.join("bodies.txt");
    std::fs::write(&bodies, lines).unwrap();
    let (_, user_answer) = post(port, &sip_auth_body(&sip_auth, 7, 3)).await;
    let (_, dialplan_answer) = post(port, &dialplan_body(&dialplan, 7, 3, 4)).await;
    assert!(user_answer.contains("<user id=\"1003\""), "{user_answer}");
    assert!(
        !littlepbx_locked_out(port, &sip_auth, orgs).await,
        "the benchmark's own requests must verify"
    );
    assert!(
        dialplan_answer.contains("<context name=\"org_org7\""),
        "{dialplan_answer}"
    );
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/user.xml"), &user_answer).unwrap();
    std::fs::write(dir.join("www/dialplan.xml"), &dialplan_answer).unwrap();
    let nginx_port = free_port();
    let mut nginx = start_nginx(dir, nginx_port);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let ours = wrk_script(dir, "ours", "POST", Some(&bodies), &["/fs/xml"], None);
    let static_files = wrk_script(
        dir,
        "nginx",
        "GET",
        None,
        &["/user.xml", "/dialplan.xml"],
        None,
    );
    let _ = run_wrk(port, &ours, connections, 3); // warm-up
    let nginx_max = run_wrk(nginx_port, &static_files, connections, seconds);
    let our_max = run_wrk(port, &ours, connections, seconds);
    let (rss_after_max, peak) = rss_mib(server.id());

    // Half of our maximum rate: each connection pauses so that together they send that rate.
    let half_rate = our_max.requests_per_second / 2.0;
    let delay = connections as f64 * 1000.0 / half_rate;
    let half_script = wrk_script(
        dir,
        "ours-half",
        "POST",
        Some(&bodies),
        &["/fs/xml"],
        Some(delay),
    );
    let our_half = run_wrk(port, &half_script, connections, seconds);
    let (rss_end, peak_end) = rss_mib(server.id());
    assert!(
        !littlepbx_locked_out(port, &sip_auth, orgs).await,
        "requests were refused during the run"
    );

    println!("POST /fs/xml vs nginx static files of the same sizes ({} and {} bytes), loopback, wrk -t2 -c{connections}", user_answer.len(), dialplan_answer.len());
    println!("data: {orgs} orgs x {extensions} extensions; mix: 50% sip_auth REGISTER, 50% dialplan, random org and extension");
    println!(
        "  nginx max:       {:>9.0} req/s  p50 {:.3} ms  p99 {:.3} ms",
        nginx_max.requests_per_second, nginx_max.p50_ms, nginx_max.p99_ms
    );
    println!(
        "  littlepbx max:   {:>9.0} req/s  p50 {:.3} ms  p99 {:.3} ms  (non-2xx: {})",
        our_max.requests_per_second, our_max.p50_ms, our_max.p99_ms, our_max.non_2xx
    );
    println!(
        "  ratio littlepbx/nginx: {:.2}",
        our_max.requests_per_second / nginx_max.requests_per_second
    );
    println!(
        "  littlepbx at half load: {:>6.0} req/s  p50 {:.3} ms  p99 {:.3} ms",
        our_half.requests_per_second, our_half.p50_ms, our_half.p99_ms
    );
    println!(
        "  start-up until FreeSWITCH is served: {:.1} s loading the database, {:.1} s from the snapshot file ({snapshot_mib:.0} MiB), ratio {:.2}",
        from_database.as_secs_f64(),
        from_snapshot.as_secs_f64(),
        from_snapshot.as_secs_f64() / from_database.as_secs_f64()
    );
    println!("  littlepbx RSS: {rss_ready:.0} MiB when loaded, {rss_after_max:.0} MiB after max load, {rss_end:.0} MiB at the end, peak {:.0} MiB", peak.max(peak_end));

    let _ = nginx.kill();
    let _ = nginx.wait();
    let _ = server.kill();
    let _ = server.wait();
}
