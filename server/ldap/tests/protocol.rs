//! The server's answers to messages sent by hand: binds other clients do not send, extended
//! operations, malformed messages, and the connection limits.

mod common;

use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use ldap3_proto::proto::{
    LdapBindCred, LdapBindRequest, LdapDerefAliases, LdapExtendedRequest, LdapFilter, LdapMsg,
    LdapOp, LdapResultCode, LdapSearchRequest, LdapSearchScope, SaslCredentials,
};
use ldap3_proto::LdapCodec;
use ldap_phonebook::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::codec::{Decoder, Framed};

/// How long a test waits for something that should happen at once.
const PATIENCE: Duration = Duration::from_secs(10);

type Client = Framed<TcpStream, LdapCodec>;

async fn connect(server: &Server) -> Client {
    let stream = TcpStream::connect(server.addr).await.unwrap();
    Framed::new(stream, LdapCodec::default())
}

fn msg(msgid: i32, op: LdapOp) -> LdapMsg {
    LdapMsg {
        msgid,
        op,
        ctrl: vec![],
    }
}

fn simple_bind(msgid: i32, dn: &str, password: &str) -> LdapMsg {
    msg(
        msgid,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: dn.into(),
            cred: LdapBindCred::Simple(password.into()),
        }),
    )
}

fn search_all(msgid: i32, base: &str) -> LdapMsg {
    msg(
        msgid,
        LdapOp::SearchRequest(LdapSearchRequest {
            base: base.into(),
            scope: LdapSearchScope::Subtree,
            aliases: LdapDerefAliases::Never,
            sizelimit: 0,
            timelimit: 0,
            typesonly: false,
            filter: LdapFilter::Present("objectClass".into()),
            attrs: vec![],
        }),
    )
}

fn extended(msgid: i32, oid: &str) -> LdapMsg {
    msg(
        msgid,
        LdapOp::ExtendedRequest(LdapExtendedRequest {
            name: oid.into(),
            value: None,
        }),
    )
}

/// Sends `request` and returns the next message.
async fn ask(client: &mut Client, request: LdapMsg) -> LdapMsg {
    client.send(request).await.unwrap();
    next(client).await
}

async fn next(client: &mut Client) -> LdapMsg {
    timeout(PATIENCE, client.next())
        .await
        .expect("no answer")
        .expect("connection closed")
        .unwrap()
}

fn bind_code(answer: &LdapMsg) -> LdapResultCode {
    match &answer.op {
        LdapOp::BindResponse(r) => r.res.code.clone(),
        other => panic!("not a bind response: {other:?}"),
    }
}

/// Waits until the server closes `stream`, returning any bytes it sent first.
async fn closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    timeout(PATIENCE, stream.read_to_end(&mut got))
        .await
        .expect("the connection stayed open")
        .unwrap();
    got
}

#[tokio::test]
async fn sasl_binds_are_not_supported_and_drop_the_grant() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    let ok = ask(
        &mut c,
        simple_bind(1, "cn=phonebook,o=acme", ACME_BOOK_PASSWORD),
    )
    .await;
    assert_eq!(bind_code(&ok), LdapResultCode::Success);
    let sasl = msg(
        2,
        LdapOp::BindRequest(LdapBindRequest {
            version: 3,
            dn: String::new(),
            cred: LdapBindCred::SASL(SaslCredentials {
                mechanism: "EXTERNAL".into(),
                credentials: vec![],
            }),
        }),
    );
    let answer = ask(&mut c, sasl).await;
    assert_eq!(answer.msgid, 2);
    assert_eq!(bind_code(&answer), LdapResultCode::AuthMethodNotSupported);
    let answer = ask(&mut c, search_all(3, "o=acme")).await;
    match answer.op {
        LdapOp::SearchResultDone(r) => assert_eq!(r.code, LdapResultCode::InsufficentAccessRights),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn ldap_version_2_binds_and_other_versions_are_refused() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    let mut bind = simple_bind(1, "cn=phonebook,o=acme", ACME_BOOK_PASSWORD);
    if let LdapOp::BindRequest(b) = &mut bind.op {
        b.version = 2;
    }
    assert_eq!(
        bind_code(&ask(&mut c, bind.clone()).await),
        LdapResultCode::Success
    );
    if let LdapOp::BindRequest(b) = &mut bind.op {
        b.version = 4;
    }
    assert_eq!(
        bind_code(&ask(&mut c, bind).await),
        LdapResultCode::ProtocolError
    );
}

#[tokio::test]
async fn start_tls_is_unavailable_and_unknown_extended_operations_are_protocol_errors() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    let answer = ask(&mut c, extended(1, "1.3.6.1.4.1.1466.20037")).await;
    match answer.op {
        LdapOp::ExtendedResponse(r) => {
            assert_eq!(r.res.code, LdapResultCode::Unavailable);
            assert_eq!(r.name.as_deref(), Some("1.3.6.1.4.1.1466.20037"));
        }
        other => panic!("{other:?}"),
    }
    // Password modify.
    let answer = ask(&mut c, extended(2, "1.3.6.1.4.1.4203.1.11.1")).await;
    match answer.op {
        LdapOp::ExtendedResponse(r) => assert_eq!(r.res.code, LdapResultCode::ProtocolError),
        other => panic!("{other:?}"),
    }
    // The connection goes on in plain LDAP.
    let answer = ask(
        &mut c,
        simple_bind(3, "cn=phonebook,o=acme", ACME_BOOK_PASSWORD),
    )
    .await;
    assert_eq!(bind_code(&answer), LdapResultCode::Success);
}

#[tokio::test]
async fn abandon_is_ignored() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    c.send(msg(1, LdapOp::AbandonRequest(7))).await.unwrap();
    let answer = ask(&mut c, simple_bind(2, "", "")).await;
    assert_eq!(answer.msgid, 2, "the abandon was not answered");
    assert_eq!(bind_code(&answer), LdapResultCode::Success);
}

#[tokio::test]
async fn search_results_carry_the_request_id() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    ask(
        &mut c,
        simple_bind(5, "cn=phonebook,o=globex", GLOBEX_BOOK_PASSWORD),
    )
    .await;
    c.send(search_all(6, "o=globex")).await.unwrap();
    let mut ops = Vec::new();
    loop {
        let m = next(&mut c).await;
        assert_eq!(m.msgid, 6);
        let done = matches!(m.op, LdapOp::SearchResultDone(_));
        ops.push(m.op);
        if done {
            break;
        }
    }
    assert_eq!(ops.len(), 3);
    match &ops[2] {
        LdapOp::SearchResultDone(r) => assert_eq!(r.code, LdapResultCode::Success),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unbind_closes_the_connection() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    ask(&mut c, simple_bind(1, "", "")).await;
    c.send(msg(2, LdapOp::UnbindRequest)).await.unwrap();
    assert!(closed(c.get_mut()).await.is_empty());
}

#[tokio::test]
async fn a_malformed_message_closes_the_connection_with_a_notice() {
    let server = start_default().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // A SEQUENCE holding an INTEGER and an unknown application tag.
    stream
        .write_all(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x7f, 0x01, 0x00])
        .await
        .unwrap();
    let got = closed(&mut stream).await;
    let notice = LdapCodec::default()
        .decode(&mut got[..].into())
        .unwrap()
        .expect("a notice of disconnection");
    match notice.op {
        LdapOp::ExtendedResponse(r) => {
            assert_eq!(r.res.code, LdapResultCode::ProtocolError);
            assert_eq!(r.name.as_deref(), Some("1.3.6.1.4.1.1466.20036"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_message_from_a_server_closes_the_connection() {
    let server = start_default().await;
    let mut c = connect(&server).await;
    c.send(msg(
        1,
        LdapOp::DelResponse(ldap3_proto::proto::LdapResult {
            code: LdapResultCode::Success,
            matcheddn: String::new(),
            message: String::new(),
            referral: vec![],
        }),
    ))
    .await
    .unwrap();
    let notice = next(&mut c).await;
    assert_eq!(notice.msgid, 0);
    assert!(timeout(PATIENCE, c.next()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_connection() {
    let server = start(Limits {
        max_message_bytes: 1024,
        ..Limits::default()
    })
    .await;
    let mut c = connect(&server).await;
    // Below the limit: answered.
    let answer = ask(&mut c, simple_bind(1, "", "")).await;
    assert_eq!(bind_code(&answer), LdapResultCode::Success);
    let long = "a".repeat(4096);
    let _ = c.send(simple_bind(2, &long, "x")).await;
    // No bind response, only the end (after a notice, if the server sent one in time).
    loop {
        match timeout(PATIENCE, c.next()).await.expect("still open") {
            None | Some(Err(_)) => break,
            Some(Ok(m)) => assert_eq!(m.msgid, 0, "answered: {m:?}"),
        }
    }
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let server = start(Limits {
        idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    })
    .await;
    let mut c = connect(&server).await;
    ask(
        &mut c,
        simple_bind(1, "cn=phonebook,o=acme", ACME_BOOK_PASSWORD),
    )
    .await;
    assert!(closed(c.get_mut()).await.is_empty());
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_at_once() {
    let server = start(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let mut a = connect(&server).await;
    let mut b = connect(&server).await;
    // Both served (and so both counted) before the third comes.
    ask(&mut a, simple_bind(1, "", "")).await;
    ask(&mut b, simple_bind(1, "", "")).await;
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    assert!(closed(&mut refused).await.is_empty());
    let mut refused = connect(&server).await;
    let _ = refused.send(simple_bind(1, "", "")).await;
    assert!(timeout(PATIENCE, refused.next())
        .await
        .unwrap()
        .is_none_or(|r| r.is_err()));
    // When one ends, a new one is served.
    a.send(msg(2, LdapOp::UnbindRequest)).await.unwrap();
    closed(a.get_mut()).await;
    let mut c = connect(&server).await;
    let answer = ask(
        &mut c,
        simple_bind(1, "cn=phonebook,o=acme", ACME_BOOK_PASSWORD),
    )
    .await;
    assert_eq!(bind_code(&answer), LdapResultCode::Success);
}

#[tokio::test]
async fn shutdown_closes_the_open_connections_and_returns() {
    let server = start_default().await;
    let addr = server.addr;
    let mut c = connect(&server).await;
    ask(&mut c, simple_bind(1, "", "")).await;
    timeout(PATIENCE, server.stop())
        .await
        .expect("serve returned")
        .unwrap();
    assert!(closed(c.get_mut()).await.is_empty());
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}
