//! The listener and one task per connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapBindResponse, LdapCompareRequest, LdapExtendedRequest,
    LdapExtendedResponse, LdapFilter, LdapMsg, LdapOp, LdapResult, LdapResultCode,
    LdapSearchRequest, OID_WHOAMI,
};
use ldap3_proto::{DisconnectionNotice, LdapCodec};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::dn::parse_bind_dn;
use crate::filter::matches;
use crate::search::{lookup, search, Query};
use crate::{BindDn, Directory, Limits};

/// The StartTLS extended operation (RFC 4511 §4.14).
const OID_START_TLS: &str = "1.3.6.1.4.1.1466.20037";

/// Serves LDAP on `listener` until `shutdown` resolves, one task per connection.
///
/// On shutdown the listener is closed, every open connection is closed, and this returns once
/// their tasks have ended. Errors accepting a connection (e.g. too many open files) are logged
/// and accepting goes on; the result is `Ok` then.
pub async fn serve<D: Directory>(
    listener: TcpListener,
    directory: Arc<D>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let closing = CancellationToken::new();
    let tasks = TaskTracker::new();
    // Whether connections are being refused for being too many: warned once per burst.
    let mut refusing = false;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "LDAP: accepting a connection failed");
                // Give e.g. a full file table a moment instead of spinning on it.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if !refusing {
                warn!(
                    %peer,
                    max_connections = limits.max_connections,
                    "LDAP: too many connections, closing new ones until some end"
                );
                refusing = true;
            }
            drop(stream);
            continue;
        };
        refusing = false;
        tasks.spawn(connection(
            stream,
            peer,
            Arc::clone(&directory),
            Arc::clone(&limits),
            closing.clone(),
            slot,
        ));
    }
    drop(listener);
    closing.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

/// What to do after a request.
enum Reply {
    /// Send these (possibly none) and read on.
    Send(Vec<LdapMsg>),
    /// Close the connection (unbind).
    Close,
    /// Send this notice of disconnection and close.
    Disconnect(LdapMsg),
}

/// Serves one connection until it unbinds, breaks a rule, idles or the server shuts down.
async fn connection<D: Directory>(
    mut stream: TcpStream,
    peer: SocketAddr,
    directory: Arc<D>,
    limits: Arc<Limits>,
    closing: CancellationToken,
    slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let codec = LdapCodec::new(Some(limits.max_message_bytes), None);
    let mut framed = Framed::new(&mut stream, codec);
    let mut session = Session {
        peer,
        directory,
        limits: Arc::clone(&limits),
        grant: None,
    };
    loop {
        let next = tokio::select! {
            () = closing.cancelled() => break,
            next = tokio::time::timeout(limits.idle_timeout, framed.next()) => next,
        };
        let msg = match next {
            Err(_idle) => {
                debug!(%peer, "LDAP: idle connection closed");
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                info!(%peer, %error, "LDAP: malformed message, closing the connection");
                let notice = DisconnectionNotice::gen_response(
                    LdapResultCode::ProtocolError,
                    "malformed message",
                );
                let _ = framed.send(notice).await;
                break;
            }
            Ok(Some(Ok(msg))) => msg,
        };
        match session.handle(msg).await {
            Reply::Send(msgs) => {
                let mut sent = Ok(());
                for msg in msgs {
                    sent = framed.feed(msg).await;
                    if sent.is_err() {
                        break;
                    }
                }
                if sent.is_err() || framed.flush().await.is_err() {
                    break;
                }
            }
            Reply::Close => break,
            Reply::Disconnect(notice) => {
                let _ = framed.send(notice).await;
                break;
            }
        }
    }
    drop(framed);
    // The slot is free before the client sees the connection close.
    drop(slot);
    drop(stream);
}

/// What a successful bind allows.
struct Grant {
    /// The org the connection reads.
    org: String,
    /// Who bound, for Who am I?.
    dn: BindDn,
}

/// One connection's state.
struct Session<D> {
    peer: SocketAddr,
    directory: Arc<D>,
    limits: Arc<Limits>,
    grant: Option<Grant>,
}

fn result(code: LdapResultCode, message: &str) -> LdapResult {
    LdapResult {
        code,
        matcheddn: String::new(),
        message: message.to_owned(),
        referral: Vec::new(),
    }
}

fn reply(msgid: i32, op: LdapOp) -> LdapMsg {
    LdapMsg {
        msgid,
        op,
        ctrl: Vec::new(),
    }
}

/// A DN as logged: at most 128 characters.
fn shown(dn: &str) -> &str {
    match dn.char_indices().nth(128) {
        Some((at, _)) => &dn[..at],
        None => dn,
    }
}

impl<D: Directory> Session<D> {
    async fn handle(&mut self, msg: LdapMsg) -> Reply {
        let id = msg.msgid;
        match msg.op {
            LdapOp::BindRequest(req) => Reply::Send(vec![self.bind(id, req).await]),
            LdapOp::UnbindRequest => Reply::Close,
            LdapOp::SearchRequest(req) => Reply::Send(self.search(id, &req)),
            LdapOp::CompareRequest(req) => Reply::Send(vec![self.compare(id, &req)]),
            LdapOp::ExtendedRequest(req) => Reply::Send(vec![self.extended(id, &req)]),
            LdapOp::AbandonRequest(_) => Reply::Send(Vec::new()),
            LdapOp::AddRequest(req) => Reply::Send(vec![self.refuse_write(id, "add", &req.dn)]),
            LdapOp::ModifyRequest(req) => {
                Reply::Send(vec![self.refuse_write(id, "modify", &req.dn)])
            }
            LdapOp::DelRequest(dn) => Reply::Send(vec![self.refuse_write(id, "delete", &dn)]),
            LdapOp::ModifyDNRequest(req) => {
                Reply::Send(vec![self.refuse_write(id, "modify DN", &req.dn)])
            }
            _ => {
                info!(peer = %self.peer, "LDAP: a client sent a server's message, closing");
                Reply::Disconnect(DisconnectionNotice::gen_response(
                    LdapResultCode::ProtocolError,
                    "not a request",
                ))
            }
        }
    }

    async fn bind(&mut self, id: i32, req: LdapBindRequest) -> LdapMsg {
        // Whatever this bind's outcome, the previous grant ends here.
        self.grant = None;
        let (code, message) = self.check_bind(req).await;
        reply(
            id,
            LdapOp::BindResponse(LdapBindResponse {
                res: result(code, message),
                saslcreds: None,
            }),
        )
    }

    async fn check_bind(&mut self, req: LdapBindRequest) -> (LdapResultCode, &'static str) {
        use LdapResultCode::*;
        let peer = self.peer;
        let dn = shown(&req.dn);
        if !(2..=3).contains(&req.version) {
            return (ProtocolError, "LDAP version 3 only");
        }
        let password = match req.cred {
            LdapBindCred::Simple(password) => password,
            LdapBindCred::SASL(_) | LdapBindCred::Unsupported => {
                info!(%peer, dn, "LDAP bind refused: not a simple bind");
                return (AuthMethodNotSupported, "simple bind only");
            }
        };
        match (req.dn.trim().is_empty(), password.is_empty()) {
            (true, true) => return (Success, ""),
            (true, false) => {
                info!(%peer, "LDAP bind refused: a password without a DN");
                return (InvalidCredentials, "invalid credentials");
            }
            (false, true) => {
                info!(%peer, dn, "LDAP bind refused: a DN without a password");
                return (UnwillingToPerform, "unauthenticated bind not allowed");
            }
            (false, false) => {}
        }
        let Some(bind_dn) = parse_bind_dn(&req.dn) else {
            info!(%peer, dn, "LDAP bind refused: unknown DN");
            return (InvalidCredentials, "invalid credentials");
        };
        match self.directory.bind(&bind_dn, &password, peer).await {
            Some(org) => {
                debug!(%peer, dn = %bind_dn, %org, "LDAP bind");
                self.grant = Some(Grant { org, dn: bind_dn });
                (Success, "")
            }
            None => {
                info!(%peer, dn = %bind_dn, "LDAP bind refused: wrong credentials");
                (InvalidCredentials, "invalid credentials")
            }
        }
    }

    fn search(&self, id: i32, req: &LdapSearchRequest) -> Vec<LdapMsg> {
        let peer = self.peer;
        let base = shown(&req.base);
        let Some(grant) = &self.grant else {
            info!(%peer, base, "LDAP search refused: not bound");
            return vec![reply(
                id,
                LdapOp::SearchResultDone(result(
                    LdapResultCode::InsufficentAccessRights,
                    "bind first",
                )),
            )];
        };
        let book = self.directory.entries(&grant.org);
        let query = Query {
            base: &req.base,
            scope: req.scope.clone(),
            filter: &req.filter,
            attrs: &req.attrs,
            types_only: req.typesonly,
            size_limit: req.sizelimit,
        };
        let outcome = search(
            &grant.org,
            book.as_deref().map(Vec::as_slice),
            &query,
            self.limits.max_results,
        );
        if outcome.code == LdapResultCode::NoSuchObject {
            info!(%peer, org = %grant.org, base, "LDAP search refused: not this org's base");
        }
        let mut msgs: Vec<LdapMsg> = outcome
            .entries
            .into_iter()
            .map(|entry| reply(id, LdapOp::SearchResultEntry(entry)))
            .collect();
        msgs.push(reply(
            id,
            LdapOp::SearchResultDone(result(outcome.code, "")),
        ));
        msgs
    }

    fn compare(&self, id: i32, req: &LdapCompareRequest) -> LdapMsg {
        let code = match &self.grant {
            None => LdapResultCode::InsufficentAccessRights,
            Some(grant) => {
                let book = self.directory.entries(&grant.org);
                match lookup(&grant.org, book.as_deref().map(Vec::as_slice), &req.dn) {
                    None => LdapResultCode::NoSuchObject,
                    Some(record) if record.get(&req.atype).is_none() => {
                        LdapResultCode::NoSuchAttribute
                    }
                    Some(record) => {
                        let value = String::from_utf8_lossy(&req.val).into_owned();
                        let assertion = LdapFilter::Equality(req.atype.clone(), value);
                        if matches(&assertion, &record) {
                            LdapResultCode::CompareTrue
                        } else {
                            LdapResultCode::CompareFalse
                        }
                    }
                }
            }
        };
        reply(id, LdapOp::CompareResult(result(code, "")))
    }

    fn extended(&self, id: i32, req: &LdapExtendedRequest) -> LdapMsg {
        let (res, name, value) = match req.name.as_str() {
            OID_WHOAMI => {
                let who = self
                    .grant
                    .as_ref()
                    .map(|g| format!("dn:{}", g.dn))
                    .unwrap_or_default();
                (result(LdapResultCode::Success, ""), None, Some(who))
            }
            OID_START_TLS => {
                info!(peer = %self.peer, "LDAP StartTLS refused: plain LDAP only");
                (
                    result(LdapResultCode::Unavailable, "StartTLS is not offered"),
                    Some(OID_START_TLS.to_owned()),
                    None,
                )
            }
            other => {
                info!(peer = %self.peer, oid = shown(other), "LDAP: unknown extended operation");
                (
                    result(LdapResultCode::ProtocolError, "unknown extended operation"),
                    None,
                    None,
                )
            }
        };
        reply(
            id,
            LdapOp::ExtendedResponse(LdapExtendedResponse {
                res,
                name,
                value: value.map(String::into_bytes),
            }),
        )
    }

    fn refuse_write(&self, id: i32, what: &str, dn: &str) -> LdapMsg {
        info!(peer = %self.peer, operation = what, dn = shown(dn), "LDAP write refused: read-only");
        let res = result(LdapResultCode::UnwillingToPerform, "read-only directory");
        let op = match what {
            "add" => LdapOp::AddResponse(res),
            "modify" => LdapOp::ModifyResponse(res),
            "delete" => LdapOp::DelResponse(res),
            _ => LdapOp::ModifyDNResponse(res),
        };
        reply(id, op)
    }
}
