//! The event-socket wire format: frames of `Name: value\n` header lines ended by an empty line,
//! followed by exactly `Content-Length` body bytes when that header is present.
//!
//! [`FrameDecoder`] is an incremental decoder: [`FrameDecoder::push`] whatever bytes arrived (one
//! byte, half a frame, several frames) and call [`FrameDecoder::next_frame`] until it returns
//! `Ok(None)`.

use std::fmt;

/// Largest header block accepted (bytes up to and including the empty line).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest body accepted. `show channels` on a busy box is a few MiB; 64 MiB is far beyond.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Ordered header list with ASCII case-insensitive lookup (FreeSWITCH compares header names
/// case-insensitively). Order is kept so that a frame or event can be written back byte for byte.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Appends a header (an existing header of the same name is kept).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Replaces the first header called `name` (case-insensitive), or appends it.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    /// Removes every header called `name` (case-insensitive).
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Headers in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no header.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }
}

/// What a frame is, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// `auth/request`: FreeSWITCH's greeting, asks for `auth PASSWORD`.
    AuthRequest,
    /// `command/reply`: answer to `auth`, `event`, `bgapi`, `exit`...; the result is in `Reply-Text`.
    CommandReply,
    /// `api/response`: answer to `api`; the output is the body.
    ApiResponse,
    /// `text/event-plain`: an event whose body is a URL-encoded header block.
    EventPlain,
    /// `text/event-json`: an event whose body is a JSON object.
    EventJson,
    /// `text/event-xml`: an event in XML (not decoded by this crate).
    EventXml,
    /// `text/disconnect-notice`: FreeSWITCH is closing the connection.
    DisconnectNotice,
    /// `log/data`: a log line (after the `log` command, never sent by this crate).
    LogData,
    /// `text/rude-rejection`: the connection was refused by the event socket ACL.
    RudeRejection,
    /// Anything else, or no `Content-Type` at all.
    Unknown,
}

impl FrameKind {
    /// Maps a `Content-Type` value.
    pub fn from_content_type(ct: &str) -> Self {
        match ct {
            "auth/request" => Self::AuthRequest,
            "command/reply" => Self::CommandReply,
            "api/response" => Self::ApiResponse,
            "text/event-plain" => Self::EventPlain,
            "text/event-json" => Self::EventJson,
            "text/event-xml" => Self::EventXml,
            "text/disconnect-notice" => Self::DisconnectNotice,
            "log/data" => Self::LogData,
            "text/rude-rejection" => Self::RudeRejection,
            _ => Self::Unknown,
        }
    }
}

/// One decoded frame. Outer header values are kept as sent (they are not URL-encoded on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Headers in wire order, including `Content-Type` and `Content-Length`.
    pub headers: Headers,
    /// The `Content-Length` bytes, when the header was present.
    pub body: Option<Vec<u8>>,
}

impl Frame {
    /// The `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get("Content-Type")
    }

    /// The kind of frame, from its `Content-Type`.
    pub fn kind(&self) -> FrameKind {
        self.content_type()
            .map_or(FrameKind::Unknown, FrameKind::from_content_type)
    }

    /// The `Reply-Text` header of a `command/reply`.
    pub fn reply_text(&self) -> Option<&str> {
        self.headers.get("Reply-Text")
    }

    /// The body as text (invalid UTF-8 is replaced, FreeSWITCH output is not guaranteed UTF-8).
    pub fn body_text(&self) -> Option<String> {
        self.body
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// A frame that cannot be decoded; the byte stream cannot be trusted after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A header line without `:`.
    #[error("header line without a colon: {0:?}")]
    MalformedHeader(String),
    /// `Content-Length` is not a number or is too large.
    #[error("invalid Content-Length: {0:?}")]
    BadContentLength(String),
    /// No empty line within [`MAX_HEADER_BYTES`].
    #[error("header block longer than {MAX_HEADER_BYTES} bytes")]
    HeaderTooLong,
}

/// Parses a header block (without the terminating empty line) into `Headers`, passing each value
/// through `decode_value`.
pub(crate) fn parse_header_block(
    block: &[u8],
    decode_value: impl Fn(&str) -> String,
) -> Result<Headers, FrameError> {
    let mut headers = Headers::new();
    for raw in block.split(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let line = String::from_utf8_lossy(line);
        let Some((name, value)) = line.split_once(':') else {
            return Err(FrameError::MalformedHeader(line.into_owned()));
        };
        if name.is_empty() {
            return Err(FrameError::MalformedHeader(line.into_owned()));
        }
        // FreeSWITCH skips every space after the colon.
        headers.push(name, decode_value(value.trim_start_matches(' ')));
    }
    Ok(headers)
}

pub(crate) fn content_length(headers: &Headers) -> Result<Option<usize>, FrameError> {
    match headers.get("Content-Length") {
        None => Ok(None),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n <= MAX_BODY_BYTES => Ok(Some(n)),
            _ => Err(FrameError::BadContentLength(v.to_string())),
        },
    }
}

/// Position of the first `\n\n` at or after `from`.
pub(crate) fn find_blank_line(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| p + from)
}

/// Incremental frame decoder.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes already searched for the end of the header block.
    scanned: usize,
    /// Headers parsed, waiting for `body_len` bytes after `header_len`.
    pending: Option<(Headers, usize, usize)>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes read from the socket.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if self.pending.is_none() {
            // Stray line ends between frames are skipped, as FreeSWITCH's own reader does.
            let skip = self
                .buf
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            if skip > 0 {
                self.buf.drain(..skip);
                self.scanned = 0;
            }
            let Some(end) = find_blank_line(&self.buf, self.scanned.saturating_sub(1)) else {
                self.scanned = self.buf.len();
                if self.buf.len() > MAX_HEADER_BYTES {
                    return Err(FrameError::HeaderTooLong);
                }
                return Ok(None);
            };
            if end + 2 > MAX_HEADER_BYTES {
                return Err(FrameError::HeaderTooLong);
            }
            let headers = parse_header_block(&self.buf[..end], str::to_string)?;
            let body_len = content_length(&headers)?;
            match body_len {
                None => {
                    self.buf.drain(..end + 2);
                    self.scanned = 0;
                    return Ok(Some(Frame {
                        headers,
                        body: None,
                    }));
                }
                Some(n) => self.pending = Some((headers, end + 2, n)),
            }
        }
        let ready = matches!(&self.pending, Some((_, h, n)) if self.buf.len() >= h + n);
        if !ready {
            return Ok(None);
        }
        let Some((headers, header_len, body_len)) = self.pending.take() else {
            return Ok(None);
        };
        let body = self.buf[header_len..header_len + body_len].to_vec();
        self.buf.drain(..header_len + body_len);
        self.scanned = 0;
        Ok(Some(Frame {
            headers,
            body: Some(body),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut d = FrameDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            d.push(c);
            while let Some(f) = d.next_frame().unwrap() {
                out.push(f);
            }
        }
        assert_eq!(d.buffered(), 0, "leftover bytes");
        out
    }

    #[test]
    fn frame_without_body() {
        let f = decode_all(&[b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind(), FrameKind::CommandReply);
        assert_eq!(f[0].reply_text(), Some("+OK accepted"));
        assert_eq!(f[0].body, None);
    }

    #[test]
    fn body_with_blank_lines_inside_is_taken_by_length() {
        let bytes = b"Content-Type: api/response\nContent-Length: 4\n\na\n\nbContent-Type: auth/request\n\n";
        let f = decode_all(&[bytes]);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].body.as_deref(), Some(&b"a\n\nb"[..]));
        assert_eq!(f[1].kind(), FrameKind::AuthRequest);
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let bytes: &[u8] = b"Content-Type: api/response\nContent-Length: 3\n\nabcContent-Type: command/reply\nReply-Text: +OK\n\n";
        let whole = decode_all(&[bytes]);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode_all(&singles), whole);
        assert_eq!(whole.len(), 2);
    }

    #[test]
    fn zero_length_body() {
        let f = decode_all(&[b"Content-Type: api/response\nContent-Length: 0\n\n"]);
        assert_eq!(f[0].body.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn lookup_is_case_insensitive_and_value_spaces_skipped() {
        let f = decode_all(&[b"content-type:    command/reply\nREPLY-TEXT:+OK\r\n\n"]);
        assert_eq!(f[0].kind(), FrameKind::CommandReply);
        assert_eq!(f[0].reply_text(), Some("+OK"));
    }

    #[test]
    fn malformed_header_is_an_error() {
        let mut d = FrameDecoder::new();
        d.push(b"no colon here\n\n");
        assert!(matches!(
            d.next_frame(),
            Err(FrameError::MalformedHeader(_))
        ));
    }

    #[test]
    fn bad_content_length_is_an_error() {
        let mut d = FrameDecoder::new();
        d.push(b"Content-Type: api/response\nContent-Length: x1\n\n");
        assert_eq!(
            d.next_frame(),
            Err(FrameError::BadContentLength("x1".into()))
        );
        let mut d = FrameDecoder::new();
        d.push(format!("Content-Length: {}\n\n", MAX_BODY_BYTES + 1).as_bytes());
        assert!(matches!(
            d.next_frame(),
            Err(FrameError::BadContentLength(_))
        ));
    }

    #[test]
    fn endless_header_block_is_refused() {
        let mut d = FrameDecoder::new();
        d.push(&vec![b'a'; MAX_HEADER_BYTES + 1]);
        assert_eq!(d.next_frame(), Err(FrameError::HeaderTooLong));
    }

    #[test]
    fn headers_set_and_remove() {
        let mut h: Headers = [("A", "1"), ("b", "2")].into_iter().collect();
        h.set("B", "3");
        assert_eq!(h.get("b"), Some("3"));
        h.remove("a");
        assert_eq!(h.len(), 1);
        assert_eq!(h.get("A"), None);
    }
}
