//! EslClient against the test peer: concurrency, events interleaved with replies, partial and
//! coalesced reads, timeouts, injection, disconnects.

use std::time::Duration;

use esl::testpeer::{TestPeer, WriteMode};
use esl::{EslClient, EslError, Event, EventFormat};

const PW: &str = "ClueCon";
const T: Duration = Duration::from_secs(5);

async fn setup() -> (TestPeer, EslClient) {
    let peer = TestPeer::start(PW).await.unwrap();
    peer.respond("status", "UP 1 minute\n");
    let client = EslClient::connect(&peer.addr_string(), PW, T)
        .await
        .unwrap();
    (peer, client)
}

async fn next_event(rx: &mut tokio::sync::broadcast::Receiver<Event>) -> Event {
    tokio::time::timeout(T, rx.recv()).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commands_get_their_own_answers_while_events_interleave() {
    let (peer, client) = setup().await;
    for i in 0..40 {
        peer.respond(&format!("cmd {i}"), &format!("body {i}\n"));
    }
    let mut events = client.events();
    client
        .subscribe_events(EventFormat::Json, &["CHANNEL_CREATE"])
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for i in 0..40 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            (i, c.api(&format!("cmd {i}")).await.unwrap())
        }));
    }
    let mut delivered = 0;
    for n in 0..40 {
        delivered += peer.push_event(
            &Event::new("CHANNEL_CREATE").with_header("Unique-ID", &format!("call-{n}")),
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(delivered, 40);
    for t in tasks {
        let (i, body) = t.await.unwrap();
        assert_eq!(body, format!("body {i}\n"));
    }
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(
            next_event(&mut events)
                .await
                .get("Unique-ID")
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        ids,
        (0..40).map(|n| format!("call-{n}")).collect::<Vec<_>>()
    );
    assert_eq!(peer.api_commands().len(), 40);
}

#[tokio::test]
async fn tiny_chunked_writes_are_reassembled() {
    let peer = TestPeer::start(PW).await.unwrap();
    let status = "UP 0 years, 0 days\nFreeSWITCH (Version 1.10.12-release  64bit) is ready\n";
    peer.respond("status", status);
    peer.set_write_mode(WriteMode::Chunked {
        size: 3,
        pause: Duration::from_millis(1),
    });
    let client = EslClient::connect(&peer.addr_string(), PW, T)
        .await
        .unwrap();
    let mut events = client.events();
    client
        .subscribe_events(EventFormat::Plain, &["BACKGROUND_JOB"])
        .await
        .unwrap();
    assert_eq!(client.api("status").await.unwrap(), status);
    let job = client.bgapi("status").await.unwrap();
    let event = next_event(&mut events).await;
    assert_eq!(event.job_uuid(), Some(job.as_str()));
    assert_eq!(event.body.as_deref(), Some(status));
}

#[tokio::test]
async fn coalesced_reply_and_event_are_both_delivered() {
    let peer = TestPeer::start(PW).await.unwrap();
    peer.respond("sofia status gateway acme.out", "REGED\n");
    peer.set_write_mode(WriteMode::Coalesce);
    let client = EslClient::connect(&peer.addr_string(), PW, T)
        .await
        .unwrap();
    let mut events = client.events();
    client
        .subscribe_events(EventFormat::Json, &["BACKGROUND_JOB"])
        .await
        .unwrap();
    let a = client.bgapi("sofia status gateway acme.out").await.unwrap();
    let b = client.bgapi("nope").await.unwrap();
    assert_ne!(a, b);
    let ea = next_event(&mut events).await;
    let eb = next_event(&mut events).await;
    assert_eq!(ea.job_uuid(), Some(a.as_str()));
    assert_eq!(ea.get("Job-Command"), Some("sofia"));
    assert_eq!(ea.get("Job-Command-Arg"), Some("status gateway acme.out"));
    assert_eq!(ea.body.as_deref(), Some("REGED\n"));
    assert_eq!(eb.job_uuid(), Some(b.as_str()));
    assert_eq!(eb.body.as_deref(), Some("-ERR nope Command not found!\n"));
}

#[tokio::test]
async fn a_timed_out_command_does_not_shift_later_answers() {
    let peer = TestPeer::start(PW).await.unwrap();
    peer.respond_delayed("slow", "late answer\n", Duration::from_millis(400));
    peer.respond("status", "UP\n");
    let client = EslClient::connect(&peer.addr_string(), PW, Duration::from_millis(150))
        .await
        .unwrap();
    match client.api("slow").await {
        Err(EslError::Timeout { after, what }) => {
            assert_eq!(after, Duration::from_millis(150));
            assert_eq!(what, "api slow");
        }
        other => panic!("{other:?}"),
    }
    // Let the late answer arrive; it must be dropped, not given to the next command.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(client.api("status").await.unwrap(), "UP\n");
    assert!(client.is_connected());
}

#[tokio::test]
async fn line_breaks_are_refused_and_nothing_is_sent() {
    let (peer, client) = setup().await;
    for bad in [
        "status\nexit",
        "status\r\nbgapi hupall",
        "status\rx",
        "a\0b",
        "",
    ] {
        assert!(
            matches!(client.api(bad).await, Err(EslError::InvalidCommand(_))),
            "api {bad:?}"
        );
        assert!(
            matches!(client.api_raw(bad).await, Err(EslError::InvalidCommand(_))),
            "api_raw {bad:?}"
        );
        assert!(
            matches!(client.bgapi(bad).await, Err(EslError::InvalidCommand(_))),
            "bgapi {bad:?}"
        );
    }
    assert!(matches!(
        client
            .subscribe_events(EventFormat::Plain, &["CHANNEL_CREATE\n\napi hupall"])
            .await,
        Err(EslError::InvalidCommand(_))
    ));
    assert!(matches!(
        client.subscribe_events(EventFormat::Plain, &[]).await,
        Err(EslError::InvalidCommand(_))
    ));
    assert!(matches!(
        EslClient::connect(&peer.addr_string(), "ClueCon\n\napi hupall", T).await,
        Err(EslError::InvalidCommand(_))
    ));
    assert_eq!(client.api("status").await.unwrap(), "UP 1 minute\n");
    assert_eq!(peer.commands(), ["auth ClueCon", "api status"]);
    assert_eq!(peer.accepted_connections(), 1);
}

#[tokio::test]
async fn wrong_password_is_auth_rejected() {
    let peer = TestPeer::start(PW).await.unwrap();
    let err = EslClient::connect(&peer.addr_string(), "nope", T)
        .await
        .unwrap_err();
    assert!(matches!(err, EslError::AuthRejected), "{err:?}");
    assert_eq!(peer.commands(), ["auth nope"]);
}

#[tokio::test]
async fn api_errors_are_typed_and_raw_text_is_available() {
    let (peer, client) = setup().await;
    peer.respond("empty", "");
    peer.respond("usage", "-USAGE: xml_flush_cache id <user> <domain>\n");
    assert_eq!(
        client.api_raw("frobnicate x").await.unwrap(),
        "-ERR frobnicate Command not found!\n"
    );
    match client.api("frobnicate x").await {
        Err(EslError::CommandFailed(t)) => assert_eq!(t, "-ERR frobnicate Command not found!"),
        other => panic!("{other:?}"),
    }
    match client.api("empty").await {
        Err(EslError::CommandFailed(t)) => assert_eq!(t, "-ERR no reply"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.api("usage").await,
        Err(EslError::CommandFailed(_))
    ));
    // The connection is still in step afterwards.
    assert_eq!(client.api("status").await.unwrap(), "UP 1 minute\n");
}

#[tokio::test]
async fn events_are_filtered_by_subscription_and_decoded() {
    let (peer, client) = setup().await;
    let mut events = client.events();
    client
        .subscribe_events(
            EventFormat::Plain,
            &["CHANNEL_CREATE", "CUSTOM", "sofia::gateway_state"],
        )
        .await
        .unwrap();
    let gw = Event::custom("sofia::gateway_state")
        .with_header("Gateway", "acme.out")
        .with_header("State", "REGED")
        .with_header("Phrase", "a b:c%d+e");
    assert_eq!(peer.push_event(&gw), 1);
    assert_eq!(peer.push_event(&Event::custom("sofia::register")), 0);
    assert_eq!(peer.push_event(&Event::new("CHANNEL_HANGUP")), 0);
    assert_eq!(
        peer.push_event(&Event::new("CHANNEL_CREATE").with_header("variable_lpbx_org", "acme")),
        1
    );
    let first = next_event(&mut events).await;
    assert_eq!(first, gw);
    assert_eq!(first.get("Phrase"), Some("a b:c%d+e"));
    let second = next_event(&mut events).await;
    assert_eq!(second.name(), Some("CHANNEL_CREATE"));
    assert_eq!(second.get("variable_lpbx_org"), Some("acme"));
    // The subscription command is FreeSWITCH's.
    assert_eq!(
        peer.commands()[1],
        "event plain CHANNEL_CREATE CUSTOM sofia::gateway_state"
    );
}

#[tokio::test]
async fn a_dropped_connection_fails_waiting_and_later_commands() {
    let (peer, client) = setup().await;
    peer.respond_delayed("hang", "never\n", Duration::from_secs(30));
    let c = client.clone();
    let waiting = tokio::spawn(async move { c.api("hang").await });
    peer.wait_for_commands(2, T).await;
    assert_eq!(peer.drop_connections(), 1);
    let started = std::time::Instant::now();
    let r = waiting.await.unwrap();
    assert!(matches!(r, Err(EslError::Disconnected(_))), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let reason = tokio::time::timeout(T, client.closed()).await.unwrap();
    assert!(matches!(reason, EslError::Disconnected(ref m) if m.contains("closed by FreeSWITCH")));
    assert!(matches!(
        client.api("status").await,
        Err(EslError::Disconnected(_))
    ));
}

#[tokio::test]
async fn exit_ends_the_connection_cleanly() {
    let (peer, client) = setup().await;
    client.exit().await.unwrap();
    let reason = tokio::time::timeout(T, client.closed()).await.unwrap();
    assert!(matches!(reason, EslError::Disconnected(ref m) if m.contains("disconnect notice")));
    assert_eq!(peer.commands(), ["auth ClueCon", "exit"]);
}

#[tokio::test]
async fn connect_errors_are_distinct() {
    // Nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = EslClient::connect(&format!("127.0.0.1:{port}"), PW, T)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EslError::Io(ref e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "{err:?}"
    );

    // Something listening that never greets.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let err = EslClient::connect(&addr, PW, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EslError::Timeout { ref what, .. } if what == "auth"),
        "{err:?}"
    );

    // A peer that closes at once.
    let peer = TestPeer::start(PW).await.unwrap();
    peer.set_refuse_connections(true);
    let err = EslClient::connect(&peer.addr_string(), PW, T)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EslError::Disconnected(_) | EslError::Io(_)),
        "{err:?}"
    );
    assert_eq!(peer.accepted_connections(), 1);
}
