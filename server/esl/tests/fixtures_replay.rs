//! The client against the real FreeSWITCH 1.10.12 captures: a replay peer plays FreeSWITCH's
//! side byte for byte and checks the client sends exactly the captured client bytes.

mod common;

use std::time::Duration;

use common::{load, replay_peer, Block, Dir};
use esl::{EslClient, EslError, Event, EventFormat};

const T: Duration = Duration::from_secs(5);

/// What the client returned for one captured command.
#[derive(Debug, PartialEq)]
enum Outcome {
    Api(String),
    Job(String),
    Subscribed,
    Exited,
}

/// Issues, through the public API, each command the capture's client sent after `auth`.
async fn run_capture_commands(client: &EslClient, blocks: &[Block]) -> Vec<Outcome> {
    let mut out = Vec::new();
    for b in blocks.iter().filter(|b| b.dir == Dir::ToServer).skip(1) {
        let text = std::str::from_utf8(&b.bytes).unwrap();
        let line = text
            .strip_suffix("\n\n")
            .expect("command ends with an empty line");
        if let Some(cmd) = line.strip_prefix("api ") {
            out.push(Outcome::Api(client.api_raw(cmd).await.unwrap()));
        } else if let Some(cmd) = line.strip_prefix("bgapi ") {
            out.push(Outcome::Job(client.bgapi(cmd).await.unwrap()));
        } else if let Some(rest) = line.strip_prefix("event ") {
            let mut words = rest.split(' ');
            let format = match words.next() {
                Some("plain") => EventFormat::Plain,
                Some("json") => EventFormat::Json,
                other => panic!("format {other:?}"),
            };
            let names: Vec<&str> = words.collect();
            client.subscribe_events(format, &names).await.unwrap();
            out.push(Outcome::Subscribed);
        } else if line == "exit" {
            client.exit().await.unwrap();
            out.push(Outcome::Exited);
        } else {
            panic!("unexpected captured command {line:?}");
        }
    }
    out
}

#[test]
fn loader_reads_every_block() {
    let sizes = |name: &str| -> Vec<(Dir, usize)> {
        load(name)
            .into_iter()
            .map(|b| (b.dir, b.bytes.len()))
            .collect()
    };
    let s01 = sizes("01_auth_api_bgapi.txt");
    assert_eq!(s01.len(), 19);
    assert_eq!(s01[0], (Dir::ToClient, 28));
    assert_eq!(s01[1], (Dir::ToServer, 14));
    assert_eq!(s01[4], (Dir::ToClient, 386));
    assert_eq!(s01[18], (Dir::ToClient, 173));
    assert_eq!(
        sizes("02_auth_rejected.txt"),
        [
            (Dir::ToClient, 28),
            (Dir::ToServer, 20),
            (Dir::ToClient, 178)
        ]
    );
    assert_eq!(sizes("03_event_plain_background_job.txt").len(), 7);
    assert_eq!(
        sizes("04_event_json_background_job.txt").last(),
        Some(&(Dir::ToClient, 1455))
    );
}

#[tokio::test]
async fn capture_01_api_bodies_and_exact_client_bytes() {
    let blocks = load("01_auth_api_bgapi.txt");
    let (addr, peer) = replay_peer(blocks.clone()).await;
    let client = EslClient::connect(&addr, "ClueCon", T).await.unwrap();
    let out = run_capture_commands(&client, &blocks).await;
    peer.await.unwrap().unwrap();

    assert_eq!(out.len(), 8);
    let Outcome::Api(status) = &out[0] else {
        panic!("{:?}", out[0])
    };
    assert_eq!(status.len(), 338);
    assert!(status.starts_with(
        "UP 0 years, 0 days, 0 hours, 0 minutes, 58 seconds, 912 milliseconds, 814 microseconds\n\
         FreeSWITCH (Version 1.10.12-release  64bit) is ready\n"
    ));
    assert!(status.ends_with("Current Stack Size/Max 240K/8192K\n"));
    assert_eq!(
        &out[1..],
        [
            Outcome::Api("{\"row_count\": 0}\n".into()),
            Outcome::Api("Invalid Gateway!\n".into()),
            Outcome::Api("0".into()),
            Outcome::Api("+OK cleared 0 entries\n".into()),
            Outcome::Api("-ERR no_such_command Command not found!\n".into()),
            Outcome::Job("d6a57cbc-4e8a-4cbe-88fa-eacfa6701853".into()),
            Outcome::Exited,
        ]
    );
    // FreeSWITCH's disconnect notice then EOF end the connection.
    let reason = tokio::time::timeout(T, client.closed()).await.unwrap();
    assert!(matches!(reason, EslError::Disconnected(ref m) if m.contains("disconnect notice")));
    assert!(!client.is_connected());
    assert!(matches!(
        client.api("status").await,
        Err(EslError::Disconnected(_))
    ));
}

#[tokio::test]
async fn capture_01_err_body_is_a_typed_error_with_api() {
    // Replay up to the unknown command, sending it through `api` instead of `api_raw`.
    let blocks: Vec<Block> = load("01_auth_api_bgapi.txt");
    let keep = [0, 1, 2, 13, 14]; // greeting, auth, +OK accepted, api no_such_command, its answer
    let blocks: Vec<Block> = keep.iter().map(|&i| blocks[i].clone()).collect();
    let (addr, peer) = replay_peer(blocks).await;
    let client = EslClient::connect(&addr, "ClueCon", T).await.unwrap();
    let err = client.api("no_such_command").await.unwrap_err();
    match err {
        EslError::CommandFailed(text) => {
            assert_eq!(text, "-ERR no_such_command Command not found!")
        }
        other => panic!("{other:?}"),
    }
    drop(client);
    peer.await.unwrap().unwrap();
}

#[tokio::test]
async fn capture_02_wrong_password_is_auth_rejected() {
    let blocks = load("02_auth_rejected.txt");
    let (addr, peer) = replay_peer(blocks).await;
    let err = EslClient::connect(&addr, "wrongpassword", T)
        .await
        .unwrap_err();
    assert!(matches!(err, EslError::AuthRejected), "{err:?}");
    peer.await.unwrap().unwrap();
}

/// Replays capture 03 or 04 and returns (bgapi Job-UUID, the BACKGROUND_JOB event received).
async fn background_job(name: &str) -> (String, Event) {
    let blocks = load(name);
    let (addr, peer) = replay_peer(blocks.clone()).await;
    let client = EslClient::connect(&addr, "ClueCon", T).await.unwrap();
    let mut events = client.events();
    let out = run_capture_commands(&client, &blocks).await;
    let event = tokio::time::timeout(T, events.recv())
        .await
        .unwrap()
        .unwrap();
    drop(client);
    peer.await.unwrap().unwrap();
    assert_eq!(out[0], Outcome::Subscribed);
    let Outcome::Job(uuid) = &out[1] else {
        panic!("{out:?}")
    };
    (uuid.clone(), event)
}

#[tokio::test]
async fn capture_03_plain_background_job() {
    let (uuid, event) = background_job("03_event_plain_background_job.txt").await;
    assert_eq!(uuid, "cbf9db40-37ac-433f-ad98-ebba2dd446f0");
    assert_eq!(event.name(), Some("BACKGROUND_JOB"));
    assert_eq!(event.job_uuid(), Some(uuid.as_str()));
    assert_eq!(event.get("Job-Command"), Some("status"));
    // URL-decoded values.
    assert_eq!(event.get("FreeSWITCH-IPv6"), Some("fd00::2"));
    assert_eq!(
        event.get("Event-Date-GMT"),
        Some("Sat, 28 Nov 2026 02:07:54 GMT")
    );
    assert_eq!(event.get("Event-Sequence"), Some("479"));
    let body = event.body.as_deref().unwrap();
    assert_eq!(body.len(), 336);
    assert!(body.starts_with(
        "UP 0 years, 0 days, 0 hours, 1 minute, 9 seconds, 445 milliseconds, 890 microseconds\n"
    ));
    assert!(body.ends_with("Current Stack Size/Max 240K/8192K\n"));
    assert_eq!(event.headers.len(), 15);
}

#[tokio::test]
async fn capture_04_json_background_job() {
    let (uuid, event) = background_job("04_event_json_background_job.txt").await;
    assert_eq!(uuid, "ea1e857a-2781-48fc-b11e-9739023ee2df");
    assert_eq!(event.name(), Some("BACKGROUND_JOB"));
    assert_eq!(event.job_uuid(), Some(uuid.as_str()));
    assert_eq!(event.get("Job-Command"), Some("sofia"));
    assert_eq!(event.get("Job-Command-Arg"), Some("status"));
    assert_eq!(event.get("FreeSWITCH-IPv6"), Some("fd00::2"));
    assert_eq!(
        event.get("Event-Date-GMT"),
        Some("Sat, 28 Nov 2026 02:07:59 GMT")
    );
    let body = event.body.as_deref().unwrap();
    assert_eq!(body.len(), 644);
    assert!(body.contains(
        "     external::acme_trunk\tgateway\t                   sip:acme@127.0.0.1:5090\tNOREG\n"
    ));
    assert!(body.ends_with("2 profiles 1 alias\n"));
    // Same header names as the plain capture (plus Job-Command-Arg), in FreeSWITCH's order.
    let names: Vec<&str> = event.headers.iter().map(|(n, _)| n).collect();
    assert_eq!(names[0], "Event-Name");
    assert_eq!(names[names.len() - 1], "Job-Command-Arg");
    assert_eq!(event.headers.len(), 16);
}
