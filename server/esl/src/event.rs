//! FreeSWITCH events as delivered by `event plain` and `event json`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::frame::{content_length, find_blank_line, parse_header_block, Headers};

/// The format requested with the `event` command. FreeSWITCH keeps one format per connection:
/// the last `event` command wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventFormat {
    /// `text/event-plain`: URL-encoded header lines.
    Plain,
    /// `text/event-json`: one JSON object.
    Json,
}

impl EventFormat {
    /// The word used in the `event` command.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Json => "json",
        }
    }
}

impl fmt::Display for EventFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event body that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The plain header block is malformed.
    #[error("malformed plain event: {0}")]
    Plain(String),
    /// The JSON is malformed or not an object.
    #[error("malformed json event: {0}")]
    Json(String),
}

/// One event. Header values are decoded (URL-decoding for plain, JSON strings for json) so the
/// same event parses to the same value in both formats. The `Content-Length` of the event's own
/// body is framing, not data: it is not kept in `headers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Headers in the order FreeSWITCH sent them, values decoded.
    pub headers: Headers,
    /// The event body (e.g. the command output of a BACKGROUND_JOB).
    pub body: Option<String>,
}

impl Event {
    /// A new event with only `Event-Name` set (for the test peer and for tests).
    pub fn new(name: &str) -> Self {
        let mut headers = Headers::new();
        headers.push("Event-Name", name);
        Self {
            headers,
            body: None,
        }
    }

    /// A CUSTOM event with `Event-Subclass` set.
    pub fn custom(subclass: &str) -> Self {
        Self::new("CUSTOM").with_header("Event-Subclass", subclass)
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Sets the body (builder style).
    pub fn with_body(mut self, body: &str) -> Self {
        self.body = Some(body.to_string());
        self
    }

    /// A header value (case-insensitive name).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// `Event-Name`, e.g. `BACKGROUND_JOB`, `CHANNEL_CREATE`, `CUSTOM`.
    pub fn name(&self) -> Option<&str> {
        self.get("Event-Name")
    }

    /// `Event-Subclass` of a CUSTOM event, e.g. `sofia::gateway_state`.
    pub fn subclass(&self) -> Option<&str> {
        self.get("Event-Subclass")
    }

    /// `Job-UUID` of a BACKGROUND_JOB.
    pub fn job_uuid(&self) -> Option<&str> {
        self.get("Job-UUID")
    }

    /// Parses the body of a `text/event-plain` frame: URL-encoded header lines, an empty line,
    /// then `Content-Length` bytes of body when that header is present.
    pub fn parse_plain(data: &[u8]) -> Result<Self, EventError> {
        let (block, rest) = match find_blank_line(data, 0) {
            Some(end) => (&data[..end], &data[end + 2..]),
            None => (data, &data[data.len()..]),
        };
        let mut headers =
            parse_header_block(block, url_decode).map_err(|e| EventError::Plain(e.to_string()))?;
        let body = match content_length(&headers).map_err(|e| EventError::Plain(e.to_string()))? {
            None => None,
            Some(n) => {
                let Some(bytes) = rest.get(..n) else {
                    return Err(EventError::Plain(format!(
                        "Content-Length {n} but only {} body bytes",
                        rest.len()
                    )));
                };
                Some(String::from_utf8_lossy(bytes).into_owned())
            }
        };
        headers.remove("Content-Length");
        Ok(Self { headers, body })
    }

    /// Parses the body of a `text/event-json` frame. `_body` becomes [`Event::body`]; non-string
    /// values are written as text (arrays as FreeSWITCH's `ARRAY::a|:b`).
    pub fn parse_json(data: &[u8]) -> Result<Self, EventError> {
        let object: OrderedObject =
            serde_json::from_slice(data).map_err(|e| EventError::Json(e.to_string()))?;
        let mut headers = Headers::new();
        let mut body = None;
        for (name, value) in object.0 {
            if name == "_body" {
                body = Some(json_to_text(value));
            } else if !name.eq_ignore_ascii_case("Content-Length") {
                headers.push(name, json_to_text(value));
            }
        }
        Ok(Self { headers, body })
    }
}

fn json_to_text(value: serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        Value::Array(items) => {
            let parts: Vec<String> = items.into_iter().map(json_to_text).collect();
            format!("ARRAY::{}", parts.join("|:"))
        }
        other => other.to_string(),
    }
}

/// A JSON object with its keys in document order (serde_json's map sorts them otherwise).
struct OrderedObject(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(OrderedObject(entries))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Decodes `%XX` escapes as FreeSWITCH's `switch_url_decode` does: `+` stays `+`, a `%` not
/// followed by two hex digits stays as is, the bytes are read as UTF-8 (lossy).
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex_value(b)),
                bytes.get(i + 2).and_then(|&b| hex_value(b)),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Characters FreeSWITCH escapes in event header values (`SWITCH_URL_UNSAFE`), besides control
/// characters and bytes above `~`.
const URL_UNSAFE: &[u8] = b"\r\n #%&+:;<=>?@[\\]^`{|}\"";

/// Encodes a header value as FreeSWITCH's `switch_url_encode` does for plain events.
pub fn url_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if !(b' '..=b'~').contains(&b) || URL_UNSAFE.contains(&b) {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn url_decode_matches_freeswitch() {
        assert_eq!(url_decode("fd00%3A%3A2"), "fd00::2");
        assert_eq!(url_decode("Sat,%2028%20Nov"), "Sat, 28 Nov");
        assert_eq!(url_decode("+OK%20a+b"), "+OK a+b");
        assert_eq!(url_decode("100%"), "100%");
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(url_decode("caf%C3%A9"), "café");
    }

    #[test]
    fn url_encode_round_trips() {
        for s in [
            "fd00::2",
            "Sat, 28 Nov 2026",
            "a+b&c=d%",
            "café\n",
            "sofia::gateway_state",
        ] {
            assert_eq!(url_decode(&url_encode(s)), s);
        }
        assert_eq!(
            url_encode("2026-11-28 02:07:54"),
            "2026-11-28%2002%3A07%3A54"
        );
        assert_eq!(url_encode("mod_event_socket.c"), "mod_event_socket.c");
    }

    #[test]
    fn plain_event_with_body() {
        let data = b"Event-Name: BACKGROUND_JOB\nJob-UUID: u-1\nJob-Command-Arg: a%20b\nContent-Length: 4\n\nok\n\n";
        let e = Event::parse_plain(data).unwrap();
        assert_eq!(e.name(), Some("BACKGROUND_JOB"));
        assert_eq!(e.job_uuid(), Some("u-1"));
        assert_eq!(e.get("job-command-arg"), Some("a b"));
        assert_eq!(e.get("Content-Length"), None);
        assert_eq!(e.body.as_deref(), Some("ok\n\n"));
    }

    #[test]
    fn plain_event_without_body() {
        let e = Event::parse_plain(
            b"Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Agateway_state\nState: REGED\n\n",
        )
        .unwrap();
        assert_eq!(e.subclass(), Some("sofia::gateway_state"));
        assert_eq!(e.get("State"), Some("REGED"));
        assert_eq!(e.body, None);
    }

    #[test]
    fn plain_event_short_body_is_an_error() {
        let r = Event::parse_plain(b"Event-Name: X\nContent-Length: 10\n\nabc");
        assert!(matches!(r, Err(EventError::Plain(_))));
    }

    #[test]
    fn json_event_keeps_order_and_body() {
        let e = Event::parse_json(
            br#"{"Event-Name":"BACKGROUND_JOB","Job-UUID":"u","Content-Length":"3","_body":"a\tb","n":5,"arr":["x","y"]}"#,
        )
        .unwrap();
        let names: Vec<&str> = e.headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["Event-Name", "Job-UUID", "n", "arr"]);
        assert_eq!(e.body.as_deref(), Some("a\tb"));
        assert_eq!(e.get("n"), Some("5"));
        assert_eq!(e.get("arr"), Some("ARRAY::x|:y"));
    }

    #[test]
    fn json_must_be_an_object() {
        assert!(matches!(
            Event::parse_json(b"[1]"),
            Err(EventError::Json(_))
        ));
        assert!(matches!(Event::parse_json(b"{"), Err(EventError::Json(_))));
    }
}
