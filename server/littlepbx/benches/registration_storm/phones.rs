//! Thousands of SIP phones registering over UDP from one socket, each with its own Contact and
//! digest credentials (Debian's SIPp cannot take a digest user per line of its injection file).
//!
//! Each registration: REGISTER, 401 with a nonce, REGISTER with the digest answer, 200. New
//! registrations start at a fixed rate; requests are retransmitted like a phone does (RFC 3261
//! timer E: 500 ms doubling to 4 s) and a registration without a final answer after 32 s
//! (timer F) has failed, as has one answered anything but 401-then-200.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{A1Hash, DigestParams, ExtensionNumber, SipDomain};
use tokio::net::UdpSocket;

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
const TIMER_F: Duration = Duration::from_secs(32);

/// One phone's account.
pub struct Phone {
    pub user: String,
    pub domain: String,
    /// Makes the Contact unique across orgs (the same number exists in every org).
    pub org: String,
    a1: A1Hash,
}

impl Phone {
    pub fn new(user: &str, domain: &str, org: &str, password: &str) -> Self {
        let a1 = A1Hash::compute(
            &ExtensionNumber::parse(user).expect("an extension number"),
            &SipDomain::parse(domain).expect("a SIP domain"),
            password,
        );
        Self {
            user: user.to_owned(),
            domain: domain.to_owned(),
            org: org.to_owned(),
            a1,
        }
    }
}

/// What a storm did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    pub retransmissions: u64,
    /// Requests FreeSWITCH sent the phones (NOTIFY, OPTIONS), each answered 200.
    pub requests_answered: u64,
    /// First REGISTER to 200 of every successful registration, sorted.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn percentile_ms(&self, q: f64) -> f64 {
        let at = ((self.latencies.len() as f64 * q) as usize).min(self.latencies.len().max(1) - 1);
        self.latencies
            .get(at)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }
}

/// A registration under way.
struct Pending {
    phone: usize,
    started: Instant,
    /// The request last sent, for retransmission.
    request: Vec<u8>,
    /// 1 before the challenge, 2 after.
    cseq: u32,
    next_send: Instant,
    interval: Duration,
    /// A provisional answer came: retransmit at T2 from now on.
    proceeding: bool,
}

/// Registers every phone once, starting `rate` registrations a second, against `target`.
pub async fn storm(phones: Arc<Vec<Phone>>, target: SocketAddr, rate: f64) -> Outcome {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("a UDP socket");
    let local = socket.local_addr().expect("local address");
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut outcome = Outcome::default();
    let started = Instant::now();
    let mut next_phone = 0usize;
    let mut buffer = vec![0u8; 65_536];
    let tick = Duration::from_millis(5);
    while next_phone < phones.len() || !pending.is_empty() {
        let now = Instant::now();
        // Start the registrations that are due by now.
        let due = ((now - started).as_secs_f64() * rate) as usize + 1;
        while next_phone < phones.len().min(due) {
            let call_id = format!("storm-{next_phone}-{}", local.port());
            let request = register(&phones[next_phone], &call_id, local, 1, None);
            let _ = socket.send_to(&request, target).await;
            pending.insert(
                call_id,
                Pending {
                    phone: next_phone,
                    started: now,
                    request,
                    cseq: 1,
                    next_send: now + T1,
                    interval: T1,
                    proceeding: false,
                },
            );
            next_phone += 1;
        }
        // Answers that arrive within one tick (bounded, so starts and retransmissions keep
        // their pace however busy the socket is).
        let tick_end = Instant::now() + tick;
        while let Ok(Ok((len, from))) = tokio::time::timeout(
            tick_end.saturating_duration_since(Instant::now()),
            socket.recv_from(&mut buffer),
        )
        .await
        {
            // FreeSWITCH's own requests (the voicemail lamp's NOTIFY after a registration,
            // OPTIONS): a phone answers them, or FreeSWITCH retransmits them for 32 s.
            if let Some(ok) = ok_to_request(&buffer[..len]) {
                let _ = socket.send_to(&ok, from).await;
                outcome.requests_answered += 1;
                continue;
            }
            let Some(answer) = Answer::parse(&buffer[..len]) else {
                continue;
            };
            let Some(state) = pending.get_mut(&answer.call_id) else {
                continue; // a late answer to a retransmission
            };
            if answer.cseq != state.cseq {
                continue;
            }
            match (answer.status, state.cseq) {
                (100..=199, _) => {
                    state.proceeding = true;
                    state.next_send = Instant::now() + T2;
                }
                (401, 1) => {
                    let Some(challenge) = answer.challenge else {
                        pending.remove(&answer.call_id);
                        outcome.failed += 1;
                        continue;
                    };
                    let phone = &phones[state.phone];
                    state.request = register(phone, &answer.call_id, local, 2, Some(&challenge));
                    state.cseq = 2;
                    state.interval = T1;
                    state.proceeding = false;
                    state.next_send = Instant::now() + T1;
                    let _ = socket.send_to(&state.request, target).await;
                }
                (200, 2) => {
                    outcome.latencies.push(state.started.elapsed());
                    outcome.ok += 1;
                    pending.remove(&answer.call_id);
                }
                _ => {
                    outcome.failed += 1;
                    pending.remove(&answer.call_id);
                }
            }
        }
        // Retransmissions and timeouts.
        let now = Instant::now();
        let mut expired = Vec::new();
        for (call_id, state) in pending.iter_mut() {
            if now - state.started > TIMER_F {
                expired.push(call_id.clone());
            } else if now >= state.next_send {
                let _ = socket.send_to(&state.request, target).await;
                outcome.retransmissions += 1;
                state.interval = if state.proceeding {
                    T2
                } else {
                    (state.interval * 2).min(T2)
                };
                state.next_send = now + state.interval;
            }
        }
        for call_id in expired {
            pending.remove(&call_id);
            outcome.failed += 1;
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.latencies.sort();
    outcome
}

/// A phone's `200 OK` to a request FreeSWITCH sent it; `None` for anything that is not a request.
fn ok_to_request(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next()?;
    if request_line.starts_with("SIP/2.0 ") || !request_line.ends_with(" SIP/2.0") {
        return None;
    }
    let mut answer = String::from("SIP/2.0 200 OK\r\n");
    for line in lines.take_while(|l| !l.is_empty()) {
        let name = line.split_once(':')?.0.trim().to_ascii_lowercase();
        match name.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                answer.push_str(line);
                answer.push_str("\r\n");
            }
            "to" | "t" if !line.contains(";tag=") => {
                answer.push_str(line);
                answer.push_str(";tag=phone\r\n");
            }
            "to" | "t" => {
                answer.push_str(line);
                answer.push_str("\r\n");
            }
            _ => {}
        }
    }
    answer.push_str("Content-Length: 0\r\n\r\n");
    Some(answer.into_bytes())
}

/// The digest challenge of a 401.
struct Challenge {
    realm: String,
    nonce: String,
    qop: Option<String>,
}

/// The parts of an answer the storm looks at.
struct Answer {
    status: u16,
    call_id: String,
    cseq: u32,
    challenge: Option<Challenge>,
}

impl Answer {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.split("\r\n");
        let status = lines
            .next()?
            .strip_prefix("SIP/2.0 ")?
            .get(..3)?
            .parse()
            .ok()?;
        let (mut call_id, mut cseq, mut challenge) = (None, None, None);
        for line in lines.take_while(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':')?;
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "call-id" | "i" => call_id = Some(value.to_owned()),
                "cseq" => cseq = value.split_whitespace().next()?.parse().ok(),
                "www-authenticate" => challenge = parse_challenge(value),
                _ => {}
            }
        }
        Some(Self {
            status,
            call_id: call_id?,
            cseq: cseq?,
            challenge,
        })
    }
}

fn parse_challenge(value: &str) -> Option<Challenge> {
    let params = value.strip_prefix("Digest")?;
    let field = |name: &str| -> Option<String> {
        params.split(',').find_map(|part| {
            let (key, value) = part.trim().split_once('=')?;
            (key.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
        })
    };
    Some(Challenge {
        realm: field("realm")?,
        nonce: field("nonce")?,
        qop: field("qop"),
    })
}

/// A REGISTER of `phone`; with a challenge, answered with digest.
fn register(
    phone: &Phone,
    call_id: &str,
    local: SocketAddr,
    cseq: u32,
    challenge: Option<&Challenge>,
) -> Vec<u8> {
    let uri = format!("sip:{}", phone.domain);
    let authorization = challenge.map(|c| {
        let (nc, cnonce) = ("00000001", format!("c{cseq}{call_id}"));
        let response = phone.a1.digest_response(&DigestParams {
            method: "REGISTER",
            uri: &uri,
            nonce: &c.nonce,
            nc,
            cnonce: &cnonce,
            qop: c.qop.as_deref(),
        });
        let qop = c
            .qop
            .as_deref()
            .map(|q| format!(", qop={q}, nc={nc}, cnonce=\"{cnonce}\""))
            .unwrap_or_default();
        format!(
            "Authorization: Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5{qop}\r\n",
            phone.user, c.realm, c.nonce
        )
    });
    format!(
        "REGISTER {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK{cseq}{call_id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@{domain}>;tag=t{call_id}\r\n\
         To: <sip:{user}@{domain}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{user}-{org}@{local}>\r\n\
         Expires: 3600\r\n\
         {auth}\
         User-Agent: littlepbx-storm\r\n\
         Content-Length: 0\r\n\r\n",
        user = phone.user,
        domain = phone.domain,
        org = phone.org,
        auth = authorization.unwrap_or_default(),
    )
    .into_bytes()
}
