//! FreeSWITCH's exact bytes, as free functions (also used to check the peer against captures).

use crate::event::{url_encode, Event, EventFormat};

/// The text of FreeSWITCH's disconnect notice.
pub const GOODBYE: &str = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

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
