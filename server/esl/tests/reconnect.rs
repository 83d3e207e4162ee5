//! ReconnectingClient: reconnection with re-auth and re-subscription, and the reported state.

use std::time::Duration;

use esl::testpeer::TestPeer;
use esl::{ConnectionState, EslConfig, EslError, Event, EventFormat, ReconnectingClient};

const PW: &str = "ClueCon";
const T: Duration = Duration::from_secs(5);

fn config(addr: String, password: &str) -> EslConfig {
    let mut c = EslConfig::new(addr, password);
    c.timeout = Duration::from_secs(2);
    c.backoff_min = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c
}

/// Polls `f` until it is true or `T` passes.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn reconnects_reauthenticates_and_resubscribes_after_a_drop() {
    let peer = TestPeer::start(PW).await.unwrap();
    peer.respond("status", "UP\n");
    let rc = ReconnectingClient::spawn(config(peer.addr_string(), PW));
    let mut events = rc.events();
    rc.wait_connected(T).await.unwrap();
    assert_eq!(rc.state(), ConnectionState::Connected);
    rc.subscribe_events(EventFormat::Json, &["CUSTOM", "sofia::gateway_state"])
        .await
        .unwrap();
    assert_eq!(rc.api("status").await.unwrap(), "UP\n");

    // FreeSWITCH goes away and stays away for a while.
    peer.set_refuse_connections(true);
    assert_eq!(peer.drop_connections(), 1);
    eventually("a failed reconnection attempt", || {
        matches!(rc.state(), ConnectionState::Disconnected { failed_attempts, .. } if failed_attempts >= 1)
    })
    .await;
    match rc.api("status").await {
        Err(EslError::NotConnected(last)) => assert!(!last.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(!rc.is_connected());

    // It comes back.
    peer.set_refuse_connections(false);
    rc.wait_connected(T).await.unwrap();
    assert_eq!(rc.api("status").await.unwrap(), "UP\n");
    let cmds = peer.commands();
    assert_eq!(cmds.iter().filter(|c| *c == "auth ClueCon").count(), 2);
    assert_eq!(
        cmds.iter()
            .filter(|c| *c == "event json CUSTOM sofia::gateway_state")
            .count(),
        2
    );
    // Events of the new connection reach the receiver taken before the drop.
    let gw = Event::custom("sofia::gateway_state")
        .with_header("Gateway", "acme.out")
        .with_header("State", "FAIL_WAIT");
    assert_eq!(peer.push_event(&gw), 1);
    let got = tokio::time::timeout(T, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, gw);
}

#[tokio::test]
async fn subscription_made_while_disconnected_is_sent_on_connect() {
    let peer = TestPeer::start(PW).await.unwrap();
    peer.set_refuse_connections(true);
    let rc = ReconnectingClient::spawn(config(peer.addr_string(), PW));
    rc.subscribe_events(EventFormat::Plain, &["BACKGROUND_JOB"])
        .await
        .unwrap();
    assert!(!rc.is_connected());
    peer.set_refuse_connections(false);
    rc.wait_connected(T).await.unwrap();
    let cmds = peer.wait_for_commands(2, T).await;
    assert_eq!(cmds, ["auth ClueCon", "event plain BACKGROUND_JOB"]);
    let mut events = rc.events();
    let job = rc.bgapi("version").await.unwrap();
    let ev = tokio::time::timeout(T, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ev.job_uuid(), Some(job.as_str()));
    assert_eq!(
        ev.body.as_deref(),
        Some("-ERR version Command not found!\n")
    );
}

#[tokio::test]
async fn unreachable_freeswitch_is_reported_with_the_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rc = ReconnectingClient::spawn(config(format!("127.0.0.1:{port}"), PW));
    eventually("two failed attempts", || {
        matches!(rc.state(), ConnectionState::Disconnected { failed_attempts, .. } if failed_attempts >= 2)
    })
    .await;
    let ConnectionState::Disconnected { last_error, .. } = rc.state() else {
        panic!()
    };
    assert!(
        last_error.to_lowercase().contains("refused"),
        "{last_error}"
    );
    match rc.wait_connected(Duration::from_millis(50)).await {
        Err(EslError::NotConnected(e)) => assert!(e.to_lowercase().contains("refused"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        rc.api("status").await,
        Err(EslError::NotConnected(_))
    ));
}

#[tokio::test]
async fn wrong_password_is_reported() {
    let peer = TestPeer::start(PW).await.unwrap();
    let rc = ReconnectingClient::spawn(config(peer.addr_string(), "wrong"));
    eventually("a rejected attempt", || {
        matches!(rc.state(), ConnectionState::Disconnected { .. })
    })
    .await;
    let ConnectionState::Disconnected { last_error, .. } = rc.state() else {
        panic!()
    };
    assert_eq!(last_error, EslError::AuthRejected.to_string());
    // The password never appears in the state or the config's Debug output.
    assert!(!format!("{:?}", config(peer.addr_string(), "s3cret")).contains("s3cret"));
}

#[tokio::test]
async fn dropping_the_client_stops_reconnecting() {
    let peer = TestPeer::start(PW).await.unwrap();
    let rc = ReconnectingClient::spawn(config(peer.addr_string(), PW));
    rc.wait_connected(T).await.unwrap();
    drop(rc);
    eventually("the connection to close", || peer.open_connections() == 0).await;
    let accepted = peer.accepted_connections();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(peer.accepted_connections(), accepted);
}
