//! One authenticated event-socket connection.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::error::{check_line, EslError};
use crate::event::{Event, EventFormat};
use crate::frame::{Frame, FrameDecoder, FrameKind};

/// How many events a slow subscriber may fall behind before it sees `RecvError::Lagged`.
pub const EVENT_CHANNEL_CAPACITY: usize = 1024;
/// How many commands may queue for the connection task.
const REQUEST_QUEUE: usize = 256;
const READ_CHUNK: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// `api` is answered by `api/response`.
    ApiResponse,
    /// Every other command is answered by `command/reply`.
    CommandReply,
}

impl Expect {
    fn kind(self) -> FrameKind {
        match self {
            Self::ApiResponse => FrameKind::ApiResponse,
            Self::CommandReply => FrameKind::CommandReply,
        }
    }
}

struct Request {
    wire: Vec<u8>,
    expect: Expect,
    reply: oneshot::Sender<Result<Frame, EslError>>,
}

struct Pending {
    expect: Expect,
    reply: oneshot::Sender<Result<Frame, EslError>>,
}

/// A connected, authenticated event-socket client. Cheap to clone; all clones share the one
/// connection. Commands from any number of tasks are queued to a single connection task that
/// writes them in order and matches FreeSWITCH's in-order answers to them; events are broadcast
/// to every [`EslClient::events`] receiver.
///
/// The connection task ends when FreeSWITCH closes the socket, on a protocol error, or when the
/// last clone is dropped. It does not reconnect: see [`crate::ReconnectingClient`].
#[derive(Clone)]
pub struct EslClient {
    tx: mpsc::Sender<Request>,
    events: broadcast::Sender<Event>,
    closed: watch::Receiver<Option<EslError>>,
    timeout: Duration,
}

impl std::fmt::Debug for EslClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EslClient")
            .field("connected", &self.is_connected())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl EslClient {
    /// Connects to `addr` (`host:port`, e.g. `127.0.0.1:8021`) and authenticates with `password`.
    /// `timeout` bounds the connect + authentication together, and then every command.
    ///
    /// Errors: [`EslError::AuthRejected`] on a wrong password, [`EslError::Io`] when nothing
    /// listens, [`EslError::Timeout`], [`EslError::AccessDenied`] when FreeSWITCH's ACL refuses us,
    /// [`EslError::InvalidCommand`] when the password contains a line break.
    pub async fn connect(addr: &str, password: &str, timeout: Duration) -> Result<Self, EslError> {
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        Self::connect_with_events(addr, password, timeout, events).await
    }

    /// Like [`EslClient::connect`], delivering events into an existing broadcast channel (used by
    /// the reconnecting client so subscribers survive reconnections).
    pub(crate) async fn connect_with_events(
        addr: &str,
        password: &str,
        timeout: Duration,
        events: broadcast::Sender<Event>,
    ) -> Result<Self, EslError> {
        if password.contains(['\n', '\r', '\0']) {
            return Err(EslError::InvalidCommand("line break or NUL in password"));
        }
        let deadline = Instant::now() + timeout;
        let mut stream = match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => {
                return Err(EslError::Timeout {
                    after: timeout,
                    what: "connect".into(),
                })
            }
            Ok(r) => r?,
        };
        stream.set_nodelay(true)?;
        let mut decoder = FrameDecoder::new();
        match tokio::time::timeout_at(deadline, authenticate(&mut stream, &mut decoder, password))
            .await
        {
            Err(_) => {
                return Err(EslError::Timeout {
                    after: timeout,
                    what: "auth".into(),
                })
            }
            Ok(r) => r?,
        }
        tracing::debug!(addr, "event socket authenticated");

        let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
        let (closed_tx, closed_rx) = watch::channel(None);
        tokio::spawn(connection_task(
            stream,
            decoder,
            rx,
            events.clone(),
            closed_tx,
        ));
        Ok(Self {
            tx,
            events,
            closed: closed_rx,
            timeout,
        })
    }

    /// The per-command time limit.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `api CMD` and returns its output. An output starting with `-ERR` or `-USAGE` (how
    /// FreeSWITCH API commands report failure, e.g. `-ERR no_such_command Command not found!`)
    /// is returned as [`EslError::CommandFailed`] with the text, trailing line break removed. Use
    /// [`EslClient::api_raw`] to get every output as text.
    pub async fn api(&self, cmd: &str) -> Result<String, EslError> {
        let body = self.api_raw(cmd).await?;
        if body.starts_with("-ERR") || body.starts_with("-USAGE") {
            return Err(EslError::CommandFailed(body.trim_end().to_string()));
        }
        Ok(body)
    }

    /// Runs `api CMD` and returns the `api/response` body as is, `-ERR` included. Note that some
    /// commands report failure without `-ERR` (`sofia xmlstatus gateway X` answers
    /// `Invalid Gateway!`): callers check the text they expect.
    pub async fn api_raw(&self, cmd: &str) -> Result<String, EslError> {
        check_line(cmd)?;
        let frame = self
            .request(
                format!("api {cmd}\n\n"),
                Expect::ApiResponse,
                describe("api", cmd),
            )
            .await?;
        Ok(frame.body_text().unwrap_or_default())
    }

    /// Runs `bgapi CMD` and returns its Job-UUID. The output arrives later as a `BACKGROUND_JOB`
    /// event with that `Job-UUID`, if the connection is subscribed to `BACKGROUND_JOB`.
    pub async fn bgapi(&self, cmd: &str) -> Result<String, EslError> {
        check_line(cmd)?;
        let frame = self
            .request(
                format!("bgapi {cmd}\n\n"),
                Expect::CommandReply,
                describe("bgapi", cmd),
            )
            .await?;
        let text = reply_ok(&frame)?;
        frame
            .headers
            .get("Job-UUID")
            .or_else(|| text.strip_prefix("+OK Job-UUID:"))
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| EslError::Protocol("bgapi reply without Job-UUID".into()))
    }

    /// Fires an event inside FreeSWITCH: `sendevent NAME` with `headers` (one line each; a
    /// name or value with a line break, a NUL, or a header name with `:` is refused before
    /// anything is sent). FreeSWITCH answers `+OK <uuid>`.
    pub async fn sendevent(&self, name: &str, headers: &[(&str, &str)]) -> Result<(), EslError> {
        let frame = sendevent_frame(name, headers)?;
        let reply = self
            .request(frame, Expect::CommandReply, describe("sendevent", name))
            .await?;
        reply_ok(&reply).map(|_| ())
    }

    /// Sends `event FORMAT NAME...` (e.g. `["BACKGROUND_JOB", "CUSTOM", "sofia::gateway_state"]`:
    /// subclasses of CUSTOM follow the word CUSTOM). FreeSWITCH adds the names to the
    /// connection's subscriptions and switches the whole connection to `format`. Events are then
    /// delivered to [`EslClient::events`] receivers; take a receiver before subscribing.
    pub async fn subscribe_events(
        &self,
        format: EventFormat,
        names: &[&str],
    ) -> Result<(), EslError> {
        let line = event_command(format, names)?;
        let frame = self
            .request(line, Expect::CommandReply, "event".into())
            .await?;
        reply_ok(&frame).map(|_| ())
    }

    /// A receiver of every event that arrives on this connection from now on.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Sends `exit` and waits for `+OK bye`; FreeSWITCH then closes the connection.
    pub async fn exit(&self) -> Result<(), EslError> {
        let frame = self
            .request("exit\n\n".into(), Expect::CommandReply, "exit".into())
            .await?;
        reply_ok(&frame).map(|_| ())
    }

    /// False once the connection task has ended.
    pub fn is_connected(&self) -> bool {
        self.closed.borrow().is_none()
    }

    /// Waits until the connection has ended and returns why.
    pub async fn closed(&self) -> EslError {
        let mut rx = self.closed.clone();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => None,
        };
        reason.unwrap_or_else(|| EslError::Disconnected("connection task ended".into()))
    }

    fn close_reason(&self) -> EslError {
        self.closed
            .borrow()
            .clone()
            .unwrap_or_else(|| EslError::Disconnected("connection task ended".into()))
    }

    async fn request(&self, wire: String, expect: Expect, what: String) -> Result<Frame, EslError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        let exchange = async {
            self.tx
                .send(Request {
                    wire: wire.into_bytes(),
                    expect,
                    reply: reply_tx,
                })
                .await
                .map_err(|_| self.close_reason())?;
            reply_rx.await.map_err(|_| self.close_reason())?
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(command = %what, timeout = ?self.timeout, "event socket command timed out");
                Err(EslError::Timeout {
                    after: self.timeout,
                    what,
                })
            }
        }
    }
}

/// Builds `event FORMAT NAMES\n\n`, refusing names that would break the line.
pub(crate) fn event_command<S: AsRef<str>>(
    format: EventFormat,
    names: &[S],
) -> Result<String, EslError> {
    if names.is_empty() {
        return Err(EslError::InvalidCommand("no event names"));
    }
    for n in names {
        check_line(n.as_ref())?;
    }
    let joined: Vec<&str> = names.iter().map(|n| n.as_ref().trim()).collect();
    Ok(format!("event {format} {}\n\n", joined.join(" ")))
}

/// `api xml_flush_cache` for `xml_flush_cache id 1001 acme.test`: the verb only, arguments may
/// name tenants and do not belong in error messages.
fn describe(kind: &str, cmd: &str) -> String {
    let verb = cmd.split_whitespace().next().unwrap_or_default();
    format!("{kind} {verb}")
}

/// The Reply-Text of a successful `command/reply`; `-ERR ...` becomes `CommandFailed`.
fn reply_ok(frame: &Frame) -> Result<&str, EslError> {
    let text = frame.reply_text().unwrap_or_default();
    if text.starts_with("-ERR") {
        return Err(EslError::CommandFailed(text.to_string()));
    }
    Ok(text)
}

async fn read_frame(stream: &mut TcpStream, decoder: &mut FrameDecoder) -> Result<Frame, EslError> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(frame) = decoder.next_frame()? {
            return Ok(frame);
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(EslError::Disconnected(
                "closed by FreeSWITCH before authentication".into(),
            ));
        }
        decoder.push(&buf[..n]);
    }
}

async fn authenticate(
    stream: &mut TcpStream,
    decoder: &mut FrameDecoder,
    password: &str,
) -> Result<(), EslError> {
    let greeting = read_frame(stream, decoder).await?;
    match greeting.kind() {
        FrameKind::AuthRequest => {}
        FrameKind::RudeRejection => {
            let text = greeting.body_text().unwrap_or_default();
            return Err(EslError::AccessDenied(text.trim_end().to_string()));
        }
        _ => {
            return Err(EslError::Protocol(format!(
                "expected auth/request, got {:?}",
                greeting.content_type()
            )))
        }
    }
    stream
        .write_all(format!("auth {password}\n\n").as_bytes())
        .await?;
    let reply = read_frame(stream, decoder).await?;
    if reply.kind() != FrameKind::CommandReply {
        return Err(EslError::Protocol(format!(
            "expected command/reply to auth, got {:?}",
            reply.content_type()
        )));
    }
    match reply.reply_text() {
        Some(t) if t.starts_with("+OK") => Ok(()),
        Some(t) if t.starts_with("-ERR") => Err(EslError::AuthRejected),
        other => Err(EslError::Protocol(format!(
            "unexpected auth reply {other:?}"
        ))),
    }
}

async fn connection_task(
    stream: TcpStream,
    decoder: FrameDecoder,
    mut rx: mpsc::Receiver<Request>,
    events: broadcast::Sender<Event>,
    closed: watch::Sender<Option<EslError>>,
) {
    let mut pending = VecDeque::new();
    let reason = drive(stream, decoder, &mut rx, &mut pending, &events).await;
    tracing::info!(reason = %reason, "event socket connection ended");
    closed.send_replace(Some(reason.clone()));
    for p in pending.drain(..) {
        let _ = p.reply.send(Err(reason.clone()));
    }
    rx.close();
    while let Ok(req) = rx.try_recv() {
        let _ = req.reply.send(Err(reason.clone()));
    }
}

/// Runs the connection until it ends; returns why.
async fn drive(
    stream: TcpStream,
    mut decoder: FrameDecoder,
    rx: &mut mpsc::Receiver<Request>,
    pending: &mut VecDeque<Pending>,
    events: &broadcast::Sender<Event>,
) -> EslError {
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut goodbye = false;
    loop {
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => {
                    if let Err(e) = dispatch(frame, pending, events, &mut goodbye) {
                        return e;
                    }
                }
                Ok(None) => break,
                Err(e) => return e.into(),
            }
        }
        tokio::select! {
            // After a disconnect notice nothing more is written; queued commands fail at close.
            req = rx.recv(), if !goodbye => match req {
                None => {
                    let _ = wr.shutdown().await;
                    return EslError::Disconnected("client dropped".into());
                }
                Some(req) => {
                    pending.push_back(Pending { expect: req.expect, reply: req.reply });
                    if let Err(e) = wr.write_all(&req.wire).await {
                        return e.into();
                    }
                }
            },
            n = rd.read(&mut buf) => match n {
                Ok(0) => {
                    return EslError::Disconnected(if goodbye {
                        "FreeSWITCH sent a disconnect notice".into()
                    } else {
                        "connection closed by FreeSWITCH".into()
                    });
                }
                Ok(n) => decoder.push(&buf[..n]),
                Err(e) => return e.into(),
            },
        }
    }
}

fn dispatch(
    frame: Frame,
    pending: &mut VecDeque<Pending>,
    events: &broadcast::Sender<Event>,
    goodbye: &mut bool,
) -> Result<(), EslError> {
    let kind = frame.kind();
    match kind {
        FrameKind::CommandReply | FrameKind::ApiResponse => {
            let Some(p) = pending.pop_front() else {
                return Err(EslError::Protocol(format!(
                    "{kind:?} with no command waiting"
                )));
            };
            if p.expect.kind() != kind {
                let e = EslError::Protocol(format!("expected {:?}, got {kind:?}", p.expect.kind()));
                let _ = p.reply.send(Err(e.clone()));
                return Err(e);
            }
            // The caller may have timed out and gone: its answer is dropped here, so the next
            // answer still goes to the next command.
            let _ = p.reply.send(Ok(frame));
        }
        FrameKind::EventPlain | FrameKind::EventJson => {
            let body = frame.body.as_deref().unwrap_or_default();
            let parsed = if kind == FrameKind::EventPlain {
                Event::parse_plain(body)
            } else {
                Event::parse_json(body)
            };
            match parsed {
                // No receiver is not an error: nobody listens at the moment.
                Ok(event) => {
                    let _ = events.send(event);
                }
                Err(e) => tracing::warn!(error = %e, "undecodable event skipped"),
            }
        }
        FrameKind::DisconnectNotice => {
            tracing::debug!("FreeSWITCH sent a disconnect notice");
            *goodbye = true;
        }
        other => {
            tracing::debug!(kind = ?other, content_type = ?frame.content_type(), "frame ignored")
        }
    }
    Ok(())
}

/// The bytes of `sendevent NAME` with its header lines.
fn sendevent_frame(name: &str, headers: &[(&str, &str)]) -> Result<String, EslError> {
    check_line(name)?;
    let mut frame = format!("sendevent {name}\n");
    for (key, value) in headers {
        check_line(key)?;
        check_line(value)?;
        if key.contains(':') {
            return Err(EslError::InvalidCommand("':' in a header name"));
        }
        frame.push_str(&format!("{key}: {value}\n"));
    }
    frame.push('\n');
    Ok(frame)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {

    #[test]
    fn sendevent_frames_one_header_per_line_and_refuses_injected_lines() {
        assert_eq!(
            sendevent_frame("NOTIFY", &[("user", "101"), ("host", "pbx.acme.test")]).unwrap(),
            "sendevent NOTIFY\nuser: 101\nhost: pbx.acme.test\n\n"
        );
        for headers in [
            vec![("user", "101\nhost: pbx.globex.test")],
            vec![("user", "101\r")],
            vec![("us:er", "101")],
            vec![("user\n", "101")],
            vec![("user", "1\u{0}")],
        ] {
            assert!(sendevent_frame("NOTIFY", &headers).is_err(), "{headers:?}");
        }
        assert!(sendevent_frame("NOTIFY\napi x", &[]).is_err());
    }

    use super::*;

    #[test]
    fn describe_keeps_only_the_verb() {
        assert_eq!(
            describe("api", "xml_flush_cache id 1001 acme.test"),
            "api xml_flush_cache"
        );
    }

    #[test]
    fn event_command_validates_names() {
        assert_eq!(
            event_command(
                EventFormat::Plain,
                &["BACKGROUND_JOB", "CUSTOM", "sofia::gateway_state"]
            )
            .unwrap(),
            "event plain BACKGROUND_JOB CUSTOM sofia::gateway_state\n\n"
        );
        assert!(event_command::<&str>(EventFormat::Json, &[]).is_err());
        assert!(event_command(EventFormat::Json, &["A\nexit"]).is_err());
    }

    #[test]
    fn reply_ok_maps_err() {
        let mut f = Frame {
            headers: Default::default(),
            body: None,
        };
        f.headers.push("Reply-Text", "-ERR no keywords supplied");
        assert!(
            matches!(reply_ok(&f), Err(EslError::CommandFailed(t)) if t == "-ERR no keywords supplied")
        );
    }
}
