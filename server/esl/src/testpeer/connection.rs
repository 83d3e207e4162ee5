//! The fake socket's connections: accepting them, reading command lines and answering them
//! as FreeSWITCH would (authentication, `api`, `bgapi`, event subscriptions, `exit`), and
//! writing the queued frames in the peer's current [`WriteMode`].

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::{wire, Conn, Out, Shared, Subs, WriteMode};
use crate::event::EventFormat;

pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
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
