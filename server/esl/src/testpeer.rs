//! A fake FreeSWITCH event socket for tests (cargo feature `test-peer`).
//!
//! It writes the bytes FreeSWITCH 1.10 writes (checked against the captures in
//! `tests/fixtures/`): the `auth/request` greeting, `+OK accepted` or `-ERR invalid` followed by
//! a disconnect notice, `api/response` bodies from a table (`-ERR <cmd> Command not found!\n`
//! for anything not in it), `bgapi` replies followed by a `BACKGROUND_JOB` event in the format
//! the connection subscribed to, and events pushed by the test to every connection subscribed to
//! them (the same filter as `mod_event_socket`: event name or `ALL`, CUSTOM by subclass).
//!
//! It records every command line received, so a test can assert what was (not) sent, and can
//! drop every connection, refuse new ones, split its writes into tiny chunks or coalesce queued
//! frames into one write.
//!
//! Not modelled: `event xml` (answered with `-ERR`), command headers/bodies (`sendevent`,
//! `sendmsg`), logs, `myevents`, outbound sockets. Any event name is accepted.
//!
//! ```no_run
//! # async fn t() -> Result<(), Box<dyn std::error::Error>> {
//! use esl::testpeer::TestPeer;
//! let peer = TestPeer::start("ClueCon").await?;
//! peer.respond("xml_flush_cache id 1001 acme.test", "+OK cleared 1 entries\n");
//! let client = esl::EslClient::connect(&peer.addr_string(), "ClueCon", std::time::Duration::from_secs(2)).await?;
//! assert_eq!(client.api("xml_flush_cache id 1001 acme.test").await?, "+OK cleared 1 entries\n");
//! assert_eq!(peer.api_commands(), ["xml_flush_cache id 1001 acme.test"]);
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio::task::{AbortHandle, JoinHandle};

use crate::event::{Event, EventFormat};

/// FreeSWITCH's exact bytes, as free functions (also used to check the peer against captures).
pub mod wire {
    use crate::event::{url_encode, Event, EventFormat};

    /// The text of FreeSWITCH's disconnect notice.
    pub const GOODBYE: &str =
        "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

    /// Greeting sent on connect.
    pub fn auth_request() -> Vec<u8> {
        b"Content-Type: auth/request\n\n".to_vec()
    }

    /// A `command/reply` with `Reply-Text`.
    pub fn command_reply(text: &str) -> Vec<u8> {
        format!("Content-Type: command/reply\nReply-Text: {text}\n\n").into_bytes()
    }

    /// The reply to `bgapi`.
    pub fn bgapi_reply(job_uuid: &str) -> Vec<u8> {
        format!(
            "Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job_uuid}\nJob-UUID: {job_uuid}\n\n"
        )
        .into_bytes()
    }

    /// The answer to `api`.
    pub fn api_response(body: &str) -> Vec<u8> {
        let mut out = format!(
            "Content-Type: api/response\nContent-Length: {}\n\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }

    /// Sent before FreeSWITCH closes a connection (after `exit` or a wrong password).
    pub fn disconnect_notice() -> Vec<u8> {
        format!(
            "Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{GOODBYE}",
            GOODBYE.len()
        )
        .into_bytes()
    }

    /// The plain serialization of an event (`switch_event_serialize`): URL-encoded header lines,
    /// then `Content-Length: N`, an empty line and the body, or just an empty line.
    pub fn event_plain_body(event: &Event) -> String {
        let mut out = String::new();
        for (name, value) in event.headers.iter() {
            if name.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&url_encode(value));
            out.push('\n');
        }
        match &event.body {
            Some(body) => {
                out.push_str(&format!("Content-Length: {}\n\n", body.len()));
                out.push_str(body);
            }
            None => out.push('\n'),
        }
        out
    }

    /// The JSON serialization of an event (cJSON, unformatted): string values, then
    /// `Content-Length` and `_body` when there is a body.
    pub fn event_json_body(event: &Event) -> String {
        let mut fields: Vec<String> = event
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("Content-Length"))
            .map(|(n, v)| format!("{}:{}", json_string(n), json_string(v)))
            .collect();
        if let Some(body) = &event.body {
            fields.push(format!(
                "{}:{}",
                json_string("Content-Length"),
                json_string(&body.len().to_string())
            ));
            fields.push(format!("{}:{}", json_string("_body"), json_string(body)));
        }
        format!("{{{}}}", fields.join(","))
    }

    /// A whole event frame in `format`.
    pub fn event_frame(event: &Event, format: EventFormat) -> Vec<u8> {
        let body = match format {
            EventFormat::Plain => event_plain_body(event),
            EventFormat::Json => event_json_body(event),
        };
        let mut out = format!(
            "Content-Length: {}\nContent-Type: text/event-{format}\n\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }

    /// A JSON string literal escaped as cJSON does.
    fn json_string(s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

/// How the peer writes its frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// One write per frame (per reply, per event).
    #[default]
    Whole,
    /// Each frame in writes of `size` bytes with `pause` between them, so the client sees
    /// partial frames.
    Chunked {
        /// Bytes per write (at least 1).
        size: usize,
        /// Pause after each write (1 ms is enough to defeat coalescing on loopback).
        pause: Duration,
    },
    /// Everything already queued for the connection goes out in one write (e.g. a `bgapi`
    /// reply and its BACKGROUND_JOB event), so the client sees several frames in one read.
    Coalesce,
}

#[derive(Debug, Clone)]
struct Reply {
    body: String,
    delay: Duration,
}

#[derive(Debug, Default)]
struct Subs {
    format: Option<EventFormat>,
    all: bool,
    names: HashSet<String>,
    subclasses: HashSet<String>,
}

impl Subs {
    fn wants(&self, event: &Event) -> bool {
        if self.format.is_none() {
            return false;
        }
        if self.all {
            return true;
        }
        let name = event.name().unwrap_or_default().to_ascii_uppercase();
        if !self.names.contains(&name) {
            return false;
        }
        name != "CUSTOM" || event.subclass().is_none_or(|s| self.subclasses.contains(s))
    }
}

enum Out {
    Bytes(Vec<u8>),
    Close,
}

struct Conn {
    id: u64,
    out: mpsc::UnboundedSender<Out>,
    subs: Subs,
    tasks: Vec<AbortHandle>,
}

#[derive(Default)]
struct State {
    exact: HashMap<String, Reply>,
    verbs: HashMap<String, Reply>,
    mode: WriteMode,
    refuse: bool,
    commands: Vec<String>,
    conns: Vec<Conn>,
    accepted: usize,
}

struct Shared {
    password: String,
    state: Mutex<State>,
    command_seen: Notify,
    ids: AtomicU64,
    jobs: AtomicU64,
    sequence: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `event` to every connection subscribed to it; returns how many.
    fn deliver(&self, event: &Event) -> usize {
        let st = self.lock();
        let mut n = 0;
        for conn in &st.conns {
            if let (true, Some(format)) = (conn.subs.wants(event), conn.subs.format) {
                if conn
                    .out
                    .send(Out::Bytes(wire::event_frame(event, format)))
                    .is_ok()
                {
                    n += 1;
                }
            }
        }
        n
    }

    fn api_reply(&self, cmd: &str) -> Reply {
        let st = self.lock();
        let verb = cmd.split(' ').next().unwrap_or_default();
        st.exact
            .get(cmd)
            .or_else(|| st.verbs.get(verb))
            .cloned()
            .unwrap_or_else(|| Reply {
                body: format!("-ERR {verb} Command not found!\n"),
                delay: Duration::ZERO,
            })
    }

    fn background_job(&self, uuid: &str, cmd: &str, body: &str) -> Event {
        let (verb, arg) = match cmd.split_once(' ') {
            Some((v, a)) => (v, Some(a)),
            None => (cmd, None),
        };
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let mut event = Event::new("BACKGROUND_JOB")
            .with_header("Core-UUID", "00000000-0000-4000-8000-000000000000")
            .with_header("FreeSWITCH-Hostname", "testpeer")
            .with_header("Event-Calling-File", "mod_event_socket.c")
            .with_header("Event-Calling-Function", "api_exec")
            .with_header("Event-Sequence", &seq.to_string())
            .with_header("Job-UUID", uuid)
            .with_header("Job-Command", verb);
        if let Some(arg) = arg {
            event = event.with_header("Job-Command-Arg", arg);
        }
        event.with_body(body)
    }
}

/// A running fake FreeSWITCH event socket on 127.0.0.1 (random port). Dropping it closes the
/// listener and every connection.
pub struct TestPeer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl std::fmt::Debug for TestPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPeer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl TestPeer {
    /// Listens on 127.0.0.1 with a random port and accepts `password`.
    pub async fn start(password: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            password: password.to_string(),
            state: Mutex::new(State::default()),
            command_seen: Notify::new(),
            ids: AtomicU64::new(0),
            jobs: AtomicU64::new(0),
            sequence: AtomicU64::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(Self {
            shared,
            addr,
            accept,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening address as `127.0.0.1:PORT`, for [`crate::EslClient::connect`].
    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }

    /// `api COMMAND` (exact text after `api `) answers `body`.
    pub fn respond(&self, command: &str, body: &str) {
        self.respond_delayed(command, body, Duration::ZERO);
    }

    /// Like [`TestPeer::respond`], answering after `delay`. Like FreeSWITCH, an `api` blocks its
    /// connection meanwhile.
    pub fn respond_delayed(&self, command: &str, body: &str, delay: Duration) {
        self.shared.lock().exact.insert(
            command.to_string(),
            Reply {
                body: body.to_string(),
                delay,
            },
        );
    }

    /// Any `api VERB ...` without an exact entry answers `body`.
    pub fn respond_verb(&self, verb: &str, body: &str) {
        self.shared.lock().verbs.insert(
            verb.to_string(),
            Reply {
                body: body.to_string(),
                delay: Duration::ZERO,
            },
        );
    }

    /// Changes how frames are written from now on.
    pub fn set_write_mode(&self, mode: WriteMode) {
        self.shared.lock().mode = mode;
    }

    /// When `true`, new connections are accepted and closed at once (FreeSWITCH down).
    pub fn set_refuse_connections(&self, refuse: bool) {
        self.shared.lock().refuse = refuse;
    }

    /// Every command line received, in order, on all connections (`auth ...` included).
    pub fn commands(&self) -> Vec<String> {
        self.shared.lock().commands.clone()
    }

    /// The text after `api ` / `bgapi ` of every API command received, in order.
    pub fn api_commands(&self) -> Vec<String> {
        self.commands()
            .iter()
            .filter_map(|c| c.strip_prefix("api ").or_else(|| c.strip_prefix("bgapi ")))
            .map(str::to_string)
            .collect()
    }

    /// Forgets the recorded commands.
    pub fn clear_commands(&self) {
        self.shared.lock().commands.clear();
    }

    /// Waits until at least `n` commands were recorded or `timeout` passed; returns them.
    pub async fn wait_for_commands(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.command_seen.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let commands = self.commands();
            if commands.len() >= n {
                return commands;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.commands();
            }
        }
    }

    /// Sends `event` to every open connection subscribed to it, in that connection's format.
    /// Returns the number of connections it was sent to.
    pub fn push_event(&self, event: &Event) -> usize {
        self.shared.deliver(event)
    }

    /// Closes every open connection at once, without a disconnect notice (FreeSWITCH crashed or
    /// restarted). Returns how many were closed.
    pub fn drop_connections(&self) -> usize {
        let conns = std::mem::take(&mut self.shared.lock().conns);
        for conn in &conns {
            for t in &conn.tasks {
                t.abort();
            }
        }
        conns.len()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.lock().conns.len()
    }

    /// Connections accepted since start (refused ones included).
    pub fn accepted_connections(&self) -> usize {
        self.shared.lock().accepted
    }
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_connections();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        let mut st = shared.lock();
        st.accepted += 1;
        if st.refuse {
            drop(socket);
            continue;
        }
        let id = shared.ids.fetch_add(1, Ordering::Relaxed);
        let (rd, wr) = socket.into_split();
        let (out, out_rx) = mpsc::unbounded_channel();
        let _ = out.send(Out::Bytes(wire::auth_request()));
        let writer = tokio::spawn(write_loop(wr, out_rx, shared.clone()));
        let reader = tokio::spawn(read_loop(rd, id, out.clone(), shared.clone()));
        st.conns.push(Conn {
            id,
            out,
            subs: Subs::default(),
            tasks: vec![writer.abort_handle(), reader.abort_handle()],
        });
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Out>,
    shared: Arc<Shared>,
) {
    while let Some(msg) = rx.recv().await {
        let Out::Bytes(mut bytes) = msg else {
            break;
        };
        let mode = shared.lock().mode;
        let mut close_after = false;
        if mode == WriteMode::Coalesce {
            while let Ok(next) = rx.try_recv() {
                match next {
                    Out::Bytes(more) => bytes.extend_from_slice(&more),
                    Out::Close => {
                        close_after = true;
                        break;
                    }
                }
            }
        }
        let written = match mode {
            WriteMode::Chunked { size, pause } => {
                let mut r = Ok(());
                for chunk in bytes.chunks(size.max(1)) {
                    r = wr.write_all(chunk).await;
                    if r.is_err() {
                        break;
                    }
                    tokio::time::sleep(pause).await;
                }
                r
            }
            _ => wr.write_all(&bytes).await,
        };
        if written.is_err() || close_after {
            break;
        }
    }
    let _ = wr.shutdown().await;
}

/// Takes one command (up to the empty line) from `buf`: its first line, without headers.
fn take_command(buf: &mut Vec<u8>) -> Option<String> {
    let skip = buf
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count();
    buf.drain(..skip);
    // Like FreeSWITCH's read_packet: two `\n` with only `\r` between end the command.
    let mut newlines = 0;
    let mut end = None;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'\n' => newlines += 1,
            b'\r' => {}
            _ => newlines = 0,
        }
        if newlines == 2 {
            end = Some(i + 1);
            break;
        }
    }
    let block: Vec<u8> = buf.drain(..end?).collect();
    let first = block.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    Some(String::from_utf8_lossy(first).into_owned())
}

enum Next {
    Continue,
    Close,
}

async fn read_loop(
    mut rd: OwnedReadHalf,
    id: u64,
    out: mpsc::UnboundedSender<Out>,
    shared: Arc<Shared>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut authed = false;
    'conn: loop {
        while let Some(cmd) = take_command(&mut buf) {
            shared.lock().commands.push(cmd.clone());
            shared.command_seen.notify_waiters();
            if let Next::Close = handle(&cmd, id, &mut authed, &out, &shared).await {
                let _ = out.send(Out::Close);
                break 'conn;
            }
        }
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    shared.lock().conns.retain(|c| c.id != id);
}

fn starts_with_word(cmd: &str, word: &str) -> bool {
    cmd.get(..word.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(word))
}

async fn handle(
    cmd: &str,
    id: u64,
    authed: &mut bool,
    out: &mpsc::UnboundedSender<Out>,
    shared: &Arc<Shared>,
) -> Next {
    let send = |bytes: Vec<u8>| {
        let _ = out.send(Out::Bytes(bytes));
    };
    if starts_with_word(cmd, "exit") {
        send(wire::command_reply("+OK bye"));
        send(wire::disconnect_notice());
        return Next::Close;
    }
    if !*authed {
        if starts_with_word(cmd, "auth ") {
            if cmd[5..] == shared.password {
                *authed = true;
                send(wire::command_reply("+OK accepted"));
                return Next::Continue;
            }
            send(wire::command_reply("-ERR invalid"));
            send(wire::disconnect_notice());
            return Next::Close;
        }
        send(wire::command_reply("-ERR command not found"));
        return Next::Continue;
    }
    if starts_with_word(cmd, "api ") {
        let api = &cmd[4..];
        let reply = shared.api_reply(api);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let body = if reply.body.is_empty() {
            "-ERR no reply\n".to_string()
        } else {
            reply.body
        };
        send(wire::api_response(&body));
    } else if starts_with_word(cmd, "bgapi ") {
        let api = cmd[6..].to_string();
        let n = shared.jobs.fetch_add(1, Ordering::Relaxed) + 1;
        let uuid = format!("0b9a0000-0000-4000-8000-{n:012x}");
        send(wire::bgapi_reply(&uuid));
        let reply = shared.api_reply(&api);
        let event = shared.background_job(&uuid, &api, &reply.body);
        if reply.delay.is_zero() {
            shared.deliver(&event);
        } else {
            // FreeSWITCH runs a bgapi in its own thread: the connection is not blocked.
            let shared = Arc::clone(shared);
            let delay = reply.delay;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                shared.deliver(&event);
            });
        }
    } else if starts_with_word(cmd, "event") {
        send(wire::command_reply(&subscribe(cmd, id, shared)));
    } else if starts_with_word(cmd, "noevents") {
        let mut st = shared.lock();
        let reply = match st.conns.iter_mut().find(|c| c.id == id) {
            Some(conn) if conn.subs.format.is_some() => {
                conn.subs = Subs::default();
                "+OK no longer listening for events"
            }
            _ => "-ERR not listening for events",
        };
        drop(st);
        send(wire::command_reply(reply));
    } else {
        send(wire::command_reply("-ERR command not found"));
    }
    Next::Continue
}

/// Applies `event [plain|json] NAMES...` to connection `id`; returns the Reply-Text.
fn subscribe(cmd: &str, id: u64, shared: &Shared) -> String {
    let mut words = cmd.split(' ').skip(1).filter(|w| !w.is_empty()).peekable();
    let mut format = EventFormat::Plain;
    let mut st = shared.lock();
    let Some(conn) = st.conns.iter_mut().find(|c| c.id == id) else {
        return "-ERR connection gone".into();
    };
    if let Some(first) = words.peek() {
        if first.eq_ignore_ascii_case("xml") {
            return "-ERR the test peer does not speak xml events".into();
        }
        if first.eq_ignore_ascii_case("json") {
            format = EventFormat::Json;
            words.next();
        } else if first.eq_ignore_ascii_case("plain") {
            words.next();
        } else if let Some(f) = conn.subs.format {
            format = f;
        }
    }
    let mut keys = 0;
    let mut custom = false;
    for w in words {
        if custom {
            conn.subs.subclasses.insert(w.to_string());
            continue;
        }
        keys += 1;
        let upper = w.to_ascii_uppercase();
        if upper == "ALL" {
            conn.subs.all = true;
        }
        if upper == "CUSTOM" {
            custom = true;
        }
        conn.subs.names.insert(upper);
    }
    if keys == 0 {
        return "-ERR no keywords supplied".into();
    }
    conn.subs.format = Some(format);
    format!("+OK event listener enabled {format}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn commands_end_at_an_empty_line_with_or_without_cr() {
        let mut buf =
            b"\napi status\n\nauth x\r\n\r\nevent plain ALL\nX-Header: 1\n\npartial".to_vec();
        assert_eq!(take_command(&mut buf).as_deref(), Some("api status"));
        assert_eq!(take_command(&mut buf).as_deref(), Some("auth x"));
        assert_eq!(take_command(&mut buf).as_deref(), Some("event plain ALL"));
        assert_eq!(take_command(&mut buf), None);
        assert_eq!(buf, b"partial");
    }
}
