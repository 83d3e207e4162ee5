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
//! This file holds the peer's shared state and its API; [`wire`] the exact bytes and
//! `connection` what each connection does.
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

use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio::task::{AbortHandle, JoinHandle};

use crate::event::{Event, EventFormat};
use connection::accept_loop;

mod connection;
pub mod wire;

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
