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

use anyhow::{bail, Context, Result};

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
    /// ["INVITE", "ACK", "BYE"]).
    pub requests_received: Vec<String>,
    /// Every received message as text (for assertions on headers and for failure messages),
    /// strays included.
    pub received: Vec<String>,
    /// The final response (>= 200) to the INVITE or REGISTER this run sent, if any.
    pub final_code: Option<u16>,
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
    fn log_text(&self) -> String {
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

/// Starts an outgoing call in the background.
pub fn call(call: &Call, target: Target) -> Result<Running> {
    let xml = invite_scenario(call);
    let creds = call.authenticate.then_some(&call.from);
    let mut args = uac_args(target, creds);
    // Answer OPTIONS/INFO/NOTIFY/UPDATE within the call instead of treating them as unexpected.
    args.push("-aa".into());
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
    let wait = format!("{stage}_wait");
    let mut xml = format!("<label id=\"{wait}\"/>\n");
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
    body += &talk(Hangup::AfterMs(call.hold_ms), &from_hdr);
    body += "<label id=\"end\"/>\n";
    scenario("invite", &body)
}

/// The answered part of a call: wait for FreeSWITCH's BYE (answer it) until the hangup
/// time, then send our BYE. Waiting in a recv instead of a pause means a BYE from
/// FreeSWITCH during the hold ends the scenario cleanly instead of as an unexpected message.
fn talk(hangup: Hangup, from_hdr: &str) -> String {
    let Hangup::AfterMs(ms) = hangup;
    // timeout="0" would mean "no timeout" to sipp.
    let ms = ms.max(1);
    let bye = format!(
        "BYE [next_url] SIP/2.0\n\
         Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
         {from_hdr}\n\
         [last_To:]\n\
         Call-ID: [call_id]\n\
         CSeq: 10 BYE\n\
         [routes]\n\
         Max-Forwards: 70\n\
         Content-Length: 0"
    );
    let mut xml = format!("<recv request=\"BYE\" timeout=\"{ms}\" ontimeout=\"hangup\"/>\n");
    xml += &send("next=\"end\"", &reply("200 OK", ""));
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
/// Responses count only when their Call-ID is one this sipp sent: FreeSWITCH keeps
/// retransmitting a 200 for up to 32 s to a caller that was killed before its ACK, and a
/// later run on the same port must not take that for its own answer. Such strays are still
/// in `received`.
fn parse_outcome(log: &str) -> Outcome {
    let entries = parse_log(log);
    let ours: Vec<&str> = entries
        .iter()
        .filter(|e| !e.received)
        .filter_map(|e| header(&e.text, "Call-ID", "i"))
        .collect();
    let mut outcome = Outcome {
        exit_code: None,
        responses: Vec::new(),
        requests_received: Vec::new(),
        received: Vec::new(),
        final_code: None,
    };
    for entry in entries.iter().filter(|e| e.received) {
        if let Some(code) = status_code(&entry.text) {
            let call_id = header(&entry.text, "Call-ID", "i").unwrap_or_default();
            if !ours.contains(&call_id) {
                outcome.received.push(entry.text.clone());
                continue;
            }
            outcome.responses.push(code);
            let method = cseq_method(&entry.text).unwrap_or_default();
            if code >= 200 && (method == "INVITE" || method == "REGISTER") {
                outcome.final_code = Some(code);
            }
        } else if let Some(method) = request_method(&entry.text) {
            outcome.requests_received.push(method);
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
        assert!(xml.contains("<recv request=\"BYE\" timeout=\"1\" ontimeout=\"hangup\"/>"));
        assert_eq!(header_blocks(&xml).len(), 9);
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
}
