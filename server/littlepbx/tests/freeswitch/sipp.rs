//! Driving SIPp (Debian's `sip-tester`, `/usr/bin/sipp` 3.6.1) from integration tests.
//!
//! Each helper writes a scenario XML into a temporary directory and runs sipp as a child
//! process with `-trace_msg`, so that every SIP message it sent or received lands in a
//! message log. The outcome of a run is read from that log, not from sipp's exit code or
//! screen: the log says exactly what FreeSWITCH answered, whatever path the scenario took.
//!
//! Set SIPP_KEEP=1 to keep each run's scenario and logs (the directory is printed).
//!
//! Values (users, domains, headers) are put into the scenario text directly; they are
//! test constants, so they only must not contain `]]>` (the end of the CDATA sections).

// Every test binary uses a different part of this module.
#![allow(dead_code)]

use std::fs;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

/// The sipp binary of Debian's `sip-tester` package.
const SIPP: &str = "/usr/bin/sipp";

/// RTP port offered in our SDP. Nothing listens there: the tests check signalling only, and
/// port 9 (discard) never collides with a SIP port of another sipp.
const DUMMY_RTP_PORT: u16 = 9;

/// How long the UAS helper runs at most, in case a test forgets to stop it (Drop kills it
/// anyway; this also bounds a panicking test's leftovers).
const UAS_TIMEOUT_S: u64 = 600;

/// Provisional responses that keep a transaction waiting for its final answer.
const PROVISIONAL: &[u16] = &[100, 180, 181, 182, 183];

/// Final failure responses a scenario accepts (any other one makes sipp report an unexpected
/// message, which still shows in the outcome). FreeSWITCH's hangup causes map to most of
/// these (e.g. USER_NOT_REGISTERED 404, NO_ROUTE_DESTINATION 404, USER_BUSY 486,
/// NO_ANSWER 480, CALL_REJECTED 603, INCOMPATIBLE_DESTINATION 488, NORMAL_TEMPORARY_FAILURE 503).
const FAILURES: &[u16] = &[
    400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 413, 414, 415, 416, 420, 421, 423, 480, 481,
    482, 483, 484, 485, 486, 487, 488, 489, 491, 493, 500, 501, 502, 503, 504, 505, 513, 580, 600,
    603, 604, 606, 607,
];

/// Digest challenges that a client holding credentials answers.
const CHALLENGES: &[u16] = &[401, 407];

/// Positive final answers to SUBSCRIBE and REFER (202 Accepted, or 200).
const ACCEPTED: &[u16] = &[202, 200];

/// How long a SUBSCRIBE run waits for (further) NOTIFYs after the final answer.
const NOTIFY_WINDOW_MS: u64 = 1000;

/// How long an answered call waits before it sends its REFER.
pub const REFER_DELAY_MS: u64 = 500;

/// CSeq of the REFER (the INVITE took 1 or 2, the BYE takes 10); its authenticated
/// resend takes the next one.
const REFER_CSEQ: u32 = 3;

/// A SIP user agent identity.
#[derive(Clone, Debug)]
pub struct Account {
    pub user: String,
    pub domain: String,
    pub password: String,
}

/// Where FreeSWITCH listens (SIP over UDP).
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub ip: Ipv4Addr,
    pub port: u16,
}

/// What a finished sipp run saw.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: Option<i32>,
    /// Status codes of the responses received, in order (e.g. [401, 200] or
    /// [100, 407, 100, 180, 200, 200]). Only responses to this run's own requests (same
    /// Call-ID) count: a stray retransmission from an earlier call on the port does not.
    pub responses: Vec<u16>,
    /// Request methods received from FreeSWITCH, in order (e.g. ["BYE"],
    /// ["INVITE", "ACK", "BYE"], ["NOTIFY"]). In a run that sent requests only those within
    /// its own Call-IDs count: not the NOTIFYs of an earlier run's subscription to the port.
    pub requests_received: Vec<String>,
    /// Every received message as text (for assertions on headers and for failure messages),
    /// strays included.
    pub received: Vec<String>,
    /// The final response (>= 200) to the INVITE, REGISTER or SUBSCRIBE this run sent, if
    /// any (the last one, i.e. the answer to the authenticated resend after a challenge).
    pub final_code: Option<u16>,
    /// The final response to the REFER a call sent (202, 403...), the last one as for
    /// final_code; None when no REFER was sent or it got no final answer.
    pub refer_code: Option<u16>,
}

impl Outcome {
    /// How many `method` requests of this run's own calls FreeSWITCH sent.
    pub fn count(&self, method: &str) -> usize {
        self.requests_received
            .iter()
            .filter(|m| *m == method)
            .count()
    }

    /// The `method` requests received, whole (strays included), for a look at their headers.
    pub fn requests(&self, method: &str) -> Vec<&str> {
        let start = format!("{method} ");
        self.received
            .iter()
            .filter(|m| m.starts_with(&start))
            .map(String::as_str)
            .collect()
    }
}

/// How the caller ends an answered call.
#[derive(Clone, Copy, Debug)]
pub enum Hangup {
    /// Sends BYE after this long (unless FreeSWITCH hangs up first).
    AfterMs(u64),
}

/// Options of an outgoing call.
#[derive(Clone, Debug)]
pub struct Call {
    /// From user@domain; also the digest credentials when challenged.
    pub from: Account,
    /// Request-URI user; the Request-URI host is `from.domain`.
    pub to_user: String,
    /// Full Request-URI override, e.g. "sip:gw+globex.in@127.0.0.1:5060".
    pub request_uri: Option<String>,
    /// To user if different from `to_user`.
    pub to_header_user: Option<String>,
    /// Raw header lines added to the INVITE, e.g. "Replaces: abc".
    pub extra_headers: Vec<String>,
    /// Source address (127.0.0.x), also in Via/Contact/SDP.
    pub local_ip: Ipv4Addr,
    pub local_port: u16,
    /// true: answer a 407 (or 401) challenge with `from`'s credentials (phones); false:
    /// carriers, a challenge is then the final answer (ACKed, recorded in final_code).
    pub authenticate: bool,
    /// When answered: keep the call this long, then send BYE.
    pub hold_ms: u64,
    /// Global sipp timeout.
    pub timeout_s: u64,
    /// When answered: after `refer_after_ms` (counted in hold_ms) send an in-dialog REFER with
    /// this Refer-To value (e.g. "<sip:102@pbx.acme.localhost>"), answer a challenge to it if
    /// `authenticate`, record its answer in Outcome::refer_code and go on with the hold.
    pub refer_to: Option<String>,
    /// See `refer_to`; [`REFER_DELAY_MS`] unless a scenario needs time before the REFER.
    pub refer_after_ms: u64,
    /// The INVITE's Call-ID (sipp's `-cid_str`, no `%` in it); sipp makes one up when `None`.
    /// A scenario sets it when another call's REFER must name this call.
    pub call_id: Option<String>,
}

/// What a phone or carrier does with an INVITE.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    /// 180, 200 with SDP, then wait for ACK and BYE and answer 200.
    Answer,
    /// 180 and then answer CANCEL with 200 + 487.
    RingOnly,
}

/// A running sipp (call or UAS), killed on drop if still running.
pub struct Running {
    child: Child,
    /// sipp's own `-timeout`; `wait` gives it 5 s more before killing it.
    timeout: Duration,
    log: PathBuf,
    errlog: PathBuf,
    stderr: PathBuf,
    /// Holds the scenario and logs; removed on drop.
    _dir: tempfile::TempDir,
}

impl Running {
    /// Waits for sipp to end (at most its own timeout + 5 s) and parses its message log.
    pub fn wait(mut self) -> Result<Outcome> {
        let deadline = Instant::now() + self.timeout + Duration::from_secs(5);
        let status = match self.wait_until(deadline)? {
            Some(status) => status,
            None => {
                self.kill()?;
                bail!(
                    "sipp did not end within {:?} (its timeout + 5 s); killed it. Seen so far:\n{}",
                    self.timeout + Duration::from_secs(5),
                    self.log_text()
                );
            }
        };
        self.outcome(status)
    }

    /// Stops it (SIGTERM by pid, then kill) and parses what it saw so far.
    pub fn stop(mut self) -> Result<Outcome> {
        let status = match self.child.try_wait()? {
            Some(status) => status,
            None => {
                // SIGTERM first so that sipp flushes its logs; std has no signal API, so this
                // goes through kill(1), addressed by our child's own pid.
                let pid = self.child.id().to_string();
                let _ = Command::new("kill")
                    .args(["-TERM", &pid])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                match self.wait_until(Instant::now() + Duration::from_secs(2))? {
                    Some(status) => status,
                    None => self.kill()?,
                }
            }
        };
        let mut outcome = parse_outcome(&self.log_text());
        outcome.exit_code = status.code();
        Ok(outcome)
    }

    /// True once a request with this method was received (reads the log so far).
    pub fn has_received(&self, method: &str) -> bool {
        parse_outcome(&self.log_text())
            .requests_received
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
    }

    /// Polls has_received until true or `timeout`; returns whether it was seen.
    pub fn wait_for_request(&self, method: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.has_received(method) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls the child until it exits or `deadline` passes (None then).
    fn wait_until(&mut self, deadline: Instant) -> Result<Option<ExitStatus>> {
        loop {
            if let Some(status) = self.child.try_wait().context("waiting for sipp")? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) -> Result<ExitStatus> {
        // Child::kill sends SIGKILL to this child's pid only.
        let _ = self.child.kill();
        self.child.wait().context("reaping sipp")
    }

    /// The message log so far ("" before sipp wrote anything).
    /// Every message sipp sent and received so far, as it logged them.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Outcome of a finished run; an error when sipp itself failed (bad scenario, port in use).
    fn outcome(&self, status: ExitStatus) -> Result<Outcome> {
        // sipp exits 255 (-1) on fatal errors and 254 (-2) when it cannot bind its socket.
        if matches!(status.code(), Some(254 | 255)) {
            bail!(
                "sipp failed ({status}):\n{}\n{}",
                fs::read_to_string(&self.stderr).unwrap_or_default(),
                fs::read_to_string(&self.errlog).unwrap_or_default()
            );
        }
        let mut outcome = parse_outcome(&self.log_text());
        outcome.exit_code = status.code();
        Ok(outcome)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave a sipp behind, e.g. when a test panics before wait/stop.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// REGISTER from local 127.0.0.1:`local_port` with Contact sip:user@127.0.0.1:local_port,
/// answering the 401 with digest (realm from the challenge), Expires `expires`
/// (0 = unregister). Returns when done (timeout 10 s). final_code is the answer to the
/// authenticated REGISTER (200, 403...) or to the first one when it was not challenged.
pub fn register(
    account: &Account,
    target: Target,
    local_port: u16,
    expires: u32,
) -> Result<Outcome> {
    let xml = register_scenario(account, expires);
    let args = uac_args(target, Some(account));
    start(&xml, Ipv4Addr::LOCALHOST, local_port, 10, &args)?.wait()
}

/// `register` with a Call-ID of the caller's choosing (an attacker's phone picks any; sipp's
/// `-cid_str`, so it still matches the answers to its call). `call_id` holds no `%`.
pub fn register_as_call(
    account: &Account,
    target: Target,
    local_port: u16,
    expires: u32,
    call_id: &str,
) -> Result<Outcome> {
    ensure!(!call_id.contains('%'), "sipp would expand {call_id}");
    let xml = register_scenario(account, expires);
    let mut args = uac_args(target, Some(account));
    args.extend(["-cid_str".into(), call_id.to_owned()]);
    start(&xml, Ipv4Addr::LOCALHOST, local_port, 10, &args)?.wait()
}

/// SUBSCRIBE from local 127.0.0.1:`local_port` to sip:`to_uri_user`@domain for `event`
/// ("presence", "dialog", "message-summary"...), with a fitting Accept, Expires `expires`
/// (0 = unsubscribe) and Contact sip:user@127.0.0.1:local_port, answering a 401/407 with
/// digest. After an accepting answer (202/200) it answers FreeSWITCH's NOTIFYs with 200 until
/// none came for 1 s; they show in requests_received. Returns when done (timeout 10 s).
/// final_code is the SUBSCRIBE's final answer as for `register`: FreeSWITCH 1.10 answers 202,
/// 401 (without a new challenge) to a wrong password, 489 to an unknown event.
///
/// The Call-ID is made of user, to_uri_user, event and local_port, so an unsubscribe with the
/// same arguments ends the subscription that an earlier call made: FreeSWITCH finds it by
/// Call-ID. (With a new Call-ID it would answer 202 and a "terminated" NOTIFY, and the old
/// subscription would go on sending NOTIFYs to the port until it expires.)
pub fn subscribe(
    account: &Account,
    target: Target,
    local_port: u16,
    to_uri_user: &str,
    event: &str,
    expires: u32,
) -> Result<Outcome> {
    let xml = subscribe_scenario(account, to_uri_user, event, expires);
    let mut args = uac_args(target, Some(account));
    // A NOTIFY that overtakes the 202 is answered rather than taken as unexpected.
    args.push("-aa".into());
    let call_id = subscription_call_id(account, to_uri_user, event, local_port);
    args.extend(["-cid_str".into(), call_id]);
    start(&xml, Ipv4Addr::LOCALHOST, local_port, 10, &args)?.wait()
}

/// The Call-ID of `subscribe`'s subscription (sipp's -cid_str: '%' would be a keyword there,
/// so anything but letters, digits and "-._+" becomes "_").
fn subscription_call_id(account: &Account, to_uri_user: &str, event: &str, port: u16) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-._+".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "sub-{}-{}-{}-{port}@{}",
        clean(&account.user),
        clean(to_uri_user),
        clean(event),
        clean(&account.domain)
    )
}

/// Starts an outgoing call in the background.
pub fn call(call: &Call, target: Target) -> Result<Running> {
    let xml = invite_scenario(call);
    let creds = call.authenticate.then_some(&call.from);
    let mut args = uac_args(target, creds);
    // Answer OPTIONS/INFO/NOTIFY/UPDATE within the call instead of treating them as unexpected.
    args.push("-aa".into());
    if let Some(call_id) = &call.call_id {
        args.extend(["-cid_str".into(), call_id.replace('%', "%%")]);
    }
    start(&xml, call.local_ip, call.local_port, call.timeout_s, &args)
}

/// A UAS on local_ip:local_port (a registered phone, or a carrier receiving outbound calls).
/// Runs until stopped; answers OPTIONS/NOTIFY/INFO/UPDATE automatically (sipp -aa) so they do
/// not disturb it; handles calls one after another with `answer`. Returns once sipp listens.
/// Its own timeout is 600 s, so `stop` it rather than `wait` for it.
pub fn uas(local_ip: Ipv4Addr, local_port: u16, answer: Answer) -> Result<Running> {
    let xml = match answer {
        Answer::Answer => uas_answer_scenario(),
        Answer::RingOnly => uas_ring_scenario(),
    };
    let mut running = start(&xml, local_ip, local_port, UAS_TIMEOUT_S, &["-aa".into()])?;
    // FreeSWITCH may send the INVITE right after this returns: make sure sipp listens by then.
    wait_until_bound(&mut running, local_ip, local_port)?;
    Ok(running)
}

/// Arguments of a client run: one call to `target`, with digest credentials if given.
fn uac_args(target: Target, credentials: Option<&Account>) -> Vec<String> {
    let mut args = vec![
        format!("{}:{}", target.ip, target.port),
        "-m".into(),
        "1".into(),
    ];
    if let Some(account) = credentials {
        args.extend([
            "-au".into(),
            account.user.clone(),
            "-ap".into(),
            account.password.clone(),
        ]);
    }
    args
}

/// Writes the scenario into a new temporary directory and starts sipp on it.
fn start(
    xml: &str,
    local_ip: Ipv4Addr,
    local_port: u16,
    timeout_s: u64,
    extra: &[String],
) -> Result<Running> {
    // SIPP_KEEP=1 keeps scenario and logs for a look after a failure.
    let keep = std::env::var_os("SIPP_KEEP").is_some();
    let dir = tempfile::Builder::new()
        .prefix("sipp-")
        .disable_cleanup(keep)
        .tempdir()
        .context("creating a temp dir for sipp")?;
    if keep {
        eprintln!("sipp: keeping {}", dir.path().display());
    }
    let scenario = dir.path().join("scenario.xml");
    fs::write(&scenario, xml).context("writing the sipp scenario")?;
    let log = dir.path().join("messages.log");
    let errlog = dir.path().join("errors.log");
    let stderr = dir.path().join("stderr.txt");
    // sipp would exit with a bare "unable to bind" later; say which port is taken now.
    if udp_bound(local_ip, local_port)? {
        bail!("UDP {local_ip}:{local_port} is already in use (a sipp still running there?)");
    }

    let child = Command::new(SIPP)
        .arg("-sf")
        .arg(&scenario)
        .args(["-i", &local_ip.to_string(), "-p", &local_port.to_string()])
        .args(["-nostdin", "-timeout", &format!("{timeout_s}s")])
        .args(["-trace_msg", "-message_file"])
        .arg(&log)
        .args(["-trace_err", "-error_file"])
        .arg(&errlog)
        .args(extra)
        // Without a terminal sipp's statistics screen is just noise.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&stderr).context("creating sipp's stderr file")?)
        .current_dir(dir.path())
        .spawn()
        .with_context(|| format!("starting {SIPP} (package sip-tester)"))?;

    Ok(Running {
        child,
        timeout: Duration::from_secs(timeout_s),
        log,
        errlog,
        stderr,
        _dir: dir,
    })
}

/// Waits (up to 5 s) until sipp's UDP socket is bound. start() checked that the port was
/// free, so a bound port now is sipp's.
fn wait_until_bound(running: &mut Running, ip: Ipv4Addr, port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if udp_bound(ip, port)? {
            return Ok(());
        }
        let exited = running.child.try_wait().context("checking on sipp")?;
        if exited.is_some() || Instant::now() >= deadline {
            bail!(
                "sipp did not bind {ip}:{port} ({}): {}{}",
                exited.map_or("within 5 s".to_string(), |s| s.to_string()),
                fs::read_to_string(&running.stderr).unwrap_or_default(),
                fs::read_to_string(&running.errlog).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a UDP socket is bound to ip:port (or to 0.0.0.0:port). Reads /proc/net/udp:
/// unlike a test bind, reading cannot steal the port from a sipp that is starting.
fn udp_bound(ip: Ipv4Addr, port: u16) -> Result<bool> {
    // The table shows the address as the in-memory u32 in hex, then the port in hex.
    let wanted = [
        format!("{:08X}:{:04X}", u32::from_le_bytes(ip.octets()), port),
        format!("00000000:{port:04X}"),
    ];
    let table = fs::read_to_string("/proc/net/udp").context("reading /proc/net/udp")?;
    Ok(table.lines().skip(1).any(|line| {
        line.split_whitespace()
            .nth(1)
            .is_some_and(|local| wanted.iter().any(|w| w == local))
    }))
}

// ---------------------------------------------------------------------------------------
// Scenario generation. sipp fills in the [bracketed] keywords; everything else is ours.
// Lines in the CDATA messages are sent as written (sipp converts line ends to CRLF), so
// optional headers are passed with their own "\n" or as "": an empty line would end the
// headers.
// ---------------------------------------------------------------------------------------

/// A whole scenario document around `body`.
fn scenario(name: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"{name}\">\n{body}</scenario>\n")
}

/// A `<send>` of `message`; `attrs` e.g. `retrans="500"` (requests) or `next="end"`.
fn send(attrs: &str, message: &str) -> String {
    format!(
        "<send {attrs}><![CDATA[\n{}\n\n]]></send>\n",
        message.trim()
    )
}

/// Receives responses until a final one: provisional ones loop; `challenges` (answered with
/// the credentials) go to `on_challenge`; failures go to `on_fail`; 200 goes to `on_ok`.
/// sipp matches an incoming message against the first recv and the optional ones after it,
/// so all but the last (mandatory) 200 are optional.
fn final_response(
    stage: &str,
    on_challenge: Option<&str>,
    on_fail: &str,
    on_ok: &str,
    rrs: bool,
) -> String {
    final_response_with(stage, on_challenge, on_fail, on_ok, rrs, &[], "")
}

/// final_response that also takes `also_ok` (e.g. 202) to `on_ok`, and first tries the
/// optional recvs in `interrupts` (requests FreeSWITCH may send meanwhile, e.g. a BYE).
fn final_response_with(
    stage: &str,
    on_challenge: Option<&str>,
    on_fail: &str,
    on_ok: &str,
    rrs: bool,
    also_ok: &[u16],
    interrupts: &str,
) -> String {
    let wait = format!("{stage}_wait");
    let mut xml = format!("<label id=\"{wait}\"/>\n{interrupts}");
    for code in also_ok.iter().filter(|&&code| code != 200) {
        xml += &format!("<recv response=\"{code}\" optional=\"true\" next=\"{on_ok}\"/>\n");
    }
    for code in PROVISIONAL {
        xml += &format!("<recv response=\"{code}\" optional=\"true\" next=\"{wait}\"/>\n");
    }
    for code in FAILURES {
        match on_challenge {
            Some(label) if CHALLENGES.contains(code) => {
                xml += &format!("<recv response=\"{code}\" optional=\"true\" auth=\"true\" next=\"{label}\"/>\n");
            }
            _ => {
                xml +=
                    &format!("<recv response=\"{code}\" optional=\"true\" next=\"{on_fail}\"/>\n")
            }
        }
    }
    xml += &format!("<recv response=\"200\" rrs=\"{rrs}\" next=\"{on_ok}\"/>\n");
    xml
}

fn register_scenario(account: &Account, expires: u32) -> String {
    let Account { user, domain, .. } = account;
    // Both REGISTERs share Call-ID and From tag (one registration); the second carries
    // the digest answer (sipp takes realm and nonce from the 401).
    let request = |cseq: u32, auth: &str| {
        format!(
            "REGISTER sip:{domain} SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             From: <sip:{user}@{domain}>;tag=[pid]SIPpTag00[call_number]\n\
             To: <sip:{user}@{domain}>\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} REGISTER\n\
             Contact: <sip:{user}@[local_ip]:[local_port]>\n\
             {auth}Max-Forwards: 70\n\
             Expires: {expires}\n\
             User-Agent: sipp-test\n\
             Content-Length: 0"
        )
    };
    let mut body = send("retrans=\"500\"", &request(1, ""));
    body += &final_response("r1", Some("auth"), "end", "end", false);
    body += "<label id=\"auth\"/>\n";
    body += &send("retrans=\"500\"", &request(2, "[authentication]\n"));
    body += &final_response("r2", None, "end", "end", false);
    body += "<label id=\"end\"/>\n";
    scenario("register", &body)
}

/// The Accept header value for a SUBSCRIBE to `event` (parameters ignored), None if unknown.
fn accept_for(event: &str) -> Option<&'static str> {
    let package = event.split(';').next().unwrap_or_default().trim();
    match package.to_ascii_lowercase().as_str() {
        "presence" => Some("application/pidf+xml"),
        "dialog" => Some("application/dialog-info+xml"),
        "message-summary" => Some("application/simple-message-summary"),
        "presence.winfo" => Some("application/watcherinfo+xml"),
        "refer" => Some("message/sipfrag"),
        _ => None,
    }
}

fn subscribe_scenario(account: &Account, to_user: &str, event: &str, expires: u32) -> String {
    let Account { user, domain, .. } = account;
    let accept = accept_for(event).map_or(String::new(), |t| format!("Accept: {t}\n"));
    // Like REGISTER: the resend after a challenge keeps Call-ID and From tag.
    let request = |cseq: u32, auth: &str| {
        format!(
            "SUBSCRIBE sip:{to_user}@{domain} SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             From: <sip:{user}@{domain}>;tag=[pid]SIPpTag00[call_number]\n\
             To: <sip:{to_user}@{domain}>\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} SUBSCRIBE\n\
             Contact: <sip:{user}@[local_ip]:[local_port]>\n\
             {auth}Max-Forwards: 70\n\
             Event: {event}\n\
             {accept}Expires: {expires}\n\
             User-Agent: sipp-test\n\
             Content-Length: 0"
        )
    };
    let mut body = send("retrans=\"500\"", &request(1, ""));
    body += &final_response_with("s1", Some("auth"), "end", "notify", false, ACCEPTED, "");
    body += "<label id=\"auth\"/>\n";
    body += &send("retrans=\"500\"", &request(2, "[authentication]\n"));
    body += &final_response_with("s2", None, "end", "notify", false, ACCEPTED, "");
    // Answer NOTIFYs until one second passes without one.
    body += "<label id=\"notify\"/>\n";
    body +=
        &format!("<recv request=\"NOTIFY\" timeout=\"{NOTIFY_WINDOW_MS}\" ontimeout=\"end\"/>\n");
    body += &send("next=\"notify\"", &reply("200 OK", ""));
    // A timeout that jumps to the very end of a scenario counts as a failed call (sipp
    // even sends a BYE then): the nop keeps "end" inside it.
    body += "<label id=\"end\"/>\n<nop/>\n";
    scenario("subscribe", &body)
}

fn invite_scenario(call: &Call) -> String {
    let from = &call.from;
    let ruri = call
        .request_uri
        .clone()
        .unwrap_or_else(|| format!("sip:{}@{}", call.to_user, from.domain));
    let to_user = call.to_header_user.as_deref().unwrap_or(&call.to_user);
    let from_hdr = format!(
        "From: <sip:{}@{}>;tag=[pid]SIPpTag00[call_number]",
        from.user, from.domain
    );
    let contact = format!("Contact: <sip:{}@[local_ip]:[local_port]>", from.user);
    let extra: String = call
        .extra_headers
        .iter()
        .map(|h| format!("{h}\n"))
        .collect();
    let sdp = format!(
        "v=0\n\
         o=sipp 1 1 IN IP4 [local_ip]\n\
         s=-\n\
         c=IN IP4 [local_ip]\n\
         t=0 0\n\
         m=audio {DUMMY_RTP_PORT} RTP/AVP 0\n\
         a=rtpmap:0 PCMU/8000\n\
         a=sendrecv"
    );
    let invite = |cseq: u32, auth: &str| {
        format!(
            "INVITE {ruri} SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             {from_hdr}\n\
             To: <sip:{to_user}@{domain}>\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} INVITE\n\
             {contact}\n\
             {auth}{extra}Max-Forwards: 70\n\
             User-Agent: sipp-test\n\
             Content-Type: application/sdp\n\
             Content-Length: [len]\n\
             \n\
             {sdp}",
            domain = from.domain
        )
    };
    // ACK of a failure: same transaction as the INVITE, so its Via (branch) and URI.
    let ack_failure = |cseq: u32| {
        format!(
            "ACK {ruri} SIP/2.0\n\
             [last_Via:]\n\
             {from_hdr}\n\
             [last_To:]\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} ACK\n\
             Max-Forwards: 70\n\
             Content-Length: 0"
        )
    };
    // ACK of a 200: a new request within the dialog, to the Contact along the Record-Routes.
    let ack_ok = |cseq: u32| {
        format!(
            "ACK [next_url] SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             {from_hdr}\n\
             [last_To:]\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} ACK\n\
             [routes]\n\
             {contact}\n\
             Max-Forwards: 70\n\
             Content-Length: 0"
        )
    };

    let mut body = send("retrans=\"500\"", &invite(1, ""));
    let challenge = call.authenticate.then_some("auth");
    body += &final_response("i1", challenge, "fail1", "ok1", true);
    body += "<label id=\"fail1\"/>\n";
    body += &send("next=\"end\"", &ack_failure(1));
    body += "<label id=\"ok1\"/>\n";
    body += &send("next=\"talk\"", &ack_ok(1));
    if call.authenticate {
        body += "<label id=\"auth\"/>\n";
        body += &send("", &ack_failure(1));
        body += &send("retrans=\"500\"", &invite(2, "[authentication]\n"));
        body += &final_response("i2", None, "fail2", "ok2", true);
        body += "<label id=\"fail2\"/>\n";
        body += &send("next=\"end\"", &ack_failure(2));
        body += "<label id=\"ok2\"/>\n";
        body += &send("next=\"talk\"", &ack_ok(2));
    }
    body += "<label id=\"talk\"/>\n";
    // The dialog's To (with FreeSWITCH's tag) for our in-dialog requests: [last_To:] is
    // only right while the 200 is the last message received, not after a re-INVITE.
    body +=
        "<nop><action><assignstr assign_to=\"dialog_to\" value=\"[last_To:]\"/></action></nop>\n";
    let mut hold_ms = call.hold_ms;
    if let Some(refer_to) = &call.refer_to {
        body += &hold("pre", call.refer_after_ms, "refer", &contact, &sdp);
        body += &refer(call, refer_to, &from_hdr, &contact);
        hold_ms = hold_ms.saturating_sub(call.refer_after_ms);
    }
    body += &talk(Hangup::AfterMs(hold_ms), &from_hdr, &contact, &sdp);
    body += "<label id=\"end\"/>\n";
    scenario("invite", &body)
}

/// Waits `ms` within the answered call, then goes on at label `then`. Meanwhile a BYE from
/// FreeSWITCH is answered and ends the call, and a re-INVITE is answered with 200 and our
/// SDP (after its ACK the wait starts over). sipp -aa answers NOTIFY/INFO/OPTIONS/UPDATE.
fn hold(stage: &str, ms: u64, then: &str, contact: &str, sdp: &str) -> String {
    // timeout="0" would mean "no timeout" to sipp.
    let ms = ms.max(1);
    let wait = format!("{stage}_hold");
    let reinvite = format!("{stage}_reinvite");
    let ok = format!(
        "SIP/2.0 200 OK\n\
         [last_Via:]\n\
         [last_From:]\n\
         [last_To:]\n\
         [last_Call-ID:]\n\
         [last_CSeq:]\n\
         {contact}\n\
         Content-Type: application/sdp\n\
         Content-Length: [len]\n\
         \n\
         {sdp}"
    );
    // The timeout belongs to the first recv of the group (the optional one).
    let mut xml = format!("<label id=\"{wait}\"/>\n");
    xml += &format!(
        "<recv request=\"INVITE\" optional=\"true\" timeout=\"{ms}\" ontimeout=\"{then}\" next=\"{reinvite}\"/>\n"
    );
    xml += "<recv request=\"BYE\"/>\n";
    xml += &send("next=\"end\"", &reply("200 OK", ""));
    xml += &format!("<label id=\"{reinvite}\"/>\n");
    xml += &send("retrans=\"500\"", &ok);
    xml += &format!("<recv request=\"ACK\" next=\"{wait}\"/>\n");
    xml
}

/// The REFER within the answered call (label "refer"), then on at label "referred". A
/// challenge is answered if the call authenticates (else it is the REFER's final answer);
/// a BYE from FreeSWITCH before the answer is answered and ends the call. The NOTIFYs of
/// the transfer's progress are answered by sipp -aa.
fn refer(call: &Call, refer_to: &str, from_hdr: &str, contact: &str) -> String {
    let Account { user, domain, .. } = &call.from;
    let request = |cseq: u32, auth: &str| {
        format!(
            "REFER [next_url] SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             {from_hdr}\n\
             [$dialog_to]\n\
             Call-ID: [call_id]\n\
             CSeq: {cseq} REFER\n\
             [routes]\n\
             {contact}\n\
             Refer-To: {refer_to}\n\
             Referred-By: <sip:{user}@{domain}>\n\
             {auth}Max-Forwards: 70\n\
             User-Agent: sipp-test\n\
             Content-Length: 0"
        )
    };
    let bye = "<recv request=\"BYE\" optional=\"true\" next=\"refer_bye\"/>\n";
    let challenge = call.authenticate.then_some("refer_auth");
    let mut xml = String::from("<label id=\"refer\"/>\n");
    xml += &send("retrans=\"500\"", &request(REFER_CSEQ, ""));
    xml += &final_response_with(
        "f1", challenge, "referred", "referred", false, ACCEPTED, bye,
    );
    if call.authenticate {
        xml += "<label id=\"refer_auth\"/>\n";
        xml += &send(
            "retrans=\"500\"",
            &request(REFER_CSEQ + 1, "[authentication]\n"),
        );
        xml += &final_response_with("f2", None, "referred", "referred", false, ACCEPTED, bye);
    }
    xml += "<label id=\"refer_bye\"/>\n";
    xml += &send("next=\"end\"", &reply("200 OK", ""));
    xml += "<label id=\"referred\"/>\n";
    xml
}

/// The answered part of a call: wait for FreeSWITCH's BYE (answer it) until the hangup
/// time, then send our BYE. Waiting in a recv instead of a pause means a BYE from
/// FreeSWITCH during the hold ends the scenario cleanly instead of as an unexpected message.
fn talk(hangup: Hangup, from_hdr: &str, contact: &str, sdp: &str) -> String {
    let Hangup::AfterMs(ms) = hangup;
    let bye = format!(
        "BYE [next_url] SIP/2.0\n\
         Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
         {from_hdr}\n\
         [$dialog_to]\n\
         Call-ID: [call_id]\n\
         CSeq: 10 BYE\n\
         [routes]\n\
         Max-Forwards: 70\n\
         Content-Length: 0"
    );
    let mut xml = hold("talk", ms, "hangup", contact, sdp);
    xml += "<label id=\"hangup\"/>\n";
    xml += &send("retrans=\"500\"", &bye);
    xml += "<recv response=\"481\" optional=\"true\" next=\"end\"/>\n";
    xml += "<recv response=\"200\"/>\n";
    xml
}

/// A response to the last received request, echoing its transaction headers. `to_tag` is
/// appended to its To (our dialog tag, "" to keep the To as received).
fn reply(status: &str, to_tag: &str) -> String {
    format!(
        "SIP/2.0 {status}\n\
         [last_Via:]\n\
         [last_From:]\n\
         [last_To:]{to_tag}\n\
         [last_Call-ID:]\n\
         [last_CSeq:]\n\
         Content-Length: 0"
    )
}

/// The To tag of a UAS dialog (same in every response of the call).
const UAS_TAG: &str = ";tag=[pid]SIPpTag01[call_number]";

/// Answers each INVITE: 180, 200 with SDP, then ACK and BYE.
fn uas_answer_scenario() -> String {
    let ok = format!(
        "SIP/2.0 200 OK\n\
         [last_Via:]\n\
         [last_From:]\n\
         [last_To:]{UAS_TAG}\n\
         [last_Call-ID:]\n\
         [last_CSeq:]\n\
         [last_Record-Route:]\n\
         Contact: <sip:[local_ip]:[local_port]>\n\
         Content-Type: application/sdp\n\
         Content-Length: [len]\n\
         \n\
         v=0\n\
         o=sipp 1 1 IN IP4 [local_ip]\n\
         s=-\n\
         c=IN IP4 [local_ip]\n\
         t=0 0\n\
         m=audio {DUMMY_RTP_PORT} RTP/AVP 0\n\
         a=rtpmap:0 PCMU/8000\n\
         a=sendrecv"
    );
    let mut body = String::from("<recv request=\"INVITE\" crlf=\"true\"/>\n");
    body += &send("", &reply("180 Ringing", UAS_TAG));
    body += &send("retrans=\"500\"", &ok);
    body += "<recv request=\"ACK\" crlf=\"true\"/>\n";
    body += "<recv request=\"BYE\"/>\n";
    body += &send("", &reply("200 OK", ""));
    scenario("uas-answer", &body)
}

/// Rings on each INVITE until CANCEL: 200 to the CANCEL, 487 to the INVITE, then its ACK.
fn uas_ring_scenario() -> String {
    // The 487 answers the INVITE, but the last received message is then the CANCEL, whose
    // CSeq method differs: keep the INVITE's CSeq number in a variable.
    let terminated = format!(
        "SIP/2.0 487 Request Terminated\n\
         [last_Via:]\n\
         [last_From:]\n\
         [last_To:]{UAS_TAG}\n\
         [last_Call-ID:]\n\
         CSeq: [$cseq] INVITE\n\
         Content-Length: 0"
    );
    let mut body = String::from(
        "<recv request=\"INVITE\" crlf=\"true\">\n\
         <action><ereg regexp=\"[0-9]+\" search_in=\"hdr\" header=\"CSeq:\" assign_to=\"cseq\"/></action>\n\
         </recv>\n",
    );
    body += &send("", &reply("180 Ringing", UAS_TAG));
    body += "<recv request=\"CANCEL\"/>\n";
    body += &send("", &reply("200 OK", UAS_TAG));
    body += &send("retrans=\"500\"", &terminated);
    body += "<recv request=\"ACK\"/>\n";
    scenario("uas-ring", &body)
}

// ---------------------------------------------------------------------------------------
// Message log parsing.
// ---------------------------------------------------------------------------------------

/// One message of sipp's `-message_file`.
#[derive(Debug, PartialEq)]
struct LogEntry {
    received: bool,
    text: String,
}

/// Splits the message log into messages. Each starts with a line of dashes and a timestamp,
/// then "UDP message received [N] bytes :" or "UDP message sent (N bytes):", a blank line
/// and the message.
fn parse_log(log: &str) -> Vec<LogEntry> {
    let mut entries = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("----------") {
            continue;
        }
        let Some(header) = lines.next() else { break };
        let received = header.contains("message received");
        let mut text = String::new();
        while let Some(next) = lines.peek() {
            if next.starts_with("----------") {
                break;
            }
            text.push_str(next.trim_end_matches('\r'));
            text.push('\n');
            lines.next();
        }
        entries.push(LogEntry {
            received,
            text: text.trim().to_string(),
        });
    }
    entries
}

/// Status code of a response ("SIP/2.0 200 OK"), None for a request.
fn status_code(message: &str) -> Option<u16> {
    let first = message.lines().next()?;
    let rest = first.strip_prefix("SIP/2.0 ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Method of a request ("INVITE sip:... SIP/2.0"), None for a response or garbage.
fn request_method(message: &str) -> Option<String> {
    let first = message.lines().next()?;
    if first.starts_with("SIP/") || !first.ends_with("SIP/2.0") {
        return None;
    }
    first.split_whitespace().next().map(str::to_string)
}

/// Value of the first header `name` (or its compact form `short`), trimmed.
fn header<'a>(message: &'a str, name: &str, short: &str) -> Option<&'a str> {
    message
        .lines()
        // Headers end at the first empty line; the body may contain "x: y" lines too.
        .take_while(|line| !line.trim().is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            let key = key.trim();
            (key.eq_ignore_ascii_case(name) || key.eq_ignore_ascii_case(short))
                .then(|| value.trim())
        })
}

/// Method of the CSeq header ("CSeq: 2 INVITE" gives "INVITE").
fn cseq_method(message: &str) -> Option<&str> {
    header(message, "CSeq", "CSeq")?.split_whitespace().nth(1)
}

/// What a message log shows (exit_code left None for the caller to fill in).
///
/// Responses count only when their Call-ID is one this sipp sent a request with: FreeSWITCH
/// keeps retransmitting a 200 for up to 32 s to a caller that was killed before its ACK, and a
/// later run on the same port must not take that for its own answer. Likewise requests, unless
/// the run sent no request at all (a UAS): a subscription of an earlier run keeps sending
/// NOTIFYs to its Contact. Such strays are still in `received`.
fn parse_outcome(log: &str) -> Outcome {
    let entries = parse_log(log);
    // Not the Call-IDs of our answers: sipp -aa answers stray NOTIFYs too.
    let ours: Vec<&str> = entries
        .iter()
        .filter(|e| !e.received && request_method(&e.text).is_some())
        .filter_map(|e| header(&e.text, "Call-ID", "i"))
        .collect();
    let mut outcome = Outcome {
        exit_code: None,
        responses: Vec::new(),
        requests_received: Vec::new(),
        received: Vec::new(),
        final_code: None,
        refer_code: None,
    };
    for entry in entries.iter().filter(|e| e.received) {
        if let Some(code) = status_code(&entry.text) {
            let call_id = header(&entry.text, "Call-ID", "i").unwrap_or_default();
            if !ours.contains(&call_id) {
                outcome.received.push(entry.text.clone());
                continue;
            }
            outcome.responses.push(code);
            if code >= 200 {
                match cseq_method(&entry.text).unwrap_or_default() {
                    "INVITE" | "REGISTER" | "SUBSCRIBE" => outcome.final_code = Some(code),
                    "REFER" => outcome.refer_code = Some(code),
                    _ => {}
                }
            }
        } else if let Some(method) = request_method(&entry.text) {
            let call_id = header(&entry.text, "Call-ID", "i").unwrap_or_default();
            if ours.is_empty() || ours.contains(&call_id) {
                outcome.requests_received.push(method);
            }
        }
        outcome.received.push(entry.text.clone());
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call to 9196 that FreeSWITCH hung up during the hold, from a real run against
    /// FreeSWITCH 1.10.12 (some headers and the SDP removed), plus a stray 200 of an
    /// earlier call on the same port.
    const CALL_LOG: &str = "\
----------------------------------------------- 2026-12-06 05:14:31.737875
UDP message sent (467 bytes):

INVITE sip:9196@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-0
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>
Call-ID: 1-30236@127.0.0.1
CSeq: 1 INVITE
Content-Length:   0


----------------------------------------------- 2026-12-06 05:14:31.739476
UDP message received [774] bytes :

SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-0
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>;tag=ZKr2S3QK7X5rF
Call-ID: 1-30236@127.0.0.1
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm=\"127.0.0.1\", nonce=\"3c642d7c\", algorithm=MD5, qop=\"auth\"
Content-Length: 0


----------------------------------------------- 2026-12-06 05:14:31.739564
UDP message sent (263 bytes):

ACK sip:9196@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-0
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>;tag=ZKr2S3QK7X5rF
Call-ID: 1-30236@127.0.0.1
CSeq: 1 ACK
Content-Length: 0


----------------------------------------------- 2026-12-06 05:14:31.740709
UDP message sent (699 bytes):

INVITE sip:9196@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-52
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>
Call-ID: 1-30236@127.0.0.1
CSeq: 2 INVITE
Content-Length:   0


----------------------------------------------- 2026-12-06 05:14:31.750000
UDP message received [1039] bytes :

SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-13070-1-52
From: <sip:1000@127.0.0.1>;tag=13070SIPpTag001
To: <sip:1001@127.0.0.1>;tag=Dg8a1tD3Q0Bjc
Call-ID: 1-13070@127.0.0.1
CSeq: 2 INVITE
Content-Length: 0


----------------------------------------------- 2026-12-06 05:14:31.762314
UDP message received [275] bytes :

SIP/2.0 100 Trying
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-52
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>
Call-ID: 1-30236@127.0.0.1
CSeq: 2 INVITE
Content-Length: 0


----------------------------------------------- 2026-12-06 05:14:41.806415
UDP message received [1039] bytes :

SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-52
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>;tag=0vHUUy8p46UBB
Call-ID: 1-30236@127.0.0.1
CSeq: 2 INVITE
Contact: <sip:9196@127.0.0.1:35060;transport=udp>
Content-Type: application/sdp
Content-Length: 19

v=0
m=audio 0 RTP/AVP 0

----------------------------------------------- 2026-12-06 05:14:41.806611
UDP message sent (322 bytes):

ACK sip:9196@127.0.0.1:35060;transport=udp SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:35231;branch=z9hG4bK-30236-1-102
From: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
To: <sip:9196@127.0.0.1>;tag=0vHUUy8p46UBB
Call-ID: 1-30236@127.0.0.1
CSeq: 2 ACK
Content-Length: 0


----------------------------------------------- 2026-12-06 05:14:44.665867
UDP message received [532] bytes :

BYE sip:1000@127.0.0.1:35231 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:35060;rport;branch=z9hG4bK88jKj3t5XgU6a
From: <sip:9196@127.0.0.1>;tag=0vHUUy8p46UBB
To: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
Call-ID: 1-30236@127.0.0.1
CSeq: 123713250 BYE
Content-Length: 0


----------------------------------------------- 2026-12-06 05:14:44.666161
UDP message sent (246 bytes):

SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:35060;rport;branch=z9hG4bK88jKj3t5XgU6a
From: <sip:9196@127.0.0.1>;tag=0vHUUy8p46UBB
To: <sip:1000@127.0.0.1>;tag=30236SIPpTag001
Call-ID: 1-30236@127.0.0.1
CSeq: 123713250 BYE
Content-Length: 0

";

    /// A REGISTER with a wrong password (401, then 403), received messages only.
    const REGISTER_LOG: &str = "\
----------------------------------------------- 2026-12-06 05:08:39.654846
UDP message sent (297 bytes):

REGISTER sip:127.0.0.1 SIP/2.0
Call-ID: 1-9873@127.0.0.1
CSeq: 1 REGISTER


----------------------------------------------- 2026-12-06 05:08:39.656615
UDP message received [558] bytes :

SIP/2.0 401 Unauthorized
Call-ID: 1-9873@127.0.0.1
CSeq: 1 REGISTER
Content-Length: 0


----------------------------------------------- 2026-12-06 05:08:39.659002
UDP message received [516] bytes :

SIP/2.0 403 Forbidden
Call-ID: 1-9873@127.0.0.1
CSeq: 2 REGISTER
Content-Length: 0

";

    /// SUBSCRIBE 1000 -> 1001 presence from a real run against FreeSWITCH 1.10.12 (headers
    /// cut down): 407, 202, then NOTIFYs of two earlier runs' subscriptions to the same port
    /// (other Call-IDs, answered by sipp -aa) and the NOTIFY of this one.
    const SUBSCRIBE_LOG: &str = "\
----------------------------------------------- 2026-12-06 06:04:02.706014
UDP message sent (396 bytes):

SUBSCRIBE sip:1001@127.0.0.1 SIP/2.0
From: <sip:1000@127.0.0.1>;tag=7973SIPpTag001
To: <sip:1001@127.0.0.1>
Call-ID: sub-1000-1001-presence-45301@127.0.0.1
CSeq: 1 SUBSCRIBE
Event: presence


----------------------------------------------- 2026-12-06 06:04:02.707381
UDP message received [771] bytes :

SIP/2.0 407 Proxy Authentication Required
To: <sip:1001@127.0.0.1>;tag=vU8grym7Hgc7j
Call-ID: sub-1000-1001-presence-45301@127.0.0.1
CSeq: 1 SUBSCRIBE


----------------------------------------------- 2026-12-06 06:04:02.707490
UDP message sent (628 bytes):

SUBSCRIBE sip:1001@127.0.0.1 SIP/2.0
Call-ID: sub-1000-1001-presence-45301@127.0.0.1
CSeq: 2 SUBSCRIBE


----------------------------------------------- 2026-12-06 06:04:02.708892
UDP message received [720] bytes :

SIP/2.0 202 Accepted
To: <sip:1001@127.0.0.1>;tag=2PbUGi3hjUYw
Call-ID: sub-1000-1001-presence-45301@127.0.0.1
CSeq: 2 SUBSCRIBE
Subscription-State: active;expires=60


----------------------------------------------- 2026-12-06 06:04:02.709689
UDP message received [1224] bytes :

NOTIFY sip:1000@127.0.0.1:45301 SIP/2.0
Call-ID: 1-5715@127.0.0.1
CSeq: 1465572101 NOTIFY
Subscription-State: active;expires=2


----------------------------------------------- 2026-12-06 06:04:02.709841
UDP message sent (293 bytes):

SIP/2.0 200 OK
Call-ID: 1-5715@127.0.0.1
CSeq: 1465572101 NOTIFY


----------------------------------------------- 2026-12-06 06:04:02.709857
UDP message received [1224] bytes :

NOTIFY sip:1000@127.0.0.1:45301 SIP/2.0
Call-ID: 1-5933@127.0.0.1
CSeq: 1465572102 NOTIFY
Subscription-State: active;expires=7


----------------------------------------------- 2026-12-06 06:04:02.709875
UDP message sent (293 bytes):

SIP/2.0 200 OK
Call-ID: 1-5933@127.0.0.1
CSeq: 1465572102 NOTIFY


----------------------------------------------- 2026-12-06 06:04:02.709884
UDP message received [1247] bytes :

NOTIFY sip:1000@127.0.0.1:45301 SIP/2.0
Call-ID: sub-1000-1001-presence-45301@127.0.0.1
CSeq: 1465572103 NOTIFY
Subscription-State: active;expires=60
Content-Type: application/pidf+xml


----------------------------------------------- 2026-12-06 06:04:02.709900
UDP message sent (269 bytes):

SIP/2.0 200 OK
Call-ID: sub-1000-1001-presence-45301@127.0.0.1
CSeq: 1465572103 NOTIFY
Content-Length: 0

";

    /// The answered part of a call 1000 -> 9196 with a REFER, from a real run against
    /// FreeSWITCH 1.10.12 (headers cut down): 202, the sipfrag NOTIFY, our BYE and its 200.
    const REFER_LOG: &str = "\
----------------------------------------------- 2026-12-06 06:04:34.000000
UDP message sent (699 bytes):

INVITE sip:9196@127.0.0.1 SIP/2.0
Call-ID: 1-9101@127.0.0.1
CSeq: 2 INVITE


----------------------------------------------- 2026-12-06 06:04:44.530000
UDP message received [1039] bytes :

SIP/2.0 200 OK
To: <sip:9196@127.0.0.1>;tag=gg20UU5Dr29va
Call-ID: 1-9101@127.0.0.1
CSeq: 2 INVITE


----------------------------------------------- 2026-12-06 06:04:45.040000
UDP message sent (416 bytes):

REFER sip:9196@127.0.0.1:45060;transport=udp SIP/2.0
To: <sip:9196@127.0.0.1>;tag=gg20UU5Dr29va
Call-ID: 1-9101@127.0.0.1
CSeq: 3 REFER
Refer-To: <sip:9664@127.0.0.1>


----------------------------------------------- 2026-12-06 06:04:45.042093
UDP message received [671] bytes :

SIP/2.0 202 Accepted
Call-ID: 1-9101@127.0.0.1
CSeq: 3 REFER


----------------------------------------------- 2026-12-06 06:04:45.042151
UDP message received [848] bytes :

NOTIFY sip:1000@127.0.0.1:45311 SIP/2.0
Call-ID: 1-9101@127.0.0.1
CSeq: 123714750 NOTIFY
Event: refer;id=3
Content-Type: message/sipfrag;version=2.0
Content-Length: 23

SIP/2.0 403 Forbidden

----------------------------------------------- 2026-12-06 06:04:45.044471
UDP message sent (293 bytes):

SIP/2.0 200 OK
Call-ID: 1-9101@127.0.0.1
CSeq: 123714750 NOTIFY


----------------------------------------------- 2026-12-06 06:04:47.546213
UDP message sent (283 bytes):

BYE sip:9196@127.0.0.1:45060;transport=udp SIP/2.0
Call-ID: 1-9101@127.0.0.1
CSeq: 10 BYE


----------------------------------------------- 2026-12-06 06:04:47.562641
UDP message received [429] bytes :

SIP/2.0 200 OK
Call-ID: 1-9101@127.0.0.1
CSeq: 10 BYE

";

    #[test]
    fn splits_the_log_into_messages() {
        let entries = parse_log(CALL_LOG);
        assert_eq!(entries.len(), 10);
        assert!(!entries[0].received);
        assert!(entries[0]
            .text
            .starts_with("INVITE sip:9196@127.0.0.1 SIP/2.0\n"));
        assert!(entries[1].received);
        // The body stays with its message.
        assert!(entries[6].text.ends_with("m=audio 0 RTP/AVP 0"));
    }

    #[test]
    fn call_outcome() {
        let outcome = parse_outcome(CALL_LOG);
        // The stray 200 of another Call-ID is not ours.
        assert_eq!(outcome.responses, vec![407, 100, 200]);
        assert_eq!(outcome.requests_received, vec!["BYE"]);
        assert_eq!(outcome.received.len(), 5);
        assert_eq!(outcome.final_code, Some(200));
        assert_eq!(outcome.exit_code, None);
    }

    #[test]
    fn crlf_log_gives_the_same_outcome() {
        let outcome = parse_outcome(&CALL_LOG.replace('\n', "\r\n"));
        assert_eq!(outcome.responses, vec![407, 100, 200]);
        assert_eq!(outcome.requests_received, vec!["BYE"]);
        assert!(!outcome.received[0].contains('\r'));
    }

    #[test]
    fn register_outcome() {
        let outcome = parse_outcome(REGISTER_LOG);
        assert_eq!(outcome.responses, vec![401, 403]);
        assert!(outcome.requests_received.is_empty());
        assert_eq!(outcome.final_code, Some(403));
    }

    #[test]
    fn subscribe_outcome() {
        let outcome = parse_outcome(SUBSCRIBE_LOG);
        assert_eq!(outcome.responses, vec![407, 202]);
        assert_eq!(outcome.final_code, Some(202));
        assert_eq!(outcome.refer_code, None);
        // Only the NOTIFY of this run's subscription; the strays stay in `received`.
        assert_eq!(outcome.requests_received, vec!["NOTIFY"]);
        assert_eq!(outcome.received.len(), 5);
        assert!(outcome.received[4].ends_with("Content-Type: application/pidf+xml"));
    }

    #[test]
    fn refused_subscribe_outcome() {
        // FreeSWITCH answers a wrong password on SUBSCRIBE with 401 (no new challenge).
        // Up to the 202 (the rest of the log is cut at the next timestamp).
        let head = SUBSCRIBE_LOG
            .split("06:04:02.709689")
            .next()
            .unwrap_or_default();
        let outcome = parse_outcome(&head.replace("202 Accepted", "401 Unauthorized"));
        assert_eq!(outcome.responses, vec![407, 401]);
        assert_eq!(outcome.final_code, Some(401));
        assert!(outcome.requests_received.is_empty());
        let bad_event = SUBSCRIBE_LOG.replace("407 Proxy Authentication Required", "489 Bad Event");
        assert_eq!(parse_outcome(&bad_event).responses[0], 489);
    }

    #[test]
    fn refer_outcome() {
        let outcome = parse_outcome(REFER_LOG);
        assert_eq!(outcome.responses, vec![200, 202, 200]);
        // The INVITE's answer, not the REFER's or the BYE's.
        assert_eq!(outcome.final_code, Some(200));
        assert_eq!(outcome.refer_code, Some(202));
        assert_eq!(outcome.requests_received, vec!["NOTIFY"]);
        // The sipfrag body stays with its NOTIFY.
        assert!(outcome.received[2].ends_with("SIP/2.0 403 Forbidden"));
    }

    #[test]
    fn refer_code_after_a_challenge_is_the_last_answer() {
        let challenged = REFER_LOG.replace(
            "SIP/2.0 202 Accepted\nCall-ID: 1-9101@127.0.0.1\nCSeq: 3 REFER\n",
            "SIP/2.0 407 Proxy Authentication Required\nCall-ID: 1-9101@127.0.0.1\nCSeq: 3 REFER\n\n\n\
----------------------------------------------- 2026-12-06 06:04:45.042100
UDP message received [600] bytes :

SIP/2.0 403 Forbidden
Call-ID: 1-9101@127.0.0.1
CSeq: 4 REFER
",
        );
        let outcome = parse_outcome(&challenged);
        assert_eq!(outcome.responses, vec![200, 407, 403, 200]);
        assert_eq!(outcome.refer_code, Some(403));
        assert_eq!(outcome.final_code, Some(200));
        // A call without REFER has none.
        assert_eq!(parse_outcome(CALL_LOG).refer_code, None);
    }

    #[test]
    fn uas_counts_every_request() {
        // A UAS sends no request: FreeSWITCH's requests (new Call-IDs) all count.
        let log = "\
----------------------------------------------- 2026-12-06 05:14:31.000000
UDP message received [500] bytes :

INVITE sip:1001@127.0.0.1:35211 SIP/2.0
Call-ID: fs-call-1
CSeq: 1 INVITE


----------------------------------------------- 2026-12-06 05:14:31.000100
UDP message sent (300 bytes):

SIP/2.0 180 Ringing
Call-ID: fs-call-1
CSeq: 1 INVITE


----------------------------------------------- 2026-12-06 05:14:32.000000
UDP message received [500] bytes :

OPTIONS sip:1001@127.0.0.1:35211 SIP/2.0
Call-ID: fs-ping-1
CSeq: 5 OPTIONS
";
        let outcome = parse_outcome(log);
        assert_eq!(outcome.requests_received, vec!["INVITE", "OPTIONS"]);
        assert!(outcome.responses.is_empty());
    }

    #[test]
    fn final_code_ignores_bye_answers() {
        let log = CALL_LOG.replace("CSeq: 2 INVITE\nContact", "CSeq: 2 INVITE\nX: 1\nContact");
        let mut outcome = parse_outcome(&log);
        assert_eq!(outcome.final_code, Some(200));
        // A 200 to our BYE does not change it.
        let bye_ok = "\
----------------------------------------------- 2026-12-06 05:14:45.000000
UDP message received [200] bytes :

SIP/2.0 481 Call Does Not Exist
Call-ID: 1-30236@127.0.0.1
CSeq: 10 BYE
";
        outcome = parse_outcome(&format!("{log}{bye_ok}"));
        assert_eq!(outcome.responses, vec![407, 100, 200, 481]);
        assert_eq!(outcome.final_code, Some(200));
    }

    #[test]
    fn empty_log() {
        let outcome = parse_outcome("");
        assert!(outcome.responses.is_empty() && outcome.received.is_empty());
        assert_eq!(outcome.final_code, None);
    }

    #[test]
    fn first_lines() {
        assert_eq!(
            status_code("SIP/2.0 486 Busy Here\nCSeq: 2 INVITE"),
            Some(486)
        );
        assert_eq!(status_code("INVITE sip:a@b SIP/2.0"), None);
        assert_eq!(
            request_method("OPTIONS sip:a@b SIP/2.0\n").as_deref(),
            Some("OPTIONS")
        );
        assert_eq!(request_method("SIP/2.0 200 OK"), None);
        assert_eq!(request_method("garbage"), None);
        assert_eq!(
            cseq_method("SIP/2.0 200 OK\ncseq:  7 REGISTER\n"),
            Some("REGISTER")
        );
        assert_eq!(
            header("SIP/2.0 200 OK\ni: abc\n\nx: y", "Call-ID", "i"),
            Some("abc")
        );
        assert_eq!(header("SIP/2.0 200 OK\n\nx: y", "x", "x"), None);
    }

    fn phone_call() -> Call {
        Call {
            from: Account {
                user: "1000".into(),
                domain: "127.0.0.1".into(),
                password: "1234".into(),
            },
            to_user: "1001".into(),
            request_uri: None,
            to_header_user: None,
            extra_headers: Vec::new(),
            local_ip: Ipv4Addr::LOCALHOST,
            local_port: 5070,
            authenticate: true,
            hold_ms: 0,
            timeout_s: 10,
            refer_to: None,
            refer_after_ms: REFER_DELAY_MS,
            call_id: None,
        }
    }

    /// The header part of every <send> (an empty line there would end the headers early).
    fn header_blocks(xml: &str) -> Vec<&str> {
        xml.split("<![CDATA[\n")
            .skip(1)
            .map(|part| part.split("\n\n").next().unwrap_or_default())
            .collect()
    }

    #[test]
    fn invite_scenario_shape() {
        let xml = invite_scenario(&phone_call());
        assert!(xml.contains("INVITE sip:1001@127.0.0.1 SIP/2.0\n"));
        assert!(xml.contains("To: <sip:1001@127.0.0.1>\n"));
        assert!(xml.contains("auth=\"true\" next=\"auth\""));
        assert!(xml.contains("[authentication]\nMax-Forwards"));
        // hold_ms 0 must not become sipp's "no timeout".
        assert!(xml.contains(
            "<recv request=\"INVITE\" optional=\"true\" timeout=\"1\" ontimeout=\"hangup\" next=\"talk_reinvite\"/>\n<recv request=\"BYE\"/>\n"
        ));
        // No REFER unless asked for.
        assert!(!xml.contains("REFER"));
        assert!(xml.contains("[$dialog_to]\nCall-ID: [call_id]\nCSeq: 10 BYE\n"));
        assert_eq!(header_blocks(&xml).len(), 10);
        for block in header_blocks(&xml) {
            assert!(
                block.contains("Call-ID") || block.contains("[last_Call-ID:]"),
                "{block}"
            );
        }
    }

    #[test]
    fn carrier_invite_scenario() {
        let mut call = phone_call();
        call.authenticate = false;
        call.request_uri = Some("sip:gw+globex.in@127.0.0.1:5060".into());
        call.to_header_user = Some("+3212345678".into());
        call.extra_headers = vec!["Replaces: abc".into(), "X-Test: 1".into()];
        let xml = invite_scenario(&call);
        assert!(xml.contains("INVITE sip:gw+globex.in@127.0.0.1:5060 SIP/2.0\n"));
        assert!(xml.contains("To: <sip:+3212345678@127.0.0.1>\n"));
        assert!(xml.contains("Replaces: abc\nX-Test: 1\nMax-Forwards"));
        // No challenge step: a 407 is a final answer.
        assert!(!xml.contains("auth=\"true\""));
        assert!(!xml.contains("[authentication]"));
        assert!(xml.contains("<recv response=\"407\" optional=\"true\" next=\"fail1\"/>"));
    }

    #[test]
    fn register_scenario_shape() {
        let account = Account {
            user: "1000".into(),
            domain: "127.0.0.1".into(),
            password: "1234".into(),
        };
        let xml = register_scenario(&account, 0);
        assert!(xml.contains("Expires: 0\n"));
        assert!(
            xml.contains("<recv response=\"401\" optional=\"true\" auth=\"true\" next=\"auth\"/>")
        );
        assert_eq!(header_blocks(&xml).len(), 2);
        for block in header_blocks(&xml) {
            assert!(block.ends_with("Content-Length: 0"), "{block}");
        }
    }

    #[test]
    fn subscribe_scenario_shape() {
        let account = Account {
            user: "1000".into(),
            domain: "127.0.0.1".into(),
            password: "1234".into(),
        };
        let xml = subscribe_scenario(&account, "1001", "presence", 60);
        assert!(xml.contains("SUBSCRIBE sip:1001@127.0.0.1 SIP/2.0\n"));
        assert!(xml.contains("To: <sip:1001@127.0.0.1>\n"));
        assert!(xml.contains("Event: presence\nAccept: application/pidf+xml\nExpires: 60\n"));
        // 202 accepts, then the NOTIFY window; a challenge is answered once.
        assert!(xml.contains("<recv response=\"202\" optional=\"true\" next=\"notify\"/>"));
        assert!(
            xml.contains("<recv response=\"407\" optional=\"true\" auth=\"true\" next=\"auth\"/>")
        );
        assert!(xml.contains(
            "CSeq: 2 SUBSCRIBE\nContact: <sip:1000@[local_ip]:[local_port]>\n[authentication]\n"
        ));
        assert!(xml.contains("<recv request=\"NOTIFY\" timeout=\"1000\" ontimeout=\"end\"/>"));
        // The jump target of the timeout is not the very end of the scenario.
        assert!(xml.ends_with("<label id=\"end\"/>\n<nop/>\n</scenario>\n"));
        assert_eq!(header_blocks(&xml).len(), 3);
        for block in header_blocks(&xml) {
            assert!(block.ends_with("Content-Length: 0"), "{block}");
        }
        // An unknown event gets no Accept (and no empty line).
        let xml = subscribe_scenario(&account, "1001", "x-unknown", 0);
        assert!(xml.contains("Event: x-unknown\nExpires: 0\n"));
    }

    #[test]
    fn accept_headers_and_call_ids() {
        assert_eq!(accept_for("dialog"), Some("application/dialog-info+xml"));
        assert_eq!(
            accept_for("dialog;sla"),
            Some("application/dialog-info+xml")
        );
        assert_eq!(accept_for("Presence"), Some("application/pidf+xml"));
        assert_eq!(
            accept_for("message-summary"),
            Some("application/simple-message-summary")
        );
        assert_eq!(accept_for("line-seize"), None);
        let account = Account {
            user: "1000".into(),
            domain: "127.0.0.1".into(),
            password: "1234".into(),
        };
        assert_eq!(
            subscription_call_id(&account, "+3212%34", "dialog;sla", 5070),
            "sub-1000-+3212_34-dialog_sla-5070@127.0.0.1"
        );
    }

    #[test]
    fn refer_scenario_shape() {
        let mut call = phone_call();
        call.hold_ms = 3000;
        call.refer_to = Some("<sip:102@pbx.acme.localhost>".into());
        let xml = invite_scenario(&call);
        // 500 ms into the call the REFER goes out; the remaining 2500 ms before the BYE.
        assert!(xml.contains("timeout=\"500\" ontimeout=\"refer\" next=\"pre_reinvite\"/>"));
        assert!(xml.contains("timeout=\"2500\" ontimeout=\"hangup\" next=\"talk_reinvite\"/>"));
        assert!(xml.contains(
            "REFER [next_url] SIP/2.0\n\
             Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
             From: <sip:1000@127.0.0.1>;tag=[pid]SIPpTag00[call_number]\n\
             [$dialog_to]\n\
             Call-ID: [call_id]\n\
             CSeq: 3 REFER\n\
             [routes]\n\
             Contact: <sip:1000@[local_ip]:[local_port]>\n\
             Refer-To: <sip:102@pbx.acme.localhost>\n\
             Referred-By: <sip:1000@127.0.0.1>\n\
             Max-Forwards: 70\n"
        ));
        assert!(xml.contains("CSeq: 4 REFER\n"));
        assert!(xml.contains("Referred-By: <sip:1000@127.0.0.1>\n[authentication]\nMax-Forwards"));
        assert!(xml.contains("assign_to=\"dialog_to\" value=\"[last_To:]\""));
        // 202 (and 200) accept; a BYE while waiting is answered.
        assert!(xml.contains("<label id=\"f1_wait\"/>\n<recv request=\"BYE\" optional=\"true\" next=\"refer_bye\"/>\n<recv response=\"202\" optional=\"true\" next=\"referred\"/>\n"));
        assert!(xml.contains(
            "<recv response=\"407\" optional=\"true\" auth=\"true\" next=\"refer_auth\"/>"
        ));
        assert!(xml.contains("<recv response=\"403\" optional=\"true\" next=\"referred\"/>"));
        for block in header_blocks(&xml) {
            assert!(
                block.contains("Call-ID") || block.contains("[last_Call-ID:]"),
                "{block}"
            );
        }

        // A carrier does not answer a challenge: a 407 is the REFER's final answer.
        call.authenticate = false;
        let xml = invite_scenario(&call);
        assert!(!xml.contains("CSeq: 4 REFER"));
        assert!(!xml.contains("[authentication]"));
        assert!(xml.contains("<recv response=\"407\" optional=\"true\" next=\"referred\"/>"));
    }

    #[test]
    fn reinvite_is_answered_during_the_hold() {
        let xml = invite_scenario(&phone_call());
        let reinvite = xml
            .split("<label id=\"talk_reinvite\"/>\n")
            .nth(1)
            .unwrap_or_default();
        assert!(reinvite.starts_with("<send retrans=\"500\"><![CDATA[\nSIP/2.0 200 OK\n"));
        assert!(reinvite.contains("Content-Type: application/sdp\n"));
        assert!(reinvite.contains("m=audio 9 RTP/AVP 0\n"));
        assert!(reinvite.contains("<recv request=\"ACK\" next=\"talk_hold\"/>"));
    }
}
