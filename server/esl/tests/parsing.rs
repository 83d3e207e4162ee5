//! Frame and event decoding on the captured bytes, and the test peer's encoders checked against
//! the same captures.

mod common;

use std::time::Duration;

use common::{load, server_bytes, Dir};
use esl::testpeer::{wire, TestPeer};
use esl::{Event, EventFormat, Frame, FrameDecoder, FrameKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CAPTURES: [&str; 4] = [
    "01_auth_api_bgapi.txt",
    "02_auth_rejected.txt",
    "03_event_plain_background_job.txt",
    "04_event_json_background_job.txt",
];

/// Decodes `bytes` fed in pieces of the given sizes (cycled).
fn decode_in_pieces(bytes: &[u8], sizes: &[usize]) -> Vec<Frame> {
    let mut d = FrameDecoder::new();
    let mut frames = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < bytes.len() {
        let n = sizes[i % sizes.len()].min(bytes.len() - pos);
        d.push(&bytes[pos..pos + n]);
        pos += n;
        i += 1;
        while let Some(f) = d.next_frame().unwrap() {
            frames.push(f);
        }
    }
    assert_eq!(d.buffered(), 0, "bytes left over");
    frames
}

fn kinds(frames: &[Frame]) -> Vec<FrameKind> {
    frames.iter().map(Frame::kind).collect()
}

#[test]
fn every_capture_decodes_the_same_whole_byte_by_byte_and_in_odd_pieces() {
    for name in CAPTURES {
        let bytes = server_bytes(&load(name));
        let whole = decode_in_pieces(&bytes, &[bytes.len()]);
        assert_eq!(decode_in_pieces(&bytes, &[1]), whole, "{name} byte by byte");
        assert_eq!(
            decode_in_pieces(&bytes, &[2, 7, 1, 13, 64]),
            whole,
            "{name} odd pieces"
        );
    }
}

#[test]
fn capture_01_frame_sequence() {
    use FrameKind::*;
    let frames = decode_in_pieces(&server_bytes(&load("01_auth_api_bgapi.txt")), &[1]);
    assert_eq!(
        kinds(&frames),
        [
            AuthRequest,
            CommandReply,
            ApiResponse,
            ApiResponse,
            ApiResponse,
            ApiResponse,
            ApiResponse,
            ApiResponse,
            CommandReply,
            CommandReply,
            DisconnectNotice
        ]
    );
    assert_eq!(frames[1].reply_text(), Some("+OK accepted"));
    assert_eq!(frames[5].body.as_deref(), Some(&b"0"[..]));
    assert_eq!(
        frames[8].reply_text(),
        Some("+OK Job-UUID: d6a57cbc-4e8a-4cbe-88fa-eacfa6701853")
    );
    assert_eq!(
        frames[8].headers.get("Job-UUID"),
        Some("d6a57cbc-4e8a-4cbe-88fa-eacfa6701853")
    );
    assert_eq!(frames[9].reply_text(), Some("+OK bye"));
    assert_eq!(frames[10].body_text().as_deref(), Some(wire::GOODBYE));
}

#[test]
fn capture_02_reply_and_notice_arrive_in_one_block() {
    let blocks = load("02_auth_rejected.txt");
    let last = &blocks[2];
    assert_eq!(last.dir, Dir::ToClient);
    let frames = decode_in_pieces(&last.bytes, &[last.bytes.len()]);
    assert_eq!(
        kinds(&frames),
        [FrameKind::CommandReply, FrameKind::DisconnectNotice]
    );
    assert_eq!(frames[0].reply_text(), Some("-ERR invalid"));
}

/// The event frame of capture 03 or 04 (the frame after the bgapi reply in the last block).
fn captured_event_frame(name: &str) -> (Vec<u8>, Frame) {
    let blocks = load(name);
    let last = &blocks.last().unwrap().bytes;
    let frames = decode_in_pieces(last, &[last.len()]);
    assert_eq!(frames.len(), 2);
    let reply_len = wire::bgapi_reply(frames[0].headers.get("Job-UUID").unwrap()).len();
    assert_eq!(
        &last[..reply_len],
        &wire::bgapi_reply(frames[0].headers.get("Job-UUID").unwrap())[..]
    );
    (last[reply_len..].to_vec(), frames[1].clone())
}

#[test]
fn plain_and_json_events_decode_to_equal_values_and_re_encode_byte_for_byte() {
    for (name, format) in [
        ("03_event_plain_background_job.txt", EventFormat::Plain),
        ("04_event_json_background_job.txt", EventFormat::Json),
    ] {
        let (bytes, frame) = captured_event_frame(name);
        let body = frame.body.as_deref().unwrap();
        let event = match format {
            EventFormat::Plain => Event::parse_plain(body).unwrap(),
            EventFormat::Json => Event::parse_json(body).unwrap(),
        };
        // The test peer writes exactly what FreeSWITCH wrote.
        assert_eq!(
            String::from_utf8_lossy(&wire::event_frame(&event, format)),
            String::from_utf8_lossy(&bytes),
            "{name}"
        );
        // The same event in the other format decodes to the same value.
        let plain = Event::parse_plain(wire::event_plain_body(&event).as_bytes()).unwrap();
        let json = Event::parse_json(wire::event_json_body(&event).as_bytes()).unwrap();
        assert_eq!(plain, event, "{name} via plain");
        assert_eq!(json, event, "{name} via json");
    }
}

#[test]
fn peer_reply_encoders_match_capture_01() {
    let b = load("01_auth_api_bgapi.txt");
    assert_eq!(b[0].bytes, wire::auth_request());
    assert_eq!(b[2].bytes, wire::command_reply("+OK accepted"));
    assert_eq!(b[6].bytes, wire::api_response("{\"row_count\": 0}\n"));
    assert_eq!(b[10].bytes, wire::api_response("0"));
    assert_eq!(
        b[14].bytes,
        wire::api_response("-ERR no_such_command Command not found!\n")
    );
    assert_eq!(
        b[16].bytes,
        wire::bgapi_reply("d6a57cbc-4e8a-4cbe-88fa-eacfa6701853")
    );
    let mut bye = wire::command_reply("+OK bye");
    bye.extend(wire::disconnect_notice());
    assert_eq!(b[18].bytes, bye);
}

/// Plays the client side of a capture against the test peer over TCP and compares the peer's
/// answers with FreeSWITCH's, byte for byte (bgapi Job-UUIDs are random in FreeSWITCH, so the
/// peer's UUID is put in place of the captured one before comparing).
async fn peer_answers_like_freeswitch(name: &str, peer: &TestPeer) {
    let blocks = load(name);
    let mut sock = tokio::net::TcpStream::connect(peer.addr()).await.unwrap();
    let captured_uuid = |bytes: &[u8]| -> Option<String> {
        let text = String::from_utf8_lossy(bytes);
        let i = text.find("\nJob-UUID: ")?;
        Some(text[i + 11..i + 47].to_string())
    };
    for (i, block) in blocks.iter().enumerate() {
        match block.dir {
            Dir::ToServer => sock.write_all(&block.bytes).await.unwrap(),
            Dir::ToClient => {
                let mut got = vec![0u8; block.bytes.len()];
                tokio::time::timeout(Duration::from_secs(5), sock.read_exact(&mut got))
                    .await
                    .unwrap_or_else(|_| panic!("{name} block {i}: peer too short"))
                    .unwrap();
                let mut want = String::from_utf8_lossy(&block.bytes).into_owned();
                if let (Some(c), Some(p)) = (captured_uuid(&block.bytes), captured_uuid(&got)) {
                    want = want.replace(&c, &p);
                }
                assert_eq!(String::from_utf8_lossy(&got), want, "{name} block {i}");
            }
        }
    }
}

#[tokio::test]
async fn test_peer_answers_capture_01_and_02_byte_for_byte() {
    let peer = TestPeer::start("ClueCon").await.unwrap();
    let status =
        String::from_utf8_lossy(&load("01_auth_api_bgapi.txt")[4].bytes[48..]).into_owned();
    peer.respond("status", &status);
    peer.respond("show channels as json", "{\"row_count\": 0}\n");
    peer.respond("sofia xmlstatus gateway nosuchgw", "Invalid Gateway!\n");
    peer.respond("limit_usage hash tenant t42", "0");
    peer.respond_verb("xml_flush_cache", "+OK cleared 0 entries\n");
    peer_answers_like_freeswitch("01_auth_api_bgapi.txt", &peer).await;
    peer_answers_like_freeswitch("02_auth_rejected.txt", &peer).await;
    assert_eq!(
        peer.api_commands(),
        [
            "status",
            "show channels as json",
            "sofia xmlstatus gateway nosuchgw",
            "limit_usage hash tenant t42",
            "xml_flush_cache id 1001 acme.test",
            "no_such_command",
            "status"
        ]
    );
    assert_eq!(
        peer.commands().last().map(String::as_str),
        Some("auth wrongpassword")
    );
}
