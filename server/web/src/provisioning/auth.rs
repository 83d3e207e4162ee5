//! HTTP authentication of phones with their own SIP credentials: Digest (RFC 7616, MD5,
//! `qop=auth`) checked against the stored a1-hash, and Basic checked by hashing the password.
//!
//! The digest realm is the org's SIP domain, so the HA1 a phone computes,
//! `md5(extension:sip_domain:password)`, is exactly the stored a1-hash: no plain password is
//! needed anywhere. Nonces are stateless: a timestamp and the org, signed with HMAC-SHA256 under
//! a key derived from `secret_key`, valid for [`NONCE_LIFETIME_SECS`]; every instance sharing
//! the key accepts every other's nonces.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
pub use engine::secrets::hmac_sha256;

/// How long an issued nonce is accepted; an older one is answered `stale=true`.
pub const NONCE_LIFETIME_SECS: u64 = 300;

/// What the client sent in `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic { username: String, password: String },
    Digest(DigestAuth),
}

impl Credentials {
    pub fn username(&self) -> &str {
        match self {
            Credentials::Basic { username, .. } => username,
            Credentials::Digest(d) => &d.username,
        }
    }
}

/// The fields of a `Digest` authorization.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DigestAuth {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: String,
    pub cnonce: String,
    pub algorithm: Option<String>,
}

/// Parses an `Authorization` header value. `None`: no usable credentials (absent, another
/// scheme, or malformed), which is answered with a challenge.
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (username, password) = text.split_once(':')?;
        return Some(Credentials::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        });
    }
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut auth = DigestAuth::default();
    for (key, val) in digest_params(rest)? {
        match key.to_ascii_lowercase().as_str() {
            "username" => auth.username = val,
            "realm" => auth.realm = val,
            "nonce" => auth.nonce = val,
            "uri" => auth.uri = val,
            "response" => auth.response = val,
            "qop" => auth.qop = Some(val),
            "nc" => auth.nc = val,
            "cnonce" => auth.cnonce = val,
            "algorithm" => auth.algorithm = Some(val),
            _ => {}
        }
    }
    if auth.username.is_empty() || auth.nonce.is_empty() || auth.response.is_empty() {
        return None;
    }
    Some(Credentials::Digest(auth))
}

/// `key=value, key="quoted \" value", ...` into pairs; `None` when malformed.
fn digest_params(input: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(pairs);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        if value.len() > 1024 {
            return None;
        }
        pairs.push((key, value));
    }
}

/// Issues and checks stateless digest nonces.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

/// What a presented nonce turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    Valid,
    /// Ours, but too old: the client should retry with a fresh one (`stale=true`).
    Stale,
    /// Not ours (forged, truncated, or made for another org).
    Invalid,
}

impl NonceKey {
    /// Derives the nonce key from the configured `secret_key` (never used directly, so the key
    /// that encrypts trunk passwords signs nothing a client sees).
    pub fn new(secret_key: &str) -> Self {
        Self(hmac_sha256(
            secret_key.as_bytes(),
            b"littlepbx provisioning digest nonce v1",
        ))
    }

    fn tag(&self, org: i64, issued: u64) -> [u8; 32] {
        let mut message = Vec::with_capacity(16);
        message.extend_from_slice(&org.to_be_bytes());
        message.extend_from_slice(&issued.to_be_bytes());
        hmac_sha256(&self.0, &message)
    }

    /// A nonce for `org` issued at `now` (seconds since the epoch).
    pub fn issue(&self, org: i64, now: u64) -> String {
        let mut bytes = now.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.tag(org, now)[..16]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn check(&self, nonce: &str, org: i64, now: u64) -> NonceCheck {
        let Some(bytes) = URL_SAFE_NO_PAD.decode(nonce).ok().filter(|b| b.len() == 24) else {
            return NonceCheck::Invalid;
        };
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&bytes[..8]);
        let issued = u64::from_be_bytes(stamp);
        if !domain::constant_time_eq(&bytes[8..], &self.tag(org, issued)[..16]) {
            return NonceCheck::Invalid;
        }
        // A nonce from the future (clock skew between instances) is accepted within the lifetime.
        if issued.abs_diff(now) > NONCE_LIFETIME_SECS {
            return NonceCheck::Stale;
        }
        NonceCheck::Valid
    }
}

/// The request a digest must have been computed for, and the challenge it must answer.
pub struct DigestContext<'a> {
    pub method: &'a str,
    /// The request target as sent.
    pub uri: &'a str,
    pub realm: &'a str,
    pub key: &'a NonceKey,
    pub org: i64,
    pub now: u64,
}

impl DigestAuth {
    /// True when this digest answers one of our challenges for this request (`qop=auth`, MD5,
    /// our realm, the request's own URI, a nonce of ours that is still valid) with the response
    /// `ha1` gives. `None`: no such user; the same work is done and it fails.
    pub fn verifies(&self, context: &DigestContext<'_>, ha1: Option<&domain::A1Hash>) -> bool {
        let qop_ok = self
            .qop
            .as_deref()
            .is_some_and(|q| q.eq_ignore_ascii_case("auth"));
        let algorithm_ok = self
            .algorithm
            .as_deref()
            .is_none_or(|a| a.eq_ignore_ascii_case("MD5"));
        let fields_ok = qop_ok
            && algorithm_ok
            && self.realm == context.realm
            && self.uri == context.uri
            && context.key.check(&self.nonce, context.org, context.now) == NonceCheck::Valid;
        let params = domain::DigestParams {
            method: context.method,
            uri: &self.uri,
            nonce: &self.nonce,
            nc: &self.nc,
            cnonce: &self.cnonce,
            qop: Some("auth"),
        };
        let response_ok = match ha1 {
            Some(ha1) => ha1.verifies_digest(&params, &self.response),
            None => {
                let _ = domain::md5_hex(&format!("{}:{}", self.nonce, self.response));
                false
            }
        };
        fields_ok && response_ok
    }
}

/// The `WWW-Authenticate` values of a 401: Digest first (preferred), then Basic.
pub fn challenges(realm: &str, nonce: &str, stale: bool) -> [String; 2] {
    let stale = if stale { ", stale=true" } else { "" };
    [
        format!("Digest realm=\"{realm}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\"{stale}"),
        format!("Basic realm=\"{realm}\", charset=\"UTF-8\""),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn basic_and_digest_headers_parse() {
        let basic = format!("Basic {}", STANDARD.encode("101:pa:ss"));
        assert_eq!(
            parse_authorization(&basic),
            Some(Credentials::Basic {
                username: "101".into(),
                password: "pa:ss".into()
            })
        );
        let digest = r#"Digest username="101", realm="pbx.acme.test", nonce="abc", uri="/provision/linphone.xml", response="0123", qop=auth, nc=00000001, cnonce="x\"y", algorithm=MD5"#;
        let Some(Credentials::Digest(d)) = parse_authorization(digest) else {
            panic!("digest not parsed")
        };
        assert_eq!(d.username, "101");
        assert_eq!(d.realm, "pbx.acme.test");
        assert_eq!(d.uri, "/provision/linphone.xml");
        assert_eq!(d.qop.as_deref(), Some("auth"));
        assert_eq!(d.nc, "00000001");
        assert_eq!(d.cnonce, "x\"y");
        assert_eq!(d.algorithm.as_deref(), Some("MD5"));
        for bad in [
            "Bearer abc",
            "Basic !!!",
            "Digest username=\"101",
            "Digest =x",
            "Digest realm=\"r\"",
            "",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
    }

    #[test]
    fn nonces_are_bound_to_key_org_and_time() {
        let key = NonceKey::new("secret");
        let nonce = key.issue(7, 1_000_000);
        assert_eq!(key.check(&nonce, 7, 1_000_000 + 10), NonceCheck::Valid);
        assert_eq!(
            key.check(&nonce, 7, 1_000_000 + NONCE_LIFETIME_SECS + 1),
            NonceCheck::Stale
        );
        assert_eq!(key.check(&nonce, 8, 1_000_000), NonceCheck::Invalid);
        assert_eq!(
            NonceKey::new("other").check(&nonce, 7, 1_000_000),
            NonceCheck::Invalid
        );
        let mut forged = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        forged[7] ^= 1;
        assert_eq!(
            key.check(&URL_SAFE_NO_PAD.encode(forged), 7, 1_000_000),
            NonceCheck::Invalid,
            "changing the time breaks the signature"
        );
        assert_eq!(key.check("short", 7, 1_000_000), NonceCheck::Invalid);
    }
}
